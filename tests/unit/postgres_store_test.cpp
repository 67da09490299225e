// PostgresStore against a real server. Start one with tests/pg/start_pg.sh and export the URL it
// prints as LEADGATE_TEST_PG_URL; without it these tests are skipped (the URL-handling tests that
// need no server still run).
//
// Isolation: every test gets its own schema, selected for the store's connections through the
// URL (`options=-csearch_path%3D<schema>`, a startup parameter, so it holds on every pooled and
// every replacement connection) and dropped afterwards. The schema name is also the connections'
// application_name, so a test can find and terminate exactly its own backends even when ctest
// runs tests in parallel against the same database.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

namespace leadgate {
namespace {

using namespace std::chrono_literals;

std::string random_suffix() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> dist;
  const std::uint64_t v = dist(rd);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out += hex[(v >> (4 * i)) & 0xf];
  return out;
}

// A plain libpq connection for setting up and inspecting what the store does.
class Admin {
 public:
  explicit Admin(const std::string& url) : pg_(PQconnectdb(url.c_str())) {
    PQsetNoticeProcessor(
        pg_, [](void*, const char*) {}, nullptr);  // keep test output clean
  }
  ~Admin() { PQfinish(pg_); }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  bool ok() const { return PQstatus(pg_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(pg_); }

  // Runs a statement; returns the first column of every row.
  std::vector<std::string> run(const std::string& sql) {
    PGresult* r = PQexec(pg_, sql.c_str());
    const auto status = PQresultStatus(r);
    std::vector<std::string> out;
    if (status == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    }
    const std::string err = PQresultErrorMessage(r);
    PQclear(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      ADD_FAILURE() << sql << ": " << err;
    }
    return out;
  }
  std::string one(const std::string& sql) {
    auto rows = run(sql);
    return rows.empty() ? std::string() : rows.front();
  }

 private:
  PGconn* pg_;
};

LeadRow sample_lead(const std::string& environment, const std::string& ref,
                    const std::string& mobile_bidx) {
  LeadRow l;
  l.environment = environment;
  l.reference_id = ref;
  l.status = "pending_los";
  l.first_name_enc = "fn-enc";
  l.last_name_enc = "ln-enc";
  l.mobile_enc = "mobile-enc";
  l.email_enc = "email-enc";
  l.pan_enc = "pan-enc";
  l.dob_enc = "dob-enc";
  l.mobile_bidx = mobile_bidx;
  l.pan_bidx = "pan-" + mobile_bidx;
  l.loan_type = "personal_loan";
  l.loan_amount_req = 500000;
  l.loan_tenure = 36;
  l.credit_score = 760;
  l.pincode = "560001";
  l.request_id = "req-1";
  l.user_agent = "test-agent";
  l.created_at = 1000;
  l.updated_at = 1000;
  return l;
}

AuditEntry audit(const LeadRow& l, const std::string& operation, const std::string& field) {
  AuditEntry a;
  a.environment = l.environment;
  a.entity_ref = l.reference_id;
  a.operation = operation;
  a.field = field;
  a.old_value = "old";
  a.new_value = "new";
  a.request_id = "req-1";
  a.duration_ms = 12;
  a.created_at = 1000;
  return a;
}

OutboxMessage message(const LeadRow& l, std::int64_t due) {
  OutboxMessage m;
  m.environment = l.environment;
  m.lead_ref = l.reference_id;
  m.kind = "whatsapp_template";
  m.payload_enc = "payload-enc";
  m.next_attempt_at = due;
  m.created_at = 1000;
  return m;
}

LeadWrite write_of(const LeadRow& l) {
  LeadWrite w;
  w.lead = l;
  w.audit.push_back(audit(l, "created", "lead"));
  w.outbox.push_back(message(l, 1000));
  return w;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("LEADGATE_TEST_PG_URL");
    if (!url || !*url) {
      GTEST_SKIP() << "LEADGATE_TEST_PG_URL is not set: run tests/pg/start_pg.sh and export the "
                      "URL it prints to test the PostgreSQL store";
    }
    base_url_ = url;
    admin_ = std::make_unique<Admin>(base_url_);
    ASSERT_TRUE(admin_->ok()) << "cannot connect to LEADGATE_TEST_PG_URL: " << admin_->error();
    observer_ = std::make_unique<Admin>(base_url_);
    ASSERT_TRUE(observer_->ok()) << observer_->error();
    schema_ = "lgt_" + random_suffix();
    admin_->run("CREATE SCHEMA " + schema_);
    store_ = open(4);
  }

