#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/postgres_db.h"

namespace leadgate {
using pg::Connection;
using pg::exec;
using pg::Params;
using pg::Result;
using pg::Transaction;
using pg::write_children;

namespace {

constexpr const char* kLeadColumns =
    "id, environment, reference_id, basic_application_id, application_id, status, "
    "first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, mobile_bidx, "
    "pan_bidx, loan_type, loan_amount_req, loan_tenure, credit_score, pincode, state, gender, "
    "application_assigned_to_rm, remarks, customer_id, qr_short_code, annual_income, "
    "include_credit_score, is_lead_prefilled, los_error, request_id, user_agent, created_at, "
    "updated_at, flash_details_enc, completion_reference, flashed_at, warnings_json, "
    "partner_status, partner_stage, partner_updated_at, status_refreshed_at";

LeadRow read_lead(const Result& r, int row) {
  LeadRow l;
  int c = 0;
  l.id = r.i64(row, c++);
  l.environment = r.text(row, c++);
  l.reference_id = r.text(row, c++);
  l.basic_application_id = r.text(row, c++);
  l.application_id = r.text(row, c++);
  l.status = r.text(row, c++);
  l.first_name_enc = r.text(row, c++);
  l.last_name_enc = r.text(row, c++);
  l.mobile_enc = r.text(row, c++);
  l.email_enc = r.text(row, c++);
  l.pan_enc = r.text(row, c++);
  l.dob_enc = r.text(row, c++);
  l.mobile_bidx = r.text(row, c++);
  l.pan_bidx = r.text(row, c++);
  l.loan_type = r.text(row, c++);
  l.loan_amount_req = r.i64(row, c++);
  l.loan_tenure = static_cast<int>(r.i64(row, c++));
  l.credit_score = static_cast<int>(r.i64(row, c++));
  l.pincode = r.text(row, c++);
  l.state = r.opt_text(row, c++);
  l.gender = r.opt_text(row, c++);
  l.application_assigned_to_rm = r.opt_text(row, c++);
  l.remarks = r.opt_text(row, c++);
  l.customer_id = r.opt_text(row, c++);
  l.qr_short_code = r.opt_text(row, c++);
  l.annual_income = r.opt_i64(row, c++);
  l.include_credit_score = r.boolean(row, c++);
  l.is_lead_prefilled = r.boolean(row, c++);
  l.los_error = r.text(row, c++);
  l.request_id = r.text(row, c++);
  l.user_agent = r.text(row, c++);
  l.created_at = r.i64(row, c++);
  l.updated_at = r.i64(row, c++);
  l.flash_details_enc = r.text(row, c++);
  l.completion_reference = r.text(row, c++);
  l.flashed_at = r.i64(row, c++);
  l.warnings_json = r.text(row, c++);
  l.partner_status = r.text(row, c++);
  l.partner_stage = r.text(row, c++);
  l.partner_updated_at = r.i64(row, c++);
  l.status_refreshed_at = r.i64(row, c++);
  return l;
}

// The columns update_lead writes: every column after id up to warnings_json, in kLeadColumns
// order ($1..$36; add_partner adds the rest). Empty LOS ids are stored as NULL, as the SQLite
// store does, so the partial lookups never match an empty string.
void add_lead(Params& p, const LeadRow& r) {
  auto opt = [](const std::string& v) {
    return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
  };
  p.add(r.environment)
      .add(r.reference_id)
      .add(opt(r.basic_application_id))
      .add(opt(r.application_id))
      .add(r.status)
      .add(r.first_name_enc)
      .add(r.last_name_enc)
      .add(r.mobile_enc)
      .add(r.email_enc)
      .add(r.pan_enc)
      .add(r.dob_enc)
      .add(r.mobile_bidx)
      .add(r.pan_bidx)
      .add(r.loan_type)
      .add(r.loan_amount_req)
      .add(r.loan_tenure)
      .add(r.credit_score)
      .add(r.pincode)
      .add(r.state)
      .add(r.gender)
      .add(r.application_assigned_to_rm)
      .add(r.remarks)
      .add(r.customer_id)
      .add(r.qr_short_code)
      .add(r.annual_income)
      .add(r.include_credit_score)
      .add(r.is_lead_prefilled)
      .add(r.los_error)
      .add(r.request_id)
      .add(r.user_agent)
      .add(r.created_at)
      .add(r.updated_at)
      .add(r.flash_details_enc)
      .add(r.completion_reference)
      .add(r.flashed_at)
      .add(r.warnings_json);
}

// The partner columns, last in kLeadColumns: written by insert_lead (as given) and
// record_partner_status only, never by update_lead.
void add_partner(Params& p, const LeadRow& r) {
  p.add(r.partner_status).add(r.partner_stage).add(r.partner_updated_at).add(r.status_refreshed_at);
}

}  // namespace

// ---- leads ----

std::optional<LeadRow> PostgresStore::find_lead_for_customer(const std::string& environment,
                                                             const std::string& mobile_bidx,
                                                             const std::string& loan_type) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND mobile_bidx = $2 AND "
                            "loan_type = $3",
                        Params().add(environment).add(mobile_bidx).add(loan_type));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

