#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "crypto/crypto.h"

namespace leadgate {
namespace {

using State = IdempotencyRecord::State;

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

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("leadgate_sqlite_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter.fetch_add(1)) + "_" + random_token(8));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "leadgate.db").string();
    store_ = std::make_unique<SqliteStore>(path_);
    store_->migrate();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Inserts a lead with one outbox message due at `due` and returns the message's id.
  std::int64_t insert_with_outbox(const std::string& ref, const std::string& bidx,
                                  std::int64_t due) {
    LeadWrite w;
    w.lead = make_lead("orbit", ref, bidx);
    w.outbox.push_back(make_outbox("orbit", ref, due));
    store_->insert_lead(w);
    auto rows = store_->outbox_for("orbit", ref);
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? 0 : rows[0].id;
  }

  std::int64_t count_rows(const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::int64_t n = -1;
    if (stmt && sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

// ---- Schema ----

TEST_F(SqliteStoreTest, MigrateIsIdempotentAndReachesExpectedVersion) {
  EXPECT_GE(store_->expected_schema_version(), 1);
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  store_->migrate();
  store_->migrate();
  EXPECT_EQ(store_->schema_version(), store_->expected_schema_version());
  EXPECT_EQ(count_rows("SELECT COUNT(*) FROM schema_migrations"),
            store_->expected_schema_version());
  EXPECT_EQ(store_->expected_schema_version(), static_cast<int>(sqlite_migrations().size()));
}

TEST_F(SqliteStoreTest, FreshDatabaseMigratesToExpectedVersion) {
  SqliteStore fresh((dir_ / "fresh.db").string());
  fresh.migrate();
  EXPECT_EQ(fresh.schema_version(), fresh.expected_schema_version());
}

// A never-migrated database reports version 0 (SQLite resolves table names at prepare time, so
// the store checks for the migrations table first).
TEST_F(SqliteStoreTest, FreshDatabaseHasVersionZero) {
  SqliteStore fresh((dir_ / "fresh.db").string());
  EXPECT_EQ(fresh.schema_version(), 0);
}

TEST_F(SqliteStoreTest, MigratedDataSurvivesReopenAndRemigrate) {
  ApiKeyRow k{"lg_abc", "crm", "hash-1", {"orbit"}, 1, false};
  store_->insert_api_key(k);
  store_.reset();
  store_ = std::make_unique<SqliteStore>(path_);
  store_->migrate();
  EXPECT_EQ(store_->count_api_keys(), 1);
}

TEST_F(SqliteStoreTest, PingAndKind) {
  EXPECT_NO_THROW(store_->ping());
  EXPECT_EQ(store_->kind(), "sqlite");
}

TEST_F(SqliteStoreTest, OpenStoreSqliteUrl) {
  auto s = open_store("sqlite:" + (dir_ / "sub" / "x.db").string(), 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->kind(), "sqlite");
  s->migrate();
  EXPECT_EQ(s->schema_version(), s->expected_schema_version());
}

// ---- API keys ----

TEST_F(SqliteStoreTest, ApiKeyInsertFindCount) {
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
  EXPECT_EQ(two->environments, (std::vector<std::string>{"homfinity"}));
  EXPECT_TRUE(two->revoked);
}

TEST_F(SqliteStoreTest, ApiKeyDuplicateHashConflicts) {
  store_->insert_api_key({"lg_one", "crm", "same-hash", {"orbit"}, 1, false});
  EXPECT_THROW(store_->insert_api_key({"lg_two", "crm", "same-hash", {"orbit"}, 1, false}),
               StoreConflict);
  EXPECT_EQ(store_->count_api_keys(), 1);
}

// ---- Leads ----

TEST_F(SqliteStoreTest, InsertAndFindLeadRoundTripsEveryColumn) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  w.lead.basic_application_id = "B002BJF";
  w.lead.application_id = "0f8e2c1a-1111-4222-8333-444455556666";
  w.lead.state = "Maharashtra";
  w.lead.gender = "Female";
  w.lead.application_assigned_to_rm = "Ravi";
  w.lead.remarks = "call after 6";
  w.lead.customer_id = "CUST-9";
  w.lead.qr_short_code = "QR1";
  w.lead.annual_income = 1'200'000;
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
  EXPECT_EQ(r.remarks, std::optional<std::string>("call after 6"));
  EXPECT_EQ(r.customer_id, std::optional<std::string>("CUST-9"));
  EXPECT_EQ(r.qr_short_code, std::optional<std::string>("QR1"));
  EXPECT_EQ(r.annual_income, std::optional<std::int64_t>(1'200'000));
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
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_EQ(store_->count_leads("homfinity"), 0);
}

TEST_F(SqliteStoreTest, AbsentOptionalsStayAbsent) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  store_->insert_lead(w);
  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->basic_application_id.empty());
  EXPECT_TRUE(r->application_id.empty());
  EXPECT_FALSE(r->state.has_value());
  EXPECT_FALSE(r->gender.has_value());
  EXPECT_FALSE(r->remarks.has_value());
  EXPECT_FALSE(r->annual_income.has_value());
  EXPECT_TRUE(r->include_credit_score);
  EXPECT_FALSE(r->is_lead_prefilled);
}

TEST_F(SqliteStoreTest, LookupsAreIsolatedByEnvironment) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "shared-bidx");
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
}

