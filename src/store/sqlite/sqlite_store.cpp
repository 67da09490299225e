#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>

namespace leadgate {
namespace {

// A prepared statement with positional binding; finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(const std::string& v) {
    sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(const char* v) { return bind(std::string(v)); }
  Stmt& bind(std::int64_t v) {
    sqlite3_bind_int64(stmt_, ++index_, v);
    return *this;
  }
  Stmt& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  Stmt& bind(bool v) { return bind(static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind(const std::optional<std::string>& v) {
    if (v) return bind(*v);
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }
  Stmt& bind(const std::optional<std::int64_t>& v) {
    if (v) return bind(*v);
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }

  // True when a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_CONSTRAINT || sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE) {
      throw StoreConflict(sqlite3_errmsg(db_));
    }
    fail("step");
  }
  void run() { step(); }

  std::string text(int col) const {
    auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::optional<std::string> opt_text(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return text(col);
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<std::int64_t> opt_i64(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return i64(col);
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    const int code = sqlite3_errcode(db_);
    std::string msg = std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
        code == SQLITE_CANTOPEN || code == SQLITE_FULL) {
      throw StoreUnavailable(msg);
    }
    throw std::runtime_error(msg);
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int index_ = 0;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    exec("COMMIT");
    done_ = true;
  }

 private:
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      throw StoreUnavailable(std::string("sqlite ") + sql + ": " + msg);
    }
  }
  sqlite3* db_;
  bool done_ = false;
};

constexpr const char* kLeadColumns =
    "id, environment, reference_id, basic_application_id, application_id, status, "
    "first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, mobile_bidx, "
    "pan_bidx, loan_type, loan_amount_req, loan_tenure, credit_score, pincode, state, gender, "
    "application_assigned_to_rm, remarks, customer_id, qr_short_code, annual_income, "
    "include_credit_score, is_lead_prefilled, los_error, request_id, user_agent, created_at, "
    "updated_at, flash_details_enc, completion_reference, flashed_at, warnings_json, "
    "partner_status, partner_stage, partner_updated_at, status_refreshed_at";

LeadRow read_lead(const Stmt& s) {
  LeadRow r;
  int c = 0;
  r.id = s.i64(c++);
  r.environment = s.text(c++);
  r.reference_id = s.text(c++);
  r.basic_application_id = s.text(c++);
  r.application_id = s.text(c++);
  r.status = s.text(c++);
  r.first_name_enc = s.text(c++);
  r.last_name_enc = s.text(c++);
  r.mobile_enc = s.text(c++);
  r.email_enc = s.text(c++);
  r.pan_enc = s.text(c++);
  r.dob_enc = s.text(c++);
  r.mobile_bidx = s.text(c++);
  r.pan_bidx = s.text(c++);
  r.loan_type = s.text(c++);
  r.loan_amount_req = s.i64(c++);
  r.loan_tenure = static_cast<int>(s.i64(c++));
  r.credit_score = static_cast<int>(s.i64(c++));
  r.pincode = s.text(c++);
  r.state = s.opt_text(c++);
  r.gender = s.opt_text(c++);
  r.application_assigned_to_rm = s.opt_text(c++);
  r.remarks = s.opt_text(c++);
  r.customer_id = s.opt_text(c++);
  r.qr_short_code = s.opt_text(c++);
  r.annual_income = s.opt_i64(c++);
  r.include_credit_score = s.i64(c++) != 0;
  r.is_lead_prefilled = s.i64(c++) != 0;
  r.los_error = s.text(c++);
  r.request_id = s.text(c++);
  r.user_agent = s.text(c++);
  r.created_at = s.i64(c++);
  r.updated_at = s.i64(c++);
  r.flash_details_enc = s.text(c++);
  r.completion_reference = s.text(c++);
  r.flashed_at = s.i64(c++);
  r.warnings_json = s.text(c++);
  r.partner_status = s.text(c++);
  r.partner_stage = s.text(c++);
  r.partner_updated_at = s.i64(c++);
  r.status_refreshed_at = s.i64(c++);
  return r;
}

// Binds the columns update_lead writes: every column after id up to warnings_json, in
// kLeadColumns order (bind_partner binds the rest).
void bind_lead(Stmt& s, const LeadRow& r) {
  auto opt = [](const std::string& v) {
    return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
  };
  s.bind(r.environment)
      .bind(r.reference_id)
      .bind(opt(r.basic_application_id))
      .bind(opt(r.application_id))
      .bind(r.status)
      .bind(r.first_name_enc)
      .bind(r.last_name_enc)
      .bind(r.mobile_enc)
      .bind(r.email_enc)
      .bind(r.pan_enc)
      .bind(r.dob_enc)
      .bind(r.mobile_bidx)
      .bind(r.pan_bidx)
      .bind(r.loan_type)
      .bind(r.loan_amount_req)
      .bind(r.loan_tenure)
      .bind(r.credit_score)
      .bind(r.pincode)
      .bind(r.state)
      .bind(r.gender)
      .bind(r.application_assigned_to_rm)
      .bind(r.remarks)
      .bind(r.customer_id)
      .bind(r.qr_short_code)
      .bind(r.annual_income)
      .bind(r.include_credit_score)
      .bind(r.is_lead_prefilled)
      .bind(r.los_error)
      .bind(r.request_id)
      .bind(r.user_agent)
      .bind(r.created_at)
      .bind(r.updated_at)
      .bind(r.flash_details_enc)
      .bind(r.completion_reference)
      .bind(r.flashed_at)
      .bind(r.warnings_json);
}

// The partner columns, last in kLeadColumns: written by insert_lead (as given) and
// record_partner_status only, never by update_lead.
void bind_partner(Stmt& s, const LeadRow& r) {
  s.bind(r.partner_status)
      .bind(r.partner_stage)
      .bind(r.partner_updated_at)
      .bind(r.status_refreshed_at);
}

