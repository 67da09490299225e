// One conformance suite for every Store implementation (issue 3: both stores pass one suite).
// Each test runs once per store kind through the public Store interface only, on a fresh,
// migrated database:
//   sqlite      a new file in a private temporary directory, removed afterwards;
//   postgresql  a new schema in the server named by LEADGATE_TEST_PG_URL (start one with
//               tests/pg/start_pg.sh and export the URL it prints), selected for the store's
//               connections through the URL (`options=-csearch_path%3D<schema>`, a startup
//               parameter, so it holds on every pooled connection) and dropped afterwards.
//               Without the variable these instantiations are skipped; CI always sets it.
// Store-specific behaviour (pools, lost connections, concurrency, query plans, files) lives in
// sqlite_store_test.cpp and postgres_store_test.cpp next to this file.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace leadgate {
namespace {

using State = IdempotencyRecord::State;

constexpr const char* kPgUrlVariable = "LEADGATE_TEST_PG_URL";

std::string random_suffix() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> dist;
  const std::uint64_t v = dist(rd);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out += hex[(v >> (4 * i)) & 0xf];
  return out;
}

LeadRow make_lead(const std::string& env, const std::string& reference, const std::string& bidx,
                  const std::string& loan_type = "HL") {
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
  r.credit_score = 760;
  r.pincode = "400001";
  r.request_id = "req-" + reference;
  r.user_agent = "unit-test";
  r.created_at = 1'700'000'000'000;
  r.updated_at = 1'700'000'000'000;
  return r;
}

AuditEntry make_audit(const std::string& env, const std::string& ref, const std::string& field,
                      const std::string& operation = "created") {
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

struct PgFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};

class StoreConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgresql"; }

  void SetUp() override {
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

  void TearDown() override {
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

  // A store of this test's kind on a new, empty (never migrated) database.
  std::unique_ptr<Store> open_fresh() {
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

  // Another store object on store_'s database, as a second instance of the service would open
  // it (its own connection pool, or its own SQLite connection to the same file).
  std::unique_ptr<Store> open_same() {
    if (postgres()) return open_store(pg_url(location_), 2);
    return open_store("sqlite:" + location_, 1);
  }

  // Rows in one table of store_'s database, read behind the store's back (for tables the
  // interface has no reader for, such as outbox_attempts).
  std::int64_t count_rows(const std::string& table) {
    const std::string sql = "SELECT COUNT(*) FROM " + table;
    if (postgres()) {
      const auto out = pg_exec("SELECT COUNT(*) FROM " + location_ + "." + table);
      return out.empty() ? -1 : std::stoll(out.front());
    }
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

  // Inserts a lead with one outbox message due at `due` and returns the message's id.
  std::int64_t insert_with_outbox(const std::string& ref, const std::string& bidx, std::int64_t due,
                                  const std::string& env = "orbit") {
    LeadWrite w;
    w.lead = make_lead(env, ref, bidx);
    w.outbox.push_back(make_outbox(env, ref, due));
    store_->insert_lead(w);
    auto rows = store_->outbox_for(env, ref);
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? 0 : rows[0].id;
  }

  // The one outbox row of a lead inserted by insert_with_outbox.
  OutboxMessage row_of(const std::string& ref, const std::string& env = "orbit") {
    auto rows = store_->outbox_for(env, ref);
    EXPECT_EQ(rows.size(), 1u) << ref;
    return rows.empty() ? OutboxMessage{} : rows[0];
  }

  // The delivery worker gives up on a row after `attempts` failures; it would be due far in the
  // future if it were ever retried.
  void give_up(std::int64_t id, int attempts = 5) {
    OutboxAttempt a = make_attempt(id, attempts, "failed");
    a.error = "gave up";
    store_->finish_outbox_attempt(a, "dead", 9'000'000'000'000);
  }

  std::unique_ptr<Store> store_;

 private:
  // Runs a statement on the admin connection; returns the first column of every row.
  std::vector<std::string> pg_exec(const std::string& sql) {
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

  // The server's URL with every connection's search_path set to `schema`.
  std::string pg_url(const std::string& schema) const {
    const char sep = pg_base_url_.find('?') == std::string::npos ? '?' : '&';
    return pg_base_url_ + sep + "options=-csearch_path%3D" + schema + "&application_name=" + schema;
  }

  std::string pg_base_url_;
  std::unique_ptr<PGconn, PgFinish> pg_admin_;
  std::filesystem::path sqlite_dir_;
  std::vector<std::string> locations_;  // PostgreSQL schemas or SQLite files opened so far
  std::string location_;                // store_'s
};

// Test names end in the store's kind(): StoreConformanceTest.X/sqlite, .../postgresql.
std::string store_kind_name(const ::testing::TestParamInfo<std::string>& param_info) {
  return param_info.param;
}
INSTANTIATE_TEST_SUITE_P(Stores, StoreConformanceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         store_kind_name);

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

// ---- Leads ----

TEST_P(StoreConformanceTest, InsertAndFindLeadRoundTripsEveryColumn) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  w.lead.basic_application_id = "B002BJF";
  w.lead.application_id = "0f8e2c1a-1111-4222-8333-444455556666";
  w.lead.state = "Maharashtra";
  w.lead.gender = "Female";
  w.lead.application_assigned_to_rm = "Ravi";
  w.lead.remarks = "it's \"quoted\"\nand multi-line \xE2\x82\xB9 50%_";
  w.lead.customer_id = "CUST-9";
  w.lead.qr_short_code = "QR1";
  w.lead.annual_income = 12'000'000'000;  // beyond 32 bits
  w.lead.include_credit_score = false;
  w.lead.is_lead_prefilled = true;
  w.lead.los_error = "timeout";
  const std::int64_t id = store_->insert_lead(w);
  EXPECT_GT(id, 0);

  auto found = store_->find_lead_for_customer("orbit", "bidx-1", "HL");
  ASSERT_TRUE(found.has_value());
  const LeadRow& r = *found;
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.environment, "orbit");
  EXPECT_EQ(r.reference_id, "LG-1");
  EXPECT_EQ(r.basic_application_id, "B002BJF");
  EXPECT_EQ(r.application_id, w.lead.application_id);
  EXPECT_EQ(r.status, "pending_los");
  EXPECT_EQ(r.first_name_enc, "v1:first");
  EXPECT_EQ(r.last_name_enc, "v1:last");
  EXPECT_EQ(r.mobile_enc, "v1:mobile");
  EXPECT_EQ(r.email_enc, "v1:email");
  EXPECT_EQ(r.pan_enc, "v1:pan");
  EXPECT_EQ(r.dob_enc, "v1:dob");
  EXPECT_EQ(r.mobile_bidx, "bidx-1");
  EXPECT_EQ(r.pan_bidx, "pan-bidx-1");
  EXPECT_EQ(r.loan_type, "HL");
  EXPECT_EQ(r.loan_amount_req, 2'500'000);
  EXPECT_EQ(r.loan_tenure, 240);
  EXPECT_EQ(r.credit_score, 760);
  EXPECT_EQ(r.pincode, "400001");
  EXPECT_EQ(r.state, std::optional<std::string>("Maharashtra"));
  EXPECT_EQ(r.gender, std::optional<std::string>("Female"));
  EXPECT_EQ(r.application_assigned_to_rm, std::optional<std::string>("Ravi"));
  EXPECT_EQ(r.remarks, w.lead.remarks);
  EXPECT_EQ(r.customer_id, std::optional<std::string>("CUST-9"));
  EXPECT_EQ(r.qr_short_code, std::optional<std::string>("QR1"));
  EXPECT_EQ(r.annual_income, std::optional<std::int64_t>(12'000'000'000));
  EXPECT_FALSE(r.include_credit_score);
  EXPECT_TRUE(r.is_lead_prefilled);
  EXPECT_EQ(r.los_error, "timeout");
  EXPECT_EQ(r.request_id, "req-LG-1");
  EXPECT_EQ(r.user_agent, "unit-test");
  EXPECT_EQ(r.created_at, 1'700'000'000'000);
  EXPECT_EQ(r.updated_at, 1'700'000'000'000);

  auto by_ref = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(by_ref.has_value());
  EXPECT_EQ(by_ref->id, id);
  EXPECT_EQ(by_ref->remarks, w.lead.remarks);
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_EQ(store_->count_leads("homfinity"), 0);
}

TEST_P(StoreConformanceTest, AbsentOptionalsStayAbsent) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  store_->insert_lead(w);
  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->basic_application_id.empty());
  EXPECT_TRUE(r->application_id.empty());
  EXPECT_FALSE(r->state.has_value());
  EXPECT_FALSE(r->gender.has_value());
  EXPECT_FALSE(r->application_assigned_to_rm.has_value());
  EXPECT_FALSE(r->remarks.has_value());
  EXPECT_FALSE(r->customer_id.has_value());
  EXPECT_FALSE(r->qr_short_code.has_value());
  EXPECT_FALSE(r->annual_income.has_value());
  EXPECT_TRUE(r->include_credit_score);
  EXPECT_FALSE(r->is_lead_prefilled);
  EXPECT_EQ(r->los_error, "");
}

TEST_P(StoreConformanceTest, LookupsAreIsolatedByEnvironment) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "shared-bidx");
  w.audit.push_back(make_audit("orbit", "LG-1", "mobile"));
  w.outbox.push_back(make_outbox("orbit", "LG-1", 0));
  store_->insert_lead(w);
  EXPECT_TRUE(store_->find_lead_for_customer("orbit", "shared-bidx", "HL").has_value());
  EXPECT_FALSE(store_->find_lead_for_customer("homfinity", "shared-bidx", "HL").has_value());
  EXPECT_FALSE(store_->find_lead_by_reference("homfinity", "LG-1").has_value());
  EXPECT_FALSE(store_->find_lead_for_customer("orbit", "shared-bidx", "PL").has_value());
  EXPECT_FALSE(store_->find_lead_for_customer("orbit", "other-bidx", "HL").has_value());
  EXPECT_FALSE(store_->find_lead_by_reference("orbit", "LG-2").has_value());

  // The same customer may hold the same loan type in another environment.
  LeadWrite other;
  other.lead = make_lead("homfinity", "LG-2", "shared-bidx");
  EXPECT_NO_THROW(store_->insert_lead(other));
  auto hom = store_->find_lead_for_customer("homfinity", "shared-bidx", "HL");
  ASSERT_TRUE(hom.has_value());
  EXPECT_EQ(hom->reference_id, "LG-2");
  auto orb = store_->find_lead_for_customer("orbit", "shared-bidx", "HL");
  ASSERT_TRUE(orb.has_value());
  EXPECT_EQ(orb->reference_id, "LG-1");
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_EQ(store_->count_leads("homfinity"), 1);

  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 1u);
  EXPECT_TRUE(store_->audit_for("homfinity", "LG-1").empty());
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
  EXPECT_TRUE(store_->outbox_for("homfinity", "LG-1").empty());
}

TEST_P(StoreConformanceTest, SameCustomerDifferentLoanTypeAllowed) {
  LeadWrite a;
  a.lead = make_lead("orbit", "LG-1", "bidx", "HL");
  LeadWrite b;
  b.lead = make_lead("orbit", "LG-2", "bidx", "PL");
  store_->insert_lead(a);
  EXPECT_NO_THROW(store_->insert_lead(b));
  EXPECT_EQ(store_->count_leads("orbit"), 2);
  EXPECT_EQ(store_->find_lead_for_customer("orbit", "bidx", "PL")->reference_id, "LG-2");
}