TEST_F(SqliteStoreTest, SameCustomerDifferentLoanTypeAllowed) {
  LeadWrite a;
  a.lead = make_lead("orbit", "LG-1", "bidx", "HL");
  LeadWrite b;
  b.lead = make_lead("orbit", "LG-2", "bidx", "PL");
  store_->insert_lead(a);
  EXPECT_NO_THROW(store_->insert_lead(b));
  EXPECT_EQ(store_->count_leads("orbit"), 2);
}

TEST_F(SqliteStoreTest, DuplicateCustomerLoanTypeConflictsAndWritesNothing) {
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
  // The store stays usable after the rolled-back transaction.
  LeadWrite next;
  next.lead = make_lead("orbit", "LG-3", "bidx-3");
  EXPECT_NO_THROW(store_->insert_lead(next));
}

TEST_F(SqliteStoreTest, InsertWritesAuditAndOutboxInOrder) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit = {make_audit("orbit", "LG-1", "firstName"), make_audit("orbit", "LG-1", "mobile"),
             make_audit("orbit", "LG-1", "pan")};
  w.outbox.push_back(make_outbox("orbit", "LG-1", 5));
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
  EXPECT_TRUE(store_->audit_for("homfinity", "LG-1").empty());

  auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_GT(outbox[0].id, 0);
  EXPECT_EQ(outbox[0].environment, "orbit");
  EXPECT_EQ(outbox[0].lead_ref, "LG-1");
  EXPECT_EQ(outbox[0].kind, "whatsapp_template");
  EXPECT_EQ(outbox[0].payload_enc, "v1:payload-LG-1");
  EXPECT_EQ(outbox[0].status, "pending");
  EXPECT_EQ(outbox[0].attempts, 0);
  EXPECT_EQ(outbox[0].next_attempt_at, 5);
  EXPECT_TRUE(store_->outbox_for("homfinity", "LG-1").empty());
}

TEST_F(SqliteStoreTest, UpdateLeadAppliesChangesAndChildren) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit.push_back(make_audit("orbit", "LG-1", "mobile"));
  w.lead.id = store_->insert_lead(w);

  LeadWrite u;
  u.lead = w.lead;
  u.lead.status = "created";
  u.lead.basic_application_id = "B00ABCD";
  u.lead.remarks = "updated";
  u.lead.updated_at = 1'700'000'000'999;
  u.expected_status = "pending_los";
  u.audit.push_back(make_audit("orbit", "LG-1", "status", "status_changed"));
  u.outbox.push_back(make_outbox("orbit", "LG-1", 10));
  EXPECT_TRUE(store_->update_lead(u));

  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, "created");
  EXPECT_EQ(r->basic_application_id, "B00ABCD");
  EXPECT_EQ(r->remarks, std::optional<std::string>("updated"));
  EXPECT_EQ(r->updated_at, 1'700'000'000'999);
  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].operation, "created");
  EXPECT_EQ(audit[1].operation, "status_changed");
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
}

TEST_F(SqliteStoreTest, UpdateWithoutExpectedStatusAlwaysApplies) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.id = store_->insert_lead(w);
  LeadWrite u;
  u.lead = w.lead;
  u.lead.status = "los_failed";
  EXPECT_TRUE(store_->update_lead(u));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-1")->status, "los_failed");
}

TEST_F(SqliteStoreTest, UpdateWithStaleExpectedStatusChangesNothing) {
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

TEST_F(SqliteStoreTest, UpdateOfUnknownIdReturnsFalse) {
  LeadWrite u;
  u.lead = make_lead("orbit", "LG-404", "bidx");
  u.lead.id = 999;
  u.audit.push_back(make_audit("orbit", "LG-404", "status"));
  EXPECT_FALSE(store_->update_lead(u));
  EXPECT_TRUE(store_->audit_for("orbit", "LG-404").empty());
}

TEST_F(SqliteStoreTest, UpdateIntoAnotherCustomersSlotConflicts) {
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
  EXPECT_THROW(store_->update_lead(u), StoreConflict);
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-2")->mobile_bidx, "bidx-b");
  EXPECT_TRUE(store_->audit_for("orbit", "LG-2").empty());
}

TEST_F(SqliteStoreTest, AuditForKeepsInsertionOrderAcrossWrites) {
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
  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 5u);
  std::string order;
  for (const auto& a : audit) order += a.field;
  EXPECT_EQ(order, "bazcm");
}