OutboxMessage read_outbox(const Stmt& s) {
  OutboxMessage m;
  m.id = s.i64(0);
  m.environment = s.text(1);
  m.lead_ref = s.text(2);
  m.kind = s.text(3);
  m.payload_enc = s.text(4);
  m.status = s.text(5);
  m.attempts = static_cast<int>(s.i64(6));
  m.next_attempt_at = s.i64(7);
  m.provider_message_id = s.text(8);
  m.last_error = s.text(9);
  m.created_at = s.i64(10);
  m.delivery_status = s.text(11);
  m.delivery_status_at = s.i64(12);
  m.delivery_error = s.text(13);
  return m;
}
constexpr const char* kOutboxColumns =
    "id, environment, lead_ref, kind, payload_enc, status, attempts, next_attempt_at, "
    "provider_message_id, last_error, created_at, delivery_status, delivery_status_at, "
    "delivery_error";

// Inserts one new outbox message (pending, no attempts, no delivery state yet) and returns its id.
std::int64_t insert_outbox(sqlite3* db, const OutboxMessage& m) {
  Stmt s(db,
         "INSERT INTO outbox (environment, lead_ref, kind, payload_enc, status, attempts, "
         "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)");
  s.bind(m.environment).bind(m.lead_ref).bind(m.kind).bind(m.payload_enc);
  s.bind(m.next_attempt_at).bind(m.created_at).bind(m.created_at).run();
  return sqlite3_last_insert_rowid(db);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreUnavailable("cannot open sqlite database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  // WAL + synchronous=FULL: an acknowledged write survives a crash of the process or machine.
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
}

SqliteStore::~SqliteStore() {
  sqlite3_close(db_);
}

void SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(std::string("sqlite: ") + msg);
  }
}

void SqliteStore::migrate() {
  std::lock_guard lock(mutex_);
  exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_at INTEGER NOT NULL)");
  const auto& all = sqlite_migrations();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto version = static_cast<std::int64_t>(i + 1);
    Transaction tx(db_);
    Stmt check(db_, "SELECT 1 FROM schema_migrations WHERE version = ?");
    check.bind(version);
    if (check.step()) continue;
    exec(all[i].c_str());
    Stmt mark(db_, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    mark.bind(version).bind(now_ms()).run();
    tx.commit();
  }
}

int SqliteStore::schema_version() {
  std::lock_guard lock(mutex_);
  {
    // Checked first: SQLite resolves table names when preparing, so one guarded query fails.
    Stmt exists(db_,
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists.step()) return 0;
  }
  Stmt s(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return s.step() ? static_cast<int>(s.i64(0)) : 0;
}

int SqliteStore::expected_schema_version() const {
  return static_cast<int>(sqlite_migrations().size());
}

void SqliteStore::ping() {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "SELECT 1");
  s.step();
}

void SqliteStore::insert_api_key(const ApiKeyRow& row) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "INSERT INTO api_keys (id, name, key_hash, environments, created_at, revoked) "
         "VALUES (?, ?, ?, ?, ?, ?)");
  s.bind(row.id).bind(row.name).bind(row.key_hash).bind(join(row.environments));
  s.bind(row.created_at).bind(row.revoked).run();
}

std::optional<ApiKeyRow> SqliteStore::find_api_key(const std::string& key_hash) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "SELECT id, name, key_hash, environments, created_at, revoked FROM api_keys "
         "WHERE key_hash = ?");
  s.bind(key_hash);
  if (!s.step()) return std::nullopt;
  ApiKeyRow r;
  r.id = s.text(0);
  r.name = s.text(1);
  r.key_hash = s.text(2);
  r.environments = split(s.text(3));
  r.created_at = s.i64(4);
  r.revoked = s.i64(5) != 0;
  return r;
}

std::int64_t SqliteStore::count_api_keys() {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "SELECT COUNT(*) FROM api_keys");
  s.step();
  return s.i64(0);
}

std::optional<LeadRow> SqliteStore::find_lead_for_customer(const std::string& environment,
                                                           const std::string& mobile_bidx,
                                                           const std::string& loan_type) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kLeadColumns +
                          " FROM leads WHERE environment = ? AND mobile_bidx = ? AND loan_type = ?";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(mobile_bidx).bind(loan_type);
  if (!s.step()) return std::nullopt;
  return read_lead(s);
}

std::optional<LeadRow> SqliteStore::find_lead_by_reference(const std::string& environment,
                                                           const std::string& reference_id) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kLeadColumns +
                          " FROM leads WHERE environment = ? AND reference_id = ?";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(reference_id);
  if (!s.step()) return std::nullopt;
  return read_lead(s);
}

void SqliteStore::write_children(const std::vector<AuditEntry>& audit,
                                 const std::vector<OutboxMessage>& outbox) {
  for (const auto& a : audit) {
    Stmt s(db_,
           "INSERT INTO audit_log (environment, entity, entity_ref, operation, field, old_value, "
           "new_value, request_id, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(a.environment).bind(a.entity).bind(a.entity_ref).bind(a.operation).bind(a.field);
    s.bind(a.old_value).bind(a.new_value).bind(a.request_id).bind(a.duration_ms);
    s.bind(a.created_at).run();
  }
  for (const auto& m : outbox) insert_outbox(db_, m);
}

std::optional<LeadRow> SqliteStore::find_lead_by_application_id(const std::string& environment,
                                                                const std::string& application_id) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kLeadColumns +
                          " FROM leads WHERE environment = ? AND application_id = ?";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(application_id);
  if (!s.step()) return std::nullopt;
  return read_lead(s);
}

std::int64_t SqliteStore::insert_lead(const LeadWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  const std::string sql =
      std::string("INSERT INTO leads (") + (kLeadColumns + 4) +
      ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  Stmt s(db_, sql.c_str());
  bind_lead(s, w.lead);
  bind_partner(s, w.lead);
  s.run();
  const std::int64_t id = sqlite3_last_insert_rowid(db_);
  write_children(w.audit, w.outbox);
  tx.commit();
  return id;
}

