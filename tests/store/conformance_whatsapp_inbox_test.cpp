// Store conformance, WhatsAppStore, part 1: the webhook inbox.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

// ---- Webhook inbox (schema 5) ----

std::vector<std::string> event_ids_of(const std::vector<InboxEvent>& rows) {
  std::vector<std::string> out;
  for (const auto& e : rows) out.push_back(e.event_id);
  return out;
}

TEST_P(StoreConformanceTest, InboxInsertStoresPendingEventsAndFindsThem) {
  InboxEvent status = make_inbox("gupshup", "gs-2", 1'000, "");
  status.kind = "status";
  EXPECT_EQ(store_->insert_inbox({make_inbox("gupshup", "gs-1", 1'000), status}), 2);
  EXPECT_EQ(store_->insert_inbox({}), 0);

  const auto found = store_->find_inbox("gupshup", "gs-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_GT(found->id, 0);
  EXPECT_EQ(found->provider, "gupshup");
  EXPECT_EQ(found->event_id, "gs-1");
  EXPECT_EQ(found->environment, "orbit");
  EXPECT_EQ(found->kind, "message");
  EXPECT_EQ(found->payload_enc, "v1:inbox-gs-1");
  EXPECT_EQ(found->received_at, 1'000);
  EXPECT_EQ(found->state, "pending");
  EXPECT_EQ(found->attempts, 0);
  EXPECT_EQ(found->next_attempt_at, 1'000) << "due when received";
  EXPECT_EQ(found->processed_at, 0);
  EXPECT_EQ(found->last_error, "");

  const auto second = store_->find_inbox("gupshup", "gs-2");
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(second->id, found->id);
  EXPECT_EQ(second->environment, "") << "no matching business number";
  EXPECT_EQ(second->kind, "status");

  EXPECT_FALSE(store_->find_inbox("gupshup", "gs-404").has_value());
  EXPECT_FALSE(store_->find_inbox("meta", "gs-1").has_value()) << "per provider";
  EXPECT_FALSE(store_->find_inbox("GUPSHUP", "gs-1").has_value());
}

// The per-event flags the webhook's group commit hands back to each callback: which events of
// the (merged) batch were stored now; of an event repeated within the batch, the first.
TEST_P(StoreConformanceTest, InboxInsertFlagsEachEventStoredNow) {
  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "old", 500)}), 1);
  std::vector<char> fresh{9};
  EXPECT_EQ(
      store_->insert_inbox({make_inbox("gupshup", "a", 1'000), make_inbox("gupshup", "old", 1'000),
                            make_inbox("meta", "a", 1'000), make_inbox("gupshup", "a", 1'000),
                            make_inbox("gupshup", "b", 1'000)},
                           &fresh),
      3);
  EXPECT_EQ(fresh, (std::vector<char>{1, 0, 1, 0, 1}));
  EXPECT_EQ(store_->insert_inbox({}, &fresh), 0);
  EXPECT_TRUE(fresh.empty());
  // More rows than one statement takes (1,000) still get one flag each, in order.
  std::vector<InboxEvent> many;
  for (int i = 0; i < 1'203; ++i)
    many.push_back(make_inbox("meta", "m-" + std::to_string(i % 1'100), 2'000));
  EXPECT_EQ(store_->insert_inbox(many, &fresh), 1'100);
  ASSERT_EQ(fresh.size(), many.size());
  for (std::size_t i = 0; i < many.size(); ++i) EXPECT_EQ(fresh[i], i < 1'100 ? 1 : 0) << i;
}

// A redelivered event (same provider and event_id) is skipped, never an error, and leaves the
// stored row as it was; the same event_id from another provider is a different event.
TEST_P(StoreConformanceTest, InboxInsertSkipsRedeliveriesAndCountsOnlyNewEvents) {
  EXPECT_EQ(store_->insert_inbox({make_inbox("gupshup", "e-1", 1'000)}), 1);
  const auto original = store_->find_inbox("gupshup", "e-1");
  ASSERT_TRUE(original.has_value());

  InboxEvent again = make_inbox("gupshup", "e-1", 2'000, "homfinity");
  again.payload_enc = "v1:redelivered";
  EXPECT_EQ(store_->insert_inbox({again}), 0);
  EXPECT_EQ(store_->insert_inbox(
                {again, make_inbox("gupshup", "e-2", 2'000), make_inbox("meta", "e-1", 2'000)}),
            2);
  // A batch repeating one of its own events stores it once.
  EXPECT_EQ(
      store_->insert_inbox({make_inbox("meta", "e-3", 3'000), make_inbox("meta", "e-3", 3'000)}),
      1);
  EXPECT_EQ(count_rows("whatsapp_inbox"), 4);

  const auto kept = store_->find_inbox("gupshup", "e-1");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->id, original->id);
  EXPECT_EQ(kept->environment, "orbit");
  EXPECT_EQ(kept->payload_enc, "v1:inbox-e-1");
  EXPECT_EQ(kept->received_at, 1'000);
  const auto meta = store_->find_inbox("meta", "e-1");
  ASSERT_TRUE(meta.has_value());
  EXPECT_NE(meta->id, original->id);
  EXPECT_EQ(meta->received_at, 2'000);
}

// The provider retries a callback while the first delivery is still being stored: threads on
// several instances (half share store_) insert the same event at once; exactly one stores it.
TEST_P(StoreConformanceTest, ConcurrentDuplicateInboxInsertsStoreOnce) {
  std::atomic<int> inserted{0};
  const int failures = run_at_once(thread_stores(8, true), [&](int t, Store& store) {
    inserted += store.insert_inbox({make_inbox("gupshup", "dup", 1'000 + t)});
  });
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(inserted.load(), 1);
  EXPECT_EQ(count_rows("whatsapp_inbox"), 1);
  EXPECT_TRUE(store_->find_inbox("gupshup", "dup").has_value());
}

TEST_P(StoreConformanceTest, InboxClaimOldestReceivedFirstHonouringLimitAndDueTime) {
  ASSERT_EQ(
      store_->insert_inbox({make_inbox("gupshup", "c", 300), make_inbox("meta", "a", 100),
                            make_inbox("gupshup", "b", 200), make_inbox("gupshup", "late", 2'000)}),
      4);
  const auto first = store_->claim_inbox(1'000, 2, "w", 5'000);
  EXPECT_EQ(event_ids_of(first), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].provider, "meta");
  EXPECT_EQ(first[0].payload_enc, "v1:inbox-a");
  EXPECT_EQ(first[0].state, "pending");
  EXPECT_EQ(first[0].attempts, 0);
  EXPECT_EQ(event_ids_of(store_->claim_inbox(1'000, 2, "w", 5'000)),
            (std::vector<std::string>{"c"}));
  EXPECT_TRUE(store_->claim_inbox(1'000, 2, "w", 5'000).empty());
  // Not due before it was received.
  EXPECT_TRUE(store_->claim_inbox(1'999, 10, "w", 5'000).empty());
  EXPECT_EQ(event_ids_of(store_->claim_inbox(2'000, 10, "w", 5'000)),
            (std::vector<std::string>{"late"}));
}

TEST_P(StoreConformanceTest, InboxClaimTakesARetriedEventWhenItsRetryFallsDue) {
  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "a", 100), make_inbox("gupshup", "b", 200),
                                  make_inbox("gupshup", "c", 300)}),
            3);
  const auto first = store_->claim_inbox(400, 1, "w", 5'000);
  ASSERT_EQ(event_ids_of(first), (std::vector<std::string>{"a"}));
  store_->finish_inbox(first[0].id, "pending", 400, 250, "try again");
  EXPECT_EQ(event_ids_of(store_->claim_inbox(400, 10, "w", 5'000)),
            (std::vector<std::string>{"b", "a", "c"}));
}

TEST_P(StoreConformanceTest, InboxClaimLeasesUntilTheLeaseEnds) {
  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "e-1", 1'000)}), 1);
  const auto id = store_->find_inbox("gupshup", "e-1")->id;
  const auto claimed = store_->claim_inbox(1'000, 10, "worker-a", 5'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);

  // Leased: nobody gets it before the lease ends (a lease ending exactly now still holds).
  EXPECT_TRUE(store_->claim_inbox(1'001, 10, "worker-b", 6'000).empty());
  EXPECT_TRUE(store_->claim_inbox(5'000, 10, "worker-b", 6'000).empty());
  // Lease passed (holder crashed): claimable again, and leased to the new holder.
  const auto again = store_->claim_inbox(5'001, 10, "worker-b", 9'000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, id);
  EXPECT_EQ(again[0].attempts, 0) << "claiming is not an attempt";
  EXPECT_TRUE(store_->claim_inbox(5'002, 10, "worker-c", 9'000).empty());
  // Claiming changes nothing but the lease.
  const auto row = store_->find_inbox("gupshup", "e-1");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, "pending");
  EXPECT_EQ(row->next_attempt_at, 1'000);
}

TEST_P(StoreConformanceTest, InboxReleaseLeasesFreesOnlyTheOwnersClaims) {
  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "r-1", 1'000)}), 1);
  ASSERT_EQ(store_->insert_inbox({make_inbox("gupshup", "r-2", 1'000)}), 1);
  ASSERT_EQ(store_->claim_inbox(1'000, 1, "worker-a", 50'000).size(), 1u);
  ASSERT_EQ(store_->claim_inbox(1'000, 1, "worker-b", 50'000).size(), 1u);
  EXPECT_TRUE(store_->claim_inbox(1'001, 10, "worker-c", 50'000).empty());
  store_->release_inbox_leases("worker-a");
  // worker-a's event is claimable at once; worker-b's is still leased.
  EXPECT_EQ(store_->claim_inbox(1'002, 10, "worker-c", 50'000).size(), 1u);
  EXPECT_TRUE(store_->claim_inbox(1'003, 10, "worker-d", 50'000).empty());
}

TEST_P(StoreConformanceTest, InboxFinishDoneAndFailedAreFinal) {
  ASSERT_EQ(
      store_->insert_inbox({make_inbox("gupshup", "ok", 100), make_inbox("gupshup", "bad", 100)}),
      2);
  ASSERT_EQ(store_->claim_inbox(100, 10, "w", 1'000).size(), 2u);
  const auto ok_id = store_->find_inbox("gupshup", "ok")->id;
  const auto bad_id = store_->find_inbox("gupshup", "bad")->id;
  store_->finish_inbox(ok_id, "done", 150, 0, "");
  store_->finish_inbox(bad_id, "failed", 160, 0, "unknown payload shape");

  expect_inbox("gupshup", "ok", "done", 1, 150, "");
  expect_inbox("gupshup", "bad", "failed", 1, 160, "unknown payload shape");
  for (std::int64_t now : {std::int64_t{150}, std::int64_t{1'001}, std::int64_t{1'000'000'000}}) {
    EXPECT_TRUE(store_->claim_inbox(now, 10, "w2", now + 1'000).empty()) << now;
  }
}

TEST_P(StoreConformanceTest, InboxFinishPendingRetriesLaterAndReleasesTheLease) {
  ASSERT_EQ(store_->insert_inbox({make_inbox("meta", "e-1", 100)}), 1);
  ASSERT_EQ(store_->claim_inbox(100, 10, "w", 100'000).size(), 1u);
  const auto id = store_->find_inbox("meta", "e-1")->id;
  store_->finish_inbox(id, "pending", 200, 2'000, "lead store unavailable");

  auto row = store_->find_inbox("meta", "e-1");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, "pending");
  EXPECT_EQ(row->attempts, 1);
  EXPECT_EQ(row->next_attempt_at, 2'000);
  EXPECT_EQ(row->processed_at, 0) << "not processed yet";
  EXPECT_EQ(row->last_error, "lead store unavailable");

  // The lease (until 100'000) was released: due at 2'000, claimable then, not before.
  EXPECT_TRUE(store_->claim_inbox(1'999, 10, "w", 50'000).empty());
  const auto claimed = store_->claim_inbox(2'000, 10, "w", 50'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
  EXPECT_EQ(claimed[0].attempts, 1);
  EXPECT_EQ(claimed[0].last_error, "lead store unavailable");

  store_->finish_inbox(id, "pending", 2'100, 3'000, "still unavailable");
  ASSERT_EQ(store_->claim_inbox(3'000, 10, "w", 50'000).size(), 1u);
  store_->finish_inbox(id, "done", 3'050, 0, "");
  expect_inbox("meta", "e-1", "done", 3, 3'050, "");
  EXPECT_TRUE(store_->claim_inbox(1'000'000, 10, "w", 2'000'000).empty());
}

}  // namespace
}  // namespace leadgate::conformance
