// Store conformance, OpsStore: schema and migrations, monitoring (metric minutes, counts,
// database size), and the backfill that seals what schema 13 found in plaintext.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

// ---- Schema ----

TEST_P(StoreConformanceTest, KindAndPing) {
  EXPECT_EQ(store_->kind(), GetParam());
  EXPECT_NO_THROW(store_->ping());
}

TEST_P(StoreConformanceTest, NeverMigratedDatabaseHasVersionZeroUntilMigrated) {
  auto fresh = open_fresh();
  EXPECT_NO_THROW(fresh->ping());
  EXPECT_EQ(fresh->schema_version(), 0);
  fresh->migrate();
  EXPECT_EQ(fresh->schema_version(), fresh->expected_schema_version());
}

TEST_P(StoreConformanceTest, MigrateIsIdempotentAndReachesExpectedVersion) {
  EXPECT_GE(store_->expected_schema_version(), 1);
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  store_->migrate();
  store_->migrate();
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  EXPECT_EQ(count_rows("schema_migrations"), store_->expected_schema_version());
}

// A missing table is a bug or a setup error, not an outage (503) and not a conflict (409).
TEST_P(StoreConformanceTest, UsingANeverMigratedDatabaseIsAPlainError) {
  auto fresh = open_fresh();
  try {
    fresh->count_api_keys();
    FAIL() << "expected an error";
  } catch (const StoreUnavailable& e) {
    FAIL() << "unexpected StoreUnavailable: " << e.what();
  } catch (const StoreConflict& e) {
    FAIL() << "unexpected StoreConflict: " << e.what();
  } catch (const std::runtime_error&) {
  }
  fresh->migrate();
  EXPECT_EQ(fresh->count_api_keys(), 0);
}

// ---- Monitoring (schema 7) ----

MetricMinute make_minute(std::int64_t minute, const std::string& instance,
                         const std::string& payload, std::int64_t updated_at = 0) {
  MetricMinute m;
  m.minute = minute;
  m.instance = instance;
  m.payload_json = payload;
  m.updated_at = updated_at != 0 ? updated_at : minute * 60'000 + 1'000;
  return m;
}

std::vector<std::string> minute_keys(const std::vector<MetricMinute>& rows) {
  std::vector<std::string> out;
  for (const auto& m : rows) out.push_back(std::to_string(m.minute) + "/" + m.instance);
  return out;
}

// An instance re-writes its current minute as it goes: the last write's payload and time win.
TEST_P(StoreConformanceTest, PutMetricMinuteUpsertReplacesThePayload) {
  EXPECT_TRUE(store_->metric_minutes(1, 0, 100'000'000).empty());
  store_->put_metric_minute(make_minute(28'000'000, "i-1", R"({"requests":1})", 100));
  store_->put_metric_minute(make_minute(28'000'000, "i-1", R"({"requests":5,"errors":1})", 200));
  EXPECT_EQ(count_rows("metric_minutes"), 1);

  const auto rows = store_->metric_minutes(1, 28'000'000, 28'000'001);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].minute, 28'000'000);
  EXPECT_EQ(rows[0].instance, "i-1");
  EXPECT_EQ(rows[0].payload_json, R"({"requests":5,"errors":1})");
  EXPECT_EQ(rows[0].updated_at, 200);

  // An older time is written too: the upsert replaces, it does not compare.
  store_->put_metric_minute(make_minute(28'000'000, "i-1", "{}", 150));
  const auto again = store_->metric_minutes(1, 28'000'000, 28'000'001);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].payload_json, "{}");
  EXPECT_EQ(again[0].updated_at, 150);
}