bool SqliteStore::update_lead(const LeadWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  std::string sql =
      "UPDATE leads SET environment = ?, reference_id = ?, basic_application_id = ?, "
      "application_id = ?, status = ?, first_name_enc = ?, last_name_enc = ?, mobile_enc = ?, "
      "email_enc = ?, pan_enc = ?, dob_enc = ?, mobile_bidx = ?, pan_bidx = ?, loan_type = ?, "
      "loan_amount_req = ?, loan_tenure = ?, credit_score = ?, pincode = ?, state = ?, "
      "gender = ?, application_assigned_to_rm = ?, remarks = ?, customer_id = ?, "
      "qr_short_code = ?, annual_income = ?, include_credit_score = ?, is_lead_prefilled = ?, "
      "los_error = ?, request_id = ?, user_agent = ?, created_at = ?, updated_at = ?, "
      "flash_details_enc = ?, completion_reference = ?, flashed_at = ?, warnings_json = ? "
      "WHERE id = ?";
  if (w.expected_status) sql += " AND status = ?";
  if (w.expected_request_id) sql += " AND request_id = ?";
  Stmt s(db_, sql.c_str());
  bind_lead(s, w.lead);
  s.bind(w.lead.id);
  if (w.expected_status) s.bind(*w.expected_status);
  if (w.expected_request_id) s.bind(*w.expected_request_id);
  s.run();
  if (sqlite3_changes(db_) != 1) return false;
  write_children(w.audit, w.outbox);
  tx.commit();
  return true;
}

std::vector<AuditEntry> SqliteStore::audit_for(const std::string& environment,
                                               const std::string& entity_ref) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "SELECT environment, entity, entity_ref, operation, field, old_value, new_value, "
         "request_id, duration_ms, created_at FROM audit_log WHERE environment = ? AND "
         "entity_ref = ? ORDER BY id");
  s.bind(environment).bind(entity_ref);
  std::vector<AuditEntry> out;
  while (s.step()) {
    AuditEntry a;
    a.environment = s.text(0);
    a.entity = s.text(1);
    a.entity_ref = s.text(2);
    a.operation = s.text(3);
    a.field = s.text(4);
    a.old_value = s.text(5);
    a.new_value = s.text(6);
    a.request_id = s.text(7);
    a.duration_ms = s.i64(8);
    a.created_at = s.i64(9);
    out.push_back(std::move(a));
  }
  return out;
}

std::int64_t SqliteStore::count_leads(const std::string& environment) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "SELECT COUNT(*) FROM leads WHERE environment = ?");
  s.bind(environment);
  s.step();
  return s.i64(0);
}

std::vector<LeadRow> SqliteStore::find_leads_by_mobile(const std::string& environment,
                                                       const std::string& mobile_bidx) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kLeadColumns +
                          " FROM leads WHERE environment = ? AND mobile_bidx = ? ORDER BY "
                          "created_at DESC, id DESC";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(mobile_bidx);
  std::vector<LeadRow> out;
  while (s.step()) out.push_back(read_lead(s));
  return out;
}

std::optional<LeadRow> SqliteStore::find_lead_by_basic_id(const std::string& environment,
                                                          const std::string& basic_application_id) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kLeadColumns +
                          " FROM leads WHERE environment = ? AND basic_application_id = ?";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(basic_application_id);
  if (!s.step()) return std::nullopt;
  return read_lead(s);
}

// The compare-and-set is the UPDATE's WHERE clause; the refresh time is raised either way.
void SqliteStore::record_status_refresh(std::int64_t lead_id, std::int64_t refreshed_at) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "UPDATE leads SET status_refreshed_at = ? WHERE id = ? AND status_refreshed_at < ?");
  s.bind(refreshed_at).bind(lead_id).bind(refreshed_at).run();
}

bool SqliteStore::record_partner_status(const PartnerStatusWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  {
    Stmt s(db_,
           "UPDATE leads SET partner_status = ?, partner_stage = ?, partner_updated_at = ?, "
           "status_refreshed_at = MAX(status_refreshed_at, ?) WHERE id = ? AND "
           "partner_status = ? AND partner_updated_at <= ? AND (partner_status <> ? OR "
           "partner_stage <> ?)");
    s.bind(w.status).bind(w.stage).bind(w.partner_updated_at).bind(w.refreshed_at).bind(w.lead_id);
    s.bind(w.expected_status).bind(w.partner_updated_at).bind(w.status).bind(w.stage).run();
  }
  const bool applied = sqlite3_changes(db_) == 1;
  if (applied) {
    write_children(w.audit, w.outbox);
  } else {
    Stmt s(db_,
           "UPDATE leads SET status_refreshed_at = ? WHERE id = ? AND status_refreshed_at < ?");
    s.bind(w.refreshed_at).bind(w.lead_id).bind(w.refreshed_at).run();
  }
  tx.commit();
  return applied;
}

void SqliteStore::append_events(const std::vector<AuditEntry>& audit,
                                const std::vector<OutboxMessage>& outbox) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  write_children(audit, outbox);
  tx.commit();
}

// ---- relationship managers, appointments ----

namespace {

constexpr const char* kRmColumns =
    "id, environment, name, name_key, phone_enc, location, active, created_at";

RmRow read_rm(const Stmt& s) {
  RmRow r;
  r.id = s.i64(0);
  r.environment = s.text(1);
  r.name = s.text(2);
  r.name_key = s.text(3);
  r.phone_enc = s.text(4);
  r.location = s.text(5);
  r.active = s.i64(6) != 0;
  r.created_at = s.i64(7);
  return r;
}

constexpr const char* kAppointmentColumns =
    "id, environment, lead_ref, rm_id, slot_start, slot_minutes, status, request_id, created_at, "
    "cancelled_at, cancel_reason";

AppointmentRow read_appointment(const Stmt& s) {
  AppointmentRow a;
  a.id = s.text(0);
  a.environment = s.text(1);
  a.lead_ref = s.text(2);
  a.rm_id = s.i64(3);
  a.slot_start = s.i64(4);
  a.slot_minutes = static_cast<int>(s.i64(5));
  a.status = s.text(6);
  a.request_id = s.text(7);
  a.created_at = s.i64(8);
  a.cancelled_at = s.i64(9);
  a.cancel_reason = s.text(10);
  return a;
}

}  // namespace

std::int64_t SqliteStore::insert_rm(const RmRow& rm) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "INSERT INTO rms (environment, name, name_key, phone_enc, location, active, created_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.bind(rm.environment).bind(rm.name).bind(rm.name_key).bind(rm.phone_enc).bind(rm.location);
  s.bind(rm.active).bind(rm.created_at).run();
  return sqlite3_last_insert_rowid(db_);
}

std::vector<RmRow> SqliteStore::list_rms(const std::string& environment) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kRmColumns +
                          " FROM rms WHERE environment = ? AND active = 1 ORDER BY name_key";
  Stmt s(db_, sql.c_str());
  s.bind(environment);
  std::vector<RmRow> out;
  while (s.step()) out.push_back(read_rm(s));
  return out;
}