TEST_P(StoreConformanceTest, DuplicateCustomerLoanTypeConflictsAndWritesNothing) {
  LeadWrite a;
  a.lead = make_lead("orbit", "LG-1", "bidx", "HL");
  store_->insert_lead(a);
  LeadWrite dup;
  dup.lead = make_lead("orbit", "LG-2", "bidx", "HL");
  dup.audit.push_back(make_audit("orbit", "LG-2", "mobile"));
  dup.outbox.push_back(make_outbox("orbit", "LG-2", 0));
  EXPECT_THROW(store_->insert_lead(dup), StoreConflict);
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_FALSE(store_->find_lead_by_reference("orbit", "LG-2").has_value());
  EXPECT_TRUE(store_->audit_for("orbit", "LG-2").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-2").empty());
  EXPECT_TRUE(store_->claim_outbox(1'000, 10, "w", 2'000).empty());
  // The store stays usable after the rolled-back transaction.
  LeadWrite next;
  next.lead = make_lead("orbit", "LG-3", "bidx-3");
  EXPECT_NO_THROW(store_->insert_lead(next));
  EXPECT_EQ(store_->count_leads("orbit"), 2);
}

TEST_P(StoreConformanceTest, DuplicateReferenceIdConflictsAndWritesNothing) {
  LeadWrite a;
  a.lead = make_lead("orbit", "LG-1", "bidx-1");
  store_->insert_lead(a);
  LeadWrite dup;
  dup.lead = make_lead("orbit", "LG-1", "bidx-2");
  dup.audit.push_back(make_audit("orbit", "LG-1", "mobile"));
  dup.outbox.push_back(make_outbox("orbit", "LG-1", 0));
  EXPECT_THROW(store_->insert_lead(dup), StoreConflict);
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_FALSE(store_->find_lead_for_customer("orbit", "bidx-2", "HL").has_value());
  EXPECT_TRUE(store_->audit_for("orbit", "LG-1").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-1").empty());
}

TEST_P(StoreConformanceTest, InsertWritesAuditAndOutboxInOrder) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit = {make_audit("orbit", "LG-1", "firstName"), make_audit("orbit", "LG-1", "mobile"),
             make_audit("orbit", "LG-1", "pan")};
  w.outbox = {make_outbox("orbit", "LG-1", 5), make_outbox("orbit", "LG-1", 3)};
  w.outbox[1].kind = "whatsapp_text";
  store_->insert_lead(w);

  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].field, "firstName");
  EXPECT_EQ(audit[1].field, "mobile");
  EXPECT_EQ(audit[2].field, "pan");
  EXPECT_EQ(audit[0].environment, "orbit");
  EXPECT_EQ(audit[0].entity, "lead");
  EXPECT_EQ(audit[0].entity_ref, "LG-1");
  EXPECT_EQ(audit[0].operation, "created");
  EXPECT_EQ(audit[0].old_value, "");
  EXPECT_EQ(audit[0].new_value, "XXfirstName");
  EXPECT_EQ(audit[0].request_id, "req-1");
  EXPECT_EQ(audit[0].duration_ms, 12);
  EXPECT_EQ(audit[0].created_at, 1'700'000'000'000);

  auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_GT(outbox[0].id, 0);
  EXPECT_LT(outbox[0].id, outbox[1].id);
  EXPECT_EQ(outbox[0].environment, "orbit");
  EXPECT_EQ(outbox[0].lead_ref, "LG-1");
  EXPECT_EQ(outbox[0].kind, "whatsapp_template");
  EXPECT_EQ(outbox[0].payload_enc, "v1:payload-LG-1");
  EXPECT_EQ(outbox[0].status, "pending");
  EXPECT_EQ(outbox[0].attempts, 0);
  EXPECT_EQ(outbox[0].next_attempt_at, 5);
  EXPECT_EQ(outbox[0].provider_message_id, "");
  EXPECT_EQ(outbox[0].last_error, "");
  EXPECT_EQ(outbox[0].created_at, 5);
  EXPECT_EQ(outbox[1].kind, "whatsapp_text");
  EXPECT_EQ(outbox[1].next_attempt_at, 3);
}

// The store owns a new message's delivery state, whatever the caller put in it.
TEST_P(StoreConformanceTest, NewOutboxMessagesStartPendingWithNoAttempts) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  OutboxMessage m = make_outbox("orbit", "LG-1", 7);
  m.status = "sent";
  m.attempts = 4;
  m.delivery_status = "read";
  m.delivery_status_at = 9;
  m.delivery_error = "x";
  w.outbox.push_back(m);
  store_->insert_lead(w);
  const auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "pending");
  EXPECT_EQ(row.attempts, 0);
  EXPECT_EQ(row.delivery_status, "");
  EXPECT_EQ(row.delivery_status_at, 0);
  EXPECT_EQ(row.delivery_error, "");
  EXPECT_EQ(store_->claim_outbox(7, 10, "w", 100).size(), 1u);
}

TEST_P(StoreConformanceTest, UpdateLeadAppliesChangesAndChildren) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit.push_back(make_audit("orbit", "LG-1", "mobile"));
  w.lead.id = store_->insert_lead(w);

  LeadWrite u;
  u.lead = w.lead;
  u.lead.status = "created";
  u.lead.basic_application_id = "B00ABCD";
  u.lead.remarks = "updated";
  u.lead.annual_income = 900'000;
  u.lead.updated_at = 1'700'000'000'999;
  u.expected_status = "pending_los";
  u.audit.push_back(make_audit("orbit", "LG-1", "status", "status_changed"));
  u.outbox.push_back(make_outbox("orbit", "LG-1", 10));
  EXPECT_TRUE(store_->update_lead(u));

  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, w.lead.id);
  EXPECT_EQ(r->status, "created");
  EXPECT_EQ(r->basic_application_id, "B00ABCD");
  EXPECT_EQ(r->remarks, std::optional<std::string>("updated"));
  EXPECT_EQ(r->annual_income, std::optional<std::int64_t>(900'000));
  EXPECT_EQ(r->created_at, 1'700'000'000'000);
  EXPECT_EQ(r->updated_at, 1'700'000'000'999);
  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].operation, "created");
  EXPECT_EQ(audit[1].operation, "status_changed");
  auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].status, "pending");
  EXPECT_EQ(outbox[0].next_attempt_at, 10);
}

TEST_P(StoreConformanceTest, UpdateCanClearOptionalColumns) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.remarks = "to be removed";
  w.lead.annual_income = 5;
  w.lead.basic_application_id = "B1";
  w.lead.id = store_->insert_lead(w);
  LeadWrite u;
  u.lead = w.lead;
  u.lead.remarks.reset();
  u.lead.annual_income.reset();
  u.lead.basic_application_id.clear();
  ASSERT_TRUE(store_->update_lead(u));
  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->remarks.has_value());
  EXPECT_FALSE(r->annual_income.has_value());
  EXPECT_EQ(r->basic_application_id, "");
}

TEST_P(StoreConformanceTest, UpdateWithoutExpectedStatusAlwaysApplies) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  LeadWrite u;
  u.lead = w.lead;
  u.lead.status = "los_failed";
  EXPECT_TRUE(store_->update_lead(u));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-1")->status, "los_failed");
  u.lead.remarks = "checked";
  EXPECT_TRUE(store_->update_lead(u));  // an unchanged status is no obstacle either
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-1")->remarks,
            std::optional<std::string>("checked"));
}

TEST_P(StoreConformanceTest, UpdateWithStaleExpectedStatusChangesNothing) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);

  LeadWrite u;
  u.lead = w.lead;
  u.lead.status = "completed";
  u.lead.remarks = "should not land";
  u.expected_status = "created";  // stored status is pending_los
  u.audit.push_back(make_audit("orbit", "LG-1", "status", "status_changed"));
  u.outbox.push_back(make_outbox("orbit", "LG-1", 0));
  EXPECT_FALSE(store_->update_lead(u));

  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, "pending_los");
  EXPECT_FALSE(r->remarks.has_value());
  EXPECT_TRUE(store_->audit_for("orbit", "LG-1").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-1").empty());
  EXPECT_TRUE(store_->claim_outbox(1'000, 10, "w", 2'000).empty());
}

// Two writers read pending_los; the first moves it on, the second's expectation is now stale.
TEST_P(StoreConformanceTest, SecondTransitionFromTheSameStatusLoses) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);

  LeadWrite first;
  first.lead = w.lead;
  first.lead.status = "created";
  first.lead.basic_application_id = "BA-77";
  first.lead.updated_at = 2'000;
  first.expected_status = "pending_los";
  first.audit.push_back(make_audit("orbit", "LG-1", "status", "status_changed"));
  first.outbox.push_back(make_outbox("orbit", "LG-1", 2'000));
  EXPECT_TRUE(store_->update_lead(first));

  LeadWrite second = first;
  second.lead.status = "los_failed";
  second.lead.basic_application_id.clear();
  second.lead.updated_at = 3'000;
  EXPECT_FALSE(store_->update_lead(second));

  const auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, "created");
  EXPECT_EQ(r->basic_application_id, "BA-77");
  EXPECT_EQ(r->updated_at, 2'000);
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 1u);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
}

TEST_P(StoreConformanceTest, UpdateOfUnknownIdReturnsFalse) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);

  LeadWrite u;
  u.lead = make_lead("orbit", "LG-404", "bidx-404");
  u.lead.id = w.lead.id + 1'000;
  u.audit.push_back(make_audit("orbit", "LG-404", "status"));
  u.outbox.push_back(make_outbox("orbit", "LG-404", 0));
  EXPECT_FALSE(store_->update_lead(u));
  u.expected_status = "pending_los";
  EXPECT_FALSE(store_->update_lead(u));
  EXPECT_TRUE(store_->audit_for("orbit", "LG-404").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-404").empty());
  EXPECT_FALSE(store_->find_lead_by_reference("orbit", "LG-404").has_value());
  EXPECT_EQ(store_->count_leads("orbit"), 1);
}

TEST_P(StoreConformanceTest, UpdateIntoAnotherCustomersSlotConflicts) {
  LeadWrite a;
  a.lead = make_lead("orbit", "LG-1", "bidx-a");
  store_->insert_lead(a);
  LeadWrite b;
  b.lead = make_lead("orbit", "LG-2", "bidx-b");
  b.lead.id = store_->insert_lead(b);
  LeadWrite u;
  u.lead = b.lead;
  u.lead.mobile_bidx = "bidx-a";
  u.audit.push_back(make_audit("orbit", "LG-2", "mobile", "updated"));
  u.outbox.push_back(make_outbox("orbit", "LG-2", 0));
  EXPECT_THROW(store_->update_lead(u), StoreConflict);
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-2")->mobile_bidx, "bidx-b");
  EXPECT_TRUE(store_->audit_for("orbit", "LG-2").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-2").empty());
  // The store stays usable after the rolled-back transaction.
  u.lead.mobile_bidx = "bidx-c";
  EXPECT_TRUE(store_->update_lead(u));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-2")->mobile_bidx, "bidx-c");
}

TEST_P(StoreConformanceTest, AuditForKeepsInsertionOrderAcrossWrites) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit = {make_audit("orbit", "LG-1", "b"), make_audit("orbit", "LG-1", "a")};
  w.lead.id = store_->insert_lead(w);
  for (const char* field : {"z", "c", "m"}) {
    LeadWrite u;
    u.lead = w.lead;
    u.audit.push_back(make_audit("orbit", "LG-1", field, "updated"));
    ASSERT_TRUE(store_->update_lead(u));
  }
  LeadWrite two;
  two.lead = w.lead;
  two.audit = {make_audit("orbit", "LG-1", "y", "status_changed"),
               make_audit("orbit", "LG-1", "x", "updated")};
  ASSERT_TRUE(store_->update_lead(two));

  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 7u);
  std::string order;
  for (const auto& a : audit) order += a.field;
  EXPECT_EQ(order, "bazcmyx");
  EXPECT_EQ(audit[5].operation, "status_changed");
}

