// Store conformance, WhatsAppStore, part 2: conversations, delivery receipts and opt-outs.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

// ---- Conversations (schema 6) ----

std::vector<std::string> texts_of(const std::vector<ConversationMessage>& rows) {
  std::vector<std::string> out;
  for (const auto& m : rows) out.push_back(m.text_enc);
  return out;
}

TEST_P(StoreConformanceTest, RecordConversationWritesEverythingInOneGo) {
  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "wamid-1", 1'000)}), 1);
  const auto inbox_id = store_->find_inbox("gupshup", "wamid-1")->id;
  ASSERT_EQ(store_->claim_inbox(1'000, 10, "w", 60'000).size(), 1u);

  ConversationWrite w;
  w.inbound = make_message("orbit", "phone-1", "in", "wamid-1", 1'000);
  w.reply_outbox = make_outbox("orbit", "LG-1", 1'100);
  w.reply_outbox->kind = "whatsapp_text";
  w.reply = make_message("orbit", "phone-1", "out", "", 1'100);
  w.reply->outbox_id = 424242;  // ignored: the store links the new outbox row
  w.opted_out = true;
  w.inbox_id = inbox_id;
  w.now = 1'200;
  store_->record_conversation(w);

  const auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].kind, "whatsapp_text");
  EXPECT_EQ(outbox[0].status, "pending");
  EXPECT_EQ(outbox[0].attempts, 0);
  EXPECT_EQ(outbox[0].next_attempt_at, 1'100);
  EXPECT_EQ(outbox[0].delivery_status, "");
  EXPECT_EQ(outbox[0].delivery_status_at, 0);
  EXPECT_EQ(outbox[0].delivery_error, "");

  const auto talk = store_->conversation("orbit", "phone-1", 10);
  ASSERT_EQ(talk.size(), 2u);
  EXPECT_GT(talk[0].id, 0);
  EXPECT_EQ(talk[0].environment, "orbit");
  EXPECT_EQ(talk[0].phone_bidx, "phone-1");
  EXPECT_EQ(talk[0].direction, "in");
  EXPECT_EQ(talk[0].provider_message_id, "wamid-1");
  EXPECT_EQ(talk[0].outbox_id, 0);
  EXPECT_EQ(talk[0].lead_ref, "LG-1");
  EXPECT_EQ(talk[0].application_id, "BA-1");
  EXPECT_EQ(talk[0].msg_type, "text");
  EXPECT_EQ(talk[0].text_enc, "v1:text-wamid-1-1000");
  EXPECT_EQ(talk[0].classification, "status");
  EXPECT_EQ(talk[0].created_at, 1'000);
  EXPECT_GT(talk[1].id, talk[0].id);
  EXPECT_EQ(talk[1].direction, "out");
  EXPECT_EQ(talk[1].provider_message_id, "");
  EXPECT_EQ(talk[1].outbox_id, outbox[0].id) << "linked to the reply's outbox row";
  EXPECT_EQ(talk[1].classification, "status_reply");
  EXPECT_EQ(talk[1].created_at, 1'100);

  EXPECT_TRUE(store_->is_opted_out("orbit", "phone-1"));
  EXPECT_FALSE(store_->is_opted_out("homfinity", "phone-1"));

  expect_inbox("gupshup", "wamid-1", "done", 1, 1'200, "");
  EXPECT_TRUE(store_->claim_inbox(1'000'000, 10, "w", 2'000'000).empty()) << "lease released";
}

TEST_P(StoreConformanceTest, RecordConversationWithoutReplyWritesOnlyTheInbound) {
  ConversationWrite w = inbound_only("orbit", "phone-1", "wamid-1", 1'000);
  w.reply = make_message("orbit", "phone-1", "out", "", 1'100);  // no reply_outbox: not written
  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "other", 500)}), 1);
  store_->record_conversation(w);
  EXPECT_EQ(store_->conversation("orbit", "phone-1", 10).size(), 1u);
  EXPECT_EQ(count_rows("outbox"), 0);
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-1"));
  EXPECT_EQ(store_->find_inbox("gupshup", "other")->state, "pending") << "inbox_id 0: untouched";

  // Opting back in is an opt-out change too.
  ConversationWrite out = inbound_only("orbit", "phone-1", "wamid-2", 2'000);
  out.opted_out = true;
  store_->record_conversation(out);
  EXPECT_TRUE(store_->is_opted_out("orbit", "phone-1"));
  ConversationWrite in = inbound_only("orbit", "phone-1", "wamid-3", 3'000);
  in.opted_out = false;
  store_->record_conversation(in);
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-1"));
}

// A redelivered inbound message (same environment and provider id) is refused as a whole: no
// second inbound row, no second reply, no outbox row, no opt-out change, the inbox row untouched.
TEST_P(StoreConformanceTest, DuplicateInboundConflictsAndWritesNothing) {
  ConversationWrite first = inbound_only("orbit", "phone-1", "wamid-1", 1'000);
  first.reply_outbox = make_outbox("orbit", "LG-1", 1'000);
  first.reply = make_message("orbit", "phone-1", "out", "", 1'000);
  store_->record_conversation(first);
  ASSERT_EQ(count_rows("outbox"), 1);

  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "wamid-1", 2'000)}), 1);
  const auto inbox_id = store_->find_inbox("gupshup", "wamid-1")->id;
  ConversationWrite again = inbound_only("orbit", "phone-2", "wamid-1", 2'000);
  again.reply_outbox = make_outbox("orbit", "LG-1", 2'000);
  again.reply = make_message("orbit", "phone-2", "out", "", 2'000);
  again.opted_out = true;
  again.inbox_id = inbox_id;
  EXPECT_THROW(store_->record_conversation(again), StoreConflict);

  EXPECT_EQ(count_rows("outbox"), 1) << "no extra outbox row";
  EXPECT_EQ(count_rows("whatsapp_conversation"), 2);
  EXPECT_TRUE(store_->conversation("orbit", "phone-2", 10).empty());
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-2"));
  const auto inbox = store_->find_inbox("gupshup", "wamid-1");
  ASSERT_TRUE(inbox.has_value());
  EXPECT_EQ(inbox->state, "pending");
  EXPECT_EQ(inbox->attempts, 0);

  // The rule covers inbound messages with a provider id in one environment only.
  EXPECT_NO_THROW(store_->record_conversation(inbound_only("homfinity", "phone-1", "wamid-1", 3)));
  EXPECT_NO_THROW(store_->record_conversation(inbound_only("orbit", "phone-1", "", 4)));
  EXPECT_NO_THROW(store_->record_conversation(inbound_only("orbit", "phone-1", "", 5)));
  ConversationWrite outbound_id = inbound_only("orbit", "phone-1", "wamid-1", 6);
  outbound_id.inbound.direction = "out";
  EXPECT_NO_THROW(store_->record_conversation(outbound_id));
  EXPECT_EQ(count_rows("whatsapp_conversation"), 6);
}

TEST_P(StoreConformanceTest, ConversationReturnsTheLastMessagesOldestFirstPerEnvironment) {
  // Written out of order; two share a creation time (then by id, i.e. insertion).
  for (const auto& [id, at] : std::vector<std::pair<std::string, std::int64_t>>{
           {"m3", 300}, {"m1", 100}, {"m4", 400}, {"m2a", 200}, {"m2b", 200}, {"m5", 500}}) {
    store_->record_conversation(inbound_only("orbit", "phone-1", id, at));
  }
  store_->record_conversation(inbound_only("homfinity", "phone-1", "h1", 600));
  store_->record_conversation(inbound_only("orbit", "phone-2", "p1", 700));

  EXPECT_EQ(texts_of(store_->conversation("orbit", "phone-1", 100)),
            (std::vector<std::string>{"v1:text-m1-100", "v1:text-m2a-200", "v1:text-m2b-200",
                                      "v1:text-m3-300", "v1:text-m4-400", "v1:text-m5-500"}));
  EXPECT_EQ(texts_of(store_->conversation("orbit", "phone-1", 3)),
            (std::vector<std::string>{"v1:text-m3-300", "v1:text-m4-400", "v1:text-m5-500"}));
  EXPECT_EQ(texts_of(store_->conversation("orbit", "phone-1", 4)),
            (std::vector<std::string>{"v1:text-m2b-200", "v1:text-m3-300", "v1:text-m4-400",
                                      "v1:text-m5-500"}));
  EXPECT_EQ(texts_of(store_->conversation("orbit", "phone-1", 1)),
            (std::vector<std::string>{"v1:text-m5-500"}));
  EXPECT_TRUE(store_->conversation("orbit", "phone-1", 0).empty());
  EXPECT_EQ(texts_of(store_->conversation("homfinity", "phone-1", 10)),
            (std::vector<std::string>{"v1:text-h1-600"}));
  EXPECT_EQ(texts_of(store_->conversation("orbit", "phone-2", 10)),
            (std::vector<std::string>{"v1:text-p1-700"}));
  EXPECT_TRUE(store_->conversation("orbit", "phone-3", 10).empty());
}

// ---- Delivery receipts (schema 6) ----

DeliveryReceipt make_receipt(const std::string& provider_id, const std::string& status,
                             std::int64_t at, std::int64_t received_at = 0) {
  DeliveryReceipt r;
  r.provider_message_id = provider_id;
  r.status = status;
  r.at = at;
  r.received_at = received_at ? received_at : at + 5;
  if (status == "failed") {
    r.error_code = "1002";
    r.error_message = "Number does not exist on WhatsApp";
  }
  return r;
}

std::vector<std::string> statuses_of(const std::vector<DeliveryReceipt>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.status);
  return out;
}

TEST_P(StoreConformanceTest, DeliveryStateMovesForwardOnly) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  mark_sent(id, "gs-1");

  struct Step {
    const char* status;
    std::int64_t at;
    const char* state;  // the row's delivery state after it
    std::int64_t state_at;
    const char* error;
    const char* what;
  };
  for (const Step& s : std::vector<Step>{
           {"read", 30, "read", 30, "", "read at 30"},
           {"delivered", 20, "read", 30, "", "delivered at 20 arrives late"},
           {"sent", 10, "read", 30, "", "sent at 10 arrives late"},
           {"delivered", 30, "read", 30, "", "equal time, lower rank"},
           {"mystery", 99, "read", 30, "", "unknown status never applied"},
           {"failed", 40, "failed", 40, "1002", "failed later than read"},
       }) {
    EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", s.status, s.at)), id) << s.what;
    const auto row = row_of("LG-1");
    EXPECT_EQ(row.delivery_status, s.state) << s.what;
    EXPECT_EQ(row.delivery_status_at, s.state_at) << s.what;
    EXPECT_EQ(row.delivery_error, s.error) << s.what;
    EXPECT_EQ(row.status, "sent") << s.what << ": the outbox status is not a delivery status";
  }
  // Every outbox reader returns the delivery state.
  const auto listed = store_->list_outbox("sent", 10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].delivery_status, "failed");
  EXPECT_EQ(listed[0].delivery_status_at, 40);
  EXPECT_EQ(listed[0].delivery_error, "1002");

  // Every receipt is kept, by `at` then arrival.
  const auto receipts = store_->receipts_for("orbit", "LG-1");
  EXPECT_EQ(statuses_of(receipts), (std::vector<std::string>{"sent", "delivered", "read",
                                                             "delivered", "failed", "mystery"}));
  ASSERT_EQ(receipts.size(), 6u);
  EXPECT_EQ(receipts[4].provider_message_id, "gs-1");
  EXPECT_EQ(receipts[4].at, 40);
  EXPECT_EQ(receipts[4].received_at, 45);
  EXPECT_EQ(receipts[4].error_code, "1002");
  EXPECT_EQ(receipts[4].error_message, "Number does not exist on WhatsApp");
  for (const auto& r : receipts) EXPECT_EQ(r.outbox_id, id);
  EXPECT_EQ(count_rows("delivery_receipts"), 6);
}

TEST_P(StoreConformanceTest, DeliveryAtTheSameTimeTakesTheHigherRank) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  mark_sent(id, "gs-1");

  // enqueued < sent < failed < delivered < read.
  const std::vector<std::pair<std::string, std::string>> steps{
      {"sent", "sent"},   {"enqueued", "sent"},       {"failed", "failed"},
      {"sent", "failed"}, {"delivered", "delivered"}, {"failed", "delivered"},
      {"read", "read"},   {"delivered", "read"},      {"enqueued", "read"},
  };
  for (const auto& [status, expected] : steps) {
    EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", status, 50)), id);
    const auto row = row_of("LG-1");
    EXPECT_EQ(row.delivery_status, expected) << status;
    EXPECT_EQ(row.delivery_status_at, 50) << status;
  }
  // Anything known beats no state yet, whatever its time.
  const auto other = insert_with_outbox("LG-2", "b2", 0);
  mark_sent(other, "gs-2");
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-2", "enqueued", 0)), other);
  EXPECT_EQ(row_of("LG-2").delivery_status, "enqueued");
}

TEST_P(StoreConformanceTest, ReceiptForAnUnknownMessageIsKeptWithoutAnOutboxRow) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);  // pending: no provider id yet
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-unknown", "delivered", 10)), 0);
  EXPECT_EQ(store_->record_delivery(make_receipt("", "delivered", 11)), 0)
      << "an empty provider id never matches an unsent row";
  EXPECT_EQ(count_rows("delivery_receipts"), 2);
  const auto row = row_of("LG-1");
  EXPECT_EQ(row.id, id);
  EXPECT_EQ(row.delivery_status, "");
  EXPECT_EQ(row.delivery_status_at, 0);
  EXPECT_TRUE(store_->receipts_for("orbit", "LG-1").empty());
}

// A receipt from the webhook inbox finishes its event in the same transaction; unmatched with a
// retry time, it stores nothing and only puts the event back for that time.
TEST_P(StoreConformanceTest, ReceiptFinishesItsInboxEventOrPutsItBackWhenUnmatched) {
  ASSERT_EQ(
      store_->insert_inbox({make_inbox("gupshup", "r1", 100), make_inbox("gupshup", "r2", 100),
                            make_inbox("gupshup", "r3", 100)}),
      3);
  const auto events = store_->claim_inbox(100, 10, "w", 50'000);
  ASSERT_EQ(events.size(), 3u);

  const auto id = insert_with_outbox("LG-1", "b1", 0);
  mark_sent(id, "gs-1");

  DeliveryReceipt early = make_receipt("gs-later", "delivered", 10);
  early.inbox_id = events[0].id;
  early.processed_at = 200;
  early.retry_unmatched_at = 2'200;
  EXPECT_EQ(store_->record_delivery(early), 0);
  EXPECT_EQ(count_rows("delivery_receipts"), 0) << "not kept before the last look";
  auto e = store_->find_inbox("gupshup", "r1");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->state, "pending");
  EXPECT_EQ(e->attempts, 1);
  EXPECT_EQ(e->next_attempt_at, 2'200);
  EXPECT_EQ(e->last_error, kReceiptNotMatchedYet);
  EXPECT_TRUE(store_->claim_inbox(2'199, 10, "w2", 50'000).empty()) << "lease released, not due";

  DeliveryReceipt matched = make_receipt("gs-1", "delivered", 20);
  matched.inbox_id = events[1].id;
  matched.processed_at = 300;
  matched.retry_unmatched_at = 2'300;  // matched: the retry time does not apply
  EXPECT_EQ(store_->record_delivery(matched), id);
  e = store_->find_inbox("gupshup", "r2");
  EXPECT_EQ(e->state, "done");
  EXPECT_EQ(e->processed_at, 300);
  EXPECT_EQ(row_of("LG-1").delivery_status, "delivered");

  DeliveryReceipt last_look = make_receipt("gs-never", "read", 30);
  last_look.inbox_id = events[2].id;
  last_look.processed_at = 400;
  EXPECT_EQ(store_->record_delivery(last_look), 0);
  e = store_->find_inbox("gupshup", "r3");
  EXPECT_EQ(e->state, "done");
  EXPECT_EQ(e->attempts, 1);
  EXPECT_EQ(count_rows("delivery_receipts"), 2) << "the matched one and the one kept unmatched";
}

// A batch applies its receipts in order in one call: the same rules as one at a time.
TEST_P(StoreConformanceTest, ReceiptBatchAppliesEachInOrder) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  mark_sent(id, "gs-1");
  DeliveryReceipt later = make_receipt("gs-unknown", "read", 40);
  later.retry_unmatched_at = 9'000;  // put back: not kept
  EXPECT_EQ(store_->record_deliveries(
                {make_receipt("gs-1", "delivered", 20), make_receipt("gs-1", "read", 30), later,
                 make_receipt("gs-1", "sent", 10), make_receipt("gs-never", "failed", 50)}),
            (std::vector<std::int64_t>{id, id, 0, id, 0}));
  EXPECT_EQ(row_of("LG-1").delivery_status, "read");
  EXPECT_EQ(row_of("LG-1").delivery_status_at, 30);
  EXPECT_EQ(count_rows("delivery_receipts"), 4);
  EXPECT_TRUE(store_->record_deliveries({}).empty());
}

// Several receipts for one message in one batch leave the state applying them one by one would:
// the latest `at`, then the higher rank, and of equals (same status and time) the first; an
// unknown status never applies.
TEST_P(StoreConformanceTest, ReceiptBatchSettlesARowAsOneByOneWould) {
  const auto batched = insert_with_outbox("LG-1", "b1", 0);
  const auto single = insert_with_outbox("LG-2", "b2", 0);
  for (const auto& [oid, pid] :
       std::vector<std::pair<std::int64_t, std::string>>{{batched, "gs-1"}, {single, "gs-2"}}) {
    mark_sent(oid, pid);
  }
  auto receipts_about = [&](const std::string& pid) {
    DeliveryReceipt first = make_receipt(pid, "failed", 20);
    first.error_code = "E1";
    DeliveryReceipt second = make_receipt(pid, "failed", 20);
    second.error_code = "E2";
    return std::vector<DeliveryReceipt>{make_receipt(pid, "sent", 10), first, second,
                                        make_receipt(pid, "sent", 20),
                                        make_receipt(pid, "bounced", 99)};
  };
  EXPECT_EQ(store_->record_deliveries(receipts_about("gs-1")),
            std::vector<std::int64_t>(5, batched));
  for (const auto& r : receipts_about("gs-2")) EXPECT_EQ(store_->record_delivery(r), single);
  for (const auto* ref : {"LG-1", "LG-2"}) {
    const auto row = row_of(ref);
    EXPECT_EQ(row.delivery_status, "failed") << ref;
    EXPECT_EQ(row.delivery_status_at, 20) << ref;
    EXPECT_EQ(row.delivery_error, "E1") << ref;
  }
}

TEST_P(StoreConformanceTest, ReceiptsForOneLeadOrderedAndIsolated) {
  const auto a = insert_with_outbox("LG-1", "b1", 0);
  const auto other_lead = insert_with_outbox("LG-2", "b2", 0);
  // A second message of LG-1, and one about a lead with the same reference in another environment.
  store_->append_events({}, {make_outbox("orbit", "LG-1", 5), make_outbox("homfinity", "LG-1", 5)});
  const auto ids = ids_of(store_->outbox_for("orbit", "LG-1"));
  ASSERT_EQ(ids.size(), 2u);
  const auto b = ids[1];
  const auto other_env = row_of("LG-1", "homfinity").id;
  for (const auto& [oid, pid] : std::vector<std::pair<std::int64_t, std::string>>{
           {a, "gs-a"}, {b, "gs-b"}, {other_env, "gs-env"}, {other_lead, "gs-lead"}}) {
    mark_sent(oid, pid);
  }

  EXPECT_EQ(store_->record_delivery(make_receipt("gs-b", "delivered", 20)), b);
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-a", "read", 30)), a);
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-a", "sent", 10)), a);
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-b", "sent", 20)), b);  // same at: insertion
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-env", "read", 15)), other_env);
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-lead", "read", 15)), other_lead);

  const auto receipts = store_->receipts_for("orbit", "LG-1");
  ASSERT_EQ(receipts.size(), 4u);
  EXPECT_EQ(statuses_of(receipts), (std::vector<std::string>{"sent", "delivered", "sent", "read"}));
  EXPECT_EQ(receipts[0].outbox_id, a);
  EXPECT_EQ(receipts[1].outbox_id, b);
  EXPECT_EQ(receipts[2].outbox_id, b);
  EXPECT_EQ(receipts[3].outbox_id, a);
  EXPECT_EQ(receipts[3].provider_message_id, "gs-a");
  ASSERT_EQ(store_->receipts_for("homfinity", "LG-1").size(), 1u);
  EXPECT_EQ(store_->receipts_for("homfinity", "LG-1")[0].outbox_id, other_env);
  EXPECT_EQ(statuses_of(store_->receipts_for("orbit", "LG-2")), (std::vector<std::string>{"read"}));
  EXPECT_TRUE(store_->receipts_for("orbit", "LG-404").empty());
}

// ---- Opt-outs (schema 6) ----

TEST_P(StoreConformanceTest, OptOutDefaultsToOptedInAndIsPerEnvironment) {
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-1"));
  store_->set_opt_out("orbit", "phone-1", true, 100);
  EXPECT_TRUE(store_->is_opted_out("orbit", "phone-1"));
  EXPECT_FALSE(store_->is_opted_out("homfinity", "phone-1"));
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-2"));
  store_->set_opt_out("homfinity", "phone-1", false, 200);
  EXPECT_FALSE(store_->is_opted_out("homfinity", "phone-1"));
  EXPECT_TRUE(store_->is_opted_out("orbit", "phone-1"));
}

TEST_P(StoreConformanceTest, OptOutLatestChangeWins) {
  store_->set_opt_out("orbit", "phone-1", true, 100);
  store_->set_opt_out("orbit", "phone-1", false, 50);  // older, arriving later: ignored
  EXPECT_TRUE(store_->is_opted_out("orbit", "phone-1"));
  store_->set_opt_out("orbit", "phone-1", false, 200);
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-1"));
  store_->set_opt_out("orbit", "phone-1", true, 150);
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-1"));
  store_->set_opt_out("orbit", "phone-1", true, 200);  // equal time: the new value wins
  EXPECT_TRUE(store_->is_opted_out("orbit", "phone-1"));
  EXPECT_EQ(count_rows("whatsapp_opt_outs"), 1);

  // record_conversation's opt-out follows the same rule, dated w.now.
  ConversationWrite w = inbound_only("orbit", "phone-1", "wamid-1", 10);
  w.opted_out = false;
  w.now = 199;
  store_->record_conversation(w);
  EXPECT_TRUE(store_->is_opted_out("orbit", "phone-1"));
  ConversationWrite later = inbound_only("orbit", "phone-1", "wamid-2", 10);
  later.opted_out = false;
  later.now = 201;
  store_->record_conversation(later);
  EXPECT_FALSE(store_->is_opted_out("orbit", "phone-1"));
}

}  // namespace
}  // namespace leadgate::conformance