std::optional<RmRow> SqliteStore::find_rm(std::int64_t id) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kRmColumns + " FROM rms WHERE id = ?";
  Stmt s(db_, sql.c_str());
  s.bind(id);
  if (!s.step()) return std::nullopt;
  return read_rm(s);
}

// The partial unique indexes refuse the row; SQLite's message names the refusing index's columns
// ("UNIQUE constraint failed: appointments.rm_id, appointments.slot_start"). A new appointment is
// always booked, whatever status the caller put in it.
BookOutcome SqliteStore::book_appointment(const AppointmentWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  const AppointmentRow& a = w.appointment;
  try {
    Stmt s(db_,
           "INSERT INTO appointments (id, environment, lead_ref, rm_id, slot_start, slot_minutes, "
           "status, request_id, created_at, cancelled_at, cancel_reason) VALUES (?, ?, ?, ?, ?, "
           "?, 'booked', ?, ?, 0, '')");
    s.bind(a.id).bind(a.environment).bind(a.lead_ref).bind(a.rm_id).bind(a.slot_start);
    s.bind(a.slot_minutes).bind(a.request_id).bind(a.created_at).run();
  } catch (const StoreConflict& e) {
    const std::string message = e.what();
    if (message.find("appointments.rm_id") != std::string::npos) return BookOutcome::slot_taken;
    if (message.find("appointments.lead_ref") != std::string::npos) {
      return BookOutcome::lead_has_appointment;
    }
    throw;  // e.g. a duplicate id: rolled back
  }
  write_children(w.audit, w.outbox);
  tx.commit();
  return BookOutcome::booked;
}

std::optional<AppointmentRow> SqliteStore::find_appointment(const std::string& id) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kAppointmentColumns + " FROM appointments WHERE id = ?";
  Stmt s(db_, sql.c_str());
  s.bind(id);
  if (!s.step()) return std::nullopt;
  return read_appointment(s);
}

std::vector<AppointmentRow> SqliteStore::booked_appointments(const std::string& environment,
                                                             std::int64_t from, std::int64_t to) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kAppointmentColumns +
                          " FROM appointments WHERE environment = ? AND slot_start >= ? AND "
                          "slot_start < ? AND status = 'booked' ORDER BY slot_start, rm_id";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(from).bind(to);
  std::vector<AppointmentRow> out;
  while (s.step()) out.push_back(read_appointment(s));
  return out;
}

std::vector<AppointmentRow> SqliteStore::appointments_for_lead(const std::string& environment,
                                                               const std::string& lead_ref) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kAppointmentColumns +
                          " FROM appointments WHERE environment = ? AND lead_ref = ? ORDER BY "
                          "created_at, id";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(lead_ref);
  std::vector<AppointmentRow> out;
  while (s.step()) out.push_back(read_appointment(s));
  return out;
}

bool SqliteStore::cancel_appointment(const std::string& id, std::int64_t now,
                                     const std::string& reason,
                                     const std::vector<AuditEntry>& audit,
                                     const std::vector<OutboxMessage>& outbox) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt s(db_,
         "UPDATE appointments SET status = 'cancelled', cancelled_at = ?, cancel_reason = ? "
         "WHERE id = ? AND status = 'booked'");
  s.bind(now).bind(reason).bind(id).run();
  if (sqlite3_changes(db_) != 1) return false;  // rolled back: no audit, no outbox
  write_children(audit, outbox);
  tx.commit();
  return true;
}

std::vector<OutboxMessage> SqliteStore::claim_outbox(std::int64_t now, int limit,
                                                     const std::string& owner,
                                                     std::int64_t lease_until) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  const std::string sql =
      std::string(
          "UPDATE outbox SET lease_owner = ?, lease_until = ?, updated_at = ? WHERE id IN "
          "(SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND "
          "(lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at LIMIT ?) "
          "RETURNING ") +
      kOutboxColumns;
  Stmt s(db_, sql.c_str());
  s.bind(owner).bind(lease_until).bind(now).bind(now).bind(now).bind(limit);
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(read_outbox(s));
  tx.commit();
  return out;
}

void SqliteStore::finish_outbox_attempt(const OutboxAttempt& a, const std::string& new_status,
                                        std::int64_t next_attempt_at) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  {
    Stmt s(db_,
           "INSERT INTO outbox_attempts (outbox_id, attempt, started_at, duration_ms, outcome, "
           "http_status, error, provider_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(a.outbox_id).bind(a.attempt).bind(a.started_at).bind(a.duration_ms).bind(a.outcome);
    s.bind(a.http_status).bind(a.error).bind(a.provider_message_id).run();
  }
  {
    Stmt s(db_,
           "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, lease_owner = NULL, "
           "lease_until = NULL, provider_message_id = CASE WHEN ? <> '' THEN ? ELSE "
           "provider_message_id END, last_error = ?, updated_at = ? WHERE id = ?");
    s.bind(new_status).bind(a.attempt).bind(next_attempt_at).bind(a.provider_message_id);
    s.bind(a.provider_message_id).bind(a.error).bind(now_ms()).bind(a.outbox_id).run();
  }
  tx.commit();
}

void SqliteStore::release_inbox_leases(const std::string& owner) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "UPDATE whatsapp_inbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?");
  s.bind(owner).run();
}

void SqliteStore::release_outbox_leases(const std::string& owner) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?");
  s.bind(owner).run();
}

std::vector<OutboxMessage> SqliteStore::outbox_for(const std::string& environment,
                                                   const std::string& lead_ref) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kOutboxColumns +
                          " FROM outbox WHERE environment = ? AND lead_ref = ? ORDER BY id";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(lead_ref);
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