TEST_P(StoreConformanceTest, MetricMinutesHalfOpenRangeByMinuteThenInstance) {
  // Written out of order; several instances per minute.
  store_->put_metric_minute(make_minute(102, "i-b", "b102"));
  store_->put_metric_minute(make_minute(100, "i-b", "b100"));
  store_->put_metric_minute(make_minute(101, "i-a", "a101"));
  store_->put_metric_minute(make_minute(100, "i-a", "a100"));
  store_->put_metric_minute(make_minute(99, "i-a", "a99"));
  store_->put_metric_minute(make_minute(100, "i-c", "c100"));
  store_->put_metric_minute(make_minute(102, "i-a", "a102"));
  EXPECT_EQ(count_rows("metric_minutes"), 7);

  EXPECT_EQ(minute_keys(store_->metric_minutes(1, 100, 102)),
            (std::vector<std::string>{"100/i-a", "100/i-b", "100/i-c", "101/i-a"}));
  const auto all = store_->metric_minutes(1, 0, 1'000);
  EXPECT_EQ(minute_keys(all), (std::vector<std::string>{"99/i-a", "100/i-a", "100/i-b", "100/i-c",
                                                        "101/i-a", "102/i-a", "102/i-b"}));
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[2].payload_json, "b100");
  EXPECT_EQ(all[2].updated_at, 100 * 60'000 + 1'000);
  // from is inclusive, to exclusive.
  EXPECT_EQ(minute_keys(store_->metric_minutes(1, 102, 103)),
            (std::vector<std::string>{"102/i-a", "102/i-b"}));
  EXPECT_EQ(minute_keys(store_->metric_minutes(1, 99, 100)), (std::vector<std::string>{"99/i-a"}));
  EXPECT_TRUE(store_->metric_minutes(1, 100, 100).empty());
  EXPECT_TRUE(store_->metric_minutes(1, 102, 100).empty());
  EXPECT_TRUE(store_->metric_minutes(1, 103, 1'000).empty());
  EXPECT_TRUE(store_->metric_minutes(1, 0, 99).empty());
}

// Rollup rows (15-minute, hourly) share the table: a read names its resolution, a purge takes
// every resolution.
TEST_P(StoreConformanceTest, MetricMinutesKeepResolutionsApart) {
  auto at = [](std::int64_t minute, int resolution, const std::string& payload) {
    MetricMinute m = make_minute(minute, "i-a", payload);
    m.resolution = resolution;
    return m;
  };
  store_->put_metric_minute(at(900, 1, "m900"));
  store_->put_metric_minute(at(900, 15, "q900"));
  store_->put_metric_minute(at(900, 60, "h900"));
  store_->put_metric_minute(at(915, 15, "q915"));
  store_->put_metric_minute(at(915, 15, "q915b"));  // upsert within its resolution
  EXPECT_EQ(count_rows("metric_minutes"), 4);
  const auto quarters = store_->metric_minutes(15, 0, 1'000);
  ASSERT_EQ(quarters.size(), 2u);
  EXPECT_EQ(quarters[0].payload_json, "q900");
  EXPECT_EQ(quarters[1].payload_json, "q915b");
  EXPECT_EQ(quarters[1].resolution, 15);
  ASSERT_EQ(store_->metric_minutes(60, 0, 1'000).size(), 1u);
  EXPECT_EQ(store_->metric_minutes(1, 0, 1'000)[0].payload_json, "m900");
  EXPECT_EQ(store_->purge_metric_minutes(915), 3);
  EXPECT_EQ(minute_keys(store_->metric_minutes(15, 0, 1'000)),
            (std::vector<std::string>{"915/i-a"}));
}

TEST_P(StoreConformanceTest, PurgeMetricMinutesDeletesOlderMinutesOnly) {
  for (std::int64_t minute = 10; minute < 15; ++minute) {
    store_->put_metric_minute(make_minute(minute, "i-a", "a"));
    store_->put_metric_minute(make_minute(minute, "i-b", "b"));
  }
  EXPECT_EQ(store_->purge_metric_minutes(10), 0) << "nothing before the first minute";
  EXPECT_EQ(store_->purge_metric_minutes(12), 4) << "minutes 10 and 11, both instances";
  EXPECT_EQ(minute_keys(store_->metric_minutes(1, 0, 100)),
            (std::vector<std::string>{"12/i-a", "12/i-b", "13/i-a", "13/i-b", "14/i-a", "14/i-b"}));
  EXPECT_EQ(store_->purge_metric_minutes(12), 0) << "already purged";
  EXPECT_EQ(store_->purge_metric_minutes(14), 4);
  EXPECT_EQ(minute_keys(store_->metric_minutes(1, 0, 100)),
            (std::vector<std::string>{"14/i-a", "14/i-b"}));
  EXPECT_EQ(store_->purge_metric_minutes(1'000), 2);
  EXPECT_EQ(count_rows("metric_minutes"), 0);
}

TEST_P(StoreConformanceTest, OutboxCountsPerStatusAcrossEnvironments) {
  EXPECT_TRUE(store_->outbox_counts().empty()) << "statuses with no rows are absent";
  const auto sent = insert_with_outbox("LG-1", "b1", 0);
  const auto dead = insert_with_outbox("LG-2", "b2", 0);
  const auto suppressed = insert_with_outbox("LG-3", "b3", 0);
  const auto retried = insert_with_outbox("LG-4", "b4", 0, "homfinity");
  insert_with_outbox("LG-5", "b5", 0, "homfinity");
  insert_with_outbox("LG-6", "b6", 0);
  using Counts = std::map<std::string, std::int64_t>;
  EXPECT_EQ(store_->outbox_counts(), (Counts{{"pending", 6}}));

  ASSERT_EQ(store_->claim_outbox(100, 4, "w", 1'000).size(), 4u);
  EXPECT_EQ(store_->outbox_counts(), (Counts{{"pending", 6}})) << "a lease is not a status";
  mark_sent(sent, "gs-1");
  give_up(dead);
  OutboxAttempt opted_out = make_attempt(suppressed, 1, "failed");
  opted_out.error = "customer opted out";
  store_->finish_outbox_attempt(opted_out, "suppressed", 0);
  store_->finish_outbox_attempt(make_attempt(retried, 1, "failed"), "pending", 5'000);
  EXPECT_EQ(store_->outbox_counts(),
            (Counts{{"dead", 1}, {"pending", 3}, {"sent", 1}, {"suppressed", 1}}));

  EXPECT_EQ(store_->requeue_outbox(dead, 2'000), 1);
  EXPECT_EQ(store_->outbox_counts(), (Counts{{"pending", 4}, {"sent", 1}, {"suppressed", 1}}));
}

TEST_P(StoreConformanceTest, InboxCountsPerState) {
  EXPECT_TRUE(store_->inbox_counts().empty()) << "states with no rows are absent";
  ASSERT_EQ(
      store_->insert_inbox({make_inbox("gupshup", "e-1", 100), make_inbox("gupshup", "e-2", 100),
                            make_inbox("meta", "e-3", 100), make_inbox("meta", "e-4", 100, "")}),
      4);
  using Counts = std::map<std::string, std::int64_t>;
  EXPECT_EQ(store_->inbox_counts(), (Counts{{"pending", 4}}));
  EXPECT_EQ(store_->insert_inbox({make_inbox("gupshup", "e-1", 200)}), 0);
  EXPECT_EQ(store_->inbox_counts(), (Counts{{"pending", 4}})) << "a redelivery is not a row";

  ASSERT_EQ(store_->claim_inbox(100, 10, "w", 1'000).size(), 4u);
  store_->finish_inbox(store_->find_inbox("gupshup", "e-1")->id, "done", 150, 0, "");
  store_->finish_inbox(store_->find_inbox("gupshup", "e-2")->id, "failed", 150, 0, "bad shape");
  store_->finish_inbox(store_->find_inbox("meta", "e-3")->id, "pending", 150, 2'000, "retry");
  EXPECT_EQ(store_->inbox_counts(), (Counts{{"done", 1}, {"failed", 1}, {"pending", 2}}));

  // record_conversation finishing its inbox row counts as done too.
  ConversationWrite w = inbound_only("orbit", "phone-1", "wamid-1", 300);
  w.inbox_id = store_->find_inbox("meta", "e-4")->id;
  store_->record_conversation(w);
  EXPECT_EQ(store_->inbox_counts(), (Counts{{"done", 2}, {"failed", 1}, {"pending", 1}}));
}

// SQLite: page_count * page_size of the store's file, which grows with its rows. PostgreSQL: the
// size of the whole test database (shared by every schema), only checked to be positive.
TEST_P(StoreConformanceTest, DatabaseSizeIsPositiveAndGrowsWithRows) {
  const std::int64_t before = store_->database_size_bytes();
  EXPECT_GT(before, 0);
  if (postgres()) return;
  const std::string payload(1'024, 'x');
  for (std::int64_t minute = 0; minute < 2'000; ++minute) {
    store_->put_metric_minute(make_minute(minute, "i-1", payload));
  }
  const std::int64_t after = store_->database_size_bytes();
  EXPECT_GE(after, before + 2'000 * 1'024) << "before " << before << ", after " << after;
  EXPECT_EQ(store_->purge_metric_minutes(2'000), 2'000);
  EXPECT_GT(store_->database_size_bytes(), 0);
}

// ---- Schema 13's backfill ----

// What a seal callback makes of a value: "v1:" + the plaintext (only what is not sealed yet).
std::string fake_seal(const std::string& v) {
  return v.starts_with("v1:") ? v : "v1:" + v;
}

TEST_P(StoreConformanceTest, SealPlaintextLeadsHandsOverOnlyRowsWithPlaintext) {
  LeadWrite old_row;  // as a version before schema 13 stored it
  old_row.lead = make_lead("orbit", "LG-OLD", "bidx-old");
  old_row.lead.credit_score_enc = "760";
  old_row.lead.annual_income_enc = "1200000";
  old_row.lead.remarks_enc = "call after 6";
  store_->insert_lead(old_row);
  LeadWrite partly = old_row;  // sealed but for the remarks
  partly.lead = make_lead("orbit", "LG-PART", "bidx-part");
  partly.lead.credit_score_enc = "v1:cs";
  partly.lead.remarks_enc = "plain remark";
  store_->insert_lead(partly);
  LeadWrite sealed = old_row;
  sealed.lead = make_lead("orbit", "LG-NEW", "bidx-new");
  sealed.lead.credit_score_enc = "v1:cs";
  sealed.lead.annual_income_enc = "v1:income";
  store_->insert_lead(sealed);

  std::vector<SealedLeadFields> seen;
  const auto seal = [&](SealedLeadFields f) {
    seen.push_back(f);
    f.credit_score = fake_seal(f.credit_score);
    if (f.annual_income) f.annual_income = fake_seal(*f.annual_income);
    if (f.remarks) f.remarks = fake_seal(*f.remarks);
    return f;
  };
  EXPECT_EQ(store_->seal_plaintext_leads(1, seal), 1);  // batches of the given size
  EXPECT_EQ(store_->seal_plaintext_leads(10, seal), 1);
  EXPECT_EQ(store_->seal_plaintext_leads(10, seal), 0);  // nothing left
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].credit_score, "760");
  EXPECT_EQ(seen[0].annual_income, std::optional<std::string>("1200000"));
  EXPECT_EQ(seen[0].remarks, std::optional<std::string>("call after 6"));
  EXPECT_EQ(seen[1].credit_score, "v1:cs");
  EXPECT_FALSE(seen[1].annual_income.has_value());

  const auto old_now = store_->find_lead_by_reference("orbit", "LG-OLD");
  ASSERT_TRUE(old_now.has_value());
  EXPECT_EQ(old_now->credit_score_enc, "v1:760");
  EXPECT_EQ(old_now->annual_income_enc, std::optional<std::string>("v1:1200000"));
  EXPECT_EQ(old_now->remarks_enc, std::optional<std::string>("v1:call after 6"));
  const auto part_now = store_->find_lead_by_reference("orbit", "LG-PART");
  ASSERT_TRUE(part_now.has_value());
  EXPECT_EQ(part_now->credit_score_enc, "v1:cs");
  EXPECT_FALSE(part_now->annual_income_enc.has_value());
  EXPECT_EQ(part_now->remarks_enc, std::optional<std::string>("v1:plain remark"));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-NEW")->annual_income_enc,
            std::optional<std::string>("v1:income"));
}

TEST_P(StoreConformanceTest, SealPlaintextIdempotencySealsOnlyStoredPlaintextBodies) {
  store_->begin_idempotent("k1 /r", "old", "f", 1, 0);
  store_->complete_idempotent("k1 /r", "old", 200, R"({"mobile":"9876543210"})", "application/json",
                              2);
  store_->begin_idempotent("k1 /r", "new", "f", 1, 0);
  store_->complete_idempotent("k1 /r", "new", 200, "v1:sealed", "application/json", 2);
  store_->begin_idempotent("k1 /r", "running", "f", 1, 0);  // no body yet

  std::vector<std::string> seen;
  const auto seal = [&](std::string body) {
    seen.push_back(body);
    return fake_seal(body);
  };
  EXPECT_EQ(store_->seal_plaintext_idempotency(10, seal), 1);
  EXPECT_EQ(store_->seal_plaintext_idempotency(10, seal), 0);
  EXPECT_EQ(seen, std::vector<std::string>{R"({"mobile":"9876543210"})"});
  const auto replay = store_->begin_idempotent("k1 /r", "old", "f", 3, 0);
  EXPECT_EQ(replay.state, IdempotencyRecord::State::replay);
  EXPECT_EQ(replay.body, R"(v1:{"mobile":"9876543210"})");
  EXPECT_EQ(store_->begin_idempotent("k1 /r", "new", "f", 3, 0).body, "v1:sealed");
}

}  // namespace
}  // namespace leadgate::conformance