// ---- Outbox: claim, lease, finish ----

TEST_P(StoreConformanceTest, ClaimReturnsDueRowsAndLeasesThem) {
  const auto id = insert_with_outbox("LG-1", "b1", 1'000);
  auto claimed = store_->claim_outbox(1'000, 10, "worker-a", 5'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
  EXPECT_EQ(claimed[0].environment, "orbit");
  EXPECT_EQ(claimed[0].lead_ref, "LG-1");
  EXPECT_EQ(claimed[0].kind, "whatsapp_template");
  EXPECT_EQ(claimed[0].payload_enc, "v1:payload-LG-1");
  EXPECT_EQ(claimed[0].status, "pending");
  EXPECT_EQ(claimed[0].attempts, 0);

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
  OutboxAttempt a = make_attempt(id, 1, "accepted");
  a.provider_message_id = "gs-msg-1";
  store_->finish_outbox_attempt(a, "sent", 0);

  const auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "sent");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.provider_message_id, "gs-msg-1");
  EXPECT_EQ(row.last_error, "");
  for (std::int64_t now : {std::int64_t{100}, std::int64_t{1'001}, std::int64_t{1'000'000'000}}) {
    EXPECT_TRUE(store_->claim_outbox(now, 10, "w2", now + 1'000).empty()) << now;
  }
  EXPECT_EQ(count_rows("outbox_attempts"), 1);
}

TEST_P(StoreConformanceTest, FailedAttemptReschedulesAndReleasesLease) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  ASSERT_EQ(store_->claim_outbox(100, 10, "w", 100'000).size(), 1u);
  store_->finish_outbox_attempt(make_attempt(id, 1, "failed"), "pending", 2'000);

  auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "pending");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.next_attempt_at, 2'000);
  EXPECT_EQ(row.last_error, "Gupshup answered HTTP 503");
  EXPECT_EQ(row.provider_message_id, "");

  // The lease (until 100'000) was released: due at 2'000, claimable then, not before.
  EXPECT_TRUE(store_->claim_outbox(1'999, 10, "w", 50'000).empty());
  auto claimed = store_->claim_outbox(2'000, 10, "w", 50'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].attempts, 1);
  EXPECT_EQ(claimed[0].last_error, "Gupshup answered HTTP 503");

  // A later success records its provider id next to the earlier failure.
  OutboxAttempt ok = make_attempt(id, 2, "accepted");
  ok.provider_message_id = "gs-123";
  store_->finish_outbox_attempt(ok, "sent", 2'000);
  row = row_of("LG-1");
  EXPECT_EQ(row.status, "sent");
  EXPECT_EQ(row.attempts, 2);
  EXPECT_EQ(row.provider_message_id, "gs-123");
  EXPECT_EQ(count_rows("outbox_attempts"), 2);
}

// A late attempt record without a provider id (e.g. a duplicate failure report) does not erase
// the id an earlier accepted attempt recorded.
TEST_P(StoreConformanceTest, AttemptWithoutProviderIdKeepsTheRecordedOne) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  OutboxAttempt ok = make_attempt(id, 1, "accepted");
  ok.provider_message_id = "gs-123";
  store_->finish_outbox_attempt(ok, "sent", 0);
  store_->finish_outbox_attempt(make_attempt(id, 2, "failed"), "sent", 0);
  const auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "sent");
  EXPECT_EQ(row.attempts, 2);
  EXPECT_EQ(row.provider_message_id, "gs-123");
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
    const auto row = row_of(ref);
    EXPECT_EQ(row.status, "pending") << ref;
    EXPECT_EQ(row.attempts, 0) << ref;
    EXPECT_EQ(row.next_attempt_at, 0) << ref;
  }
}

// ---- Outbox: operators (list_outbox, requeue_outbox) ----

TEST_P(StoreConformanceTest, ListOutboxFiltersByStatus) {
  const auto pending = insert_with_outbox("LG-1", "b1", 500);
  const auto sent = insert_with_outbox("LG-2", "b2", 0);
  const auto dead = insert_with_outbox("LG-3", "b3", 0);
  const auto dead_elsewhere = insert_with_outbox("LG-4", "b4", 0, "homfinity");
  OutboxAttempt ok = make_attempt(sent, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);
  give_up(dead, 7);
  give_up(dead_elsewhere);

  const auto dead_rows = store_->list_outbox("dead", 10);
  EXPECT_EQ(ids_of(dead_rows), (std::vector<std::int64_t>{dead, dead_elsewhere}))
      << "every environment";
  ASSERT_EQ(dead_rows.size(), 2u);
  EXPECT_EQ(dead_rows[0].environment, "orbit");
  EXPECT_EQ(dead_rows[0].lead_ref, "LG-3");
  EXPECT_EQ(dead_rows[0].kind, "whatsapp_template");
  EXPECT_EQ(dead_rows[0].payload_enc, "v1:payload-LG-3");
  EXPECT_EQ(dead_rows[0].status, "dead");
  EXPECT_EQ(dead_rows[0].attempts, 7);
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
  auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "pending");
  EXPECT_EQ(row.attempts, 0) << "a fresh attempt budget";
  EXPECT_EQ(row.next_attempt_at, 50'000);
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
  OutboxAttempt ok = make_attempt(a, 1, "accepted");
  ok.provider_message_id = "gs-again";
  store_->finish_outbox_attempt(ok, "sent", 50'000);
  row = row_of("LG-1");
  EXPECT_EQ(row.status, "sent");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.provider_message_id, "gs-again");
}