std::vector<OutboxAttempt> SqliteStore::outbox_attempts_for(const std::string& environment,
                                                            const std::string& lead_ref) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "SELECT a.outbox_id, a.attempt, a.started_at, a.duration_ms, a.outcome, a.http_status, "
         "a.error, a.provider_message_id FROM outbox_attempts a JOIN outbox o ON o.id = "
         "a.outbox_id WHERE o.environment = ? AND o.lead_ref = ? ORDER BY a.started_at, "
         "a.attempt, a.id");
  s.bind(environment).bind(lead_ref);
  std::vector<OutboxAttempt> out;
  while (s.step()) {
    OutboxAttempt a;
    a.outbox_id = s.i64(0);
    a.attempt = static_cast<int>(s.i64(1));
    a.started_at = s.i64(2);
    a.duration_ms = s.i64(3);
    a.outcome = s.text(4);
    a.http_status = static_cast<int>(s.i64(5));
    a.error = s.text(6);
    a.provider_message_id = s.text(7);
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<OutboxMessage> SqliteStore::list_outbox(const std::string& status, int limit) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE status = ? ORDER BY id LIMIT ?";
  Stmt s(db_, sql.c_str());
  s.bind(status).bind(limit);
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

std::int64_t SqliteStore::requeue_outbox(std::int64_t id, std::int64_t now) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
         "lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE status = 'dead' AND "
         "(? = 0 OR id = ?)");
  s.bind(now).bind(now).bind(id).bind(id).run();
  return sqlite3_changes(db_);
}

// ---- webhook inbox ----

namespace {

constexpr const char* kInboxColumns =
    "id, provider, event_id, environment, kind, payload_enc, received_at, state, attempts, "
    "next_attempt_at, processed_at, last_error";

// Sets an inbox event's state after an attempt (see Store::finish_inbox); inside the caller's
// transaction when there is one.
void update_inbox_state(sqlite3* db, std::int64_t id, const std::string& state, std::int64_t now,
                        std::int64_t next_attempt_at, const std::string& error) {
  Stmt s(db,
         "UPDATE whatsapp_inbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, "
         "processed_at = CASE WHEN ? IN ('done', 'failed') THEN ? ELSE processed_at END, "
         "last_error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?");
  s.bind(state).bind(next_attempt_at).bind(state).bind(now).bind(error).bind(id).run();
}

InboxEvent read_inbox(const Stmt& s) {
  InboxEvent e;
  e.id = s.i64(0);
  e.provider = s.text(1);
  e.event_id = s.text(2);
  e.environment = s.text(3);
  e.kind = s.text(4);
  e.payload_enc = s.text(5);
  e.received_at = s.i64(6);
  e.state = s.text(7);
  e.attempts = static_cast<int>(s.i64(8));
  e.next_attempt_at = s.i64(9);
  e.processed_at = s.i64(10);
  e.last_error = s.text(11);
  return e;
}

}  // namespace

// ON CONFLICT DO NOTHING skips a stored (provider, event_id), also one stored by another
// instance meanwhile (BEGIN IMMEDIATE serialises writers on the file); sqlite3_changes counts
// only rows really inserted.
int SqliteStore::insert_inbox(const std::vector<InboxEvent>& events, std::vector<char>* fresh) {
  if (fresh) fresh->assign(events.size(), 0);
  if (events.empty()) return 0;
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  int inserted = 0;
  for (const auto& e : events) {
    Stmt s(db_,
           "INSERT INTO whatsapp_inbox (provider, event_id, environment, kind, payload_enc, "
           "received_at, state, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', "
           "0, ?) ON CONFLICT (provider, event_id) DO NOTHING");
    s.bind(e.provider).bind(e.event_id).bind(e.environment).bind(e.kind).bind(e.payload_enc);
    s.bind(e.received_at).bind(e.received_at).run();
    const int changed = sqlite3_changes(db_);
    if (fresh) (*fresh)[static_cast<std::size_t>(&e - events.data())] = changed > 0 ? 1 : 0;
    inserted += changed;
  }
  tx.commit();
  return inserted;
}

std::vector<InboxEvent> SqliteStore::claim_inbox(std::int64_t now, int limit,
                                                 const std::string& owner,
                                                 std::int64_t lease_until) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  const std::string sql =
      std::string(
          "UPDATE whatsapp_inbox SET lease_owner = ?, lease_until = ? WHERE id IN "
          "(SELECT id FROM whatsapp_inbox WHERE state = 'pending' AND next_attempt_at <= ? AND "
          "(lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?) "
          "RETURNING ") +
      kInboxColumns;
  Stmt s(db_, sql.c_str());
  s.bind(owner).bind(lease_until).bind(now).bind(now).bind(limit);
  std::vector<InboxEvent> out;
  while (s.step()) out.push_back(read_inbox(s));
  tx.commit();
  // RETURNING yields rows in no defined order.
  std::sort(out.begin(), out.end(), [](const InboxEvent& a, const InboxEvent& b) {
    return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at
                                                  : a.id < b.id;
  });
  return out;
}

void SqliteStore::finish_inbox(std::int64_t id, const std::string& state, std::int64_t now,
                               std::int64_t next_attempt_at, const std::string& error) {
  std::lock_guard lock(mutex_);
  update_inbox_state(db_, id, state, now, next_attempt_at, error);
}

std::optional<InboxEvent> SqliteStore::find_inbox(const std::string& provider,
                                                  const std::string& event_id) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kInboxColumns +
                          " FROM whatsapp_inbox WHERE provider = ? AND event_id = ?";
  Stmt s(db_, sql.c_str());
  s.bind(provider).bind(event_id);
  if (!s.step()) return std::nullopt;
  return read_inbox(s);
}

// ---- conversations, delivery receipts, opt-outs ----

