#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace leadgate {
using sqlite::Stmt;
using sqlite::Transaction;

std::optional<LeadRow> SqliteStore::find_lead_for_customer(const std::string& environment,
                                                           const std::string& mobile_bidx,
                                                           const std::string& loan_type) {
  return query_first(sql::kSelectLeadForCustomer, sql::read_lead<Stmt>, environment, mobile_bidx,
                     loan_type);
}

std::optional<LeadRow> SqliteStore::find_lead_by_reference(const std::string& environment,
                                                           const std::string& reference_id) {
  return query_first(sql::kSelectLeadByReference, sql::read_lead<Stmt>, environment, reference_id);
}

std::optional<LeadRow> SqliteStore::find_lead_by_application_id(const std::string& environment,
                                                                const std::string& application_id) {
  return query_first(sql::kSelectLeadByApplicationId, sql::read_lead<Stmt>, environment,
                     application_id);
}

std::int64_t SqliteStore::insert_lead(const LeadWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_, w.durable);
  Stmt s(db_, sql::kInsertLead);
  sql::bind_lead(s, w.lead);
  sql::bind_lead_partner(s, w.lead);
  s.run();
  const std::int64_t id = sqlite3_last_insert_rowid(db_);
  write_children(w.audit, w.outbox);
  if (w.consent) sqlite::insert_consent_event(db_, *w.consent, true);
  tx.commit();
  return id;
}

bool SqliteStore::update_lead(const LeadWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_, w.durable);
  Stmt s(db_, sql::update_lead(w.expected_status.has_value(), w.expected_request_id.has_value()));
  sql::bind_lead(s, w.lead);
  s.bind(w.lead.id);
  if (w.expected_status) s.bind(*w.expected_status);
  if (w.expected_request_id) s.bind(*w.expected_request_id);
  s.run();
  if (sqlite3_changes(db_) != 1) return false;
  write_children(w.audit, w.outbox);
  if (w.consent) sqlite::insert_consent_event(db_, *w.consent, true);
  tx.commit();
  return true;
}

std::vector<AuditEntry> SqliteStore::audit_for(const std::string& environment,
                                               const std::string& entity_ref) {
  return query_all(sql::kSelectAudit, sql::read_audit<Stmt>, environment, entity_ref);
}

std::int64_t SqliteStore::count_leads(const std::string& environment) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kCountLeads);
  s.bind(environment);
  s.step();
  return s.i64(0);
}

std::vector<LeadRow> SqliteStore::find_leads_by_mobile(const std::string& environment,
                                                       const std::string& mobile_bidx) {
  return query_all(sql::kSelectLeadsByMobile, sql::read_lead<Stmt>, environment, mobile_bidx);
}

std::optional<LeadRow> SqliteStore::find_lead_by_basic_id(const std::string& environment,
                                                          const std::string& basic_application_id) {
  return query_first(sql::kSelectLeadByBasicId, sql::read_lead<Stmt>, environment,
                     basic_application_id);
}

std::vector<LeadWithAppointment> SqliteStore::find_leads_with_appointment(
    const std::string& environment, const LeadLookup& by) {
  static const std::string by_mobile = sql::select_leads_with_appointment(false);
  static const std::string by_basic_id = sql::select_leads_with_appointment(true);
  const bool basic = !by.basic_application_id.empty();
  return query_all(basic ? by_basic_id : by_mobile, sql::read_lead_with_appointment<Stmt>,
                   environment, basic ? by.basic_application_id : by.mobile_bidx);
}

std::vector<LeadRow> SqliteStore::find_stale_pending_leads(std::int64_t updated_before, int limit) {
  return query_all(sql::kSelectStalePendingLeads, sql::read_lead<Stmt>, updated_before,
                   static_cast<std::int64_t>(limit));
}

// The compare-and-set is the UPDATE's WHERE clause; the refresh time is raised either way.
void SqliteStore::record_status_refresh(std::int64_t lead_id, std::int64_t refreshed_at) {
  run(sql::kRaiseStatusRefreshedAt, refreshed_at, lead_id);
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
    Stmt s(db_, sql::kRaiseStatusRefreshedAt);
    s.bind(w.refreshed_at).bind(w.lead_id).run();
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

bool SqliteStore::append_status_notification(std::int64_t lead_id, std::int64_t now,
                                             std::int64_t interval_ms,
                                             const std::vector<OutboxMessage>& outbox) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  {
    Stmt s(db_, sql::kClaimStatusNotification);
    s.bind(now).bind(lead_id).bind(now - interval_ms).run();
  }
  if (sqlite3_changes(db_) != 1) return false;  // notified within the interval: rolled back
  write_children({}, outbox);
  tx.commit();
  return true;
}

}  // namespace leadgate
