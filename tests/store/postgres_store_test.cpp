// PostgreSQL-only behaviour of PostgresStore: the connection pool, lost connections, concurrent
// callers, query plans, migrations shared by several instances and URL handling. What every Store
// does is tested for both stores by the conformance suite (conformance.h).
//
// Start a server with tests/pg/start_pg.sh and export the URL it prints as LEADGATE_TEST_PG_URL;
// without it these tests are skipped (the URL-handling tests that need no server still run).
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

#include "store/sql/statements.h"

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
  // EXPLAIN's lines of a statement, joined.
  std::string plan(const std::string& sql) {
    std::string out;
    for (const auto& line : run("EXPLAIN " + sql)) out += line + "\n";
    return out;
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
  l.credit_score_enc = "v1:credit-score";
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

  // 30,000 pending inbox events e1 .. e30000, due in that order (after migrate); leaves the admin
  // connection in the schema.
  void fill_inbox_backlog() {
    admin_->run("SET search_path TO " + schema_);
    admin_->run(
        "INSERT INTO whatsapp_inbox (provider, event_id, environment, kind, payload_enc, "
        "received_at, state, next_attempt_at) SELECT 'gupshup', 'e' || i, '', 'status', "
        "repeat('p', 200), i, 'pending', i FROM generate_series(1, 30000) i");
  }

  // The store's inbox claim of `n` takes events e1 .. en (inserted due in that order), in order.
  void expect_inbox_claim_takes_first(std::size_t n) {
    const auto claimed = store_->claim_inbox(99'999, static_cast<int>(n), "w", 200'000);
    ASSERT_EQ(claimed.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(claimed[i].event_id, "e" + std::to_string(i + 1));
    }
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

// Two statements in one (put_otp with its consent event) number their parameters in sequence.
TEST(SqlStatementsTest, ShiftParamsRenumbersEveryParameterReference) {
  EXPECT_EQ(sql::shift_params("SELECT $1, $2::bigint, $10 WHERE a = $1", 7),
            "SELECT $8, $9::bigint, $17 WHERE a = $8");
  EXPECT_EQ(sql::shift_params("SELECT '$' || x, $", 3), "SELECT '$' || x, $");
  EXPECT_EQ(sql::shift_params("$9", 1), "$10");
}

TEST_F(PostgresStoreTest, AppliesEveryPostgresMigrationOnce) {
  store_->migrate();
  store_->migrate();
  EXPECT_EQ(store_->expected_schema_version(), static_cast<int>(postgres_migrations().size()));
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  EXPECT_EQ(admin_->one("SELECT COUNT(*) FROM " + schema_ + ".schema_migrations"),
            std::to_string(postgres_migrations().size()));
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

// That such an error is neither StoreUnavailable nor StoreConflict is a conformance test; here:
// the message names the SQLSTATE, for the operator reading the log.
TEST_F(PostgresStoreTest, ErrorsNameTheirSqlstate) {
  try {
    store_->count_api_keys();  // not migrated: undefined_table
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("42P01"), std::string::npos) << e.what();
  }
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
      "1, 1, 'v1:x', '560001', true, false, 'r', 'u', i, i FROM generate_series(1, 5000) i");
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
  admin_->run(
      "INSERT INTO otp_codes (environment, phone_bidx, code_hash, created_at, expires_at, "
      "attempts, state) SELECT 'orbit', 'b' || i, 'h', i, i, 0, 'active' FROM "
      "generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO rate_events (scope, at) SELECT 's' || (i % 500), i FROM "
      "generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO consents (environment, phone_bidx, phone_enc, token_hash, requested_at, "
      "expires_at) SELECT 'orbit', 'b' || (i / 2), 'e', 't' || i, i, i FROM "
      "generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO outbox_attempts (outbox_id, attempt, started_at, duration_ms, outcome, "
      "http_status, error, provider_message_id) SELECT id, 1, id, 1, 'failed', 503, 'e', '' FROM "
      "outbox");
  admin_->run(
      "INSERT INTO rms (environment, name, name_key, phone_enc, location, active, created_at) "
      "SELECT 'orbit', 'n' || i, 'n' || i, 'p', 'l', true, i FROM generate_series(1, 200) i");
  admin_->run(
      "INSERT INTO appointments (id, environment, lead_ref, rm_id, slot_start, slot_minutes, "
      "status, request_id, created_at) SELECT 'a' || i, CASE WHEN i % 2 = 0 THEN 'orbit' ELSE "
      "'homfinity' END, 'R' || i, (SELECT MIN(id) FROM rms) + i % 200, i::bigint * 1800000, 30, "
      "CASE "
      "WHEN i % 10 = 0 THEN 'cancelled' ELSE 'booked' END, 'r', i FROM generate_series(1, 5000) "
      "i");
  admin_->run(
      "INSERT INTO whatsapp_inbox (provider, event_id, environment, kind, payload_enc, "
      "received_at, state, next_attempt_at, processed_at) SELECT CASE WHEN i % 2 = 0 THEN "
      "'gupshup' ELSE 'meta' END, 'e' || i, 'orbit', 'message', 'p', i, CASE WHEN i % 100 = 0 "
      "THEN 'pending' ELSE 'done' END, i, CASE WHEN i % 100 = 0 THEN 0 ELSE i END FROM "
      "generate_series(1, 5000) i");
  admin_->run("UPDATE outbox SET provider_message_id = 'gs' || id WHERE status = 'sent'");
  admin_->run(
      "INSERT INTO whatsapp_conversation (environment, phone_bidx, direction, "
      "provider_message_id, msg_type, text_enc, classification, created_at) SELECT CASE WHEN "
      "i % 2 = 0 THEN 'orbit' ELSE 'homfinity' END, 'b' || (i / 10), CASE WHEN i % 3 = 0 THEN "
      "'out' ELSE 'in' END, CASE WHEN i % 3 = 0 THEN '' ELSE 'w' || i END, 'text', 't', 'c', i "
      "FROM generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO delivery_receipts (provider_message_id, status, at, error_code, "
      "error_message, received_at, outbox_id) SELECT provider_message_id, 'delivered', id, '', "
      "'', id, id FROM outbox WHERE provider_message_id <> ''");
  admin_->run(
      "INSERT INTO whatsapp_opt_outs (environment, phone_bidx, opted_out, updated_at) SELECT "
      "'orbit', 'b' || i, i % 2 = 0, i FROM generate_series(1, 5000) i");
  admin_->run(
      "INSERT INTO metric_minutes (minute, instance, payload, updated_at) SELECT 28000000 + i / 2, "
      "'i' || (i % 2), '{}', i FROM generate_series(1, 5000) i");
  admin_->run(
      "ANALYZE api_keys, leads, outbox, outbox_attempts, audit_log, idempotency_keys, otp_codes, "
      "rate_events, consents, rms, appointments, whatsapp_inbox, whatsapp_conversation, "
      "delivery_receipts, whatsapp_opt_outs, metric_minutes");
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
      {"SELECT * FROM otp_codes WHERE environment = 'orbit' AND phone_bidx = 'b' FOR UPDATE",
       "otp_codes_pkey"},
      // reserve_rate_event(): either index of the scope (scope, at) or (scope, bucket).
      {"SELECT COALESCE(SUM(n), 0) FROM rate_events WHERE scope = 's' AND at > 5",
       "rate_events_scope_"},
      {"SELECT MAX(at) FROM rate_events WHERE scope = 's' AND at > 5", "rate_events_scope_"},
      {"DELETE FROM rate_events WHERE id = 5 AND n <= 1", "rate_events_pkey"},
      {"UPDATE rate_events SET n = n - 1 WHERE id = 5", "rate_events_pkey"},
      {"DELETE FROM rate_events WHERE at < 5", "rate_events_at"},
      // Retention (PrivacyStore::purge_transient).
      {"DELETE FROM otp_codes WHERE expires_at < 5", "otp_codes_expiry"},
      {"DELETE FROM consents WHERE granted_at = 0 AND expires_at < 5", "consents_unused_expiry"},
      {"DELETE FROM whatsapp_inbox WHERE state = 'done' AND processed_at < 5",
       "whatsapp_inbox_processed"},
      {"UPDATE consents SET granted_at = 5 WHERE token_hash = 't' AND granted_at = 0 AND "
       "expires_at > 5",
       "consents_token_hash_key"},
      {"SELECT * FROM consents WHERE token_hash = 't'", "consents_token_hash_key"},
      {"SELECT * FROM consents WHERE environment = 'orbit' AND phone_bidx = 'b' ORDER BY "
       "requested_at, id",
       "consents_phone"},
      {"SELECT * FROM leads WHERE environment = 'orbit' AND mobile_bidx = 'b' ORDER BY created_at "
       "DESC, id DESC",
       "leads_customer_loan"},
      {"SELECT a.* FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id WHERE "
       "o.environment = 'orbit' AND o.lead_ref = 'r' ORDER BY a.started_at, a.attempt, a.id",
       "outbox_attempts_outbox"},
      {"SELECT * FROM appointments WHERE environment = 'orbit' AND slot_start >= 5 AND "
       "slot_start < 3600005 AND status = 'booked' ORDER BY slot_start, rm_id",
       "appointments_slot"},
      {"SELECT * FROM appointments WHERE environment = 'orbit' AND lead_ref = 'r' ORDER BY "
       "created_at, id",
       "appointments_lead"},
      {"UPDATE whatsapp_inbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = 'w'",
       "whatsapp_inbox_lease_owner"},
      {"UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = 'w'",
       "outbox_lease_owner"},
      {"SELECT id FROM whatsapp_inbox WHERE state = 'pending' AND next_attempt_at <= 5 AND "
       "(lease_until IS NULL OR lease_until < 5) ORDER BY next_attempt_at, id LIMIT 5 FOR UPDATE "
       "SKIP LOCKED",
       "whatsapp_inbox_due"},
      {"SELECT * FROM whatsapp_inbox WHERE provider = 'meta' AND event_id = 'e'",
       "whatsapp_inbox_provider_event_id_key"},
      {"SELECT * FROM whatsapp_conversation WHERE environment = 'orbit' AND phone_bidx = 'b' "
       "ORDER BY created_at DESC, id DESC LIMIT 5",
       "whatsapp_conversation_phone"},
      {"SELECT * FROM whatsapp_conversation WHERE environment = 'orbit' AND "
       "provider_message_id = 'w' AND direction = 'in' AND provider_message_id <> ''",
       "whatsapp_conversation_inbound"},
      {"SELECT provider_message_id, min(id) FROM outbox WHERE provider_message_id IN ('gs5', "
       "'gs6', 'gs7') GROUP BY provider_message_id",
       "outbox_provider_message_id"},
      {"UPDATE whatsapp_inbox i SET state = v.state FROM (VALUES (5::bigint, 'done'::text), "
       "(6::bigint, 'done'::text)) AS v (id, state) WHERE i.id = v.id",
       "whatsapp_inbox_pkey"},
      {"SELECT * FROM delivery_receipts WHERE provider_message_id = 'gs5'",
       "delivery_receipts_provider_message_id"},
      {"SELECT d.* FROM delivery_receipts d JOIN outbox o ON o.id = d.outbox_id WHERE "
       "o.environment = 'orbit' AND o.lead_ref = 'r' ORDER BY d.at, d.id",
       "delivery_receipts_outbox"},
      {"SELECT opted_out FROM whatsapp_opt_outs WHERE environment = 'orbit' AND phone_bidx = 'b'",
       "whatsapp_opt_outs_pkey"},
      {"SELECT minute, instance, payload, updated_at FROM metric_minutes WHERE minute >= 28000100 "
       "AND minute < 28000160 ORDER BY minute, instance",
       "metric_minutes_pkey"},
      {"DELETE FROM metric_minutes WHERE minute < 28000005", "metric_minutes_pkey"},
  };
  for (const auto& [sql, index] : lookups) {
    const std::string plan = admin_->plan(sql);
    EXPECT_NE(plan.find(index), std::string::npos) << sql << "\n" << plan;
  }
}