namespace {

constexpr const char* kConversationColumns =
    "id, environment, phone_bidx, direction, provider_message_id, outbox_id, lead_ref, "
    "application_id, msg_type, text_enc, classification, created_at";

ConversationMessage read_conversation(const Stmt& s) {
  ConversationMessage m;
  m.id = s.i64(0);
  m.environment = s.text(1);
  m.phone_bidx = s.text(2);
  m.direction = s.text(3);
  m.provider_message_id = s.text(4);
  m.outbox_id = s.i64(5);
  m.lead_ref = s.text(6);
  m.application_id = s.text(7);
  m.msg_type = s.text(8);
  m.text_enc = s.text(9);
  m.classification = s.text(10);
  m.created_at = s.i64(11);
  return m;
}

void insert_conversation(sqlite3* db, const ConversationMessage& m) {
  const std::string sql = std::string("INSERT INTO whatsapp_conversation (") +
                          (kConversationColumns + 4) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  Stmt s(db, sql.c_str());
  s.bind(m.environment).bind(m.phone_bidx).bind(m.direction).bind(m.provider_message_id);
  s.bind(m.outbox_id).bind(m.lead_ref).bind(m.application_id).bind(m.msg_type).bind(m.text_enc);
  s.bind(m.classification).bind(m.created_at).run();
}

// The latest change wins; on equal times the new value wins. One statement: the row's current
// time is compared under the write lock.
void upsert_opt_out(sqlite3* db, const std::string& environment, const std::string& phone_bidx,
                    bool opted_out, std::int64_t at) {
  Stmt s(db,
         "INSERT INTO whatsapp_opt_outs (environment, phone_bidx, opted_out, updated_at) VALUES "
         "(?, ?, ?, ?) ON CONFLICT (environment, phone_bidx) DO UPDATE SET opted_out = "
         "excluded.opted_out, updated_at = excluded.updated_at WHERE excluded.updated_at >= "
         "whatsapp_opt_outs.updated_at");
  s.bind(environment).bind(phone_bidx).bind(opted_out).bind(at).run();
}

// A delivery status's rank (see Store::record_delivery); unknown statuses rank 0 and are never
// applied. `expr` is an SQL expression.
std::string delivery_rank(const std::string& expr) {
  return "(CASE " + expr +
         " WHEN 'enqueued' THEN 1 WHEN 'sent' THEN 2 WHEN 'failed' THEN 3 WHEN 'delivered' THEN 4 "
         "WHEN 'read' THEN 5 ELSE 0 END)";
}

}  // namespace

void SqliteStore::record_conversation(const ConversationWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  insert_conversation(db_, w.inbound);  // a duplicate inbound id: StoreConflict, rolled back
  if (w.reply_outbox) {
    const std::int64_t outbox_id = insert_outbox(db_, *w.reply_outbox);
    if (w.reply) {
      ConversationMessage reply = *w.reply;
      reply.outbox_id = outbox_id;
      insert_conversation(db_, reply);
    }
  }
  if (w.opted_out) {
    upsert_opt_out(db_, w.inbound.environment, w.inbound.phone_bidx, *w.opted_out, w.now);
  }
  if (w.inbox_id != 0) update_inbox_state(db_, w.inbox_id, "done", w.now, 0, "");
  tx.commit();
}

std::vector<ConversationMessage> SqliteStore::conversation(const std::string& environment,
                                                           const std::string& phone_bidx,
                                                           int limit) {
  if (limit <= 0) return {};
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kConversationColumns + " FROM (SELECT " +
                          kConversationColumns +
                          " FROM whatsapp_conversation WHERE environment = ? AND phone_bidx = ? "
                          "ORDER BY created_at DESC, id DESC LIMIT ?) ORDER BY created_at, id";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(phone_bidx).bind(limit);
  std::vector<ConversationMessage> out;
  while (s.step()) out.push_back(read_conversation(s));
  return out;
}

namespace {

// The receipt is kept whatever happens to the outbox row. The forward-only rule is the UPDATE's
// WHERE clause, evaluated against the row under the database's write lock.
std::int64_t apply_delivery(sqlite3* db, const DeliveryReceipt& r) {
  std::int64_t outbox_id = 0;
  if (!r.provider_message_id.empty()) {  // unsent rows have an empty provider id
    Stmt s(db, "SELECT id FROM outbox WHERE provider_message_id = ? ORDER BY id LIMIT 1");
    s.bind(r.provider_message_id);
    if (s.step()) outbox_id = s.i64(0);
  }
  if (outbox_id == 0 && r.retry_unmatched_at > 0) {
    if (r.inbox_id != 0) {
      update_inbox_state(db, r.inbox_id, "pending", r.processed_at, r.retry_unmatched_at,
                         kReceiptNotMatchedYet);
    }
    return 0;
  }
  {
    Stmt s(db,
           "INSERT INTO delivery_receipts (provider_message_id, status, at, error_code, "
           "error_message, received_at, outbox_id) VALUES (?, ?, ?, ?, ?, ?, ?)");
    s.bind(r.provider_message_id).bind(r.status).bind(r.at).bind(r.error_code);
    s.bind(r.error_message).bind(r.received_at).bind(outbox_id).run();
  }
  if (outbox_id != 0) {
    const std::string sql =
        "UPDATE outbox SET delivery_status = ?, delivery_status_at = ?, delivery_error = ? "
        "WHERE id = ? AND " +
        delivery_rank("?") + " > 0 AND (delivery_status_at < ? OR (delivery_status_at = ? AND " +
        delivery_rank("?") + " > " + delivery_rank("delivery_status") + "))";
    Stmt s(db, sql.c_str());
    s.bind(r.status).bind(r.at).bind(r.error_code).bind(outbox_id).bind(r.status).bind(r.at);
    s.bind(r.at).bind(r.status).run();
  }
  if (r.inbox_id != 0) update_inbox_state(db, r.inbox_id, "done", r.processed_at, 0, "");
  return outbox_id;
}

}  // namespace

std::vector<std::int64_t> SqliteStore::record_deliveries(
    const std::vector<DeliveryReceipt>& receipts) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  std::vector<std::int64_t> out;
  out.reserve(receipts.size());
  for (const auto& r : receipts) out.push_back(apply_delivery(db_, r));
  tx.commit();
  return out;
}

std::vector<DeliveryReceipt> SqliteStore::receipts_for(const std::string& environment,
                                                       const std::string& lead_ref) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "SELECT r.provider_message_id, r.status, r.at, r.error_code, r.error_message, "
         "r.received_at, o.id FROM delivery_receipts r JOIN outbox o ON o.id = r.outbox_id "
         "WHERE o.environment = ? AND o.lead_ref = ? ORDER BY r.at, r.id");
  s.bind(environment).bind(lead_ref);
  std::vector<DeliveryReceipt> out;
  while (s.step()) {
    DeliveryReceipt d;
    d.provider_message_id = s.text(0);
    d.status = s.text(1);
    d.at = s.i64(2);
    d.error_code = s.text(3);
    d.error_message = s.text(4);
    d.received_at = s.i64(5);
    d.outbox_id = s.i64(6);
    out.push_back(std::move(d));
  }
  return out;
}

void SqliteStore::set_opt_out(const std::string& environment, const std::string& phone_bidx,
                              bool opted_out, std::int64_t at) {
  std::lock_guard lock(mutex_);
  upsert_opt_out(db_, environment, phone_bidx, opted_out, at);
}