// ---- Outbox ----

TEST_F(SqliteStoreTest, ClaimReturnsDueRowsAndLeasesThem) {
  const auto id = insert_with_outbox("LG-1", "b1", 1'000);
  auto claimed = store_->claim_outbox(1'000, 10, "worker-a", 5'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
  EXPECT_EQ(claimed[0].lead_ref, "LG-1");
  EXPECT_EQ(claimed[0].payload_enc, "v1:payload-LG-1");
  EXPECT_EQ(claimed[0].status, "pending");

  // Leased: nobody gets it before the lease ends (a lease ending exactly now still holds).
  EXPECT_TRUE(store_->claim_outbox(1'001, 10, "worker-b", 6'000).empty());
  EXPECT_TRUE(store_->claim_outbox(4'999, 10, "worker-b", 6'000).empty());
  EXPECT_TRUE(store_->claim_outbox(5'000, 10, "worker-b", 6'000).empty());
  // Lease passed (holder crashed): claimable again.
  auto again = store_->claim_outbox(5'001, 10, "worker-b", 9'000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, id);
}

TEST_F(SqliteStoreTest, FutureRowsNotClaimedUntilDue) {
  const auto id = insert_with_outbox("LG-1", "b1", 10'000);
  EXPECT_TRUE(store_->claim_outbox(9'999, 10, "w", 20'000).empty());
  auto claimed = store_->claim_outbox(10'000, 10, "w", 20'000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
}

TEST_F(SqliteStoreTest, ClaimHonoursLimitAndDueOrder) {
  insert_with_outbox("LG-3", "b3", 300);
  insert_with_outbox("LG-1", "b1", 100);
  insert_with_outbox("LG-2", "b2", 200);
  auto first = store_->claim_outbox(1'000, 2, "w", 5'000);
  ASSERT_EQ(first.size(), 2u);
  std::set<std::string> refs{first[0].lead_ref, first[1].lead_ref};
  EXPECT_EQ(refs, (std::set<std::string>{"LG-1", "LG-2"})) << "earliest due first";
  auto rest = store_->claim_outbox(1'000, 2, "w", 5'000);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].lead_ref, "LG-3");
}

TEST_F(SqliteStoreTest, SentRowNeverClaimedAgain) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  ASSERT_EQ(store_->claim_outbox(100, 10, "w", 1'000).size(), 1u);
  OutboxAttempt a;
  a.outbox_id = id;
  a.attempt = 1;
  a.started_at = 100;
  a.duration_ms = 40;
  a.outcome = "accepted";
  a.http_status = 202;
  a.provider_message_id = "gs-msg-1";
  store_->finish_outbox_attempt(a, "sent", 0);

  auto rows = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "sent");
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].provider_message_id, "gs-msg-1");
  for (std::int64_t now : {std::int64_t{100}, std::int64_t{1'001}, std::int64_t{1'000'000'000}}) {
    EXPECT_TRUE(store_->claim_outbox(now, 10, "w2", now + 1'000).empty()) << now;
  }
  EXPECT_EQ(count_rows("SELECT COUNT(*) FROM outbox_attempts"), 1);
}

TEST_F(SqliteStoreTest, FailedAttemptReschedulesAndReleasesLease) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  ASSERT_EQ(store_->claim_outbox(100, 10, "w", 100'000).size(), 1u);
  OutboxAttempt a;
  a.outbox_id = id;
  a.attempt = 1;
  a.started_at = 100;
  a.outcome = "failed";
  a.http_status = 503;
  a.error = "Gupshup answered HTTP 503";
  store_->finish_outbox_attempt(a, "pending", 2'000);

  auto rows = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "pending");
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].next_attempt_at, 2'000);
  EXPECT_EQ(rows[0].last_error, "Gupshup answered HTTP 503");
  EXPECT_EQ(rows[0].provider_message_id, "");

  // The lease (until 100'000) was released: due at 2'000, claimable then, not before.
  EXPECT_TRUE(store_->claim_outbox(1'999, 10, "w", 50'000).empty());
  EXPECT_EQ(store_->claim_outbox(2'000, 10, "w", 50'000).size(), 1u);
}

TEST_F(SqliteStoreTest, DeadRowNeverClaimedAgain) {
  const auto id = insert_with_outbox("LG-1", "b1", 0);
  ASSERT_EQ(store_->claim_outbox(1, 10, "w", 10).size(), 1u);
  OutboxAttempt a;
  a.outbox_id = id;
  a.attempt = 10;
  a.outcome = "failed";
  a.error = "gave up";
  store_->finish_outbox_attempt(a, "dead", 0);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1")[0].status, "dead");
  EXPECT_TRUE(store_->claim_outbox(1'000'000, 10, "w", 2'000'000).empty());
}

TEST_F(SqliteStoreTest, ReleaseLeasesOfOneOwner) {
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
}

// ---- Idempotency ----

TEST_F(SqliteStoreTest, IdempotencyLifecycle) {
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
}

TEST_F(SqliteStoreTest, IdempotencyMismatchOnDifferentFingerprint) {
  const std::string scope = "s";
  ASSERT_EQ(store_->begin_idempotent(scope, "k", "fp-A", 1'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp-B", 1'100, 0).state, State::mismatch);
  store_->complete_idempotent(scope, "k", 201, "{}", "application/json", 1'200);
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp-B", 1'300, 0).state, State::mismatch);
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp-A", 1'300, 0).state, State::replay);
}

TEST_F(SqliteStoreTest, IdempotencyKeysScoped) {
  ASSERT_EQ(store_->begin_idempotent("key-a:/route", "k", "fp", 1'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("key-b:/route", "k", "fp-other", 1'000, 0).state,
            State::started);
  EXPECT_EQ(store_->begin_idempotent("key-a:/route", "k2", "fp", 1'000, 0).state, State::started);
}

TEST_F(SqliteStoreTest, StaleRunningRecordIsTakenOver) {
  const std::string scope = "s";
  ASSERT_EQ(store_->begin_idempotent(scope, "k", "fp", 1'000, 0).state, State::started);
  // updated_at 1'000 is older than stale_before 1'001: the first holder is presumed dead.
  auto taken = store_->begin_idempotent(scope, "k", "fp", 60'000, 1'001);
  EXPECT_EQ(taken.state, State::started);
  // The takeover refreshed the record: a third caller now sees it in progress.
  EXPECT_EQ(store_->begin_idempotent(scope, "k", "fp", 60'500, 30'000).state, State::in_progress);
  // And the new holder can complete it.
  store_->complete_idempotent(scope, "k", 200, "done", "text/plain", 61'000);
  auto replay = store_->begin_idempotent(scope, "k", "fp", 62'000, 0);
  EXPECT_EQ(replay.state, State::replay);
  EXPECT_EQ(replay.body, "done");
}

TEST_F(SqliteStoreTest, StaleRecordWithOtherFingerprintStillMismatches) {
  ASSERT_EQ(store_->begin_idempotent("s", "k", "fp", 1'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s", "k", "other", 60'000, 59'000).state, State::mismatch);
}

TEST_F(SqliteStoreTest, AbandonFreesARunningKey) {
  ASSERT_EQ(store_->begin_idempotent("s", "k", "fp-A", 1'000, 0).state, State::started);
  store_->abandon_idempotent("s", "k");
  // Free again, even for a different body.
  EXPECT_EQ(store_->begin_idempotent("s", "k", "fp-B", 1'100, 0).state, State::started);
}

TEST_F(SqliteStoreTest, AbandonDoesNotRemoveACompletedRecord) {
  ASSERT_EQ(store_->begin_idempotent("s", "k", "fp", 1'000, 0).state, State::started);
  store_->complete_idempotent("s", "k", 201, "{}", "application/json", 1'100);
  store_->abandon_idempotent("s", "k");
  EXPECT_EQ(store_->begin_idempotent("s", "k", "fp", 1'200, 0).state, State::replay);
  store_->abandon_idempotent("s", "missing");  // no-op
}

TEST_F(SqliteStoreTest, PurgeRemovesOldRecordsOnly) {
  ASSERT_EQ(store_->begin_idempotent("s", "old-done", "fp", 1'000, 0).state, State::started);
  store_->complete_idempotent("s", "old-done", 201, "{}", "application/json", 1'100);
  ASSERT_EQ(store_->begin_idempotent("s", "old-running", "fp", 2'000, 0).state, State::started);
  ASSERT_EQ(store_->begin_idempotent("s", "new", "fp", 10'000, 0).state, State::started);

  EXPECT_EQ(store_->purge_idempotent(5'000), 2);
  EXPECT_EQ(store_->purge_idempotent(5'000), 0);
  // Purged keys start afresh, even with another body; the recent one is untouched.
  EXPECT_EQ(store_->begin_idempotent("s", "old-done", "other", 11'000, 0).state, State::started);
  EXPECT_EQ(store_->begin_idempotent("s", "new", "fp", 11'000, 5'000).state, State::in_progress);
}

}  // namespace
}  // namespace leadgate
