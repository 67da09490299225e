#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/postgres/postgres_db.h"
#include "store/postgres/postgres_store.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

std::int64_t PostgresStore::insert_rm(const RmRow& rm) {
  auto lease = borrow();
  Params p;
  sql::bind_rm(p, rm);
  return exec(*lease, sql::kInsertRm + " RETURNING id", p).i64(0, 0);
}

std::vector<RmRow> PostgresStore::list_rms(const std::string& environment) {
  return query_all(
      "SELECT " + sql::kRmColumns + " FROM rms WHERE environment = $1 AND active ORDER BY name_key",
      sql::read_rm<Result::Row>, environment);
}

std::optional<RmRow> PostgresStore::find_rm(std::int64_t id) {
  return query_first(sql::kSelectRm, sql::read_rm<Result::Row>, id);
}

// The partial unique indexes refuse the row; the violation names the refusing index. A concurrent
// booking of the same slot or lead waits for the first one's transaction and then fails (or
// succeeds when that one rolled back).
BookOutcome PostgresStore::book_appointment(const AppointmentWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  try {
    Params p;
    sql::bind_appointment(p, w.appointment);
    exec(c, sql::kInsertAppointment, p);
  } catch (const UniqueViolation& e) {
    if (e.constraint == "appointments_booked_rm_slot") return BookOutcome::slot_taken;
    if (e.constraint == "appointments_booked_lead") return BookOutcome::lead_has_appointment;
    throw;  // e.g. a duplicate id: rolled back
  }
  write_children(c, w.audit, w.outbox);
  tx.commit();
  return BookOutcome::booked;
}

std::optional<AppointmentRow> PostgresStore::find_appointment(const std::string& id) {
  return query_first(sql::kSelectAppointment, sql::read_appointment<Result::Row>, id);
}

std::vector<AppointmentRow> PostgresStore::booked_appointments(const std::string& environment,
                                                               std::int64_t from, std::int64_t to) {
  return query_all(sql::kSelectBookedAppointments, sql::read_appointment<Result::Row>, environment,
                   from, to);
}

std::vector<AppointmentRow> PostgresStore::appointments_for_lead(const std::string& environment,
                                                                 const std::string& lead_ref) {
  return query_all(sql::kSelectAppointmentsForLead, sql::read_appointment<Result::Row>, environment,
                   lead_ref);
}

bool PostgresStore::cancel_appointment(const std::string& id, std::int64_t now,
                                       const std::string& reason,
                                       const std::vector<AuditEntry>& audit,
                                       const std::vector<OutboxMessage>& outbox) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  if (exec(c, sql::kCancelAppointment, Params().bind(now).bind(reason).bind(id)).affected() != 1) {
    return false;  // rolled back: no audit, no outbox
  }
  write_children(c, audit, outbox);
  tx.commit();
  return true;
}

}  // namespace leadgate