bool SqliteStore::is_opted_out(const std::string& environment, const std::string& phone_bidx) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "SELECT opted_out FROM whatsapp_opt_outs WHERE environment = ? AND phone_bidx = ?");
  s.bind(environment).bind(phone_bidx);
  return s.step() && s.i64(0) != 0;
}

// ---- monitoring ----

namespace {

// Rows per value of one text column (outbox status, inbox state); inside the store mutex.
std::map<std::string, std::int64_t> counts_by(sqlite3* db, const char* sql) {
  Stmt s(db, sql);
  std::map<std::string, std::int64_t> out;
  while (s.step()) out[s.text(0)] = s.i64(1);
  return out;
}

}  // namespace

void SqliteStore::put_metric_minute(const MetricMinute& m) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "INSERT INTO metric_minutes (minute, resolution, instance, payload, updated_at) VALUES "
         "(?, ?, ?, ?, ?) ON CONFLICT (minute, resolution, instance) DO UPDATE SET payload = "
         "excluded.payload, updated_at = excluded.updated_at");
  s.bind(m.minute)
      .bind(static_cast<std::int64_t>(m.resolution))
      .bind(m.instance)
      .bind(m.payload_json)
      .bind(m.updated_at)
      .run();
}

std::vector<MetricMinute> SqliteStore::metric_minutes(int resolution, std::int64_t from_minute,
                                                      std::int64_t to_minute) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "SELECT minute, instance, payload, updated_at FROM metric_minutes WHERE minute >= ? AND "
         "minute < ? AND resolution = ? ORDER BY minute, instance");
  s.bind(from_minute).bind(to_minute).bind(static_cast<std::int64_t>(resolution));
  std::vector<MetricMinute> out;
  while (s.step()) {
    MetricMinute m;
    m.minute = s.i64(0);
    m.resolution = resolution;
    m.instance = s.text(1);
    m.payload_json = s.text(2);
    m.updated_at = s.i64(3);
    out.push_back(std::move(m));
  }
  return out;
}

std::int64_t SqliteStore::purge_metric_minutes(std::int64_t before_minute) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM metric_minutes WHERE minute < ?");
  s.bind(before_minute).run();
  return sqlite3_changes(db_);
}

std::map<std::string, std::int64_t> SqliteStore::outbox_counts() {
  std::lock_guard lock(mutex_);
  return counts_by(db_, "SELECT status, COUNT(*) FROM outbox GROUP BY status");
}

std::map<std::string, std::int64_t> SqliteStore::inbox_counts() {
  std::lock_guard lock(mutex_);
  return counts_by(db_, "SELECT state, COUNT(*) FROM whatsapp_inbox GROUP BY state");
}

// The database's size as of its latest commit (pages still in the WAL included), free pages
// included; the size of the -wal file itself is not added.
std::int64_t SqliteStore::database_size_bytes() {
  std::lock_guard lock(mutex_);
  Stmt count(db_, "PRAGMA page_count");
  Stmt size(db_, "PRAGMA page_size");
  if (!count.step() || !size.step()) return 0;
  return count.i64(0) * size.i64(0);
}

// ---- OTPs ----

namespace {

constexpr const char* kOtpColumns =
    "environment, phone_bidx, code_hash, created_at, expires_at, attempts, state";

OtpCode read_otp(const Stmt& s) {
  OtpCode o;
  o.environment = s.text(0);
  o.phone_bidx = s.text(1);
  o.code_hash = s.text(2);
  o.created_at = s.i64(3);
  o.expires_at = s.i64(4);
  o.attempts = static_cast<int>(s.i64(5));
  o.state = s.text(6);
  return o;
}

// Inserts the phone's code or replaces every column of the existing one.
void upsert_otp(sqlite3* db, const OtpCode& o) {
  Stmt s(db,
         "INSERT INTO otp_codes (environment, phone_bidx, code_hash, created_at, expires_at, "
         "attempts, state) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (environment, phone_bidx) DO "
         "UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at, "
         "expires_at = excluded.expires_at, attempts = excluded.attempts, state = excluded.state");
  s.bind(o.environment).bind(o.phone_bidx).bind(o.code_hash).bind(o.created_at);
  s.bind(o.expires_at).bind(o.attempts).bind(o.state).run();
}

constexpr const char* kConsentColumns =
    "environment, phone_bidx, phone_enc, token_hash, requested_at, expires_at, granted_at";

ConsentRecord read_consent(const Stmt& s) {
  ConsentRecord c;
  c.environment = s.text(0);
  c.phone_bidx = s.text(1);
  c.phone_enc = s.text(2);
  c.token_hash = s.text(3);
  c.requested_at = s.i64(4);
  c.expires_at = s.i64(5);
  c.granted_at = s.i64(6);
  return c;
}

}  // namespace

void SqliteStore::put_otp(const OtpCode& code) {
  std::lock_guard lock(mutex_);
  upsert_otp(db_, code);
}

std::optional<OtpCode> SqliteStore::find_otp(const std::string& environment,
                                             const std::string& phone_bidx) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kOtpColumns +
                          " FROM otp_codes WHERE environment = ? AND phone_bidx = ?";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(phone_bidx);
  if (!s.step()) return std::nullopt;
  return read_otp(s);
}

// The store mutex serialises this instance's callers; BEGIN IMMEDIATE takes the database's write
// lock before the read, so callers in other store instances or processes on the same file wait
// too, and the row read is the latest committed one. `decide` runs inside the transaction and
// under the mutex: it must not call the store. When it throws, nothing is written.
std::optional<OtpCode> SqliteStore::update_otp(
    const std::string& environment, const std::string& phone_bidx,
    const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)>& decide) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  std::optional<OtpCode> current;
  {
    const std::string sql = std::string("SELECT ") + kOtpColumns +
                            " FROM otp_codes WHERE environment = ? AND phone_bidx = ?";
    Stmt s(db_, sql.c_str());
    s.bind(environment).bind(phone_bidx);
    if (s.step()) current = read_otp(s);
  }
  std::optional<OtpCode> next = decide(current);
  if (!next) return std::nullopt;  // rolled back: nothing to write
  next->environment = environment;
  next->phone_bidx = phone_bidx;
  upsert_otp(db_, *next);
  tx.commit();
  return next;
}

// ---- rate limits ----

