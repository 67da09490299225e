// The conformance suite's fixture, its instantiation for both store kinds and the shared
// helpers (see conformance.h).
#include "conformance.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <latch>
#include <thread>

#include "crypto/crypto.h"

namespace leadgate::conformance {
namespace {

constexpr const char* kPgUrlVariable = "LEADGATE_TEST_PG_URL";

// 16 random lowercase hex digits, for the names of schemas and directories.
std::string random_suffix() {
  return hex_encode(random_bytes(8));
}

}  // namespace

LeadRow make_lead(const std::string& env, const std::string& reference, const std::string& bidx,
                  const std::string& loan_type) {
  LeadRow r;
  r.environment = env;
  r.reference_id = reference;
  r.status = "pending_los";
  r.first_name_enc = "v1:first";
  r.last_name_enc = "v1:last";
  r.mobile_enc = "v1:mobile";
  r.email_enc = "v1:email";
  r.pan_enc = "v1:pan";
  r.dob_enc = "v1:dob";
  r.mobile_bidx = bidx;
  r.pan_bidx = "pan-" + bidx;
  r.loan_type = loan_type;
  r.loan_amount_req = 2'500'000;
  r.loan_tenure = 240;
  r.credit_score_enc = "v1:credit-score";
  r.pincode = "400001";
  r.request_id = "req-" + reference;
  r.user_agent = "unit-test";
  r.created_at = 1'700'000'000'000;
  r.updated_at = 1'700'000'000'000;
  return r;
}

AuditEntry make_audit(const std::string& env, const std::string& ref, const std::string& field,
                      const std::string& operation) {
  AuditEntry a;
  a.environment = env;
  a.entity_ref = ref;
  a.operation = operation;
  a.field = field;
  a.old_value = "";
  a.new_value = "XX" + field;
  a.request_id = "req-1";
  a.duration_ms = 12;
  a.created_at = 1'700'000'000'000;
  return a;
}

OutboxMessage make_outbox(const std::string& env, const std::string& ref, std::int64_t due) {
  OutboxMessage m;
  m.environment = env;
  m.lead_ref = ref;
  m.kind = "whatsapp_template";
  m.payload_enc = "v1:payload-" + ref;
  m.next_attempt_at = due;
  m.created_at = due;
  return m;
}

OutboxAttempt make_attempt(std::int64_t outbox_id, int attempt, const std::string& outcome) {
  OutboxAttempt a;
  a.outbox_id = outbox_id;
  a.attempt = attempt;
  a.started_at = 100;
  a.duration_ms = 40;
  a.outcome = outcome;
  if (outcome == "accepted") {
    a.http_status = 202;
  } else {
    a.http_status = 503;
    a.error = "Gupshup answered HTTP 503";
  }
  return a;
}

std::vector<std::int64_t> ids_of(const std::vector<OutboxMessage>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& m : rows) out.push_back(m.id);
  return out;
}

void expect_made_outbox(const OutboxMessage& m, const std::string& env, const std::string& ref,
                        const std::string& status, int attempts) {
  EXPECT_EQ(m.environment, env);
  EXPECT_EQ(m.lead_ref, ref);
  EXPECT_EQ(m.kind, "whatsapp_template");
  EXPECT_EQ(m.payload_enc, "v1:payload-" + ref);
  EXPECT_EQ(m.status, status);
  EXPECT_EQ(m.attempts, attempts);
}

InboxEvent make_inbox(const std::string& provider, const std::string& event_id,
                      std::int64_t received_at, const std::string& env) {
  InboxEvent e;
  e.provider = provider;
  e.event_id = event_id;
  e.environment = env;
  e.kind = "message";
  e.payload_enc = "v1:inbox-" + event_id;
  e.received_at = received_at;
  return e;
}

ConversationMessage make_message(const std::string& env, const std::string& bidx,
                                 const std::string& direction, const std::string& provider_id,
                                 std::int64_t at) {
  ConversationMessage m;
  m.environment = env;
  m.phone_bidx = bidx;
  m.direction = direction;
  m.provider_message_id = provider_id;
  m.lead_ref = "LG-1";
  m.application_id = "BA-1";
  m.msg_type = "text";
  m.text_enc = "v1:text-" + provider_id + "-" + std::to_string(at);
  m.classification = direction == "in" ? "status" : "status_reply";
  m.created_at = at;
  return m;
}

// An inbound message without reply, opt-out or inbox row.
ConversationWrite inbound_only(const std::string& env, const std::string& bidx,
                               const std::string& provider_id, std::int64_t at) {
  ConversationWrite w;
  w.inbound = make_message(env, bidx, "in", provider_id, at);
  w.now = at;
  return w;
}

int run_at_once(const std::vector<Store*>& stores, const std::function<void(int, Store&)>& body) {
  std::atomic<int> failures{0};
  std::latch start(static_cast<std::ptrdiff_t>(stores.size()));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < stores.size(); ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        body(static_cast<int>(t), *stores[t]);
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  return failures.load();
}

void StoreConformanceTest::SetUp() {
  if (postgres()) {
    const char* url = std::getenv(kPgUrlVariable);
    if (!url || !*url) {
      GTEST_SKIP() << kPgUrlVariable
                   << " is not set: the PostgreSQL store is not tested. Run "
                      "tests/pg/start_pg.sh and export the URL it prints as "
                   << kPgUrlVariable << " (CI always does).";
    }
    pg_base_url_ = url;
    pg_admin_.reset(PQconnectdb(pg_base_url_.c_str()));
    ASSERT_TRUE(pg_admin_ && PQstatus(pg_admin_.get()) == CONNECTION_OK)
        << "cannot connect to " << kPgUrlVariable << ": "
        << (pg_admin_ ? PQerrorMessage(pg_admin_.get()) : "out of memory");
    PQsetNoticeProcessor(
        pg_admin_.get(), [](void*, const char*) {}, nullptr);  // keep test output clean
  } else {
    static std::atomic<int> counter{0};
    sqlite_dir_ = std::filesystem::temp_directory_path() /
                  ("leadgate_store_conformance_" + std::to_string(::getpid()) + "_" +
                   std::to_string(counter.fetch_add(1)) + "_" + random_suffix());
    std::filesystem::create_directories(sqlite_dir_);
  }
  store_ = open_fresh();
  ASSERT_NE(store_, nullptr);
  location_ = locations_.back();
  store_->migrate();
}