// A claim of a few inbox events reads only those, however long the backlog: the rows come out of
// the (state, next_attempt_at) index in order, instead of every due row being fetched and sorted
// (ordering by received_at did that: 190 ms per claim at 100,000 pending events).
TEST_F(PostgresStoreTest, InboxClaimDoesNotSortTheBacklog) {
  store_->migrate();
  fill_inbox_backlog();  // (and the admin connection's search_path)
  admin_->run("ANALYZE whatsapp_inbox");
  const std::string plan = admin_->plan(
      "SELECT id FROM whatsapp_inbox WHERE state = 'pending' AND next_attempt_at <= "
      "99999 AND (lease_until IS NULL OR lease_until < 99999) ORDER BY "
      "next_attempt_at, id LIMIT 8 FOR UPDATE SKIP LOCKED");
  EXPECT_NE(plan.find("Index Scan using whatsapp_inbox_due"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Bitmap"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
  // And the store's own claim takes the first due events in that order.
  expect_inbox_claim_takes_first(8);
}

// The same holds before the tables' first ANALYZE (a new deployment's first burst, autovacuum not
// caught up): the planner then guesses a few dozen due rows and, sorting allowed, fetches and
// sorts all of them with a bitmap scan, 40-95 ms per claim at 60,000-100,000 pending events in
// the webhook benchmark. Claims run with sorting (and JIT) disabled, as here, and read the index in
// order.
TEST_F(PostgresStoreTest, ClaimsReadTheDueIndexInOrderBeforeTheFirstAnalyze) {
  store_->migrate();
  fill_inbox_backlog();  // (and the admin connection's search_path)
  admin_->run(
      "INSERT INTO outbox (environment, lead_ref, kind, payload_enc, status, attempts, "
      "next_attempt_at, created_at, updated_at) SELECT 'orbit', 'r', 'whatsapp_text', 'p', "
      "'pending', 0, i, i, i FROM generate_series(1, 30000) i");
  const std::pair<std::string, std::string> claims[] = {
      {"SELECT id FROM whatsapp_inbox WHERE state = 'pending' AND next_attempt_at <= 99999 AND "
       "(lease_until IS NULL OR lease_until < 99999) ORDER BY next_attempt_at, id LIMIT 64 FOR "
       "UPDATE SKIP LOCKED",
       "Index Scan using whatsapp_inbox_due"},
      {"SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= 99999 AND "
       "(lease_until IS NULL OR lease_until < 99999) ORDER BY next_attempt_at LIMIT 16 FOR "
       "UPDATE SKIP LOCKED",
       "Index Scan using outbox_due"},
  };
  for (const auto& [sql, scan] : claims) {
    admin_->run("BEGIN");
    admin_->run("SET LOCAL enable_sort = off; SET LOCAL jit = off");
    const std::string plan = admin_->plan(sql);
    admin_->run("ROLLBACK");
    EXPECT_NE(plan.find(scan), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Bitmap"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("JIT"), std::string::npos) << plan;
  }
  // The store's claims take the first due rows in that order.
  expect_inbox_claim_takes_first(3);
  const auto messages = store_->claim_outbox(99'999, 2, "w", 200'000);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].next_attempt_at, 1);
  EXPECT_EQ(messages[1].next_attempt_at, 2);
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