TEST_P(StoreConformanceTest, RequeueAllDeadRowsWithIdZero) {
  const auto pending = insert_with_outbox("LG-1", "b1", 900'000);
  const auto sent = insert_with_outbox("LG-2", "b2", 0);
  const auto dead1 = insert_with_outbox("LG-3", "b3", 0);
  const auto dead2 = insert_with_outbox("LG-4", "b4", 0, "homfinity");
  const auto dead3 = insert_with_outbox("LG-5", "b5", 0);
  OutboxAttempt ok = make_attempt(sent, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);
  give_up(dead1);
  give_up(dead2, 3);
  give_up(dead3, 9);

  EXPECT_EQ(store_->requeue_outbox(0, 70'000), 3);
  EXPECT_TRUE(store_->list_outbox("dead", 10).empty());
  for (const auto& [ref, env] : std::vector<std::pair<std::string, std::string>>{
           {"LG-3", "orbit"}, {"LG-4", "homfinity"}, {"LG-5", "orbit"}}) {
    const auto row = row_of(ref, env);
    EXPECT_EQ(row.status, "pending") << ref;
    EXPECT_EQ(row.attempts, 0) << ref;
    EXPECT_EQ(row.next_attempt_at, 70'000) << ref;
  }
  // Rows that were not dead are untouched.
  const auto p = row_of("LG-1");
  EXPECT_EQ(p.status, "pending");
  EXPECT_EQ(p.next_attempt_at, 900'000);
  const auto s = row_of("LG-2");
  EXPECT_EQ(s.status, "sent");
  EXPECT_EQ(s.attempts, 1);
  EXPECT_EQ(s.provider_message_id, "gs-1");

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
  OutboxAttempt ok = make_attempt(sent, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);
  ASSERT_EQ(store_->claim_outbox(30, 10, "holder", 100'000).size(), 1u);  // re-lease LG-2

  EXPECT_EQ(store_->requeue_outbox(retrying, 40), 0);
  EXPECT_EQ(store_->requeue_outbox(leased, 40), 0);
  EXPECT_EQ(store_->requeue_outbox(sent, 40), 0);
  EXPECT_EQ(store_->requeue_outbox(sent + 1'000, 40), 0) << "unknown id";
  EXPECT_EQ(store_->requeue_outbox(0, 40), 0) << "no dead rows";

  const auto r = row_of("LG-1");
  EXPECT_EQ(r.status, "pending");
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.next_attempt_at, 7'000);
  EXPECT_EQ(r.last_error, "Gupshup answered HTTP 503");
  const auto s = row_of("LG-3");
  EXPECT_EQ(s.status, "sent");
  EXPECT_EQ(s.attempts, 1);
  EXPECT_EQ(s.provider_message_id, "gs-1");
  // LG-2's lease still holds and LG-1 is still not due.
  EXPECT_TRUE(store_->claim_outbox(6'999, 10, "other", 200'000).empty());
  const auto due = store_->claim_outbox(7'000, 10, "other", 200'000);
  EXPECT_EQ(ids_of(due), (std::vector<std::int64_t>{retrying}));
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

// ---- OTPs ----

OtpCode make_otp(const std::string& env, const std::string& bidx, const std::string& hash,
                 std::int64_t created_at = 1'000) {
  OtpCode o;
  o.environment = env;
  o.phone_bidx = bidx;
  o.code_hash = hash;
  o.created_at = created_at;
  o.expires_at = created_at + 180'000;
  return o;
}

void expect_same_otp(const std::optional<OtpCode>& got, const OtpCode& want) {
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->environment, want.environment);
  EXPECT_EQ(got->phone_bidx, want.phone_bidx);
  EXPECT_EQ(got->code_hash, want.code_hash);
  EXPECT_EQ(got->created_at, want.created_at);
  EXPECT_EQ(got->expires_at, want.expires_at);
  EXPECT_EQ(got->attempts, want.attempts);
  EXPECT_EQ(got->state, want.state);
}

TEST_P(StoreConformanceTest, OtpPutFindAndReplace) {
  EXPECT_FALSE(store_->find_otp("orbit", "b1").has_value());

  OtpCode first = make_otp("orbit", "b1", "hash-1");
  first.attempts = 3;
  first.state = "burned";
  store_->put_otp(first);
  expect_same_otp(store_->find_otp("orbit", "b1"), first);

  // A new send replaces the code and resets its attempts and state.
  const OtpCode second = make_otp("orbit", "b1", "hash-2", 50'000);
  store_->put_otp(second);
  expect_same_otp(store_->find_otp("orbit", "b1"), second);
  EXPECT_EQ(count_rows("otp_codes"), 1);
  EXPECT_FALSE(store_->find_otp("orbit", "b2").has_value());
}

TEST_P(StoreConformanceTest, OtpIsolatedByEnvironment) {
  const OtpCode orbit = make_otp("orbit", "b1", "hash-orbit");
  store_->put_otp(orbit);
  EXPECT_FALSE(store_->find_otp("homfinity", "b1").has_value());

  const OtpCode homfinity = make_otp("homfinity", "b1", "hash-homfinity", 2'000);
  store_->put_otp(homfinity);
  expect_same_otp(store_->find_otp("orbit", "b1"), orbit);
  expect_same_otp(store_->find_otp("homfinity", "b1"), homfinity);

  // An update in one environment leaves the other's code alone.
  store_->update_otp("homfinity", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.state = "used";
    return std::optional<OtpCode>(next);
  });
  EXPECT_EQ(store_->find_otp("homfinity", "b1")->state, "used");
  expect_same_otp(store_->find_otp("orbit", "b1"), orbit);
}

TEST_P(StoreConformanceTest, UpdateOtpOnAMissingRowDecidesOnNulloptAndWritesNothing) {
  int calls = 0;
  bool saw_nullopt = false;
  const auto result = store_->update_otp("orbit", "b1", [&](const std::optional<OtpCode>& current) {
    ++calls;
    saw_nullopt = !current.has_value();
    return std::optional<OtpCode>();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(saw_nullopt);
  EXPECT_FALSE(result.has_value());
  EXPECT_FALSE(store_->find_otp("orbit", "b1").has_value());
  EXPECT_EQ(count_rows("otp_codes"), 0);
}

TEST_P(StoreConformanceTest, UpdateOtpReturningNulloptLeavesTheRowUnchanged) {
  const OtpCode code = make_otp("orbit", "b1", "hash-1");
  store_->put_otp(code);
  std::optional<OtpCode> seen;
  const auto result = store_->update_otp("orbit", "b1", [&](const std::optional<OtpCode>& current) {
    seen = current;
    return std::optional<OtpCode>();
  });
  EXPECT_FALSE(result.has_value());
  expect_same_otp(seen, code);
  expect_same_otp(store_->find_otp("orbit", "b1"), code);
}

TEST_P(StoreConformanceTest, UpdateOtpStoresAndReturnsTheDecision) {
  store_->put_otp(make_otp("orbit", "b1", "hash-1"));
  const auto result = store_->update_otp("orbit", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.attempts = current->attempts + 1;
    next.state = "used";
    return std::optional<OtpCode>(next);
  });
  OtpCode want = make_otp("orbit", "b1", "hash-1");
  want.attempts = 1;
  want.state = "used";
  expect_same_otp(result, want);
  expect_same_otp(store_->find_otp("orbit", "b1"), want);

  // The row is keyed by the arguments, whatever key the decision carries.
  const auto rekeyed = store_->update_otp("orbit", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.environment = "homfinity";
    next.phone_bidx = "other";
    next.state = "burned";
    return std::optional<OtpCode>(next);
  });
  ASSERT_TRUE(rekeyed.has_value());
  EXPECT_EQ(rekeyed->environment, "orbit");
  EXPECT_EQ(rekeyed->phone_bidx, "b1");
  EXPECT_EQ(store_->find_otp("orbit", "b1")->state, "burned");
  EXPECT_FALSE(store_->find_otp("homfinity", "other").has_value());
  EXPECT_EQ(count_rows("otp_codes"), 1);
}

TEST_P(StoreConformanceTest, UpdateOtpWhoseDecideThrowsWritesNothing) {
  const OtpCode code = make_otp("orbit", "b1", "hash-1");
  store_->put_otp(code);
  EXPECT_THROW(store_->update_otp("orbit", "b1",
                                  [](const std::optional<OtpCode>&) -> std::optional<OtpCode> {
                                    throw std::logic_error("decide failed");
                                  }),
               std::logic_error);
  expect_same_otp(store_->find_otp("orbit", "b1"), code);
  // The store is usable afterwards (lock, transaction and connection were released).
  const auto after = store_->update_otp("orbit", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.attempts = 1;
    return std::optional<OtpCode>(next);
  });
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(store_->find_otp("orbit", "b1")->attempts, 1);
}

// Several instances (one store object per thread) updating one phone: each decide sees the
// previous one's write, so no increment is lost.
TEST_P(StoreConformanceTest, ConcurrentUpdateOtpCallsAreSerialised) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 3;
  store_->put_otp(make_otp("orbit", "b1", "hash-1"));
  std::vector<std::unique_ptr<Store>> instances;
  for (int i = 0; i < kThreads; ++i) instances.push_back(open_same());

  std::mutex seen_mutex;
  std::vector<int> seen;  // attempts each decide saw
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, store = instances[static_cast<std::size_t>(t)].get()] {
      start.arrive_and_wait();
      for (int round = 0; round < kRounds; ++round) {
        try {
          store->update_otp("orbit", "b1", [&](const std::optional<OtpCode>& current) {
            if (!current) return std::optional<OtpCode>();
            {
              std::lock_guard lock(seen_mutex);
              seen.push_back(current->attempts);
            }
            // Widen the window in which an unserialised read-modify-write would lose an update.
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            OtpCode next = *current;
            next.attempts = current->attempts + 1;
            return std::optional<OtpCode>(next);
          });
        } catch (const std::exception& e) {
          ++failures;
          ADD_FAILURE() << e.what();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const auto final_code = store_->find_otp("orbit", "b1");
  ASSERT_TRUE(final_code.has_value());
  EXPECT_EQ(final_code->attempts, kThreads * kRounds);
  std::sort(seen.begin(), seen.end());
  std::vector<int> expected(kThreads * kRounds);
  for (int i = 0; i < kThreads * kRounds; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(seen, expected) << "every decide saw a distinct, previously committed count";
}

// ---- Rate limits ----

constexpr std::int64_t kTenMinutes = 600'000;

TEST_P(StoreConformanceTest, RateLimitAllowsMaxEventsInTheWindow) {
  const std::string scope = "otp_send:orbit:b1";
  std::set<std::int64_t> ids;
  for (const std::int64_t at : {1'000, 2'000, 5'000}) {
    const RateDecision d = store_->reserve_rate_event(scope, at, kTenMinutes, 3, 0);
    EXPECT_TRUE(d.allowed) << at;
    EXPECT_GT(d.event_id, 0);
    ids.insert(d.event_id);
  }
  EXPECT_EQ(ids.size(), 3u);

  RateDecision d = store_->reserve_rate_event(scope, 6'000, kTenMinutes, 3, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1'000 + kTenMinutes - 6'000) << "until the oldest leaves the window";
  EXPECT_EQ(count_rows("rate_events"), 3) << "a refusal records nothing";

  d = store_->reserve_rate_event(scope, 600'999, kTenMinutes, 3, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1);
  // At 601'000 the event at 1'000 is exactly window_ms old: outside (now - window, now].
  d = store_->reserve_rate_event(scope, 601'000, kTenMinutes, 3, 0);
  EXPECT_TRUE(d.allowed);
}

TEST_P(StoreConformanceTest, RateLimitWindowSlides) {
  const std::string scope = "s";
  EXPECT_TRUE(store_->reserve_rate_event(scope, 1'000, 10'000, 2, 0).allowed);
  EXPECT_TRUE(store_->reserve_rate_event(scope, 5'000, 10'000, 2, 0).allowed);
  RateDecision d = store_->reserve_rate_event(scope, 9'000, 10'000, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 2'000);
  // 1'000 has left the window; 5'000 and the new 11'000 are in it.
  EXPECT_TRUE(store_->reserve_rate_event(scope, 11'000, 10'000, 2, 0).allowed);
  d = store_->reserve_rate_event(scope, 14'999, 10'000, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1);
  EXPECT_TRUE(store_->reserve_rate_event(scope, 15'000, 10'000, 2, 0).allowed);
  d = store_->reserve_rate_event(scope, 15'001, 10'000, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 11'000 + 10'000 - 15'001);
}

// More events in the window than the (lowered) maximum: room only once enough of them leave.
TEST_P(StoreConformanceTest, RateLimitOverTheMaximumWaitsForEnoughEventsToLeave) {
  const std::string scope = "s";
  for (const std::int64_t at : {1'000, 2'000, 3'000, 4'000}) {
    ASSERT_TRUE(store_->reserve_rate_event(scope, at, kTenMinutes, 10, 0).allowed);
  }
  const RateDecision d = store_->reserve_rate_event(scope, 5'000, kTenMinutes, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 3'000 + kTenMinutes - 5'000) << "the third oldest must leave";
}

TEST_P(StoreConformanceTest, RateLimitCooldown) {
  const std::string scope = "otp_send:orbit:b1";
  // Window 0: only the cooldown applies.
  EXPECT_TRUE(store_->reserve_rate_event(scope, 10'000, 0, 5, 30'000).allowed);
  RateDecision d = store_->reserve_rate_event(scope, 10'001, 0, 5, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 29'999);
  d = store_->reserve_rate_event(scope, 39'999, 0, 5, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1);
  EXPECT_TRUE(store_->reserve_rate_event(scope, 40'000, 0, 5, 30'000).allowed);
  // Without a window, spaced events are never limited by count.
  for (int i = 1; i <= 8; ++i) {
    EXPECT_TRUE(store_->reserve_rate_event(scope, 40'000 + i * 30'000, 0, 5, 30'000).allowed) << i;
  }
  // Cooldown 0: only the window applies, however close the events.
  EXPECT_TRUE(store_->reserve_rate_event("other", 1'000, kTenMinutes, 2, 0).allowed);
  EXPECT_TRUE(store_->reserve_rate_event("other", 1'000, kTenMinutes, 2, 0).allowed);
  EXPECT_FALSE(store_->reserve_rate_event("other", 1'000, kTenMinutes, 2, 0).allowed);
}

TEST_P(StoreConformanceTest, RateLimitRetryAfterIsTheLaterOfBothRules) {
  // Window wait longer than the cooldown wait.
  EXPECT_TRUE(store_->reserve_rate_event("a", 1'000, kTenMinutes, 2, 30'000).allowed);
  EXPECT_TRUE(store_->reserve_rate_event("a", 31'000, kTenMinutes, 2, 30'000).allowed);
  RateDecision d = store_->reserve_rate_event("a", 40'000, kTenMinutes, 2, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1'000 + kTenMinutes - 40'000);
  // Within the window but only the cooldown refuses.
  d = store_->reserve_rate_event("b", 0, kTenMinutes, 5, 30'000);
  ASSERT_TRUE(d.allowed);
  d = store_->reserve_rate_event("b", 10'000, kTenMinutes, 5, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 20'000);
  // Cooldown longer than the window: the cooldown wait wins, and it counts an event that has
  // already left the window.
  EXPECT_TRUE(store_->reserve_rate_event("c", 1'000, 60'000, 1, 100'000).allowed);
  d = store_->reserve_rate_event("c", 2'000, 60'000, 1, 100'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 99'000);
  d = store_->reserve_rate_event("c", 70'000, 60'000, 1, 100'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 31'000);
  EXPECT_TRUE(store_->reserve_rate_event("c", 101'000, 60'000, 1, 100'000).allowed);
}

TEST_P(StoreConformanceTest, ReleasedRateEventMakesRoom) {
  const RateDecision first = store_->reserve_rate_event("s", 1'000, kTenMinutes, 2, 0);
  ASSERT_TRUE(first.allowed);
  ASSERT_TRUE(store_->reserve_rate_event("s", 2'000, kTenMinutes, 2, 0).allowed);
  ASSERT_FALSE(store_->reserve_rate_event("s", 3'000, kTenMinutes, 2, 0).allowed);
  store_->release_rate_event(first.event_id);
  EXPECT_EQ(count_rows("rate_events"), 1);
  const RateDecision again = store_->reserve_rate_event("s", 3'000, kTenMinutes, 2, 0);
  EXPECT_TRUE(again.allowed);
  EXPECT_NE(again.event_id, first.event_id);
  // Cooldown too: releasing the newest event lifts it.
  const RateDecision cooled = store_->reserve_rate_event("c", 1'000, 0, 0, 30'000);
  ASSERT_TRUE(cooled.allowed);
  ASSERT_FALSE(store_->reserve_rate_event("c", 2'000, 0, 0, 30'000).allowed);
  store_->release_rate_event(cooled.event_id);
  EXPECT_TRUE(store_->reserve_rate_event("c", 2'000, 0, 0, 30'000).allowed);
  EXPECT_NO_THROW(store_->release_rate_event(999'999));
  EXPECT_NO_THROW(store_->release_rate_event(first.event_id));  // already gone
}

TEST_P(StoreConformanceTest, RateLimitScopesAreIndependent) {
  ASSERT_TRUE(store_->reserve_rate_event("otp:orbit:b1", 1'000, kTenMinutes, 1, 30'000).allowed);
  EXPECT_FALSE(store_->reserve_rate_event("otp:orbit:b1", 1'001, kTenMinutes, 1, 30'000).allowed);
  EXPECT_TRUE(store_->reserve_rate_event("otp:orbit:b2", 1'001, kTenMinutes, 1, 30'000).allowed);
  EXPECT_TRUE(
      store_->reserve_rate_event("otp:homfinity:b1", 1'001, kTenMinutes, 1, 30'000).allowed);
  EXPECT_FALSE(store_->reserve_rate_event("otp:orbit:b1", 1'002, kTenMinutes, 1, 30'000).allowed);
}

// Concurrent reservations from several instances (one store object per thread): exactly max
// are allowed, never more.
TEST_P(StoreConformanceTest, ConcurrentReservationsNeverExceedTheMaximum) {
  constexpr int kThreads = 8;
  std::vector<std::unique_ptr<Store>> instances;
  for (int i = 0; i < kThreads; ++i) instances.push_back(open_same());

  struct Case {
    std::string scope;
    std::int64_t window_ms;
    int max_events;
    std::int64_t cooldown_ms;
    int expected_allowed;
    std::int64_t expected_retry_after_ms;  // of every refused caller
  };
  const std::vector<Case> cases{
      {"window-1", kTenMinutes, 5, 0, 5, kTenMinutes},
      {"window-2", kTenMinutes, 5, 0, 5, kTenMinutes},
      {"window-3", kTenMinutes, 5, 0, 5, kTenMinutes},
      {"cooldown", 0, 0, 30'000, 1, 30'000},
      {"both", kTenMinutes, 5, 30'000, 1, 30'000},
  };
  for (const auto& c : cases) {
    std::atomic<int> allowed{0};
    std::atomic<int> refused{0};
    std::atomic<int> failures{0};
    std::mutex retry_mutex;
    std::set<std::int64_t> retry_afters;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, store = instances[static_cast<std::size_t>(t)].get()] {
        start.arrive_and_wait();
        try {
          const RateDecision d =
              store->reserve_rate_event(c.scope, 100'000, c.window_ms, c.max_events, c.cooldown_ms);
          if (d.allowed) {
            ++allowed;
          } else {
            ++refused;
            std::lock_guard lock(retry_mutex);
            retry_afters.insert(d.retry_after_ms);
          }
        } catch (const std::exception& e) {
          ++failures;
          ADD_FAILURE() << e.what();
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0) << c.scope;
    EXPECT_EQ(allowed.load(), c.expected_allowed) << c.scope;
    EXPECT_EQ(refused.load(), kThreads - c.expected_allowed) << c.scope;
    EXPECT_EQ(retry_afters, std::set<std::int64_t>{c.expected_retry_after_ms}) << c.scope;
  }
  EXPECT_EQ(count_rows("rate_events"), 5 + 5 + 5 + 1 + 1);
}

TEST_P(StoreConformanceTest, PurgeRateEventsRemovesOldEventsOnly) {
  ASSERT_TRUE(store_->reserve_rate_event("a", 1'000, kTenMinutes, 10, 0).allowed);
  ASSERT_TRUE(store_->reserve_rate_event("b", 2'000, kTenMinutes, 10, 0).allowed);
  ASSERT_TRUE(store_->reserve_rate_event("a", 3'000, kTenMinutes, 10, 0).allowed);
  EXPECT_EQ(store_->purge_rate_events(2'000), 1) << "strictly older than the cutoff";
  EXPECT_EQ(store_->purge_rate_events(2'000), 0);
  EXPECT_EQ(count_rows("rate_events"), 2);
  EXPECT_EQ(store_->purge_rate_events(3'001), 2);
  EXPECT_EQ(count_rows("rate_events"), 0);
  // Purged events no longer count.
  EXPECT_TRUE(store_->reserve_rate_event("a", 3'500, kTenMinutes, 1, 0).allowed);
}

// ---- Consents ----

ConsentRecord make_consent(const std::string& env, const std::string& bidx,
                           const std::string& token_hash, std::int64_t requested_at,
                           std::int64_t expires_at) {
  ConsentRecord c;
  c.environment = env;
  c.phone_bidx = bidx;
  c.phone_enc = "v1:phone-" + bidx;
  c.token_hash = token_hash;
  c.requested_at = requested_at;
  c.expires_at = expires_at;
  return c;
}

TEST_P(StoreConformanceTest, ConsentIsGrantedOnce) {
  store_->insert_consent(make_consent("orbit", "b1", "tok-1", 1'000, 100'000));
  auto before = store_->consents_for("orbit", "b1");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].granted_at, 0);
  EXPECT_EQ(before[0].phone_enc, "v1:phone-b1");

  const auto granted = store_->grant_consent("tok-1", 5'000);
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->environment, "orbit");
  EXPECT_EQ(granted->phone_bidx, "b1");
  EXPECT_EQ(granted->phone_enc, "v1:phone-b1");
  EXPECT_EQ(granted->token_hash, "tok-1");
  EXPECT_EQ(granted->requested_at, 1'000);
  EXPECT_EQ(granted->expires_at, 100'000);
  EXPECT_EQ(granted->granted_at, 5'000);

  EXPECT_FALSE(store_->grant_consent("tok-1", 6'000).has_value()) << "the link works once";
  const auto after = store_->consents_for("orbit", "b1");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].granted_at, 5'000) << "the second open did not move the time";
}

TEST_P(StoreConformanceTest, FindConsentReadsAnyStateAndChangesNothing) {
  store_->insert_consent(make_consent("homfinity", "b2", "tok-p", 1'000, 5'000));
  for (int i = 0; i < 2; ++i) {  // looking twice changes nothing
    const auto found = store_->find_consent("tok-p");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->environment, "homfinity");
    EXPECT_EQ(found->phone_bidx, "b2");
    EXPECT_EQ(found->phone_enc, "v1:phone-b2");
    EXPECT_EQ(found->requested_at, 1'000);
    EXPECT_EQ(found->expires_at, 5'000);
    EXPECT_EQ(found->granted_at, 0);
  }
  EXPECT_EQ(store_->consents_for("homfinity", "b2").at(0).granted_at, 0);
  EXPECT_FALSE(store_->find_consent("tok-unknown").has_value());
  ASSERT_TRUE(store_->grant_consent("tok-p", 3'000).has_value());
  const auto granted = store_->find_consent("tok-p");
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->granted_at, 3'000);
}

TEST_P(StoreConformanceTest, ExpiredOrUnknownConsentIsNotGranted) {
  store_->insert_consent(make_consent("orbit", "b1", "tok-expired", 1'000, 5'000));
  store_->insert_consent(make_consent("orbit", "b1", "tok-last-ms", 1'000, 5'000));
  EXPECT_FALSE(store_->grant_consent("tok-expired", 5'000).has_value()) << "expires_at > now";
  EXPECT_FALSE(store_->grant_consent("tok-expired", 9'000).has_value());
  const auto last = store_->grant_consent("tok-last-ms", 4'999);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->granted_at, 4'999);
  EXPECT_FALSE(store_->grant_consent("tok-unknown", 2'000).has_value());

  const auto rows = store_->consents_for("orbit", "b1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].token_hash, "tok-expired");
  EXPECT_EQ(rows[0].granted_at, 0);
  EXPECT_EQ(rows[1].granted_at, 4'999);
}

TEST_P(StoreConformanceTest, ConsentsForOldestFirstAndIsolated) {
  store_->insert_consent(make_consent("orbit", "b1", "t-3000", 3'000, 90'000));
  store_->insert_consent(make_consent("orbit", "b1", "t-1000", 1'000, 90'000));
  store_->insert_consent(make_consent("homfinity", "b1", "t-other-env", 500, 90'000));
  store_->insert_consent(make_consent("orbit", "b2", "t-other-phone", 500, 90'000));
  store_->insert_consent(make_consent("orbit", "b1", "t-2000-a", 2'000, 90'000));
  store_->insert_consent(make_consent("orbit", "b1", "t-2000-b", 2'000, 90'000));

  std::vector<std::string> tokens;
  for (const auto& c : store_->consents_for("orbit", "b1")) tokens.push_back(c.token_hash);
  EXPECT_EQ(tokens, (std::vector<std::string>{"t-1000", "t-2000-a", "t-2000-b", "t-3000"}));

  const auto other_env = store_->consents_for("homfinity", "b1");
  ASSERT_EQ(other_env.size(), 1u);
  EXPECT_EQ(other_env[0].token_hash, "t-other-env");
  EXPECT_EQ(store_->consents_for("orbit", "b2").size(), 1u);
  EXPECT_TRUE(store_->consents_for("orbit", "b3").empty());

  // Granting one phone's consent does not touch another's.
  ASSERT_TRUE(store_->grant_consent("t-other-phone", 1'000).has_value());
  for (const auto& c : store_->consents_for("orbit", "b1")) EXPECT_EQ(c.granted_at, 0);
}

TEST_P(StoreConformanceTest, DuplicateConsentTokenConflicts) {
  store_->insert_consent(make_consent("orbit", "b1", "tok", 1'000, 90'000));
  EXPECT_THROW(store_->insert_consent(make_consent("orbit", "b2", "tok", 2'000, 90'000)),
               StoreConflict);
  EXPECT_TRUE(store_->consents_for("orbit", "b2").empty());
}

TEST_P(StoreConformanceTest, ConcurrentGrantsOfOneTokenSucceedOnce) {
  constexpr int kThreads = 8;
  store_->insert_consent(make_consent("orbit", "b1", "tok", 1'000, 90'000));
  std::vector<std::unique_ptr<Store>> instances;
  for (int i = 0; i < kThreads; ++i) instances.push_back(open_same());
  std::atomic<int> granted{0};
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t, store = instances[static_cast<std::size_t>(t)].get()] {
      start.arrive_and_wait();
      try {
        if (store->grant_consent("tok", 2'000 + t)) ++granted;
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(granted.load(), 1);
}

// ---- Partner status, timeline reads (schema 4) ----

void expect_partner(const std::optional<LeadRow>& lead, const std::string& status,
                    const std::string& stage, std::int64_t updated_at, std::int64_t refreshed_at) {
  ASSERT_TRUE(lead.has_value());
  EXPECT_EQ(lead->partner_status, status);
  EXPECT_EQ(lead->partner_stage, stage);
  EXPECT_EQ(lead->partner_updated_at, updated_at);
  EXPECT_EQ(lead->status_refreshed_at, refreshed_at);
}

PartnerStatusWrite make_partner_write(std::int64_t lead_id, const std::string& expected,
                                      const std::string& status, const std::string& stage,
                                      std::int64_t partner_updated_at, std::int64_t refreshed_at) {
  PartnerStatusWrite w;
  w.lead_id = lead_id;
  w.expected_status = expected;
  w.status = status;
  w.stage = stage;
  w.partner_updated_at = partner_updated_at;
  w.refreshed_at = refreshed_at;
  return w;
}

TEST_P(StoreConformanceTest, PartnerColumnsDefaultEmptyAndInsertStoresThemAsGiven) {
  LeadWrite plain;
  plain.lead = make_lead("orbit", "LG-1", "bidx-1");
  store_->insert_lead(plain);
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "", "", 0, 0);

  LeadWrite w;
  w.lead = make_lead("orbit", "LG-2", "bidx-2");
  w.lead.basic_application_id = "B0002";
  w.lead.application_id = "0f8e2c1a-1111-4222-8333-444455556666";
  w.lead.partner_status = "Under Review";
  w.lead.partner_stage = "Credit \"check\" \xE2\x82\xB9";
  w.lead.partner_updated_at = 12'000'000'000'000;
  w.lead.status_refreshed_at = 12'000'000'000'500;
  store_->insert_lead(w);
  const std::string stage = w.lead.partner_stage;
  // Every lead read returns them.
  expect_partner(store_->find_lead_by_reference("orbit", "LG-2"), "Under Review", stage,
                 12'000'000'000'000, 12'000'000'000'500);
  expect_partner(store_->find_lead_for_customer("orbit", "bidx-2", "HL"), "Under Review", stage,
                 12'000'000'000'000, 12'000'000'000'500);
  expect_partner(store_->find_lead_by_application_id("orbit", w.lead.application_id),
                 "Under Review", stage, 12'000'000'000'000, 12'000'000'000'500);
  expect_partner(store_->find_lead_by_basic_id("orbit", "B0002"), "Under Review", stage,
                 12'000'000'000'000, 12'000'000'000'500);
  const auto by_mobile = store_->find_leads_by_mobile("orbit", "bidx-2");
  ASSERT_EQ(by_mobile.size(), 1u);
  expect_partner(by_mobile[0], "Under Review", stage, 12'000'000'000'000, 12'000'000'000'500);
}

// update_lead writes every column but the partner ones: a refresh that landed after the caller
// read the row is not overwritten by its older copy.
TEST_P(StoreConformanceTest, UpdateLeadLeavesPartnerColumnsAlone) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  const LeadRow stale_copy = *store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(store_->record_partner_status(
      make_partner_write(w.lead.id, "", "Approved", "Sanction", 5, 6)));

  LeadWrite u;
  u.lead = stale_copy;
  u.lead.status = "completed";
  u.lead.updated_at = 7;
  ASSERT_TRUE(store_->update_lead(u));
  const auto r = store_->find_lead_by_reference("orbit", "LG-1");
  expect_partner(r, "Approved", "Sanction", 5, 6);
  EXPECT_EQ(r->status, "completed");

  // Nor does an update that carries other partner values.
  u.lead.partner_status = "Rejected";
  u.lead.partner_stage = "x";
  u.lead.partner_updated_at = 99;
  u.lead.status_refreshed_at = 99;
  ASSERT_TRUE(store_->update_lead(u));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Approved", "Sanction", 5, 6);
}

TEST_P(StoreConformanceTest, FindLeadsByMobileNewestFirstAndIsolated) {
  EXPECT_TRUE(store_->find_leads_by_mobile("orbit", "bidx").empty());
  LeadWrite hl;
  hl.lead = make_lead("orbit", "LG-HL", "bidx", "HL");
  hl.lead.created_at = 2'000;
  LeadWrite pl;
  pl.lead = make_lead("orbit", "LG-PL", "bidx", "PL");
  pl.lead.created_at = 3'000;
  LeadWrite lap;  // same created_at as hl, inserted later: larger id, so before hl
  lap.lead = make_lead("orbit", "LG-LAP", "bidx", "LAP");
  lap.lead.created_at = 2'000;
  LeadWrite other_env;
  other_env.lead = make_lead("homfinity", "LG-H", "bidx", "HL");
  other_env.lead.created_at = 9'000;
  LeadWrite other_customer;
  other_customer.lead = make_lead("orbit", "LG-O", "bidx-other", "HL");
  other_customer.lead.created_at = 9'000;
  for (const LeadWrite* w : {&hl, &pl, &lap, &other_env, &other_customer}) store_->insert_lead(*w);

  const auto rows = store_->find_leads_by_mobile("orbit", "bidx");
  std::vector<std::string> refs;
  for (const auto& r : rows) refs.push_back(r.reference_id);
  EXPECT_EQ(refs, (std::vector<std::string>{"LG-PL", "LG-LAP", "LG-HL"}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_GT(rows[1].id, rows[2].id);
  EXPECT_EQ(rows[0].loan_type, "PL");
  EXPECT_EQ(rows[0].mobile_enc, "v1:mobile");
  const auto hom = store_->find_leads_by_mobile("homfinity", "bidx");
  ASSERT_EQ(hom.size(), 1u);
  EXPECT_EQ(hom[0].reference_id, "LG-H");
  EXPECT_TRUE(store_->find_leads_by_mobile("uat", "bidx").empty());
}

TEST_P(StoreConformanceTest, FindLeadByBasicIdIsIsolatedByEnvironment) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  w.lead.basic_application_id = "B002BJF";
  store_->insert_lead(w);
  LeadWrite without;
  without.lead = make_lead("orbit", "LG-2", "bidx-2");
  store_->insert_lead(without);

  const auto found = store_->find_lead_by_basic_id("orbit", "B002BJF");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->reference_id, "LG-1");
  EXPECT_FALSE(store_->find_lead_by_basic_id("homfinity", "B002BJF").has_value());
  EXPECT_FALSE(store_->find_lead_by_basic_id("orbit", "B002BJ").has_value());
  // A lead the LOS has not accepted yet has no basic id: an empty one matches nothing.
  EXPECT_FALSE(store_->find_lead_by_basic_id("orbit", "").has_value());
}

TEST_P(StoreConformanceTest, RecordPartnerStatusAppliesAChangeWithItsChildren) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);

  PartnerStatusWrite p = make_partner_write(w.lead.id, "", "Under Review", "Login", 1'000, 1'100);
  p.audit.push_back(make_audit("orbit", "LG-1", "partner_status", "status_changed"));
  p.outbox.push_back(make_outbox("orbit", "LG-1", 1'100));
  EXPECT_TRUE(store_->record_partner_status(p));
  const auto r = store_->find_lead_by_reference("orbit", "LG-1");
  expect_partner(r, "Under Review", "Login", 1'000, 1'100);
  EXPECT_EQ(r->status, "pending_los");  // the lead's own columns are untouched
  EXPECT_EQ(r->updated_at, w.lead.updated_at);
  const auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].field, "partner_status");
  const auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].status, "pending");

  // A stage change alone is a change; so is a later report with the same partner time.
  p = make_partner_write(w.lead.id, "Under Review", "Under Review", "Credit", 1'000, 1'200);
  p.audit.push_back(make_audit("orbit", "LG-1", "partner_stage", "status_changed"));
  EXPECT_TRUE(store_->record_partner_status(p));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Under Review", "Credit", 1'000,
                 1'200);
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 2u);
}

// The caller read a partner_status that another refresh has replaced meanwhile.
TEST_P(StoreConformanceTest, RecordPartnerStatusWithStaleExpectationOnlyRefreshes) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  ASSERT_TRUE(store_->record_partner_status(
      make_partner_write(w.lead.id, "", "Under Review", "Login", 1'000, 1'000)));

  PartnerStatusWrite p = make_partner_write(w.lead.id, "", "Rejected", "Closed", 2'000, 2'500);
  p.audit.push_back(make_audit("orbit", "LG-1", "partner_status", "status_changed"));
  p.outbox.push_back(make_outbox("orbit", "LG-1", 2'500));
  EXPECT_FALSE(store_->record_partner_status(p));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Under Review", "Login", 1'000,
                 2'500);
  EXPECT_TRUE(store_->audit_for("orbit", "LG-1").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-1").empty());
  EXPECT_EQ(count_rows("audit_log"), 0);
  EXPECT_EQ(count_rows("outbox"), 0);
}

// Reports can arrive out of order: one about an older LOS state never replaces a newer one.
TEST_P(StoreConformanceTest, RecordPartnerStatusIgnoresAnOlderPartnerUpdate) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  ASSERT_TRUE(store_->record_partner_status(
      make_partner_write(w.lead.id, "", "Approved", "Sanction", 5'000, 5'100)));

  PartnerStatusWrite older =
      make_partner_write(w.lead.id, "Approved", "Under Review", "Credit", 4'999, 6'000);
  older.audit.push_back(make_audit("orbit", "LG-1", "partner_status", "status_changed"));
  older.outbox.push_back(make_outbox("orbit", "LG-1", 6'000));
  EXPECT_FALSE(store_->record_partner_status(older));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Approved", "Sanction", 5'000,
                 6'000);
  EXPECT_TRUE(store_->audit_for("orbit", "LG-1").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-1").empty());
}

TEST_P(StoreConformanceTest, RecordPartnerStatusWithoutAChangeOnlyRefreshes) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  ASSERT_TRUE(store_->record_partner_status(
      make_partner_write(w.lead.id, "", "Under Review", "Login", 1'000, 1'000)));

  PartnerStatusWrite same =
      make_partner_write(w.lead.id, "Under Review", "Under Review", "Login", 3'000, 3'000);
  same.audit.push_back(make_audit("orbit", "LG-1", "partner_status", "status_changed"));
  same.outbox.push_back(make_outbox("orbit", "LG-1", 3'000));
  EXPECT_FALSE(store_->record_partner_status(same));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Under Review", "Login", 1'000,
                 3'000);
  EXPECT_TRUE(store_->audit_for("orbit", "LG-1").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-1").empty());

  // The very first report of an empty status (nothing known) is no change either.
  LeadWrite fresh;
  fresh.lead = make_lead("orbit", "LG-2", "bidx-2");
  fresh.lead.id = store_->insert_lead(fresh);
  EXPECT_FALSE(store_->record_partner_status(make_partner_write(fresh.lead.id, "", "", "", 0, 50)));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-2"), "", "", 0, 50);
}

TEST_P(StoreConformanceTest, RecordStatusRefreshMovesOnlyTheRefreshTimeForward) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  ASSERT_TRUE(store_->record_partner_status(
      make_partner_write(w.lead.id, "", "Under Review", "Login", 1'000, 2'000)));
  store_->record_status_refresh(w.lead.id, 5'000);
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Under Review", "Login", 1'000,
                 5'000);
  store_->record_status_refresh(w.lead.id, 4'000);  // a slower poll finishing late
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Under Review", "Login", 1'000,
                 5'000);
  store_->record_status_refresh(w.lead.id + 1'000, 9'000);  // no such lead: nothing happens
  EXPECT_TRUE(store_->audit_for("orbit", "LG-1").empty());
}

TEST_P(StoreConformanceTest, StatusRefreshTimeNeverGoesBackwards) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  ASSERT_TRUE(store_->record_partner_status(
      make_partner_write(w.lead.id, "", "Under Review", "Login", 1'000, 9'000)));
  // Applied change, older answer time (a slow request finishing late): the status lands, the
  // refresh time stays.
  EXPECT_TRUE(store_->record_partner_status(
      make_partner_write(w.lead.id, "Under Review", "Approved", "Sanction", 2'000, 8'000)));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Approved", "Sanction", 2'000,
                 9'000);
  // Refused change, older answer time: nothing at all changes.
  EXPECT_FALSE(store_->record_partner_status(
      make_partner_write(w.lead.id, "Approved", "Approved", "Sanction", 2'000, 7'000)));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Approved", "Sanction", 2'000,
                 9'000);
  // A newer answer moves it on.
  EXPECT_FALSE(store_->record_partner_status(
      make_partner_write(w.lead.id, "Approved", "Approved", "Sanction", 2'000, 9'001)));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "Approved", "Sanction", 2'000,
                 9'001);
}

TEST_P(StoreConformanceTest, RecordPartnerStatusOfAnUnknownLeadWritesNothing) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  PartnerStatusWrite p = make_partner_write(w.lead.id + 1'000, "", "Approved", "S", 1, 2);
  p.audit.push_back(make_audit("orbit", "LG-1", "partner_status", "status_changed"));
  p.outbox.push_back(make_outbox("orbit", "LG-1", 2));
  EXPECT_FALSE(store_->record_partner_status(p));
  expect_partner(store_->find_lead_by_reference("orbit", "LG-1"), "", "", 0, 0);
  EXPECT_EQ(count_rows("audit_log"), 0);
  EXPECT_EQ(count_rows("outbox"), 0);
}

TEST_P(StoreConformanceTest, AppendEventsWritesAuditAndOutboxInOrder) {
  store_->append_events({}, {});
  EXPECT_EQ(count_rows("audit_log"), 0);
  store_->append_events({make_audit("orbit", "LG-1", "status", "status_sent"),
                         make_audit("orbit", "LG-1", "channel", "status_sent")},
                        {make_outbox("orbit", "LG-1", 40), make_outbox("orbit", "LG-1", 30)});
  store_->append_events({make_audit("orbit", "LG-1", "third", "status_sent")}, {});
  const auto audit = store_->audit_for("orbit", "LG-1");
  std::string order;
  for (const auto& a : audit) order += a.field + ",";
  EXPECT_EQ(order, "status,channel,third,");
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].operation, "status_sent");
  const auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_EQ(outbox[0].next_attempt_at, 40);
  EXPECT_EQ(outbox[1].next_attempt_at, 30);
  EXPECT_EQ(outbox[1].status, "pending");
  EXPECT_EQ(store_->claim_outbox(40, 10, "w", 100).size(), 2u);
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

// ---- Relationship managers ----

RmRow make_rm(const std::string& env, const std::string& name, const std::string& name_key) {
  RmRow r;
  r.environment = env;
  r.name = name;
  r.name_key = name_key;
  r.phone_enc = "v1:phone-" + name_key;
  r.location = "Branch of " + name;
  r.created_at = 1'700'000'000'000;
  return r;
}

TEST_P(StoreConformanceTest, RmInsertFindAndListActiveByNameKey) {
  EXPECT_TRUE(store_->list_rms("orbit").empty());
  const auto zoe = store_->insert_rm(make_rm("orbit", "Zoe  Khan", "zoe khan"));
  const auto amit = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  RmRow gone = make_rm("orbit", "Bela Das", "bela das");
  gone.active = false;
  const auto bela = store_->insert_rm(gone);
  const auto other = store_->insert_rm(make_rm("homfinity", "Carl Dsouza", "carl dsouza"));
  EXPECT_GT(zoe, 0);
  EXPECT_NE(zoe, amit);

  const auto listed = store_->list_rms("orbit");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, amit);
  EXPECT_EQ(listed[1].id, zoe);
  EXPECT_EQ(store_->list_rms("homfinity").size(), 1u);
  EXPECT_TRUE(store_->list_rms("uat").empty());

  const auto found = store_->find_rm(zoe);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, zoe);
  EXPECT_EQ(found->environment, "orbit");
  EXPECT_EQ(found->name, "Zoe  Khan");
  EXPECT_EQ(found->name_key, "zoe khan");
  EXPECT_EQ(found->phone_enc, "v1:phone-zoe khan");
  EXPECT_EQ(found->location, "Branch of Zoe  Khan");
  EXPECT_TRUE(found->active);
  EXPECT_EQ(found->created_at, 1'700'000'000'000);
  // An inactive RM is off the roster but still found by id (its appointments name it).
  const auto inactive = store_->find_rm(bela);
  ASSERT_TRUE(inactive.has_value());
  EXPECT_FALSE(inactive->active);
  EXPECT_EQ(store_->find_rm(other)->environment, "homfinity");
  EXPECT_FALSE(store_->find_rm(other + 1'000).has_value());
}

TEST_P(StoreConformanceTest, DuplicateRmNameKeyConflictsInOneEnvironmentOnly) {
  const auto first = store_->insert_rm(make_rm("orbit", "John Smith", "john smith"));
  EXPECT_THROW(store_->insert_rm(make_rm("orbit", "JOHN  SMITH", "john smith")), StoreConflict);
  RmRow inactive = make_rm("orbit", "John Smith", "john smith");
  inactive.active = false;
  EXPECT_THROW(store_->insert_rm(inactive), StoreConflict);
  const auto listed = store_->list_rms("orbit");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, first);
  EXPECT_EQ(listed[0].name, "John Smith");
  // The same name in another environment is another RM.
  EXPECT_NO_THROW(store_->insert_rm(make_rm("homfinity", "John Smith", "john smith")));
  EXPECT_EQ(store_->list_rms("homfinity").size(), 1u);
  EXPECT_EQ(count_rows("rms"), 2);
}

// ---- Appointments ----

AppointmentWrite make_booking(const std::string& env, const std::string& id,
                              const std::string& lead_ref, std::int64_t rm_id,
                              std::int64_t slot_start, std::int64_t created_at = 1'000) {
  AppointmentWrite w;
  w.appointment.id = id;
  w.appointment.environment = env;
  w.appointment.lead_ref = lead_ref;
  w.appointment.rm_id = rm_id;
  w.appointment.slot_start = slot_start;
  w.appointment.slot_minutes = 30;
  w.appointment.request_id = "req-" + id;
  w.appointment.created_at = created_at;
  w.audit.push_back(make_audit(env, lead_ref, "appointment", "appointment_booked"));
  w.outbox.push_back(make_outbox(env, lead_ref, created_at));
  return w;
}

constexpr std::int64_t kSlot = 1'767'258'000'000;  // 2026-01-01 09:00 UTC
constexpr std::int64_t kHalfHour = 1'800'000;

TEST_P(StoreConformanceTest, BookFindAndListAnAppointment) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  EXPECT_FALSE(store_->find_appointment("a-1").has_value());
  EXPECT_TRUE(store_->appointments_for_lead("orbit", "LG-1").empty());
  AppointmentWrite w =
      make_booking("orbit", "6f1c2b3a-0000-4000-8000-000000000001", "LG-1", rm, kSlot, 1'234);
  w.appointment.slot_minutes = 45;
  w.appointment.status = "cancelled";  // ignored: a new appointment is booked
  w.appointment.cancelled_at = 5;
  w.appointment.cancel_reason = "ignored";
  EXPECT_EQ(store_->book_appointment(w), BookOutcome::booked);

  const auto a = store_->find_appointment("6f1c2b3a-0000-4000-8000-000000000001");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->id, "6f1c2b3a-0000-4000-8000-000000000001");
  EXPECT_EQ(a->environment, "orbit");
  EXPECT_EQ(a->lead_ref, "LG-1");
  EXPECT_EQ(a->rm_id, rm);
  EXPECT_EQ(a->slot_start, kSlot);
  EXPECT_EQ(a->slot_minutes, 45);
  EXPECT_EQ(a->status, "booked");
  EXPECT_EQ(a->request_id, "req-6f1c2b3a-0000-4000-8000-000000000001");
  EXPECT_EQ(a->created_at, 1'234);
  EXPECT_EQ(a->cancelled_at, 0);
  EXPECT_EQ(a->cancel_reason, "");
  EXPECT_FALSE(store_->find_appointment("6f1c2b3a-0000-4000-8000-00000000000").has_value());

  const auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].operation, "appointment_booked");
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
  const auto of_lead = store_->appointments_for_lead("orbit", "LG-1");
  ASSERT_EQ(of_lead.size(), 1u);
  EXPECT_EQ(of_lead[0].id, a->id);
  EXPECT_TRUE(store_->appointments_for_lead("homfinity", "LG-1").empty());
  const auto booked = store_->booked_appointments("orbit", kSlot, kSlot + 1);
  ASSERT_EQ(booked.size(), 1u);
  EXPECT_EQ(booked[0].id, a->id);
}

TEST_P(StoreConformanceTest, BookingATakenSlotIsRefusedAndWritesNothing) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  const auto rm2 = store_->insert_rm(make_rm("orbit", "Bela Das", "bela das"));
  ASSERT_EQ(store_->book_appointment(make_booking("orbit", "a-1", "LG-1", rm, kSlot)),
            BookOutcome::booked);
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-2", "LG-2", rm, kSlot)),
            BookOutcome::slot_taken);
  EXPECT_FALSE(store_->find_appointment("a-2").has_value());
  EXPECT_TRUE(store_->appointments_for_lead("orbit", "LG-2").empty());
  EXPECT_TRUE(store_->audit_for("orbit", "LG-2").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-2").empty());
  EXPECT_EQ(count_rows("appointments"), 1);
  EXPECT_EQ(count_rows("audit_log"), 1);
  EXPECT_EQ(count_rows("outbox"), 1);

  // The RM's next slot, or another RM at the same time, is free.
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-3", "LG-2", rm, kSlot + kHalfHour)),
            BookOutcome::booked);
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-4", "LG-3", rm2, kSlot)),
            BookOutcome::booked);
  EXPECT_EQ(count_rows("appointments"), 3);
  EXPECT_EQ(store_->audit_for("orbit", "LG-2").size(), 1u);
}

TEST_P(StoreConformanceTest, ASecondBookingOfALeadIsRefusedAndWritesNothing) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  const auto rm2 = store_->insert_rm(make_rm("orbit", "Bela Das", "bela das"));
  const auto rm_h = store_->insert_rm(make_rm("homfinity", "Amit Rao", "amit rao"));
  ASSERT_EQ(store_->book_appointment(make_booking("orbit", "a-1", "LG-1", rm, kSlot)),
            BookOutcome::booked);
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-2", "LG-1", rm2, kSlot + kHalfHour)),
            BookOutcome::lead_has_appointment);
  EXPECT_FALSE(store_->find_appointment("a-2").has_value());
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 1u);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
  EXPECT_EQ(store_->appointments_for_lead("orbit", "LG-1").size(), 1u);
  // The same reference in another environment is another lead.
  EXPECT_EQ(store_->book_appointment(make_booking("homfinity", "a-3", "LG-1", rm_h, kSlot)),
            BookOutcome::booked);
  // A duplicate appointment id is neither refusal: a plain conflict, nothing written.
  EXPECT_THROW(store_->book_appointment(make_booking("orbit", "a-1", "LG-9", rm2, kSlot)),
               StoreConflict);
  EXPECT_TRUE(store_->audit_for("orbit", "LG-9").empty());
  EXPECT_EQ(count_rows("appointments"), 2);
}

TEST_P(StoreConformanceTest, CancelFreesTheSlotAndTheLeadOnce) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  ASSERT_EQ(store_->book_appointment(make_booking("orbit", "a-1", "LG-1", rm, kSlot, 1'000)),
            BookOutcome::booked);
  EXPECT_TRUE(store_->cancel_appointment(
      "a-1", 2'000, "customer asked",
      {make_audit("orbit", "LG-1", "appointment", "appointment_cancelled")},
      {make_outbox("orbit", "LG-1", 2'000)}));
  const auto a = store_->find_appointment("a-1");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, "cancelled");
  EXPECT_EQ(a->cancelled_at, 2'000);
  EXPECT_EQ(a->cancel_reason, "customer asked");
  EXPECT_EQ(a->slot_start, kSlot);
  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].operation, "appointment_cancelled");
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 2u);
  EXPECT_TRUE(store_->booked_appointments("orbit", 0, kSlot * 2).empty());

  // Twice: false, nothing written.
  EXPECT_FALSE(store_->cancel_appointment(
      "a-1", 3'000, "again", {make_audit("orbit", "LG-1", "appointment", "appointment_cancelled")},
      {make_outbox("orbit", "LG-1", 3'000)}));
  EXPECT_EQ(store_->find_appointment("a-1")->cancelled_at, 2'000);
  EXPECT_EQ(store_->find_appointment("a-1")->cancel_reason, "customer asked");
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 2u);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 2u);
  EXPECT_FALSE(store_->cancel_appointment(
      "a-404", 3'000, "unknown", {make_audit("orbit", "LG-404", "appointment", "cancelled")},
      {make_outbox("orbit", "LG-404", 3'000)}));
  EXPECT_TRUE(store_->audit_for("orbit", "LG-404").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-404").empty());

  // The slot can be booked again (by another lead), and the lead can book again.
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-2", "LG-2", rm, kSlot, 4'000)),
            BookOutcome::booked);
  EXPECT_EQ(
      store_->book_appointment(make_booking("orbit", "a-3", "LG-1", rm, kSlot + kHalfHour, 5'000)),
      BookOutcome::booked);
  const auto of_lead = store_->appointments_for_lead("orbit", "LG-1");
  ASSERT_EQ(of_lead.size(), 2u);
  EXPECT_EQ(of_lead[0].id, "a-1");
  EXPECT_EQ(of_lead[0].status, "cancelled");
  EXPECT_EQ(of_lead[1].id, "a-3");
  EXPECT_EQ(of_lead[1].status, "booked");
  EXPECT_EQ(store_->booked_appointments("orbit", 0, kSlot * 2).size(), 2u);
}

TEST_P(StoreConformanceTest, AppointmentsForLeadByCreationTime) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  for (const auto& [id, created] : std::vector<std::pair<std::string, std::int64_t>>{
           {"a-1", 3'000}, {"a-2", 1'000}, {"a-3", 2'000}}) {
    ASSERT_EQ(store_->book_appointment(make_booking("orbit", id, "LG-1", rm, kSlot, created)),
              BookOutcome::booked);
    ASSERT_TRUE(store_->cancel_appointment(id, created + 1, "moved", {}, {}));
  }
  std::string order;
  for (const auto& a : store_->appointments_for_lead("orbit", "LG-1")) order += a.id + ",";
  EXPECT_EQ(order, "a-2,a-3,a-1,");
}

TEST_P(StoreConformanceTest, BookedAppointmentsInAHalfOpenRangeBySlotThenRm) {
  const auto rm_b = store_->insert_rm(make_rm("orbit", "Bela Das", "bela das"));
  const auto rm_a = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  const auto rm_h = store_->insert_rm(make_rm("homfinity", "Carl", "carl"));
  ASSERT_LT(rm_b, rm_a);
  const std::int64_t from = kSlot;
  const std::int64_t to = kSlot + 4 * kHalfHour;
  struct Booking {
    const char* id;
    const char* lead;
    std::int64_t rm;
    std::int64_t slot;
  };
  const std::vector<Booking> bookings{
      {"before", "L1", rm_a, from - 1},  // just before the range
      {"first-a", "L2", rm_a, from},     // on the lower bound
      {"later-b", "L3", rm_b, from + kHalfHour},
      {"first-b", "L4", rm_b, from},               // same slot as first-a, smaller rm id
      {"last", "L5", rm_a, to - 1},                // just inside
      {"at-to", "L6", rm_b, to},                   // on the upper bound: excluded
      {"gone", "L7", rm_a, from + 2 * kHalfHour},  // cancelled below
  };
  for (const Booking& b : bookings) {
    ASSERT_EQ(store_->book_appointment(make_booking("orbit", b.id, b.lead, b.rm, b.slot)),
              BookOutcome::booked)
        << b.id;
  }
  ASSERT_EQ(store_->book_appointment(make_booking("homfinity", "other-env", "L8", rm_h, from)),
            BookOutcome::booked);
  ASSERT_TRUE(store_->cancel_appointment("gone", 9, "r", {}, {}));

  std::string order;
  for (const auto& a : store_->booked_appointments("orbit", from, to)) order += a.id + ",";
  EXPECT_EQ(order, "first-b,first-a,later-b,last,");
  const auto hom = store_->booked_appointments("homfinity", from, to);
  ASSERT_EQ(hom.size(), 1u);
  EXPECT_EQ(hom[0].id, "other-env");
  EXPECT_TRUE(store_->booked_appointments("orbit", from, from).empty());
  EXPECT_EQ(store_->booked_appointments("orbit", to, to + 1).size(), 1u);
}

// Threads booking one RM's slot for different leads: exactly one gets it. Half of them share
// store_ (its pool, or its mutex), the others are further instances on the same database.
TEST_P(StoreConformanceTest, ConcurrentBookingsOfOneSlotBookOnce) {
  constexpr int kThreads = 8;
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  std::vector<std::unique_ptr<Store>> instances;
  for (int i = 0; i < kThreads; ++i) instances.push_back(i % 2 == 0 ? nullptr : open_same());

  std::atomic<int> booked{0};
  std::atomic<int> taken{0};
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store* store = instances[static_cast<std::size_t>(t)]
                       ? instances[static_cast<std::size_t>(t)].get()
                       : store_.get();
    threads.emplace_back([&, t, store] {
      const std::string lead = "LG-" + std::to_string(t);
      start.arrive_and_wait();
      try {
        switch (store->book_appointment(
            make_booking("orbit", "a-" + std::to_string(t), lead, rm, kSlot))) {
          case BookOutcome::booked:
            ++booked;
            break;
          case BookOutcome::slot_taken:
            ++taken;
            break;
          case BookOutcome::lead_has_appointment:
            ADD_FAILURE() << lead << ": lead_has_appointment";
            break;
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(booked.load(), 1);
  EXPECT_EQ(taken.load(), kThreads - 1);
  EXPECT_EQ(count_rows("appointments"), 1);
  EXPECT_EQ(count_rows("audit_log"), 1);
  EXPECT_EQ(count_rows("outbox"), 1);
  const auto rows = store_->booked_appointments("orbit", kSlot, kSlot + 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(store_->audit_for("orbit", rows[0].lead_ref).size(), 1u);
}

// ---- Webhook inbox (schema 5) ----

InboxEvent make_inbox(const std::string& provider, const std::string& event_id,
                      std::int64_t received_at, const std::string& env = "orbit") {
  InboxEvent e;
  e.provider = provider;
  e.event_id = event_id;
  e.environment = env;
  e.kind = "message";
  e.payload_enc = "v1:inbox-" + event_id;
  e.received_at = received_at;
  return e;
}

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
  constexpr int kThreads = 8;
  std::vector<std::unique_ptr<Store>> instances;
  for (int i = 0; i < kThreads; ++i) instances.push_back(i % 2 == 0 ? nullptr : open_same());
  std::atomic<int> inserted{0};
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store* store = instances[static_cast<std::size_t>(t)]
                       ? instances[static_cast<std::size_t>(t)].get()
                       : store_.get();
    threads.emplace_back([&, t, store] {
      InboxEvent e = make_inbox("gupshup", "dup", 1'000 + t);
      start.arrive_and_wait();
      try {
        inserted += store->insert_inbox({e});
      } catch (const std::exception& ex) {
        ++failures;
        ADD_FAILURE() << ex.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
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

  const auto ok = store_->find_inbox("gupshup", "ok");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->state, "done");
  EXPECT_EQ(ok->attempts, 1);
  EXPECT_EQ(ok->processed_at, 150);
  EXPECT_EQ(ok->last_error, "");
  const auto bad = store_->find_inbox("gupshup", "bad");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->state, "failed");
  EXPECT_EQ(bad->attempts, 1);
  EXPECT_EQ(bad->processed_at, 160);
  EXPECT_EQ(bad->last_error, "unknown payload shape");
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
  row = store_->find_inbox("meta", "e-1");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, "done");
  EXPECT_EQ(row->attempts, 3);
  EXPECT_EQ(row->processed_at, 3'050);
  EXPECT_EQ(row->last_error, "");
  EXPECT_TRUE(store_->claim_inbox(1'000'000, 10, "w", 2'000'000).empty());
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
  for (std::int64_t now : {std::int64_t{100}, std::int64_t{1'001}, std::int64_t{1'000'000'000}}) {
    EXPECT_TRUE(store_->claim_outbox(now, 10, "w2", now + 1'000).empty()) << now;
  }
  EXPECT_EQ(ids_of(store_->list_outbox("suppressed", 10)), (std::vector<std::int64_t>{id}));
  EXPECT_EQ(store_->requeue_outbox(id, 2'000), 0);
  EXPECT_EQ(store_->requeue_outbox(0, 2'000), 1) << "only the dead row";
  EXPECT_EQ(row_of("LG-1").status, "suppressed");
  EXPECT_EQ(row_of("LG-2").status, "pending");
  EXPECT_EQ(ids_of(store_->claim_outbox(2'000, 10, "w3", 3'000)),
            (std::vector<std::int64_t>{dead}));
}

// ---- Conversations (schema 6) ----

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

  const auto inbox = store_->find_inbox("gupshup", "wamid-1");
  ASSERT_TRUE(inbox.has_value());
  EXPECT_EQ(inbox->state, "done");
  EXPECT_EQ(inbox->attempts, 1);
  EXPECT_EQ(inbox->processed_at, 1'200);
  EXPECT_EQ(inbox->last_error, "");
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
  OutboxAttempt ok = make_attempt(id, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);

  auto expect_state = [&](const std::string& status, std::int64_t at, const std::string& error,
                          const std::string& step) {
    const auto row = row_of("LG-1");
    EXPECT_EQ(row.delivery_status, status) << step;
    EXPECT_EQ(row.delivery_status_at, at) << step;
    EXPECT_EQ(row.delivery_error, error) << step;
    EXPECT_EQ(row.status, "sent") << step << ": the outbox status is not a delivery status";
  };
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", "read", 30)), id);
  expect_state("read", 30, "", "read at 30");
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", "delivered", 20)), id);
  expect_state("read", 30, "", "delivered at 20 arrives late");
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", "sent", 10)), id);
  expect_state("read", 30, "", "sent at 10 arrives late");
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", "delivered", 30)), id);
  expect_state("read", 30, "", "equal time, lower rank");
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", "mystery", 99)), id);
  expect_state("read", 30, "", "unknown status never applied");
  EXPECT_EQ(store_->record_delivery(make_receipt("gs-1", "failed", 40)), id);
  expect_state("failed", 40, "1002", "failed later than read");
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
  OutboxAttempt ok = make_attempt(id, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);

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
  OutboxAttempt ok2 = make_attempt(other, 1, "accepted");
  ok2.provider_message_id = "gs-2";
  store_->finish_outbox_attempt(ok2, "sent", 0);
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
  OutboxAttempt ok = make_attempt(id, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);

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
  OutboxAttempt ok = make_attempt(id, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);
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
    OutboxAttempt ok = make_attempt(oid, 1, "accepted");
    ok.provider_message_id = pid;
    store_->finish_outbox_attempt(ok, "sent", 0);
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
    OutboxAttempt ok = make_attempt(oid, 1, "accepted");
    ok.provider_message_id = pid;
    store_->finish_outbox_attempt(ok, "sent", 0);
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
  OutboxAttempt ok = make_attempt(sent, 1, "accepted");
  ok.provider_message_id = "gs-1";
  store_->finish_outbox_attempt(ok, "sent", 0);
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

}  // namespace
}  // namespace leadgate
