// Store conformance, OutboxStore: claiming, leasing and finishing deliveries, operators' list
// and requeue, attempts of a lead, suppressed rows.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

void expect_sent(const OutboxMessage& row, int attempts, const std::string& provider_id) {
  EXPECT_EQ(row.status, "sent") << row.lead_ref;
  EXPECT_EQ(row.attempts, attempts) << row.lead_ref;
  EXPECT_EQ(row.provider_message_id, provider_id) << row.lead_ref;
}

void expect_pending(const OutboxMessage& row, int attempts, std::int64_t next_attempt_at) {
  EXPECT_EQ(row.status, "pending") << row.lead_ref;
  EXPECT_EQ(row.attempts, attempts) << row.lead_ref;
  EXPECT_EQ(row.next_attempt_at, next_attempt_at) << row.lead_ref;
}

// A row that is final (sent, dead or suppressed) is never claimed again, whenever asked.
void expect_never_claimed(Store& store) {
  for (std::int64_t now : {std::int64_t{100}, std::int64_t{1'001}, std::int64_t{1'000'000'000}}) {
    EXPECT_TRUE(store.claim_outbox(now, 10, "w2", now + 1'000).empty()) << now;
  }
}

// ---- Outbox: claim, lease, finish ----

TEST_P(StoreConformanceTest, ClaimReturnsDueRowsAndLeasesThem) {
  const auto id = insert_with_outbox("LG-1", "b1", 1'000);
  auto claimed = store_->claim_outbox(1'000, 10, "worker-a", 5'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
  expect_made_outbox(claimed[0], "orbit", "LG-1", "pending", 0);

  // Leased: nobody gets it before the lease ends (a lease ending exactly now still holds).
  EXPECT_TRUE(store_->claim_outbox(1'001, 10, "worker-b", 6'000).empty());
  EXPECT_TRUE(store_->claim_outbox(4'999, 10, "worker-b", 6'000).empty());
  EXPECT_TRUE(store_->claim_outbox(5'000, 10, "worker-b", 6'000).empty());
  // Lease passed (holder crashed): claimable again.
  auto again = store_->claim_outbox(5'001, 10, "worker-b", 9'000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, id);
  EXPECT_TRUE(store_->claim_outbox(5'002, 10, "worker-c", 9'000).empty());
}

TEST_P(StoreConformanceTest, FutureRowsNotClaimedUntilDue) {
  const auto id = insert_with_outbox("LG-1", "b1", 10'000);
  EXPECT_TRUE(store_->claim_outbox(9'999, 10, "w", 20'000).empty());
  auto claimed = store_->claim_outbox(10'000, 10, "w", 20'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
}

TEST_P(StoreConformanceTest, ClaimHonoursLimitAndDueOrder) {
  insert_with_outbox("LG-3", "b3", 300);
  insert_with_outbox("LG-1", "b1", 100);
  insert_with_outbox("LG-2", "b2", 200);
  insert_with_outbox("LG-4", "b4", 2'000);  // not due
  auto first = store_->claim_outbox(1'000, 2, "w", 5'000);
  ASSERT_EQ(first.size(), 2u);
  std::set<std::string> refs{first[0].lead_ref, first[1].lead_ref};
  EXPECT_EQ(refs, (std::set<std::string>{"LG-1", "LG-2"})) << "earliest due first";
  auto rest = store_->claim_outbox(1'000, 2, "w", 5'000);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].lead_ref, "LG-3");
  EXPECT_TRUE(store_->claim_outbox(1'000, 2, "w", 5'000).empty());
}

TEST_P(StoreConformanceTest, ClaimSpansEnvironments) {
  insert_with_outbox("LG-1", "b1", 0, "orbit");
  insert_with_outbox("LG-2", "b2", 0, "homfinity");
  auto claimed = store_->claim_outbox(10, 10, "w", 100);
  ASSERT_EQ(claimed.size(), 2u);
  std::set<std::string> envs{claimed[0].environment, claimed[1].environment};
  EXPECT_EQ(envs, (std::set<std::string>{"orbit", "homfinity"}));
}

TEST_P(StoreConformanceTest, SentRowNeverClaimedAgain) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  ASSERT_EQ(store_->claim_outbox(100, 10, "w", 1'000).size(), 1u);
  mark_sent(id, "gs-msg-1");

  const auto row = row_of("LG-1");
  expect_sent(row, 1, "gs-msg-1");
  EXPECT_EQ(row.last_error, "");
  expect_never_claimed(*store_);
  EXPECT_EQ(count_rows("outbox_attempts"), 1);
}

TEST_P(StoreConformanceTest, FailedAttemptReschedulesAndReleasesLease) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  ASSERT_EQ(store_->claim_outbox(100, 10, "w", 100'000).size(), 1u);
  store_->finish_outbox_attempt(make_attempt(id, 1, "failed"), "pending", 2'000);

  const auto row = row_of("LG-1");
  expect_pending(row, 1, 2'000);
  EXPECT_EQ(row.last_error, "Gupshup answered HTTP 503");
  EXPECT_EQ(row.provider_message_id, "");

  // The lease (until 100'000) was released: due at 2'000, claimable then, not before.
  EXPECT_TRUE(store_->claim_outbox(1'999, 10, "w", 50'000).empty());
  auto claimed = store_->claim_outbox(2'000, 10, "w", 50'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].attempts, 1);
  EXPECT_EQ(claimed[0].last_error, "Gupshup answered HTTP 503");

  // A later success records its provider id next to the earlier failure.
  mark_sent(id, "gs-123", 2, 2'000);
  expect_sent(row_of("LG-1"), 2, "gs-123");
  EXPECT_EQ(count_rows("outbox_attempts"), 2);
}

// A late attempt record without a provider id (e.g. a duplicate failure report) does not erase
// the id an earlier accepted attempt recorded.
TEST_P(StoreConformanceTest, AttemptWithoutProviderIdKeepsTheRecordedOne) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  mark_sent(id, "gs-123");
  store_->finish_outbox_attempt(make_attempt(id, 2, "failed"), "sent", 0);
  expect_sent(row_of("LG-1"), 2, "gs-123");
  EXPECT_EQ(count_rows("outbox_attempts"), 2);
}

TEST_P(StoreConformanceTest, DeadRowNeverClaimedAgain) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  ASSERT_EQ(store_->claim_outbox(1, 10, "w", 10).size(), 1u);
  OutboxAttempt a = make_attempt(id, 10, "failed");
  a.error = "gave up";
  store_->finish_outbox_attempt(a, "dead", 0);
  const auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "dead");
  EXPECT_EQ(row.attempts, 10);
  EXPECT_EQ(row.last_error, "gave up");
  EXPECT_TRUE(store_->claim_outbox(1'000'000, 10, "w", 2'000'000).empty());
}

TEST_P(StoreConformanceTest, ReleaseLeasesOfOneOwner) {
  insert_with_outbox("LG-1", "b1", 0);
  insert_with_outbox("LG-2", "b2", 0);
  ASSERT_EQ(store_->claim_outbox(10, 1, "owner-a", 100'000).size(), 1u);
  ASSERT_EQ(store_->claim_outbox(10, 1, "owner-b", 100'000).size(), 1u);
  EXPECT_TRUE(store_->claim_outbox(20, 10, "owner-c", 100'000).empty());

  store_->release_outbox_leases("owner-a");
  auto released = store_->claim_outbox(20, 10, "owner-c", 100'000);
  ASSERT_EQ(released.size(), 1u) << "only owner-a's row is free again";
  EXPECT_TRUE(store_->claim_outbox(30, 10, "owner-d", 100'000).empty());

  store_->release_outbox_leases("nobody");
  EXPECT_TRUE(store_->claim_outbox(40, 10, "owner-d", 100'000).empty());
  // Releasing changes nothing but the lease.
  for (const char* ref : {"LG-1", "LG-2"}) {
    expect_pending(row_of(ref), 0, 0);
  }
}

// ---- Outbox: operators (list_outbox, requeue_outbox) ----

TEST_P(StoreConformanceTest, ListOutboxFiltersByStatus) {
  const auto pending = insert_with_outbox("LG-1", "b1", 500);
  const auto sent = insert_with_outbox("LG-2", "b2", 0);
  const auto dead = insert_with_outbox("LG-3", "b3", 0);
  const auto dead_elsewhere = insert_with_outbox("LG-4", "b4", 0, "homfinity");
  mark_sent(sent, "gs-1");
  give_up(dead, 7);
  give_up(dead_elsewhere);

  const auto dead_rows = store_->list_outbox("dead", 10);
  EXPECT_EQ(ids_of(dead_rows), (std::vector<std::int64_t>{dead, dead_elsewhere}))
      << "every environment";
  ASSERT_EQ(dead_rows.size(), 2u);
  expect_made_outbox(dead_rows[0], "orbit", "LG-3", "dead", 7);
  EXPECT_EQ(dead_rows[0].last_error, "gave up");
  EXPECT_EQ(dead_rows[1].environment, "homfinity");

  const auto sent_rows = store_->list_outbox("sent", 10);
  ASSERT_EQ(ids_of(sent_rows), (std::vector<std::int64_t>{sent}));
  EXPECT_EQ(sent_rows[0].provider_message_id, "gs-1");
  const auto pending_rows = store_->list_outbox("pending", 10);
  ASSERT_EQ(ids_of(pending_rows), (std::vector<std::int64_t>{pending}));
  EXPECT_EQ(pending_rows[0].next_attempt_at, 500);
  EXPECT_TRUE(store_->list_outbox("nonsense", 10).empty());
  EXPECT_TRUE(store_->list_outbox("", 10).empty());
  EXPECT_TRUE(store_->list_outbox("DEAD", 10).empty());
}

// Oldest first: creation order, whatever the order they died in or the time they were due.
TEST_P(StoreConformanceTest, ListOutboxOldestFirst) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    const std::string ref = "LG-" + std::to_string(i);
    LeadWrite w;
    w.lead = make_lead("orbit", ref, "b" + std::to_string(i));
    OutboxMessage m = make_outbox("orbit", ref, 10'000 - i * 1'000);
    m.created_at = 100 + i;
    w.outbox.push_back(m);
    store_->insert_lead(w);
    ids.push_back(row_of(ref).id);
  }
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) give_up(*it);
  EXPECT_EQ(ids_of(store_->list_outbox("dead", 10)), ids);
  // Also while pending, with due times in the opposite order.
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-P", "bp");
  w.outbox = {make_outbox("orbit", "LG-P", 900), make_outbox("orbit", "LG-P", 800)};
  store_->insert_lead(w);
  const auto pending = store_->outbox_for("orbit", "LG-P");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(ids_of(store_->list_outbox("pending", 10)), ids_of(pending));
}

TEST_P(StoreConformanceTest, ListOutboxHonoursLimit) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(insert_with_outbox("LG-" + std::to_string(i), "b" + std::to_string(i), i));
    give_up(ids.back());
  }
  EXPECT_EQ(ids_of(store_->list_outbox("dead", 2)), (std::vector<std::int64_t>{ids[0], ids[1]}));
  EXPECT_EQ(ids_of(store_->list_outbox("dead", 1)), (std::vector<std::int64_t>{ids[0]}));
  EXPECT_EQ(ids_of(store_->list_outbox("dead", 5)), ids);
  EXPECT_EQ(ids_of(store_->list_outbox("dead", 100)), ids);
  EXPECT_TRUE(store_->list_outbox("dead", 0).empty());
  // Listing is read-only.
  EXPECT_EQ(store_->list_outbox("dead", 100).size(), 5u);
  EXPECT_TRUE(store_->list_outbox("pending", 100).empty());
}

TEST_P(StoreConformanceTest, RequeueOneDeadRow) {
  const auto a = insert_with_outbox("LG-1", "b1", 0);
  const auto b = insert_with_outbox("LG-2", "b2", 0);
  give_up(a, 8);
  give_up(b, 8);

  EXPECT_EQ(store_->requeue_outbox(a, 50'000), 1);
  expect_pending(row_of("LG-1"), 0, 50'000);  // a fresh attempt budget
  EXPECT_EQ(row_of("LG-2").status, "dead") << "only the named row";
  EXPECT_EQ(row_of("LG-2").attempts, 8);
  EXPECT_EQ(ids_of(store_->list_outbox("dead", 10)), (std::vector<std::int64_t>{b}));
  EXPECT_EQ(store_->requeue_outbox(a, 50'000), 0) << "no longer dead";

  // Claimable immediately (not a moment before), like any row that just fell due.
  EXPECT_TRUE(store_->claim_outbox(49'999, 10, "w", 60'000).empty());
  const auto claimed = store_->claim_outbox(50'000, 10, "w", 60'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, a);
  EXPECT_EQ(claimed[0].status, "pending");
  EXPECT_EQ(claimed[0].attempts, 0);

  // And deliverable again from attempt 1.
  mark_sent(a, "gs-again", 1, 50'000);
  expect_sent(row_of("LG-1"), 1, "gs-again");
}

TEST_P(StoreConformanceTest, RequeueAllDeadRowsWithIdZero) {
  const auto pending = insert_with_outbox("LG-1", "b1", 900'000);
  const auto sent = insert_with_outbox("LG-2", "b2", 0);
  const auto dead1 = insert_with_outbox("LG-3", "b3", 0);
  const auto dead2 = insert_with_outbox("LG-4", "b4", 0, "homfinity");
  const auto dead3 = insert_with_outbox("LG-5", "b5", 0);
  mark_sent(sent, "gs-1");
  give_up(dead1);
  give_up(dead2, 3);
  give_up(dead3, 9);

  EXPECT_EQ(store_->requeue_outbox(0, 70'000), 3);
  EXPECT_TRUE(store_->list_outbox("dead", 10).empty());
  for (const auto& [ref, env] : std::vector<std::pair<std::string, std::string>>{
           {"LG-3", "orbit"}, {"LG-4", "homfinity"}, {"LG-5", "orbit"}}) {
    expect_pending(row_of(ref, env), 0, 70'000);
  }
  // Rows that were not dead are untouched.
  const auto p = row_of("LG-1");
  EXPECT_EQ(p.status, "pending");
  EXPECT_EQ(p.next_attempt_at, 900'000);
  expect_sent(row_of("LG-2"), 1, "gs-1");

  const auto claimed = store_->claim_outbox(70'000, 10, "w", 80'000);
  const auto claimed_ids = ids_of(claimed);
  EXPECT_EQ(std::set<std::int64_t>(claimed_ids.begin(), claimed_ids.end()),
            (std::set<std::int64_t>{dead1, dead2, dead3}))
      << "the requeued rows, and not the pending row that is not yet due";
  for (const auto& m : claimed) EXPECT_EQ(m.attempts, 0) << m.id;
  EXPECT_EQ(store_->requeue_outbox(0, 70'000), 0) << "nothing dead any more";
  EXPECT_EQ(row_of("LG-1").id, pending);
}

TEST_P(StoreConformanceTest, RequeueLeavesRowsThatAreNotDeadUntouched) {
  const auto retrying = insert_with_outbox("LG-1", "b1", 0);
  const auto leased = insert_with_outbox("LG-2", "b2", 0);
  const auto sent = insert_with_outbox("LG-3", "b3", 0);
  ASSERT_EQ(store_->claim_outbox(10, 3, "w", 20).size(), 3u);
  store_->finish_outbox_attempt(make_attempt(retrying, 2, "failed"), "pending", 7'000);
  mark_sent(sent, "gs-1");
  ASSERT_EQ(store_->claim_outbox(30, 10, "holder", 100'000).size(), 1u);  // re-lease LG-2

  EXPECT_EQ(store_->requeue_outbox(retrying, 40), 0);
  EXPECT_EQ(store_->requeue_outbox(leased, 40), 0);
  EXPECT_EQ(store_->requeue_outbox(sent, 40), 0);
  EXPECT_EQ(store_->requeue_outbox(sent + 1'000, 40), 0) << "unknown id";
  EXPECT_EQ(store_->requeue_outbox(0, 40), 0) << "no dead rows";

  const auto r = row_of("LG-1");
  expect_pending(r, 2, 7'000);
  EXPECT_EQ(r.last_error, "Gupshup answered HTTP 503");
  expect_sent(row_of("LG-3"), 1, "gs-1");
  // LG-2's lease still holds and LG-1 is still not due.
  EXPECT_TRUE(store_->claim_outbox(6'999, 10, "other", 200'000).empty());
  const auto due = store_->claim_outbox(7'000, 10, "other", 200'000);
  EXPECT_EQ(ids_of(due), (std::vector<std::int64_t>{retrying}));
}

// ---- Outbox attempts of a lead ----

TEST_P(StoreConformanceTest, OutboxAttemptsForALeadByStartTimeThenAttempt) {
  EXPECT_TRUE(store_->outbox_attempts_for("orbit", "LG-1").empty());
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.outbox = {make_outbox("orbit", "LG-1", 0), make_outbox("orbit", "LG-1", 0)};
  store_->insert_lead(w);
  const auto first = store_->outbox_for("orbit", "LG-1")[0].id;
  const auto second = store_->outbox_for("orbit", "LG-1")[1].id;
  const auto other_lead = insert_with_outbox("LG-2", "bidx-2", 0);
  // Reference ids are unique across environments; a message can still name one in another.
  store_->append_events({}, {make_outbox("homfinity", "LG-1", 0)});
  const auto other_env = store_->outbox_for("homfinity", "LG-1").at(0).id;

  OutboxAttempt a1 = make_attempt(first, 1, "failed");
  a1.started_at = 300;
  OutboxAttempt a2 = make_attempt(first, 2, "accepted");
  a2.started_at = 500;
  a2.provider_message_id = "gs-1";
  OutboxAttempt b1 = make_attempt(second, 1, "failed");
  b1.started_at = 100;
  OutboxAttempt b2 = make_attempt(second, 2, "failed");  // same start as a1: attempt decides
  b2.started_at = 300;
  store_->finish_outbox_attempt(a1, "pending", 400);
  store_->finish_outbox_attempt(a2, "sent", 400);
  store_->finish_outbox_attempt(b1, "pending", 400);
  store_->finish_outbox_attempt(b2, "pending", 400);
  store_->finish_outbox_attempt(make_attempt(other_lead, 1, "failed"), "pending", 400);
  store_->finish_outbox_attempt(make_attempt(other_env, 1, "failed"), "pending", 400);

  const auto attempts = store_->outbox_attempts_for("orbit", "LG-1");
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[0].outbox_id, second);
  EXPECT_EQ(attempts[0].started_at, 100);
  EXPECT_EQ(attempts[1].outbox_id, first);
  EXPECT_EQ(attempts[1].attempt, 1);
  EXPECT_EQ(attempts[2].outbox_id, second);
  EXPECT_EQ(attempts[2].attempt, 2);
  EXPECT_EQ(attempts[3].outbox_id, first);
  EXPECT_EQ(attempts[3].attempt, 2);
  EXPECT_EQ(attempts[3].duration_ms, 40);
  EXPECT_EQ(attempts[3].outcome, "accepted");
  EXPECT_EQ(attempts[3].http_status, 202);
  EXPECT_EQ(attempts[3].error, "");
  EXPECT_EQ(attempts[3].provider_message_id, "gs-1");
  EXPECT_EQ(attempts[1].outcome, "failed");
  EXPECT_EQ(attempts[1].http_status, 503);
  EXPECT_EQ(attempts[1].error, "Gupshup answered HTTP 503");
  EXPECT_EQ(store_->outbox_attempts_for("orbit", "LG-2").size(), 1u);
  const auto hom = store_->outbox_attempts_for("homfinity", "LG-1");
  ASSERT_EQ(hom.size(), 1u);
  EXPECT_EQ(hom[0].outbox_id, other_env);
}

// ---- Suppressed outbox rows (schema 6) ----

// A customer who opted out: the delivery worker suppresses the message instead of sending it.
// Suppressed is final like sent and dead: never claimed again, never requeued.
TEST_P(StoreConformanceTest, SuppressedRowIsFinalAndNeverRequeued) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  const auto dead = insert_with_outbox("LG-2", "b2", 0);
  ASSERT_EQ(store_->claim_outbox(100, 10, "w", 1'000).size(), 2u);
  OutboxAttempt a = make_attempt(id, 1, "failed");
  a.http_status = 0;
  a.error = "customer opted out";
  store_->finish_outbox_attempt(a, "suppressed", 0);
  give_up(dead);

  const auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "suppressed");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.last_error, "customer opted out");
  EXPECT_EQ(row.delivery_status, "");
  expect_never_claimed(*store_);
  EXPECT_EQ(ids_of(store_->list_outbox("suppressed", 10)), (std::vector<std::int64_t>{id}));
  EXPECT_EQ(store_->requeue_outbox(id, 2'000), 0);
  EXPECT_EQ(store_->requeue_outbox(0, 2'000), 1) << "only the dead row";
  EXPECT_EQ(row_of("LG-1").status, "suppressed");
  EXPECT_EQ(row_of("LG-2").status, "pending");
  EXPECT_EQ(ids_of(store_->claim_outbox(2'000, 10, "w3", 3'000)),
            (std::vector<std::int64_t>{dead}));
}

}  // namespace
}  // namespace leadgate::conformance