// BEGIN IMMEDIATE serialises reservations across every store instance and process on the file
// (the count and the insert cannot interleave with another reservation's).
RateDecision SqliteStore::reserve_rate_event(const std::string& scope, std::int64_t now,
                                             std::int64_t window_ms, int max_events,
                                             std::int64_t cooldown_ms) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  RateDecision d;
  bool refused = false;
  std::int64_t wait = 0;
  if (window_ms > 0 && max_events > 0) {
    Stmt count(db_, "SELECT COUNT(*) FROM rate_events WHERE scope = ? AND at > ?");
    count.bind(scope).bind(now - window_ms);
    count.step();
    const std::int64_t n = count.i64(0);
    if (n >= max_events) {
      // Room again once the (n - max_events + 1)-th oldest event leaves the window (the oldest
      // when n == max_events).
      Stmt nth(db_,
               "SELECT at FROM rate_events WHERE scope = ? AND at > ? ORDER BY at, id LIMIT 1 "
               "OFFSET ?");
      nth.bind(scope).bind(now - window_ms).bind(n - max_events);
      if (nth.step()) {
        refused = true;
        wait = std::max(wait, nth.i64(0) + window_ms - now);
      }
    }
  }
  if (cooldown_ms > 0) {
    Stmt newest(db_, "SELECT MAX(at) FROM rate_events WHERE scope = ? AND at > ?");
    newest.bind(scope).bind(now - cooldown_ms);
    if (newest.step()) {
      if (const auto at = newest.opt_i64(0)) {
        refused = true;
        wait = std::max(wait, *at + cooldown_ms - now);
      }
    }
  }
  if (refused) {
    d.retry_after_ms = std::max<std::int64_t>(1, wait);
    return d;  // rolled back: nothing written
  }
  Stmt ins(db_, "INSERT INTO rate_events (scope, at) VALUES (?, ?)");
  ins.bind(scope).bind(now).run();
  d.allowed = true;
  d.event_id = sqlite3_last_insert_rowid(db_);
  tx.commit();
  return d;
}

void SqliteStore::release_rate_event(std::int64_t event_id) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM rate_events WHERE id = ?");
  s.bind(event_id).run();
}

std::int64_t SqliteStore::purge_rate_events(std::int64_t older_than) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM rate_events WHERE at < ?");
  s.bind(older_than).run();
  return sqlite3_changes(db_);
}

// ---- consents ----

void SqliteStore::insert_consent(const ConsentRecord& c) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "INSERT INTO consents (environment, phone_bidx, phone_enc, token_hash, requested_at, "
         "expires_at, granted_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.bind(c.environment).bind(c.phone_bidx).bind(c.phone_enc).bind(c.token_hash);
  s.bind(c.requested_at).bind(c.expires_at).bind(c.granted_at).run();
}

// One statement: of two concurrent grants of one token only one updates the row.
std::optional<ConsentRecord> SqliteStore::grant_consent(const std::string& token_hash,
                                                        std::int64_t now) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string(
                              "UPDATE consents SET granted_at = ? WHERE token_hash = ? AND "
                              "granted_at = 0 AND expires_at > ? RETURNING ") +
                          kConsentColumns;
  Stmt s(db_, sql.c_str());
  s.bind(now).bind(token_hash).bind(now);
  if (!s.step()) return std::nullopt;
  ConsentRecord c = read_consent(s);
  while (s.step()) {
  }  // finish the statement (token_hash is unique: no second row)
  return c;
}

std::optional<ConsentRecord> SqliteStore::find_consent(const std::string& token_hash) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kConsentColumns + " FROM consents WHERE token_hash = ?";
  Stmt s(db_, sql.c_str());
  s.bind(token_hash);
  if (!s.step()) return std::nullopt;
  return read_consent(s);
}

std::vector<ConsentRecord> SqliteStore::consents_for(const std::string& environment,
                                                     const std::string& phone_bidx) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kConsentColumns +
                          " FROM consents WHERE environment = ? AND phone_bidx = ? ORDER BY "
                          "requested_at, id";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(phone_bidx);
  std::vector<ConsentRecord> out;
  while (s.step()) out.push_back(read_consent(s));
  return out;
}

// ---- idempotency ----

IdempotencyRecord SqliteStore::begin_idempotent(const std::string& scope, const std::string& key,
                                                const std::string& fingerprint, std::int64_t now,
                                                std::int64_t stale_before) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt s(db_,
         "SELECT fingerprint, state, status, body, content_type, updated_at FROM "
         "idempotency_keys WHERE scope = ? AND key = ?");
  s.bind(scope).bind(key);
  IdempotencyRecord rec;
  if (s.step()) {
    if (s.text(0) != fingerprint) {
      rec.state = IdempotencyRecord::State::mismatch;
      return rec;
    }
    if (s.text(1) == "done") {
      rec.state = IdempotencyRecord::State::replay;
      rec.status = static_cast<int>(s.i64(2));
      rec.body = s.text(3);
      rec.content_type = s.text(4);
      return rec;
    }
    if (s.i64(5) >= stale_before) {
      rec.state = IdempotencyRecord::State::in_progress;
      return rec;
    }
    // The first attempt's holder died mid-request: take the key over.
    Stmt take(db_, "UPDATE idempotency_keys SET updated_at = ? WHERE scope = ? AND key = ?");
    take.bind(now).bind(scope).bind(key).run();
  } else {
    Stmt ins(db_,
             "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, "
             "updated_at) VALUES (?, ?, ?, 'running', ?, ?)");
    ins.bind(scope).bind(key).bind(fingerprint).bind(now).bind(now).run();
  }
  tx.commit();
  return rec;
}

void SqliteStore::complete_idempotent(const std::string& scope, const std::string& key, int status,
                                      const std::string& body, const std::string& content_type,
                                      std::int64_t now) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?, content_type = ?, "
         "updated_at = ? WHERE scope = ? AND key = ?");
  s.bind(status).bind(body).bind(content_type).bind(now).bind(scope).bind(key).run();
}

void SqliteStore::abandon_idempotent(const std::string& scope, const std::string& key) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND state = 'running'");
  s.bind(scope).bind(key).run();
}

std::int64_t SqliteStore::purge_idempotent(std::int64_t older_than) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM idempotency_keys WHERE created_at < ?");
  s.bind(older_than).run();
  return sqlite3_changes(db_);
}

}  // namespace leadgate
