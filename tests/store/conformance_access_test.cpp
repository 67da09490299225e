// Store conformance, AccessStore: API keys, idempotency records and dashboard sessions.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

using State = IdempotencyRecord::State;

// ---- API keys ----

TEST_P(StoreConformanceTest, ApiKeyInsertFindCount) {
  EXPECT_EQ(store_->count_api_keys(), 0);
  EXPECT_FALSE(store_->find_api_key("nope").has_value());
  store_->insert_api_key({"lg_one", "crm", "hash-one", {"orbit", "homfinity"}, 111, false});
  store_->insert_api_key({"lg_two", "portal", "hash-two", {"homfinity"}, 222, true});
  EXPECT_EQ(store_->count_api_keys(), 2);

  auto one = store_->find_api_key("hash-one");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->id, "lg_one");
  EXPECT_EQ(one->name, "crm");
  EXPECT_EQ(one->key_hash, "hash-one");
  EXPECT_EQ(one->environments, (std::vector<std::string>{"orbit", "homfinity"}));
  EXPECT_EQ(one->created_at, 111);
  EXPECT_FALSE(one->revoked);

  auto two = store_->find_api_key("hash-two");
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->id, "lg_two");
  EXPECT_EQ(two->name, "portal");
  EXPECT_EQ(two->environments, (std::vector<std::string>{"homfinity"}));
  EXPECT_EQ(two->created_at, 222);
  EXPECT_TRUE(two->revoked);
  EXPECT_FALSE(store_->find_api_key("hash-on").has_value());
}

TEST_P(StoreConformanceTest, ApiKeyDuplicateHashOrIdConflicts) {
  const ApiKeyRow key{"lg_one", "crm", "same-hash", {"orbit"}, 1, false};
  store_->insert_api_key(key);
  EXPECT_THROW(store_->insert_api_key(key), StoreConflict);
  EXPECT_THROW(store_->insert_api_key({"lg_two", "crm", "same-hash", {"orbit"}, 1, false}),
               StoreConflict);
  EXPECT_THROW(store_->insert_api_key({"lg_one", "crm", "other-hash", {"orbit"}, 1, false}),
               StoreConflict);
  EXPECT_EQ(store_->count_api_keys(), 1);
  EXPECT_EQ(store_->find_api_key("same-hash")->id, "lg_one");
  // The store stays usable after the failed inserts.
  EXPECT_NO_THROW(store_->insert_api_key({"lg_three", "crm", "hash-3", {"orbit"}, 1, false}));
  EXPECT_EQ(store_->count_api_keys(), 2);
}

TEST_P(StoreConformanceTest, ApiKeyKindDefaultsToServerAndRoundTrips) {
  store_->insert_api_key({"lg_one", "crm", "hash-one", {"orbit"}, 1, false});
  ApiKeyRow app{"lg_two", "mobile", "hash-two", {"homfinity"}, 2, false};
  app.kind = "app";
  store_->insert_api_key(app);
  EXPECT_EQ(store_->find_api_key("hash-one")->kind, "server");
  EXPECT_EQ(store_->find_api_key("hash-one")->last_used_at, 0);
  EXPECT_EQ(store_->find_api_key("hash-two")->kind, "app");
}

