#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/postgres/postgres_db.h"
#include "store/postgres/postgres_store.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

// ---- leads ----

std::optional<LeadRow> PostgresStore::find_lead_for_customer(const std::string& environment,
                                                             const std::string& mobile_bidx,
                                                             const std::string& loan_type) {
  return query_first(sql::kSelectLeadForCustomer, sql::read_lead<Result::Row>, environment,
                     mobile_bidx, loan_type);
}

std::optional<LeadRow> PostgresStore::find_lead_by_reference(const std::string& environment,
                                                             const std::string& reference_id) {
  return query_first(sql::kSelectLeadByReference, sql::read_lead<Result::Row>, environment,
                     reference_id);
}

std::optional<LeadRow> PostgresStore::find_lead_by_application_id(
    const std::string& environment, const std::string& application_id) {
  return query_first(sql::kSelectLeadByApplicationId, sql::read_lead<Result::Row>, environment,
                     application_id);
}

std::int64_t PostgresStore::insert_lead(const LeadWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c, w.durable);
  Params p;
  sql::bind_lead(p, w.lead);
  sql::bind_lead_partner(p, w.lead);
  const std::int64_t id = exec(c, sql::kInsertLead + " RETURNING id", p).i64(0, 0);
  write_children(c, w.audit, w.outbox);
  if (w.consent) insert_consent_event(c, *w.consent, true);
  tx.commit();
  return id;
}

bool PostgresStore::update_lead(const LeadWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c, w.durable);
  Params p;
  sql::bind_lead(p, w.lead);
  p.bind(w.lead.id);
  if (w.expected_status) p.bind(*w.expected_status);
  if (w.expected_request_id) p.bind(*w.expected_request_id);
  const std::string update =
      sql::update_lead(w.expected_status.has_value(), w.expected_request_id.has_value());
  if (exec(c, update, p).affected() != 1) return false;  // rolled back: no audit, no outbox
  write_children(c, w.audit, w.outbox);
  if (w.consent) insert_consent_event(c, *w.consent, true);
  tx.commit();
  return true;
}

std::vector<AuditEntry> PostgresStore::audit_for(const std::string& environment,
                                                 const std::string& entity_ref) {
  return query_all(sql::kSelectAudit, sql::read_audit<Result::Row>, environment, entity_ref);
}

std::int64_t PostgresStore::count_leads(const std::string& environment) {
  auto lease = borrow();
  return exec(*lease, sql::kCountLeads, Params().bind(environment)).i64(0, 0);
}

std::vector<LeadRow> PostgresStore::find_leads_by_mobile(const std::string& environment,
                                                         const std::string& mobile_bidx) {
  return query_all(sql::kSelectLeadsByMobile, sql::read_lead<Result::Row>, environment,
                   mobile_bidx);
}

std::optional<LeadRow> PostgresStore::find_lead_by_basic_id(
    const std::string& environment, const std::string& basic_application_id) {
  return query_first(sql::kSelectLeadByBasicId, sql::read_lead<Result::Row>, environment,
                     basic_application_id);
}

std::vector<LeadWithAppointment> PostgresStore::find_leads_with_appointment(
    const std::string& environment, const LeadLookup& by) {
  static const std::string by_mobile = sql::select_leads_with_appointment(false);
  static const std::string by_basic_id = sql::select_leads_with_appointment(true);
  const bool basic = !by.basic_application_id.empty();
  return query_all(basic ? by_basic_id : by_mobile, sql::read_lead_with_appointment<Result::Row>,
                   environment, basic ? by.basic_application_id : by.mobile_bidx);
}

std::vector<LeadRow> PostgresStore::find_stale_pending_leads(std::int64_t updated_before,
                                                             int limit) {
  return query_all(sql::kSelectStalePendingLeads, sql::read_lead<Result::Row>, updated_before,
                   static_cast<std::int64_t>(limit));
}

// The compare-and-set is the UPDATE's WHERE clause: a concurrent writer of the row waits for the
// row lock and re-checks it against the committed row. The refresh time is raised either way.
bool PostgresStore::record_partner_status(const PartnerStatusWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const bool applied = exec(c,
                            "UPDATE leads SET partner_status = $1, partner_stage = $2, "
                            "partner_updated_at = $3, "
                            "status_refreshed_at = GREATEST(status_refreshed_at, $4::bigint) "
                            "WHERE id = $5 AND "
                            "partner_status = $6 AND partner_updated_at <= $3 AND "
                            "(partner_status <> $1 OR partner_stage <> $2)",
                            Params()
                                .bind(w.status)
                                .bind(w.stage)
                                .bind(w.partner_updated_at)
                                .bind(w.refreshed_at)
                                .bind(w.lead_id)
                                .bind(w.expected_status))
                           .affected() == 1;
  if (applied) {
    write_children(c, w.audit, w.outbox);
  } else {
    // Only the refresh time changes (every status poll of an unchanged application): committed
    // without waiting for the WAL flush. A crash can lose at most the last few hundred ms of
    // such times (the stored status itself is written durably above); an fsync per poll would
    // cap lead_status at the disk's flush rate.
    exec(c, "SET LOCAL synchronous_commit = off");
    exec(c, sql::kRaiseStatusRefreshedAt, Params().bind(w.refreshed_at).bind(w.lead_id));
  }
  tx.commit();
  return applied;
}

// One round trip in autocommit: set_config(..., true) lasts for the statement's implicit
// transaction, whose commit then does not wait for the WAL flush (the CTE is joined so that it
// runs). An fsync per status poll would cap lead_status at the disk's flush rate.
void PostgresStore::record_status_refresh(std::int64_t lead_id, std::int64_t refreshed_at) {
  run("WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) UPDATE leads SET "
      "status_refreshed_at = $1 FROM async WHERE id = $2 AND status_refreshed_at < $1",
      refreshed_at, lead_id);
}

void PostgresStore::append_events(const std::vector<AuditEntry>& audit,
                                  const std::vector<OutboxMessage>& outbox) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  write_children(c, audit, outbox);
  tx.commit();
}

// A concurrent caller waits for the row lock and re-checks the WHERE clause against the committed
// row: only one of them updates it within an interval.
bool PostgresStore::append_status_notification(std::int64_t lead_id, std::int64_t now,
                                               std::int64_t interval_ms,
                                               const std::vector<OutboxMessage>& outbox) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const auto claimed = exec(c, sql::kClaimStatusNotification,
                            Params().bind(now).bind(lead_id).bind(now - interval_ms));
  if (claimed.affected() != 1) return false;  // notified within the interval: rolled back
  write_children(c, {}, outbox);
  tx.commit();
  return true;
}

}  // namespace leadgate