void StoreConformanceTest::TearDown() {
  thread_stores_.clear();
  store_.reset();
  if (pg_admin_) {
    for (const auto& schema : locations_) pg_exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    pg_admin_.reset();
  }
  if (!sqlite_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(sqlite_dir_, ec);
  }
}

std::unique_ptr<Store> StoreConformanceTest::open_fresh() {
  if (postgres()) {
    const std::string schema = "lgc_" + random_suffix();
    pg_exec("CREATE SCHEMA " + schema);
    locations_.push_back(schema);
    return open_store(pg_url(schema), 4);
  }
  const std::string path =
      (sqlite_dir_ / ("store-" + std::to_string(locations_.size()) + ".db")).string();
  locations_.push_back(path);
  return open_store("sqlite:" + path, 1);
}

std::unique_ptr<Store> StoreConformanceTest::open_same() {
  if (postgres()) return open_store(pg_url(location_), 2);
  return open_store("sqlite:" + location_, 1);
}

std::vector<Store*> StoreConformanceTest::thread_stores(int threads, bool share_half) {
  std::vector<Store*> out;
  for (int t = 0; t < threads; ++t) {
    if (share_half && t % 2 == 0) {
      out.push_back(store_.get());
    } else {
      thread_stores_.push_back(open_same());
      out.push_back(thread_stores_.back().get());
    }
  }
  return out;
}

std::int64_t StoreConformanceTest::count_rows(const std::string& table) {
  return number_from(table, "COUNT(*)");
}

std::int64_t StoreConformanceTest::number_from(const std::string& table,
                                               const std::string& expression) {
  if (postgres()) {
    const auto out = pg_exec("SELECT " + expression + " FROM " + location_ + "." + table);
    return out.empty() ? -1 : std::stoll(out.front());
  }
  const std::string sql = "SELECT " + expression + " FROM " + table;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(location_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::int64_t n = -1;
  if (stmt && sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

std::int64_t StoreConformanceTest::insert_with_outbox(const std::string& ref,
                                                      const std::string& bidx, std::int64_t due,
                                                      const std::string& env) {
  LeadWrite w;
  w.lead = make_lead(env, ref, bidx);
  w.outbox.push_back(make_outbox(env, ref, due));
  store_->insert_lead(w);
  auto rows = store_->outbox_for(env, ref);
  EXPECT_EQ(rows.size(), 1u);
  return rows.empty() ? 0 : rows[0].id;
}

OutboxMessage StoreConformanceTest::row_of(const std::string& ref, const std::string& env) {
  auto rows = store_->outbox_for(env, ref);
  EXPECT_EQ(rows.size(), 1u) << ref;
  return rows.empty() ? OutboxMessage{} : rows[0];
}

void StoreConformanceTest::give_up(std::int64_t id, int attempts) {
  OutboxAttempt a = make_attempt(id, attempts, "failed");
  a.error = "gave up";
  store_->finish_outbox_attempt(a, "dead", 9'000'000'000'000);
}

void StoreConformanceTest::mark_sent(std::int64_t id, const std::string& provider_id, int attempt,
                                     std::int64_t next_attempt_at) {
  OutboxAttempt ok = make_attempt(id, attempt, "accepted");
  ok.provider_message_id = provider_id;
  store_->finish_outbox_attempt(ok, "sent", next_attempt_at);
}

void StoreConformanceTest::expect_inbox(const std::string& provider, const std::string& event_id,
                                        const std::string& state, int attempts,
                                        std::int64_t processed_at, const std::string& last_error) {
  const auto row = store_->find_inbox(provider, event_id);
  ASSERT_TRUE(row.has_value()) << provider << "/" << event_id;
  EXPECT_EQ(row->state, state) << event_id;
  EXPECT_EQ(row->attempts, attempts) << event_id;
  EXPECT_EQ(row->processed_at, processed_at) << event_id;
  EXPECT_EQ(row->last_error, last_error) << event_id;
}

std::vector<std::string> StoreConformanceTest::pg_exec(const std::string& sql) {
  std::vector<std::string> out;
  PGresult* r = PQexec(pg_admin_.get(), sql.c_str());
  const auto status = PQresultStatus(r);
  if (status == PGRES_TUPLES_OK) {
    for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
  } else if (status != PGRES_COMMAND_OK) {
    ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
  }
  PQclear(r);
  return out;
}

std::string StoreConformanceTest::pg_url(const std::string& schema) const {
  const char sep = pg_base_url_.find('?') == std::string::npos ? '?' : '&';
  return pg_base_url_ + sep + "options=-csearch_path%3D" + schema + "&application_name=" + schema;
}

// The one instantiation of the suite, whose tests are spread over conformance_*_test.cpp. Test
// names end in the store's kind(): StoreConformanceTest.X/sqlite, .../postgresql.
std::string store_kind_name(const ::testing::TestParamInfo<std::string>& param_info) {
  return param_info.param;
}
INSTANTIATE_TEST_SUITE_P(Stores, StoreConformanceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         store_kind_name);

}  // namespace leadgate::conformance