  void TearDown() override {
    store_.reset();
    if (admin_ && admin_->ok() && !schema_.empty()) {
      admin_->run("ROLLBACK");  // in case a test left a transaction open
      admin_->run("DROP SCHEMA " + schema_ + " CASCADE");
    }
  }

  std::string store_url() const {
    const char sep = base_url_.find('?') == std::string::npos ? '?' : '&';
    return base_url_ + sep + "options=-csearch_path%3D" + schema_ + "&application_name=" + schema_;
  }
  std::unique_ptr<PostgresStore> open(int pool_size) {
    return std::make_unique<PostgresStore>(store_url(), pool_size);
  }

  // Backends the stores under test hold open. Asked on a connection that is never inside a
  // transaction: pg_stat_activity is a snapshot taken once per transaction.
  int backends() {
    return std::stoi(observer_->one(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '" + schema_ + "'"));
  }
  void terminate_backends() {
    observer_->run(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
        schema_ + "'");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (backends() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(backends(), 0);
  }
  // Waits until one of the store's backends waits for a lock.
  void wait_for_lock_wait() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (observer_->one("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '" +
                         schema_ + "' AND wait_event_type = 'Lock'") != "0") {
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "the store's query never waited for the lock";
  }

  std::string base_url_;
  std::string schema_;
  std::unique_ptr<Admin> admin_;     // holds locks and transactions
  std::unique_ptr<Admin> observer_;  // watches and terminates the store's backends
  std::unique_ptr<PostgresStore> store_;
};

TEST_F(PostgresStoreTest, MigratesOnceAndReportsVersion) {
  EXPECT_EQ(store_->kind(), "postgresql");
  EXPECT_EQ(store_->schema_version(), 0);
  store_->migrate();
  store_->migrate();
  EXPECT_EQ(store_->expected_schema_version(), static_cast<int>(postgres_migrations().size()));
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  EXPECT_EQ(admin_->one("SELECT COUNT(*) FROM " + schema_ + ".schema_migrations"),
            std::to_string(postgres_migrations().size()));
  store_->ping();
}

TEST_F(PostgresStoreTest, ConcurrentMigrationsBySeveralInstancesApplyOnce) {
  std::vector<std::unique_ptr<PostgresStore>> instances;
  for (int i = 0; i < 4; ++i) instances.push_back(open(1));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (auto& s : instances) {
    threads.emplace_back([&failures, store = s.get()] {
      try {
        store->migrate();
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
}

TEST_F(PostgresStoreTest, ApiKeys) {
  store_->migrate();
  EXPECT_EQ(store_->count_api_keys(), 0);
  ApiKeyRow k;
  k.id = "lg_abc";
  k.name = "web";
  k.key_hash = "hash-1";
  k.environments = {"orbit", "homfinity"};
  k.created_at = 42;
  store_->insert_api_key(k);
  ApiKeyRow revoked = k;
  revoked.id = "lg_def";
  revoked.key_hash = "hash-2";
  revoked.environments = {"orbit"};
  revoked.revoked = true;
  store_->insert_api_key(revoked);

  const auto found = store_->find_api_key("hash-1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, "lg_abc");
  EXPECT_EQ(found->name, "web");
  EXPECT_EQ(found->environments, (std::vector<std::string>{"orbit", "homfinity"}));
  EXPECT_EQ(found->created_at, 42);
  EXPECT_FALSE(found->revoked);
  ASSERT_TRUE(store_->find_api_key("hash-2"));
  EXPECT_TRUE(store_->find_api_key("hash-2")->revoked);
  EXPECT_FALSE(store_->find_api_key("nope"));
  EXPECT_EQ(store_->count_api_keys(), 2);
  EXPECT_THROW(store_->insert_api_key(k), StoreConflict);
}

TEST_F(PostgresStoreTest, InsertsAndFindsLeadsPerEnvironment) {
  store_->migrate();
  LeadRow l = sample_lead("orbit", "ORB-1", "bidx-1");
  l.state = "Karnataka";
  l.gender = "female";
  l.remarks = "it's \"quoted\"\nand multi-line ₹";
  l.annual_income = 1200000;
  l.include_credit_score = false;
  l.is_lead_prefilled = true;
  l.application_id = "5f0c7d7e-0000-4000-8000-000000000001";
  const auto id = store_->insert_lead(write_of(l));
  EXPECT_GT(id, 0);

  const auto found = store_->find_lead_for_customer("orbit", "bidx-1", "personal_loan");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->reference_id, "ORB-1");
  EXPECT_EQ(found->basic_application_id, "");
  EXPECT_EQ(found->application_id, l.application_id);
  EXPECT_EQ(found->status, "pending_los");
  EXPECT_EQ(found->first_name_enc, "fn-enc");
  EXPECT_EQ(found->dob_enc, "dob-enc");
  EXPECT_EQ(found->pan_bidx, "pan-bidx-1");
  EXPECT_EQ(found->loan_amount_req, 500000);
  EXPECT_EQ(found->loan_tenure, 36);
  EXPECT_EQ(found->credit_score, 760);
  EXPECT_EQ(found->pincode, "560001");
  EXPECT_EQ(found->state, "Karnataka");
  EXPECT_EQ(found->gender, "female");
  EXPECT_EQ(found->application_assigned_to_rm, std::nullopt);
  EXPECT_EQ(found->remarks, l.remarks);
  EXPECT_EQ(found->customer_id, std::nullopt);
  EXPECT_EQ(found->annual_income, 1200000);
  EXPECT_FALSE(found->include_credit_score);
  EXPECT_TRUE(found->is_lead_prefilled);
  EXPECT_EQ(found->request_id, "req-1");
  EXPECT_EQ(found->user_agent, "test-agent");
  EXPECT_EQ(found->created_at, 1000);
  EXPECT_EQ(found->updated_at, 1000);

  EXPECT_FALSE(store_->find_lead_for_customer("homfinity", "bidx-1", "personal_loan"));
  EXPECT_FALSE(store_->find_lead_for_customer("orbit", "bidx-1", "home_loan"));
  ASSERT_TRUE(store_->find_lead_by_reference("orbit", "ORB-1"));
  EXPECT_FALSE(store_->find_lead_by_reference("homfinity", "ORB-1"));

  // The same customer in the other environment is a different lead.
  store_->insert_lead(write_of(sample_lead("homfinity", "HOM-1", "bidx-1")));
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_EQ(store_->count_leads("homfinity"), 1);
  EXPECT_EQ(store_->outbox_for("orbit", "ORB-1").size(), 1u);
  EXPECT_EQ(store_->audit_for("homfinity", "ORB-1").size(), 0u);
}

TEST_F(PostgresStoreTest, DuplicateCustomerLeadIsAConflictAndWritesNothing) {
  store_->migrate();
  store_->insert_lead(write_of(sample_lead("orbit", "ORB-1", "bidx-1")));
  EXPECT_THROW(store_->insert_lead(write_of(sample_lead("orbit", "ORB-2", "bidx-1"))),
               StoreConflict);
  EXPECT_THROW(store_->insert_lead(write_of(sample_lead("orbit", "ORB-1", "bidx-2"))),
               StoreConflict);
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_TRUE(store_->audit_for("orbit", "ORB-2").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "ORB-2").empty());
  // The pool's connection survived the failed transaction.
  store_->insert_lead(write_of(sample_lead("orbit", "ORB-3", "bidx-3")));
  EXPECT_EQ(store_->count_leads("orbit"), 2);
}

TEST_F(PostgresStoreTest, UpdateWithStaleExpectedStatusChangesNothing) {
  store_->migrate();
  const LeadRow original = sample_lead("orbit", "ORB-1", "bidx-1");
  const auto id = store_->insert_lead(write_of(original));

  LeadWrite update;
  update.lead = original;
  update.lead.id = id;
  update.lead.status = "created";
  update.lead.basic_application_id = "BA-77";
  update.lead.updated_at = 2000;
  update.expected_status = "pending_los";
  update.audit.push_back(audit(original, "status_changed", "status"));
  update.outbox.push_back(message(original, 2000));
  EXPECT_TRUE(store_->update_lead(update));

  auto stale = update;
  stale.lead.status = "los_failed";
  stale.expected_status = "pending_los";  // no longer true
  EXPECT_FALSE(store_->update_lead(stale));

  const auto now = store_->find_lead_by_reference("orbit", "ORB-1");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->status, "created");
  EXPECT_EQ(now->basic_application_id, "BA-77");
  EXPECT_EQ(now->updated_at, 2000);
  EXPECT_EQ(store_->audit_for("orbit", "ORB-1").size(), 2u);
  EXPECT_EQ(store_->outbox_for("orbit", "ORB-1").size(), 2u);

  // Without an expected status the update is unconditional; an unknown id changes nothing.
  auto plain = update;
  plain.expected_status.reset();
  plain.lead.remarks = "checked";
  plain.audit.clear();
  plain.outbox.clear();
  EXPECT_TRUE(store_->update_lead(plain));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "ORB-1")->remarks, "checked");
  plain.lead.id = id + 1000;
  EXPECT_FALSE(store_->update_lead(plain));
}

TEST_F(PostgresStoreTest, AuditTrailKeepsWriteOrder) {
  store_->migrate();
  const LeadRow l = sample_lead("orbit", "ORB-1", "bidx-1");
  LeadWrite w = write_of(l);
  w.audit = {audit(l, "created", "lead"), audit(l, "updated", "first_name"),
             audit(l, "updated", "pincode")};
  const auto id = store_->insert_lead(w);
  LeadWrite u;
  u.lead = l;
  u.lead.id = id;
  u.audit = {audit(l, "status_changed", "status"), audit(l, "updated", "remarks")};
  ASSERT_TRUE(store_->update_lead(u));

  const auto trail = store_->audit_for("orbit", "ORB-1");
  ASSERT_EQ(trail.size(), 5u);
  EXPECT_EQ(trail[0].operation, "created");
  EXPECT_EQ(trail[1].field, "first_name");
  EXPECT_EQ(trail[2].field, "pincode");
  EXPECT_EQ(trail[3].operation, "status_changed");
  EXPECT_EQ(trail[4].field, "remarks");
  EXPECT_EQ(trail[0].entity, "lead");
  EXPECT_EQ(trail[0].old_value, "old");
  EXPECT_EQ(trail[0].new_value, "new");
  EXPECT_EQ(trail[0].duration_ms, 12);
  EXPECT_EQ(trail[0].created_at, 1000);
}

TEST_F(PostgresStoreTest, OutboxClaimLeaseFinishRelease) {
  store_->migrate();
  const LeadRow l = sample_lead("orbit", "ORB-1", "bidx-1");
  LeadWrite w = write_of(l);
  w.outbox = {message(l, 1000), message(l, 5000)};
  store_->insert_lead(w);

  auto claimed = store_->claim_outbox(2000, 10, "worker-a", 3000);
  ASSERT_EQ(claimed.size(), 1u);  // the second is not due yet
  const auto first = claimed[0];
  EXPECT_EQ(first.status, "pending");
  EXPECT_EQ(first.attempts, 0);
  EXPECT_EQ(first.payload_enc, "payload-enc");
  EXPECT_EQ(first.lead_ref, "ORB-1");
  EXPECT_TRUE(store_->claim_outbox(2500, 10, "worker-b", 3500).empty());  // leased

  // The holder died: its lease expires and another worker takes the row.
  claimed = store_->claim_outbox(3001, 10, "worker-b", 4000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, first.id);

  OutboxAttempt failed;
  failed.outbox_id = first.id;
  failed.attempt = 1;
  failed.started_at = 3001;
  failed.duration_ms = 40;
  failed.outcome = "failed";
  failed.http_status = 502;
  failed.error = "bad gateway";
  store_->finish_outbox_attempt(failed, "pending", 3500);
  auto rows = store_->outbox_for("orbit", "ORB-1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].last_error, "bad gateway");
  EXPECT_EQ(rows[0].next_attempt_at, 3500);
  EXPECT_EQ(rows[0].provider_message_id, "");

  // finishing released the lease: due again at 3500
  claimed = store_->claim_outbox(3600, 10, "worker-b", 9000);
  ASSERT_EQ(claimed.size(), 1u);
  OutboxAttempt accepted = failed;
  accepted.attempt = 2;
  accepted.outcome = "accepted";
  accepted.http_status = 202;
  accepted.error = "";
  accepted.provider_message_id = "gs-123";
  store_->finish_outbox_attempt(accepted, "sent", 3600);
  // a later failure record without a provider id keeps the recorded one
  OutboxAttempt late = failed;
  late.attempt = 3;
  store_->finish_outbox_attempt(late, "sent", 3600);
  rows = store_->outbox_for("orbit", "ORB-1");
  EXPECT_EQ(rows[0].status, "sent");
  EXPECT_EQ(rows[0].provider_message_id, "gs-123");
  EXPECT_EQ(admin_->one("SELECT COUNT(*) FROM " + schema_ + ".outbox_attempts"), "3");

  // sent rows are never claimed; the second row becomes due at 5000
  claimed = store_->claim_outbox(6000, 10, "worker-c", 99000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_NE(claimed[0].id, first.id);
  EXPECT_TRUE(store_->claim_outbox(6000, 10, "worker-d", 99000).empty());
  store_->release_outbox_leases("worker-c");  // graceful shutdown
  EXPECT_EQ(store_->claim_outbox(6000, 10, "worker-d", 99000).size(), 1u);
}

TEST_F(PostgresStoreTest, ConcurrentClaimsNeverShareARow) {
  store_->migrate();
  const LeadRow l = sample_lead("orbit", "ORB-1", "bidx-1");
  LeadWrite w = write_of(l);
  w.outbox.clear();
  for (int i = 0; i < 50; ++i) w.outbox.push_back(message(l, 1000 + i));
  store_->insert_lead(w);

  std::atomic<int> total{0};
  std::atomic<int> errors{0};
  std::vector<std::vector<std::int64_t>> per_thread(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      while (total.load() < 50 && std::chrono::steady_clock::now() < deadline) {
        try {
          const auto batch =
              store_->claim_outbox(5000, 5, "worker-" + std::to_string(t), 1'000'000);
          for (const auto& m : batch) per_thread[static_cast<std::size_t>(t)].push_back(m.id);
          total += static_cast<int>(batch.size());
        } catch (const std::exception&) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  std::set<std::int64_t> all;
  std::size_t claimed = 0;
  for (const auto& ids : per_thread) {
    claimed += ids.size();
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(claimed, 50u) << "a row was claimed twice or never";
  EXPECT_EQ(all.size(), 50u);
  EXPECT_TRUE(store_->claim_outbox(5000, 5, "late", 1'000'000).empty());
}

TEST_F(PostgresStoreTest, IdempotencyLifecycle) {
  store_->migrate();
  using State = IdempotencyRecord::State;
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-1", "fp-a", 1000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-1", "fp-a", 1100, 500).state,
            State::in_progress);
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-1", "fp-b", 1100, 500).state,
            State::mismatch);
  // scopes are separate
  EXPECT_EQ(store_->begin_idempotent("k2:create", "key-1", "fp-b", 1100, 500).state,
            State::started);

  store_->complete_idempotent("k1:create", "key-1", 201, "{\"ok\":true}", "application/json", 1200);
  const auto replay = store_->begin_idempotent("k1:create", "key-1", "fp-a", 1300, 1250);
  EXPECT_EQ(replay.state, State::replay);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.body, "{\"ok\":true}");
  EXPECT_EQ(replay.content_type, "application/json");
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-1", "fp-z", 1300, 1250).state,
            State::mismatch);
  store_->abandon_idempotent("k1:create", "key-1");  // only running records are abandoned
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-1", "fp-a", 1300, 1250).state,
            State::replay);

  // stale takeover: the holder began at 1000 and never finished
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-2", "fp-a", 1000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-2", "fp-a", 5000, 2000).state,
            State::started);
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-2", "fp-a", 5001, 2000).state,
            State::in_progress);  // the taker refreshed it

