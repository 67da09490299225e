#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"

namespace leadgate {
using sqlite::insert_outbox;
using sqlite::Stmt;
using sqlite::Transaction;

namespace {

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

}  // namespace

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

}  // namespace leadgate
