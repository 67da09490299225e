// The create_lead upsert rules and the lead_flash start rules, at every branch and boundary.
#include "domain/lead_upsert.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

constexpr std::int64_t kMaxExchange = 60'000;  // ms
constexpr std::int64_t kUpdated = 1'000'000;

LeadUpsert upsert(const std::string& status, std::int64_t age_ms) {
  return decide_lead_upsert(StoredLeadState{status, kUpdated}, kUpdated + age_ms, kMaxExchange);
}

FlashStart flash(const std::string& status, std::int64_t age_ms) {
  return decide_flash_start(StoredLeadState{status, kUpdated}, kUpdated + age_ms, kMaxExchange);
}

TEST(LeadUpsert, NoLeadIsInserted) {
  EXPECT_EQ(decide_lead_upsert(std::nullopt, kUpdated, kMaxExchange), LeadUpsert::insert);
}

TEST(LeadUpsert, CreatedLeadIsUpdatedAndFailedOneRetriedWhateverTheirAge) {
  for (const std::int64_t age : {std::int64_t{0}, kMaxExchange + 1, 10 * kMaxExchange}) {
    EXPECT_EQ(upsert("created", age), LeadUpsert::update_fields) << age;
    EXPECT_EQ(upsert("los_failed", age), LeadUpsert::retry_los) << age;
  }
}

TEST(LeadUpsert, PendingLeadIsInProgressUntilTheLongestExchangeHasPassed) {
  EXPECT_EQ(upsert("pending_los", 0), LeadUpsert::in_progress);
  EXPECT_EQ(upsert("pending_los", kMaxExchange), LeadUpsert::in_progress);
  EXPECT_EQ(upsert("pending_los", kMaxExchange + 1), LeadUpsert::take_over);
  // Another instance's clock ahead of ours: the lead looks younger than fresh, still in progress.
  EXPECT_EQ(upsert("pending_los", -5'000), LeadUpsert::in_progress);
}

TEST(LeadUpsert, AnyOtherStatusIsADuplicate) {
  for (const char* status : {"completed", "flash_pending", "flash_failed", "rejected", ""}) {
    EXPECT_EQ(upsert(status, 0), LeadUpsert::duplicate) << status;
    EXPECT_EQ(upsert(status, 10 * kMaxExchange), LeadUpsert::duplicate) << status;
  }
}

TEST(FlashStart, CreatedAndFailedFlashesAreClaimed) {
  EXPECT_EQ(flash("created", 0), FlashStart::claim);
  EXPECT_EQ(flash("flash_failed", 0), FlashStart::claim);
  EXPECT_EQ(flash("flash_failed", 10 * kMaxExchange), FlashStart::claim);
}

TEST(FlashStart, PendingFlashIsInProgressUntilTheLongestExchangeHasPassed) {
  EXPECT_EQ(flash("flash_pending", 0), FlashStart::in_progress);
  EXPECT_EQ(flash("flash_pending", kMaxExchange), FlashStart::in_progress);
  EXPECT_EQ(flash("flash_pending", kMaxExchange + 1), FlashStart::take_over);
}

TEST(FlashStart, OtherStatusesAreInvalid) {
  for (const char* status : {"pending_los", "los_failed", "completed", ""}) {
    EXPECT_EQ(flash(status, 0), FlashStart::invalid_state) << status;
    EXPECT_EQ(flash(status, 10 * kMaxExchange), FlashStart::invalid_state) << status;
  }
}

}  // namespace
}  // namespace leadgate