  store_->abandon_idempotent("k1:create", "key-2");
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-2", "fp-c", 6000, 0).state, State::started);

  // purge by creation time: key-1 (1000) and k2's key-1 (1100) go, key-2 (6000) stays
  EXPECT_EQ(store_->purge_idempotent(2000), 2);
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-1", "fp-other", 7000, 0).state,
            State::started);
  EXPECT_EQ(store_->begin_idempotent("k1:create", "key-2", "fp-c", 7000, 0).state,
            State::in_progress);
}

TEST_F(PostgresStoreTest, ConcurrentBeginWithOneKeyStartsOnce) {
  store_->migrate();
  for (int round = 0; round < 10; ++round) {
    const std::string key = "race-" + std::to_string(round);
    std::atomic<int> started{0}, in_progress{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        try {
          const auto rec = store_->begin_idempotent("scope", key, "fp", now_ms(), now_ms() - 60000);
          if (rec.state == IdempotencyRecord::State::started) {
            ++started;
          } else if (rec.state == IdempotencyRecord::State::in_progress) {
            ++in_progress;
          } else {
            ++other;
          }
        } catch (const std::exception&) {
          ++other;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(started.load(), 1) << key;
    EXPECT_EQ(in_progress.load(), 3) << key;
    EXPECT_EQ(other.load(), 0) << key;
  }
}

TEST_F(PostgresStoreTest, ConcurrentStaleTakeoverStartsOnce) {
  store_->migrate();
  ASSERT_EQ(store_->begin_idempotent("scope", "k", "fp", 1000, 0).state,
            IdempotencyRecord::State::started);
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      if (store_->begin_idempotent("scope", "k", "fp", 10'000, 5000).state ==
          IdempotencyRecord::State::started) {
        ++started;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(started.load(), 1);
}

TEST_F(PostgresStoreTest, ExhaustedPoolFailsFastWithUnavailable) {
  store_->migrate();
  auto one = open(1);
  admin_->run("BEGIN");
  admin_->run("LOCK TABLE " + schema_ + ".api_keys IN ACCESS EXCLUSIVE MODE");
  std::int64_t blocked_result = -1;
  std::thread holder([&] { blocked_result = one->count_api_keys(); });
  wait_for_lock_wait();

  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(one->ping(), StoreUnavailable);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 1900ms);
  EXPECT_LT(waited, 5s);

  admin_->run("COMMIT");
  holder.join();
  EXPECT_EQ(blocked_result, 0);
  EXPECT_NO_THROW(one->ping());
}

TEST_F(PostgresStoreTest, IdleConnectionsClosedByTheServerAreReplaced) {
  store_->migrate();
  store_->ping();
  ASSERT_GE(backends(), 1);
  terminate_backends();
  // The call after the loss either fails with 503 or already runs on a new connection ...
  try {
    store_->ping();
  } catch (const StoreUnavailable&) {
  }
  // ... and the one after that certainly does.
  EXPECT_NO_THROW(store_->ping());
  EXPECT_EQ(store_->count_api_keys(), 0);

  // Once the server has closed them, idle connections are noticed before use.
  terminate_backends();
  EXPECT_NO_THROW(store_->count_api_keys());
}

TEST_F(PostgresStoreTest, ConnectionLostMidQueryIsUnavailableThenRecovers) {
  store_->migrate();
  admin_->run("BEGIN");
  admin_->run("LOCK TABLE " + schema_ + ".api_keys IN ACCESS EXCLUSIVE MODE");
  bool unavailable = false;
  std::thread victim([&] {
    try {
      store_->count_api_keys();
    } catch (const StoreUnavailable&) {
      unavailable = true;
    }
  });
  wait_for_lock_wait();
  observer_->run(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
      schema_ + "'");
  victim.join();
  admin_->run("COMMIT");
  EXPECT_TRUE(unavailable);
  EXPECT_EQ(store_->count_api_keys(), 0);
  // a transaction after the loss works too
  store_->insert_lead(write_of(sample_lead("orbit", "ORB-1", "bidx-1")));
  EXPECT_EQ(store_->count_leads("orbit"), 1);
}

TEST_F(PostgresStoreTest, OtherErrorsAreNotUnavailable) {
  // Not migrated: the table is missing, which is a bug or a setup error, not an outage.
  try {
    store_->count_api_keys();
    FAIL() << "expected an error";
  } catch (const StoreUnavailable& e) {
    FAIL() << "unexpected StoreUnavailable: " << e.what();
  } catch (const StoreConflict& e) {
    FAIL() << "unexpected StoreConflict: " << e.what();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("42P01"), std::string::npos) << e.what();
  }
  store_->migrate();
  EXPECT_EQ(store_->count_api_keys(), 0);
}

// Every lookup the API makes has an index that the planner picks on tables of a realistic shape.
TEST_F(PostgresStoreTest, LookupsUseIndexes) {
  store_->migrate();
  admin_->run("SET search_path TO " + schema_);
  admin_->run(
      "INSERT INTO api_keys (id, name, key_hash, environments, created_at) SELECT 'k' || i, 'n', "
      "'h' || i, 'orbit', i FROM generate_series(1, 2000) i");
  admin_->run(
      "INSERT INTO leads (environment, reference_id, basic_application_id, application_id, "
      "status, first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, "
      "mobile_bidx, pan_bidx, loan_type, loan_amount_req, loan_tenure, credit_score, pincode, "
      "include_credit_score, is_lead_prefilled, request_id, user_agent, created_at, updated_at) "
      "SELECT CASE WHEN i % 2 = 0 THEN 'orbit' ELSE 'homfinity' END, 'R' || i, 'B' || i, "
      "'A' || i, 'created', 'x', 'x', 'x', 'x', 'x', 'x', 'm' || i, 'p' || i, 'personal_loan', "
      "1, 1, 1, '560001', true, false, 'r', 'u', i, i FROM generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO outbox (environment, lead_ref, kind, payload_enc, status, next_attempt_at, "
      "created_at, updated_at) SELECT 'orbit', 'R' || i, 'k', 'p', CASE WHEN i % 100 = 0 THEN "
      "'pending' ELSE 'sent' END, i, i, i FROM generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO audit_log (environment, entity, entity_ref, operation, field, old_value, "
      "new_value, request_id, duration_ms, created_at) SELECT 'orbit', 'lead', 'R' || (i / 3), "
      "'updated', 'f', 'o', 'n', 'r', 1, i FROM generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, updated_at) "
      "SELECT 's', 'k' || i, 'f', 'done', i, i FROM generate_series(1, 5000) i");
  admin_->run("ANALYZE api_keys, leads, outbox, audit_log, idempotency_keys");
  const std::vector<std::pair<std::string, std::string>> lookups{
      {"SELECT * FROM api_keys WHERE key_hash = 'h7'", "api_keys_key_hash_key"},
      {"SELECT * FROM leads WHERE environment = 'orbit' AND mobile_bidx = 'b' AND loan_type = 'p'",
       "leads_customer_loan"},
      {"SELECT * FROM leads WHERE environment = 'orbit' AND pan_bidx = 'b'", "leads_pan"},
      {"SELECT * FROM leads WHERE environment = 'orbit' AND basic_application_id = 'b'",
       "leads_basic_application_id"},
      {"SELECT * FROM leads WHERE environment = 'orbit' AND application_id = 'a'",
       "leads_application_id"},
      {"SELECT * FROM leads WHERE environment = 'orbit' AND reference_id = 'r'",
       "leads_reference_id"},
      {"SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= 5 AND (lease_until "
       "IS NULL OR lease_until < 5) ORDER BY next_attempt_at LIMIT 5 FOR UPDATE SKIP LOCKED",
       "outbox_due"},
      {"SELECT * FROM outbox WHERE environment = 'orbit' AND lead_ref = 'r' ORDER BY id",
       "outbox_lead"},
      {"SELECT * FROM audit_log WHERE environment = 'orbit' AND entity_ref = 'r' ORDER BY id",
       "audit_log_entity"},
      {"SELECT * FROM idempotency_keys WHERE scope = 's' AND key = 'k'", "idempotency_keys_pkey"},
      {"DELETE FROM idempotency_keys WHERE created_at < 5", "idempotency_keys_created"},
  };
  for (const auto& [sql, index] : lookups) {
    std::string plan;
    for (const auto& line : admin_->run("EXPLAIN " + sql)) plan += line + "\n";
    EXPECT_NE(plan.find(index), std::string::npos) << sql << "\n" << plan;
  }
}

// No server needed below.

TEST(PostgresStoreUrl, RejectsMalformedUrls) {
  EXPECT_THROW(PostgresStore("postgresql://host:notaport:5/db?sslmode", 1), std::invalid_argument);
  EXPECT_THROW(PostgresStore("postgresql://h/db?nosuchoption=1", 1), std::invalid_argument);
  EXPECT_NO_THROW(
      PostgresStore("postgresql://u:p@db.example.com:6543/postgres?sslmode=require", 1));
}

TEST(PostgresStoreUrl, UnreachableServerIsUnavailableQuickly) {
  PostgresStore store("postgresql://u:p@127.0.0.1:1/none", 2);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(store.ping(), StoreUnavailable);
  EXPECT_THROW(store.count_api_keys(), StoreUnavailable);  // the failed slot was given back
  EXPECT_THROW(store.count_api_keys(), StoreUnavailable);
  EXPECT_THROW(store.count_api_keys(), StoreUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST(PostgresStoreUrl, FactoryMakesAPostgresStore) {
  auto store = make_postgres_store("postgresql://u:p@127.0.0.1:1/none", 4);
  EXPECT_EQ(store->kind(), "postgresql");
}

}  // namespace
}  // namespace leadgate
