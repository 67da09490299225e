// Store conformance, PrivacyStore: the consent ledger, and the flows that append to it in their
// own transactions (a lead's final write, an OTP code, a consent link's grant, WhatsApp STOP).
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <tuple>
#include <utility>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

ConsentEvent event(const std::string& env, const std::string& bidx, const std::string& purpose,
                   const std::string& action, std::int64_t at, const std::string& source = "api") {
  ConsentEvent e;
  e.environment = env;
  e.phone_bidx = bidx;
  e.phone_enc = "v1:phone-" + bidx;
  e.purpose = purpose;
  e.action = action;
  e.notice_version = "2026-12";
  e.source = source;
  e.at = at;
  e.request_id = "req-" + std::to_string(at);
  return e;
}

TEST_P(StoreConformanceTest, ConsentLedgerAppendsAndReadsInOrder) {
  EXPECT_TRUE(store_->consent_events("orbit", "b1").empty());
  EXPECT_TRUE(
      store_->record_consent(event("orbit", "b1", "loan_processing", "granted", 1'000), false));
  EXPECT_TRUE(
      store_->record_consent(event("orbit", "b1", "whatsapp_otp", "granted", 2'000), false));
  EXPECT_TRUE(
      store_->record_consent(event("homfinity", "b1", "whatsapp_otp", "granted", 3'000), false));
  const auto got = store_->consent_events("orbit", "b1");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].purpose, "loan_processing");
  EXPECT_EQ(got[0].action, "granted");
  EXPECT_EQ(got[0].environment, "orbit");
  EXPECT_EQ(got[0].phone_bidx, "b1");
  EXPECT_EQ(got[0].phone_enc, std::optional<std::string>("v1:phone-b1"));
  EXPECT_EQ(got[0].notice_version, "2026-12");
  EXPECT_EQ(got[0].source, "api");
  EXPECT_EQ(got[0].at, 1'000);
  EXPECT_EQ(got[0].request_id, "req-1000");
  EXPECT_LT(got[0].id, got[1].id);
  EXPECT_EQ(got[1].purpose, "whatsapp_otp");
  EXPECT_EQ(store_->consent_events("homfinity", "b1").size(), 1u);
}

TEST_P(StoreConformanceTest, ConsentOnlyIfChangedSkipsARepeatOfTheLatestAction) {
  EXPECT_TRUE(store_->record_consent(event("orbit", "b2", "whatsapp_otp", "granted", 1), true));
  EXPECT_FALSE(store_->record_consent(event("orbit", "b2", "whatsapp_otp", "granted", 2), true));
  EXPECT_TRUE(store_->record_consent(event("orbit", "b2", "whatsapp_otp", "granted", 3), false));
  EXPECT_TRUE(store_->record_consent(event("orbit", "b2", "whatsapp_otp", "withdrawn", 4), true));
  EXPECT_FALSE(store_->record_consent(event("orbit", "b2", "whatsapp_otp", "withdrawn", 5), true));
  EXPECT_TRUE(store_->record_consent(event("orbit", "b2", "whatsapp_otp", "granted", 6), true));
  // Another purpose, phone or environment is its own history.
  EXPECT_TRUE(store_->record_consent(event("orbit", "b2", "whatsapp_updates", "granted", 7), true));
  EXPECT_TRUE(store_->record_consent(event("orbit", "b3", "whatsapp_otp", "granted", 8), true));
  EXPECT_TRUE(store_->record_consent(event("homfinity", "b2", "whatsapp_otp", "granted", 9), true));
  EXPECT_EQ(store_->consent_events("orbit", "b2").size(), 5u);
}

TEST_P(StoreConformanceTest, WhatsAppUpdatesConsentSetsTheOptOut) {
  EXPECT_FALSE(store_->is_opted_out("orbit", "b4"));
  store_->record_consent(event("orbit", "b4", "whatsapp_updates", "withdrawn", 1'000), true);
  EXPECT_TRUE(store_->is_opted_out("orbit", "b4"));
  EXPECT_FALSE(store_->is_opted_out("homfinity", "b4"));
  store_->record_consent(event("orbit", "b4", "whatsapp_otp", "granted", 2'000), true);
  EXPECT_TRUE(store_->is_opted_out("orbit", "b4")) << "other purposes leave it alone";
  store_->record_consent(event("orbit", "b4", "whatsapp_updates", "granted", 3'000), true);
  EXPECT_FALSE(store_->is_opted_out("orbit", "b4"));
}

TEST_P(StoreConformanceTest, FlowsAppendTheirConsentInTheirOwnTransaction) {
  // A lead's write: a grant, unless the latest loan_processing event already is one.
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-C1", "b5");
  w.consent = event("orbit", "b5", "loan_processing", "granted", 1'000);
  w.lead.id = store_->insert_lead(w);
  w.consent->at = 2'000;
  EXPECT_TRUE(store_->update_lead(w));
  // An OTP code with the client's assertion.
  OtpCode code;
  code.environment = "orbit";
  code.phone_bidx = "b5";
  code.code_hash = "h";
  code.created_at = 3'000;
  code.expires_at = 9'000;
  code.consent = event("orbit", "b5", "whatsapp_otp", "granted", 3'000, "client_asserted");
  store_->put_otp(code);
  // WhatsApp STOP.
  ConversationWrite stop = inbound_only("orbit", "b5", "wamid-stop", 4'000);
  stop.opted_out = true;
  stop.consent = event("orbit", "b5", "whatsapp_updates", "withdrawn", 4'000, "whatsapp_stop");
  store_->record_conversation(stop);
  // A consent link's grant: the person and time come from the granted request.
  ConsentRecord link;
  link.environment = "orbit";
  link.phone_bidx = "b5";
  link.phone_enc = "v1:phone-b5";
  link.token_hash = "tok-c1";
  link.requested_at = 4'500;
  link.expires_at = 99'000;
  store_->insert_consent(link);
  ConsentEvent granted = event("", "", "whatsapp_otp", "granted", 0, "consent_link");
  ASSERT_TRUE(store_->grant_consent("tok-c1", 5'000, granted).has_value());
  EXPECT_FALSE(store_->grant_consent("tok-c1", 6'000, granted).has_value());

  const auto got = store_->consent_events("orbit", "b5");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].purpose, "loan_processing");
  EXPECT_EQ(got[0].at, 1'000) << "the update's repeat grant is not appended";
  EXPECT_EQ(got[1].source, "client_asserted");
  EXPECT_EQ(got[2].source, "whatsapp_stop");
  EXPECT_EQ(got[2].action, "withdrawn");
  EXPECT_EQ(got[3].source, "consent_link");
  EXPECT_EQ(got[3].environment, "orbit");
  EXPECT_EQ(got[3].phone_bidx, "b5");
  EXPECT_EQ(got[3].phone_enc, std::optional<std::string>("v1:phone-b5"));
  EXPECT_EQ(got[3].at, 5'000);
}

// Retention: expired codes, consent links never granted, processed callbacks; what is still in
// use, granted or needs an operator stays.
TEST_P(StoreConformanceTest, PurgeTransientDeletesOnlyWhatIsPastItsRetention) {
  for (const auto& [bidx, expires] :
       {std::pair<std::string, std::int64_t>{"old", 1'000}, {"fresh", 9'000}}) {
    OtpCode code;
    code.environment = "orbit";
    code.phone_bidx = bidx;
    code.code_hash = "h";
    code.created_at = expires - 500;
    code.expires_at = expires;
    store_->put_otp(code);
  }
  ConsentRecord link;
  link.environment = "orbit";
  link.phone_bidx = "b1";
  link.phone_enc = "v1:phone-b1";
  for (const auto& [token, expires] : {std::pair<std::string, std::int64_t>{"unused-old", 1'000},
                                       {"unused-fresh", 9'000},
                                       {"granted-old", 2'000}}) {
    link.token_hash = token;
    link.requested_at = expires - 1'000;
    link.expires_at = expires;
    store_->insert_consent(link);
  }
  ASSERT_TRUE(store_->grant_consent("granted-old", 1'500, std::nullopt).has_value());
  ASSERT_EQ(
      store_->insert_inbox(
          {make_inbox("gupshup", "done-old", 1'000), make_inbox("gupshup", "done-fresh", 1'000),
           make_inbox("gupshup", "failed-old", 1'000), make_inbox("gupshup", "pending", 1'000)}),
      4);
  for (const auto& [id, state, at] :
       {std::tuple<std::string, std::string, std::int64_t>{"done-old", "done", 2'000},
        {"done-fresh", "done", 8'000},
        {"failed-old", "failed", 2'000}}) {
    store_->finish_inbox(store_->find_inbox("gupshup", id)->id, state, at, 0, "");
  }

  RetentionCutoffs cutoffs;
  cutoffs.otps_expired_before = 5'000;
  cutoffs.consent_requests_expired_before = 5'000;
  cutoffs.inbox_processed_before = 5'000;
  const RetentionCounts gone = store_->purge_transient(cutoffs);
  EXPECT_EQ(gone.otps, 1);
  EXPECT_EQ(gone.consent_requests, 1);
  EXPECT_EQ(gone.inbox_events, 1);
  EXPECT_FALSE(store_->find_otp("orbit", "old").has_value());
  EXPECT_TRUE(store_->find_otp("orbit", "fresh").has_value());
  EXPECT_FALSE(store_->find_consent("unused-old").has_value());
  EXPECT_TRUE(store_->find_consent("unused-fresh").has_value());
  EXPECT_TRUE(store_->find_consent("granted-old").has_value()) << "granted links stay";
  EXPECT_FALSE(store_->find_inbox("gupshup", "done-old").has_value());
  EXPECT_TRUE(store_->find_inbox("gupshup", "done-fresh").has_value());
  EXPECT_TRUE(store_->find_inbox("gupshup", "failed-old").has_value()) << "for an operator";
  EXPECT_TRUE(store_->find_inbox("gupshup", "pending").has_value());
  const RetentionCounts again = store_->purge_transient(cutoffs);
  EXPECT_EQ(again.otps + again.consent_requests + again.inbox_events, 0);
}

}  // namespace
}  // namespace leadgate::conformance
