#include "domain/application_progress.h"

#include <gtest/gtest.h>

#include "partners/basic_app.h"

namespace leadgate {
namespace {

TEST(LeadStatusText, EveryOwnStatus) {
  EXPECT_EQ(lead_status_text("pending_los"), "Submission Pending");
  EXPECT_EQ(lead_status_text("los_failed"), "Submission Failed");
  EXPECT_EQ(lead_status_text("created"), "Application Created");
  EXPECT_EQ(lead_status_text("flash_pending"), "Processing Details");
  EXPECT_EQ(lead_status_text("flash_failed"), "Details Pending");
  EXPECT_EQ(lead_status_text("completed"), "Application Completed");
  EXPECT_EQ(lead_status_text("something_new"), "something_new");
}

TEST(DeriveStage, OwnStatusBeforeThePartnerHasTheApplication) {
  // Before the LOS accepted the lead nothing it might say matters.
  EXPECT_EQ(derive_stage("pending_los", "Approved"), Stage::submission_pending);
  EXPECT_EQ(derive_stage("los_failed", ""), Stage::submission_failed);
  EXPECT_EQ(derive_stage("created", ""), Stage::details_pending);
  EXPECT_EQ(derive_stage("flash_failed", ""), Stage::details_pending);
  EXPECT_EQ(derive_stage("flash_pending", ""), Stage::processing);
  EXPECT_EQ(derive_stage("completed", ""), Stage::completed);
  EXPECT_EQ(derive_stage("completed", "Something unusual"), Stage::completed);
}

TEST(DeriveStage, PartnerKeywordsCaseInsensitiveInPriorityOrder) {
  EXPECT_EQ(derive_stage("completed", "Under Review"), Stage::under_review);
  EXPECT_EQ(derive_stage("completed", "UNDERWRITING"), Stage::under_review);
  EXPECT_EQ(derive_stage("created", "Credit assessment"), Stage::under_review);
  EXPECT_EQ(derive_stage("completed", "Documents Pending"), Stage::documents_pending);
  EXPECT_EQ(derive_stage("completed", "KYC pending"), Stage::documents_pending);
  EXPECT_EQ(derive_stage("completed", "Technical valuation"), Stage::valuation);
  EXPECT_EQ(derive_stage("completed", "Legal check"), Stage::valuation);
  EXPECT_EQ(derive_stage("completed", "Sanctioned"), Stage::approved);
  EXPECT_EQ(derive_stage("completed", "approved"), Stage::approved);
  EXPECT_EQ(derive_stage("completed", "Disbursed"), Stage::disbursed);
  EXPECT_EQ(derive_stage("completed", "Rejected"), Stage::rejected);
  EXPECT_EQ(derive_stage("completed", "Declined by credit"), Stage::rejected);  // before credit
  EXPECT_EQ(derive_stage("completed", "On Hold - query raised"), Stage::on_hold);
  EXPECT_EQ(derive_stage("completed", "Approval on hold"), Stage::approved);  // approv first
}

TEST(NextSteps, EveryStageHasStepsAndAName) {
  for (int s = 0; s <= static_cast<int>(Stage::on_hold); ++s) {
    const auto stage = static_cast<Stage>(s);
    EXPECT_FALSE(next_steps(stage).empty()) << stage_name(stage);
    EXPECT_FALSE(stage_description(stage).empty()) << stage_name(stage);
  }
  EXPECT_EQ(stage_name(Stage::under_review), "under_review");
  EXPECT_EQ(
      next_steps(Stage::completed),
      (std::vector<std::string>{"Document verification", "Property valuation", "Final approval"}));
}

TEST(PartnerStatusChanged, DifferentAndNotOlder) {
  const StoredPartnerStatus stored{"Under Review", "Credit", 1000};
  EXPECT_FALSE(partner_status_changed(stored, {"Under Review", "Credit", 2000}));
  EXPECT_TRUE(partner_status_changed(stored, {"Approved", "Credit", 2000}));
  EXPECT_TRUE(partner_status_changed(stored, {"Under Review", "Final", 1000}));  // same time
  EXPECT_FALSE(partner_status_changed(stored, {"Approved", "Credit", 999}));     // older
  EXPECT_TRUE(partner_status_changed(stored, {"Approved", "Credit", 0}));        // unknown time
  EXPECT_TRUE(partner_status_changed({"", "", 0}, {"Under Review", "", 5}));     // first report
  EXPECT_FALSE(partner_status_changed({"", "", 0}, {"", "", 5}));
}

TEST(IsoUtc, FormatsAndParsesBack) {
  EXPECT_EQ(iso_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_utc(1'764'065'702'120), "2025-11-25T10:15:02.120Z");
  EXPECT_EQ(iso_utc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(parse_iso_utc("2025-11-25T10:15:02.120Z"), 1'764'065'702'120);
  EXPECT_EQ(parse_iso_utc("2025-11-25T10:15:02Z"), 1'764'065'702'000);
  EXPECT_EQ(parse_iso_utc("2025-11-25T10:15:02"), 1'764'065'702'000);
  EXPECT_EQ(parse_iso_utc("2025-11-25 10:15:02.1"), 1'764'065'702'100);
  EXPECT_EQ(parse_iso_utc("2025-11-25T15:45:02+05:30"), 1'764'065'702'000);
  EXPECT_EQ(parse_iso_utc("2025-11-25T05:15:02-05:00"), 1'764'065'702'000);
  EXPECT_EQ(parse_iso_utc("2025-11-25T10:15:02.123456Z"), 1'764'065'702'123);
  for (const char* bad : {"", "2025-11-25", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
                          "2025-11-25T24:00:00Z", "2025-11-25T10:15:02.Z", "2025-11-25T10:15:02X",
                          "2025-11-25T10:15:02+0530", "25-11-2025T10:15:02Z"}) {
    EXPECT_FALSE(parse_iso_utc(bad)) << bad;
  }
}

// ---- GetApplicationStatus answers ----

PartnerError status_error(const std::string& body) {
  try {
    parse_status_answer(body, "B002BJF");
  } catch (const PartnerError& e) {
    return e;
  }
  ADD_FAILURE() << "no PartnerError for " << body;
  return PartnerError("none", "none", false);
}

TEST(ParseStatusAnswer, Success) {
  const auto r = parse_status_answer(
      R"({"success": true, "data": {"basic_application_id": "B002BJF", "status": "Under Review",
          "stage": "Credit assessment", "updated_at": "2026-11-25T10:00:00Z"}})",
      "B002BJF");
  EXPECT_EQ(r.status, "Under Review");
  EXPECT_EQ(r.stage, "Credit assessment");
  EXPECT_EQ(r.updated_at, *parse_iso_utc("2026-11-25T10:00:00Z"));
}

TEST(ParseStatusAnswer, FailuresAreNotRetried) {
  EXPECT_EQ(status_error("<html>").outcome, "invalid_response");
  EXPECT_EQ(status_error(R"({"success": false, "message": "nope"})").outcome, "rejected");
  for (const char* body :
       {R"({"success": true})",
        R"({"success": true, "data": {"basic_application_id": "B999999", "status": "X",
            "stage": "", "updated_at": "2026-11-25T10:00:00Z"}})",
        R"({"success": true, "data": {"basic_application_id": "B002BJF", "status": "",
            "stage": "", "updated_at": "2026-11-25T10:00:00Z"}})",
        R"({"success": true, "data": {"basic_application_id": "B002BJF", "status": "X",
            "updated_at": "2026-11-25T10:00:00Z"}})",
        R"({"success": true, "data": {"basic_application_id": "B002BJF", "status": "X",
            "stage": "", "updated_at": "yesterday"}})"}) {
    const auto e = status_error(body);
    EXPECT_EQ(e.outcome, "invalid_response") << body;
    EXPECT_FALSE(e.retryable);
  }
}

}  // namespace
}  // namespace leadgate