std::optional<LeadRow> PostgresStore::find_lead_by_reference(const std::string& environment,
                                                             const std::string& reference_id) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND reference_id = $2",
                        Params().add(environment).add(reference_id));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

std::optional<LeadRow> PostgresStore::find_lead_by_application_id(
    const std::string& environment, const std::string& application_id) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND application_id = $2",
                        Params().add(environment).add(application_id));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

std::int64_t PostgresStore::insert_lead(const LeadWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  Params p;
  add_lead(p, w.lead);
  add_partner(p, w.lead);
  const std::int64_t id =
      exec(c,
           std::string("INSERT INTO leads (") + (kLeadColumns + 4) +
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
               "$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, "
               "$33, $34, $35, $36, $37, $38, $39, $40) RETURNING id",
           p)
          .i64(0, 0);
  write_children(c, w.audit, w.outbox);
  tx.commit();
  return id;
}

bool PostgresStore::update_lead(const LeadWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  std::string sql =
      "UPDATE leads SET environment = $1, reference_id = $2, basic_application_id = $3, "
      "application_id = $4, status = $5, first_name_enc = $6, last_name_enc = $7, "
      "mobile_enc = $8, email_enc = $9, pan_enc = $10, dob_enc = $11, mobile_bidx = $12, "
      "pan_bidx = $13, loan_type = $14, loan_amount_req = $15, loan_tenure = $16, "
      "credit_score = $17, pincode = $18, state = $19, gender = $20, "
      "application_assigned_to_rm = $21, remarks = $22, customer_id = $23, qr_short_code = $24, "
      "annual_income = $25, include_credit_score = $26, is_lead_prefilled = $27, los_error = $28, "
      "request_id = $29, user_agent = $30, created_at = $31, updated_at = $32, "
      "flash_details_enc = $33, completion_reference = $34, flashed_at = $35, "
      "warnings_json = $36 WHERE id = $37";
  Params p;
  add_lead(p, w.lead);
  p.add(w.lead.id);
  int next = 38;
  if (w.expected_status) {
    sql += " AND status = $" + std::to_string(next++);
    p.add(*w.expected_status);
  }
  if (w.expected_request_id) {
    sql += " AND request_id = $" + std::to_string(next++);
    p.add(*w.expected_request_id);
  }
  if (exec(c, sql, p).affected() != 1) return false;  // rolled back: no audit, no outbox
  write_children(c, w.audit, w.outbox);
  tx.commit();
  return true;
}