TEST_P(StoreConformanceTest, ApiKeyListRevokeAndTouch) {
  EXPECT_TRUE(store_->list_api_keys().empty());
  store_->insert_api_key({"lg_b", "second", "hash-b", {"orbit", "ops"}, 200, false});
  store_->insert_api_key({"lg_a", "first", "hash-a", {"homfinity"}, 100, false});
  store_->insert_api_key({"lg_c", "third", "hash-c", {"orbit"}, 200, false});
  auto keys = store_->list_api_keys();
  ASSERT_EQ(keys.size(), 3u);  // by created_at, then id
  EXPECT_EQ(keys[0].id, "lg_a");
  EXPECT_EQ(keys[1].id, "lg_b");
  EXPECT_EQ(keys[2].id, "lg_c");
  EXPECT_EQ(keys[1].environments, (std::vector<std::string>{"orbit", "ops"}));
  EXPECT_EQ(keys[1].key_hash, "hash-b");

  EXPECT_TRUE(store_->revoke_api_key("lg_b"));
  EXPECT_FALSE(store_->revoke_api_key("lg_b"));  // already revoked
  EXPECT_FALSE(store_->revoke_api_key("lg_nope"));
  EXPECT_TRUE(store_->find_api_key("hash-b")->revoked);
  EXPECT_FALSE(store_->find_api_key("hash-a")->revoked);
  EXPECT_FALSE(store_->find_api_key("hash-c")->revoked);
  EXPECT_EQ(store_->list_api_keys().size(), 3u);  // revoked keys stay listed

  store_->touch_api_key("lg_a", 5'000);
  EXPECT_EQ(store_->find_api_key("hash-a")->last_used_at, 5'000);
  store_->touch_api_key("lg_a", 4'000);  // an older time (another instance's clock) never wins
  EXPECT_EQ(store_->find_api_key("hash-a")->last_used_at, 5'000);
  store_->touch_api_key("lg_a", 9'000);
  EXPECT_EQ(store_->find_api_key("hash-a")->last_used_at, 9'000);
  EXPECT_EQ(store_->find_api_key("hash-c")->last_used_at, 0);
  store_->touch_api_key("lg_nope", 1);  // no such key: nothing happens
}

// ---- Idempotency ----

TEST_P(StoreConformanceTest, IdempotencyLifecycle) {
  const std::string scope = "lg_key1:/api_v1/create_lead";
  auto first = store_->begin_idempotent(scope, "k1", "fp-A", 1'000, 0);
  EXPECT_EQ(first.state, State::started);

  auto running = store_->begin_idempotent(scope, "k1", "fp-A", 1'500, 500);
  EXPECT_EQ(running.state, State::in_progress);

  store_->complete_idempotent(scope, "k1", 201, R"({"success":true})", "application/json", 2'000);
  auto replay = store_->begin_idempotent(scope, "k1", "fp-A", 3'000, 2'500);
  EXPECT_EQ(replay.state, State::replay);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, R"({"success":true})");
  EXPECT_EQ(replay.content_type, "application/json");

  // A finished record replays however old it is.
  auto old_replay = store_->begin_idempotent(scope, "k1", "fp-A", 999'999, 999'000);
  EXPECT_EQ(old_replay.state, State::replay);
  EXPECT_EQ(old_replay.status, 201);
}

TEST_P(StoreConformanceTest, IdempotencyMismatchOnDifferentFingerprint) {
  const std::string scope = "s";
  ASSERT_EQ(store_->begin_idempotent(scope, "k", "fp-A", 1'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp-B", 1'100, 0).state, State::mismatch);
  store_->complete_idempotent(scope, "k", 201, "{}", "application/json", 1'200);
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp-B", 1'300, 0).state, State::mismatch);
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp-A", 1'300, 0).state, State::replay);
}

TEST_P(StoreConformanceTest, IdempotencyKeysScoped) {
  ASSERT_EQ(store_->begin_idempotent("key-a:/route", "k", "fp", 1'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("key-b:/route", "k", "fp-other", 1'000, 0).state,
            State::started);
  EXPECT_EQ(store_->begin_idempotent("key-a:/route", "k2", "fp", 1'000, 0).state, State::started);
  store_->complete_idempotent("key-a:/route", "k", 201, "a", "text/plain", 1'100);
  EXPECT_EQ(store_->begin_idempotent("key-b:/route", "k", "fp-other", 1'200, 0).state,
            State::in_progress)
      << "completing one scope's key leaves the other's running";
}

TEST_P(StoreConformanceTest, StaleRunningRecordIsTakenOver) {
  const std::string scope = "s";
  ASSERT_EQ(store_->begin_idempotent(scope, "k", "fp", 1'000, 0).state, State::started);
  // updated_at 1'000 equals stale_before: not stale yet.
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp", 60'000, 1'000).state, State::in_progress);
  // updated_at 1'000 is older than stale_before 1'001: the first holder is presumed dead.
  auto taken = store_->begin_idempotent(scope, "k", "fp", 60'000, 1'001);
  EXPECT_EQ(taken.state, State::started);
  // The takeover refreshed the record: a third caller now sees it in progress.
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp", 60'500, 30'000).state, State::in_progress);
  // And the new holder can complete it.
  store_->complete_idempotent(scope, "k", 200, "done", "text/plain", 61'000);
  auto replay = store_->begin_idempotent(scope, "k", "fp", 62'000, 0);
  EXPECT_EQ(replay.state, State::replay);
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, "done");
  EXPECT_EQ(replay.content_type, "text/plain");
}

TEST_P(StoreConformanceTest, StaleRecordWithOtherFingerprintStillMismatches) {
  ASSERT_EQ(store_->begin_idempotent("s", "k", "fp", 1'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s", "k", "other", 60'000, 59'000).state, State::mismatch);
  // The mismatching caller did not take the key over.
  EXPECT_EQ(store_->begin_idempotent("s", "k", "fp", 60'000, 59'000).state, State::started);
}

TEST_P(StoreConformanceTest, AbandonFreesARunningKey) {
  ASSERT_EQ(store_->begin_idempotent("s", "k", "fp-A", 1'000, 0).state, State::started);
  ASSERT_EQ(store_->begin_idempotent("s2", "k", "fp-A", 1'000, 0).state, State::started);
  store_->abandon_idempotent("s", "k");
  // Free again, even for a different body; the same key in another scope is still running.
  EXPECT_EQ(store_->begin_idempotent("s", "k", "fp-B", 1'100, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s2", "k", "fp-A", 1'100, 0).state, State::in_progress);
}

TEST_P(StoreConformanceTest, AbandonDoesNotRemoveACompletedRecord) {
  ASSERT_EQ(store_->begin_idempotent("s", "k", "fp", 1'000, 0).state, State::started);
  store_->complete_idempotent("s", "k", 201, "{}", "application/json", 1'100);
  store_->abandon_idempotent("s", "k");
  EXPECT_EQ(store_->begin_idempotent("s", "k", "fp", 1'200, 0).state, State::replay);
  EXPECT_NO_THROW(store_->abandon_idempotent("s", "missing"));
}

TEST_P(StoreConformanceTest, PurgeRemovesOldRecordsOnly) {
  ASSERT_EQ(store_->begin_idempotent("s", "old-done", "fp", 1'000, 0).state, State::started);
  store_->complete_idempotent("s", "old-done", 201, "{}", "application/json", 1'100);
  ASSERT_EQ(store_->begin_idempotent("s", "old-running", "fp", 2'000, 0).state, State::started);
  ASSERT_EQ(store_->begin_idempotent("s", "new", "fp", 10'000, 0).state, State::started);

  EXPECT_EQ(store_->purge_idempotent(5'000), 2);
  EXPECT_EQ(store_->purge_idempotent(5'000), 0);
  // Purged keys start afresh, even with another body; the recent one is untouched.
  EXPECT_EQ(store_->begin_idempotent("s", "old-done", "other", 11'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s", "old-running", "other", 11'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s", "new", "fp", 11'000, 5'000).state, State::in_progress);
}

// Age is counted from creation: a record completed or taken over late still goes.
TEST_P(StoreConformanceTest, PurgeCountsAgeFromCreation) {
  ASSERT_EQ(store_->begin_idempotent("s", "late-done", "fp", 1'000, 0).state, State::started);
  store_->complete_idempotent("s", "late-done", 201, "{}", "application/json", 9'000);
  ASSERT_EQ(store_->begin_idempotent("s", "taken-over", "fp", 1'000, 0).state, State::started);
  ASSERT_EQ(store_->begin_idempotent("s", "taken-over", "fp", 9'000, 5'000).state, State::started);
  ASSERT_EQ(store_->begin_idempotent("s", "boundary", "fp", 5'000, 0).state, State::started);

  EXPECT_EQ(store_->purge_idempotent(5'000), 2) << "strictly older than the cutoff";
  EXPECT_EQ(store_->begin_idempotent("s", "late-done", "other", 10'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s", "taken-over", "other", 10'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s", "boundary", "other", 10'000, 0).state, State::mismatch);
}

// ---- Dashboard sessions ----

TEST_P(StoreConformanceTest, OpsSessionsOpenExpireAndEnd) {
  store_->insert_ops_session({"tok-a", "key-hash-1", 1000, 5000});
  store_->insert_ops_session({"tok-b", "key-hash-2", 1000, 2000});
  EXPECT_EQ(store_->find_ops_session("tok-a", 4999), std::optional<std::string>("key-hash-1"));
  EXPECT_FALSE(store_->find_ops_session("tok-a", 5000).has_value());  // expired
  EXPECT_FALSE(store_->find_ops_session("tok-x", 1500).has_value());
  EXPECT_TRUE(store_->delete_ops_session("tok-a"));  // logout
  EXPECT_FALSE(store_->delete_ops_session("tok-a"));
  EXPECT_FALSE(store_->find_ops_session("tok-a", 1500).has_value());
  EXPECT_EQ(store_->find_ops_session("tok-b", 1500), std::optional<std::string>("key-hash-2"));
  // A new session clears those expired by then.
  store_->insert_ops_session({"tok-c", "key-hash-1", 3000, 9000});
  EXPECT_FALSE(store_->delete_ops_session("tok-b"));
  EXPECT_EQ(store_->find_ops_session("tok-c", 3000), std::optional<std::string>("key-hash-1"));
}

}  // namespace
}  // namespace leadgate::conformance
