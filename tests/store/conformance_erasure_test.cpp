// Store conformance, PrivacyStore's erasure (issue 21 §3): per-person data keys, erase_person's
// tombstones, and the retention sweep's candidates. The fixture: conformance.h.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

PersonErasure erasure_of(const std::string& env, const std::string& bidx, std::int64_t at) {
  PersonErasure e;
  e.environment = env;
  e.phone_bidx = bidx;
  e.tombstone = "erased:test-" + bidx;
  e.at = at;
  e.ledger.environment = env;
  e.ledger.phone_bidx = e.tombstone;
  e.ledger.purpose = "loan_processing";
  e.ledger.action = "erased";
  e.ledger.notice_version = "2026-12";
  e.ledger.source = "api";
  e.ledger.at = at;
  e.ledger.request_id = "req-erase";
  e.audit = make_audit(env, e.tombstone, "person", "erased");
  return e;
}

TEST_P(StoreConformanceTest, PersonDataKeyIsCreatedOnceAndReadBackById) {
  const DataKeyRow first = store_->person_data_key("orbit", "b1", "v1:wrapped-1", 1'000);
  EXPECT_GT(first.id, 0);
  EXPECT_EQ(first.wrapped, "v1:wrapped-1");
  const DataKeyRow again = store_->person_data_key("orbit", "b1", "v1:wrapped-2", 2'000);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.wrapped, "v1:wrapped-1") << "the first key stays";
  const DataKeyRow other = store_->person_data_key("homfinity", "b1", "v1:wrapped-3", 3'000);
  EXPECT_NE(other.id, first.id) << "each environment's person has their own key";
  EXPECT_EQ(store_->wrapped_data_key(first.id), std::optional<std::string>("v1:wrapped-1"));
  EXPECT_FALSE(store_->wrapped_data_key(first.id + other.id + 100).has_value());
}

TEST_P(StoreConformanceTest, EraseTombstonesOnePersonAndLeavesEveryoneElse) {
  const DataKeyRow key = store_->person_data_key("orbit", "b1", "v1:wrapped-b1", 500);
  store_->person_data_key("orbit", "b2", "v1:wrapped-b2", 500);
  for (const auto& [env, ref, bidx] :
       {std::tuple<std::string, std::string, std::string>{"orbit", "LG-E1", "b1"},
        {"orbit", "LG-E2", "b2"},
        {"homfinity", "LG-E3", "b1"}}) {
    LeadWrite w;
    w.lead = make_lead(env, ref, bidx);
    w.lead.basic_application_id = "BA-" + ref;
    w.audit = {make_audit(env, ref, "first_name"),
               make_audit(env, ref, "status", "status_changed")};
    w.outbox = {make_outbox(env, ref, 1'000), make_outbox(env, ref, 1'000)};
    store_->insert_lead(w);
  }
  // One of b1's messages was sent already; the other is still queued.
  const auto claimed = store_->claim_outbox(1'000, 10, "worker", 61'000);
  for (const auto& m : claimed) {
    if (m.lead_ref == "LG-E1") {
      store_->finish_outbox_attempt(make_attempt(m.id, 1, "accepted"), "sent", 0);
      break;
    }
  }
  store_->release_outbox_leases("worker");
  ConversationWrite chat = inbound_only("orbit", "b1", "wamid-in-1", 2'000);
  chat.inbound.text_enc = "v1:text";
  store_->record_conversation(chat);
  ConsentEvent grant = erasure_of("orbit", "b1", 0).ledger;
  grant.phone_bidx = "b1";
  grant.phone_enc = "v1:phone";
  grant.action = "granted";
  grant.at = 2'500;
  store_->record_consent(grant, false);
  OtpCode code;
  code.environment = "orbit";
  code.phone_bidx = "b1";
  code.code_hash = "h";
  code.created_at = 2'000;
  code.expires_at = 9'000;
  store_->put_otp(code);
  store_->set_opt_out("orbit", "b1", true, 2'600);

  const ErasureCounts n = store_->erase_person(erasure_of("orbit", "b1", 3'000));
  EXPECT_EQ(n.leads, 1);
  EXPECT_EQ(n.messages_cancelled, 1);
  EXPECT_EQ(n.messages_blanked, 2);
  EXPECT_EQ(n.conversation_texts, 1);
  EXPECT_EQ(n.consent_events, 1);
  EXPECT_EQ(n.data_keys, 1);

  // Nothing of b1 in orbit is found any more, by mobile, reference or application id.
  EXPECT_TRUE(store_->find_leads_by_mobile("orbit", "b1").empty());
  EXPECT_FALSE(store_->find_lead_by_reference("orbit", "LG-E1").has_value());
  EXPECT_FALSE(store_->find_lead_by_basic_id("orbit", "BA-LG-E1").has_value());
  EXPECT_TRUE(store_->find_leads_with_appointment("orbit", {"", "BA-LG-E1"}).empty());
  EXPECT_EQ(store_->count_leads("orbit"), 2) << "the tombstone still counts";
  EXPECT_FALSE(store_->wrapped_data_key(key.id).has_value());
  EXPECT_TRUE(store_->conversation("orbit", "b1", 10).empty());
  EXPECT_TRUE(store_->consent_events("orbit", "b1").empty());
  EXPECT_FALSE(store_->find_otp("orbit", "b1").has_value());
  EXPECT_FALSE(store_->is_opted_out("orbit", "b1"));
  for (const auto& m : store_->outbox_for("orbit", "LG-E1")) {
    EXPECT_EQ(m.payload_enc, "");
    EXPECT_NE(m.status, "pending");
  }
  for (const auto& a : store_->audit_for("orbit", "LG-E1")) {
    if (a.operation != "status_changed") {
      EXPECT_EQ(a.new_value, "");
    }
  }
  // The erasure itself is on record, under the tombstone.
  const auto record = store_->consent_events("orbit", "erased:test-b1");
  ASSERT_EQ(record.size(), 2u);
  EXPECT_EQ(record.back().action, "erased");
  EXPECT_FALSE(record.front().phone_enc.has_value());
  EXPECT_EQ(store_->audit_for("orbit", "erased:test-b1").size(), 1u);

  // Everyone else is untouched.
  EXPECT_EQ(store_->find_leads_by_mobile("orbit", "b2").size(), 1u);
  EXPECT_EQ(store_->find_leads_by_mobile("homfinity", "b1").size(), 1u);
  for (const auto& m : store_->outbox_for("orbit", "LG-E2")) EXPECT_NE(m.payload_enc, "");

  // A new lead for the same mobile starts a new person with a new key.
  LeadWrite again;
  again.lead = make_lead("orbit", "LG-E4", "b1");
  store_->insert_lead(again);
  EXPECT_EQ(store_->find_leads_by_mobile("orbit", "b1").size(), 1u);
  EXPECT_NE(store_->person_data_key("orbit", "b1", "v1:new", 4'000).id, key.id);
  // Erasing someone unknown (or already erased) changes nothing.
  EXPECT_EQ(store_->erase_person(erasure_of("orbit", "nobody", 5'000)).leads, 0);
}

TEST_P(StoreConformanceTest, InactivePeopleAreThoseWithNothingSinceTheCutoff) {
  LeadWrite old_lead;
  old_lead.lead = make_lead("orbit", "LG-I1", "old");
  old_lead.lead.updated_at = 1'000;
  store_->insert_lead(old_lead);
  LeadWrite recent;
  recent.lead = make_lead("orbit", "LG-I2", "recent");
  recent.lead.updated_at = 1'000;
  store_->insert_lead(recent);
  store_->record_conversation(inbound_only("orbit", "recent", "wamid-r", 9'000));
  store_->person_data_key("homfinity", "chat-only", "v1:w", 2'000);
  store_->person_data_key("orbit", "new-key", "v1:w", 9'500);

  const auto all = store_->inactive_people(5'000, {}, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].environment, "homfinity");
  EXPECT_EQ(all[0].phone_bidx, "chat-only");
  EXPECT_EQ(all[0].last_active_at, 2'000);
  EXPECT_EQ(all[1].phone_bidx, "old");
  // Pages follow (environment, phone_bidx).
  const auto first = store_->inactive_people(5'000, {}, 1);
  ASSERT_EQ(first.size(), 1u);
  const auto second = store_->inactive_people(5'000, first[0], 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].phone_bidx, "old");
  EXPECT_TRUE(store_->inactive_people(5'000, second[0], 1).empty());
  // Once erased, a person is no candidate (their rows are tombstones).
  store_->erase_person(erasure_of("orbit", "old", 6'000));
  EXPECT_EQ(store_->inactive_people(5'000, {}, 10).size(), 1u);
}

// KeyringStore (issue 21 §5): wrapped keys by name, and re-sealing a column a page at a time.
TEST_P(StoreConformanceTest, KeyringKeysAreStoredOnceAndReplacedByCompareAndSet) {
  EXPECT_FALSE(store_->keyring_key("blind-index").has_value());
  EXPECT_TRUE(store_->put_keyring_key("blind-index", "v1:a", std::nullopt, 1'000));
  EXPECT_FALSE(store_->put_keyring_key("blind-index", "v1:b", std::nullopt, 2'000))
      << "the first one stays";
  EXPECT_EQ(store_->keyring_key("blind-index"), std::optional<std::string>("v1:a"));
  EXPECT_FALSE(store_->put_keyring_key("blind-index", "v1:c", std::string("v1:x"), 3'000));
  EXPECT_TRUE(store_->put_keyring_key("blind-index", "v1:c", std::string("v1:a"), 3'000));
  EXPECT_EQ(store_->keyring_key("blind-index"), std::optional<std::string>("v1:c"));
}

TEST_P(StoreConformanceTest, ResealPagesThroughAColumnAndWritesOnlyWhatItChanged) {
  for (const auto& [env, ref, bidx] :
       {std::tuple<std::string, std::string, std::string>{"orbit", "LG-R1", "r1"},
        {"orbit", "LG-R2", "r2"},
        {"homfinity", "LG-R3", "r3"}}) {
    LeadWrite w;
    w.lead = make_lead(env, ref, bidx);
    w.lead.email_enc = "old:" + ref;
    store_->insert_lead(w);
  }
  const SealedColumn email{"leads", "id", "BIGINT", "email_enc"};
  std::string after = "0";
  std::int64_t written = 0;
  std::vector<std::string> seen;
  const auto reseal = [&](const std::string& v) -> std::optional<std::string> {
    seen.push_back(v);
    if (v == "old:LG-R2") return std::nullopt;  // left alone
    return "new:" + v;
  };
  EXPECT_EQ(store_->reseal_page(email, &after, 2, reseal, &written), 2);
  EXPECT_EQ(store_->reseal_page(email, &after, 2, reseal, &written), 1);
  EXPECT_EQ(store_->reseal_page(email, &after, 2, reseal, &written), 0);
  EXPECT_EQ(written, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"old:LG-R1", "old:LG-R2", "old:LG-R3"}));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-R1")->email_enc, "new:old:LG-R1");
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-R2")->email_enc, "old:LG-R2");
  // A value changed between the read and the write is not overwritten.
  std::string again = "0";
  std::int64_t none = 0;
  store_->reseal_page(
      email, &again, 10,
      [&](const std::string& v) -> std::optional<std::string> {
        if (v == "old:LG-R2") {
          LeadRow row = *store_->find_lead_by_reference("orbit", "LG-R2");
          row.email_enc = "changed";
          LeadWrite w;
          w.lead = row;
          EXPECT_TRUE(store_->update_lead(w));
          return "stale";
        }
        return std::nullopt;
      },
      &none);
  EXPECT_EQ(none, 0);
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-R2")->email_enc, "changed");
  // Text keys (idempotency records: scope and key) page the same way.
  std::string text_after;
  std::int64_t n = 0;
  EXPECT_EQ(store_->reseal_page({"idempotency_keys", "scope || ' ' || key", "TEXT", "body"},
                                &text_after, 10, reseal, &n),
            0);
}

}  // namespace
}  // namespace leadgate::conformance