std::vector<AuditEntry> PostgresStore::audit_for(const std::string& environment,
                                                 const std::string& entity_ref) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT environment, entity, entity_ref, operation, field, old_value, "
                        "new_value, request_id, duration_ms, created_at FROM audit_log WHERE "
                        "environment = $1 AND entity_ref = $2 ORDER BY id",
                        Params().add(environment).add(entity_ref));
  std::vector<AuditEntry> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    AuditEntry a;
    a.environment = r.text(i, 0);
    a.entity = r.text(i, 1);
    a.entity_ref = r.text(i, 2);
    a.operation = r.text(i, 3);
    a.field = r.text(i, 4);
    a.old_value = r.text(i, 5);
    a.new_value = r.text(i, 6);
    a.request_id = r.text(i, 7);
    a.duration_ms = r.i64(i, 8);
    a.created_at = r.i64(i, 9);
    out.push_back(std::move(a));
  }
  return out;
}

std::int64_t PostgresStore::count_leads(const std::string& environment) {
  auto lease = borrow();
  return exec(*lease, "SELECT COUNT(*) FROM leads WHERE environment = $1",
              Params().add(environment))
      .i64(0, 0);
}

std::vector<LeadRow> PostgresStore::find_leads_by_mobile(const std::string& environment,
                                                         const std::string& mobile_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND mobile_bidx = $2 ORDER BY "
                            "created_at DESC, id DESC",
                        Params().add(environment).add(mobile_bidx));
  std::vector<LeadRow> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_lead(r, i));
  return out;
}

std::optional<LeadRow> PostgresStore::find_lead_by_basic_id(
    const std::string& environment, const std::string& basic_application_id) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND basic_application_id = $2",
                        Params().add(environment).add(basic_application_id));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

// The compare-and-set is the UPDATE's WHERE clause: a concurrent writer of the row waits for the
// row lock and re-checks it against the committed row. The refresh time is raised either way.
bool PostgresStore::record_partner_status(const PartnerStatusWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const bool applied =
      exec(c,
           "UPDATE leads SET partner_status = $1, partner_stage = $2, partner_updated_at = $3, "
           "status_refreshed_at = GREATEST(status_refreshed_at, $4::bigint) WHERE id = $5 AND "
           "partner_status = $6 AND partner_updated_at <= $3 AND (partner_status <> $1 OR "
           "partner_stage <> $2)",
           Params()
               .add(w.status)
               .add(w.stage)
               .add(w.partner_updated_at)
               .add(w.refreshed_at)
               .add(w.lead_id)
               .add(w.expected_status))
          .affected() == 1;
  if (applied) {
    write_children(c, w.audit, w.outbox);
  } else {
    // Only the refresh time changes (every status poll of an unchanged application): committed
    // without waiting for the WAL flush. A crash can lose at most the last few hundred ms of
    // such times (the stored status itself is written durably above); an fsync per poll would
    // cap lead_status at the disk's flush rate.
    exec(c, "SET LOCAL synchronous_commit = off");
    exec(c, "UPDATE leads SET status_refreshed_at = $1 WHERE id = $2 AND status_refreshed_at < $1",
         Params().add(w.refreshed_at).add(w.lead_id));
  }
  tx.commit();
  return applied;
}

// One round trip in autocommit: set_config(..., true) lasts for the statement's implicit
// transaction, whose commit then does not wait for the WAL flush (the CTE is joined so that it
// runs). An fsync per status poll would cap lead_status at the disk's flush rate.
void PostgresStore::record_status_refresh(std::int64_t lead_id, std::int64_t refreshed_at) {
  auto lease = borrow();
  exec(*lease,
       "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) UPDATE leads SET "
       "status_refreshed_at = $1 FROM async WHERE id = $2 AND status_refreshed_at < $1",
       Params().add(refreshed_at).add(lead_id));
}

void PostgresStore::append_events(const std::vector<AuditEntry>& audit,
                                  const std::vector<OutboxMessage>& outbox) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  write_children(c, audit, outbox);
  tx.commit();
}

}  // namespace leadgate
