#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace leadgate {
using sqlite::Stmt;
using sqlite::Transaction;

std::int64_t SqliteStore::insert_rm(const RmRow& rm) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kInsertRm);
  sql::bind_rm(s, rm);
  s.run();
  return sqlite3_last_insert_rowid(db_);
}

std::vector<RmRow> SqliteStore::list_rms(const std::string& environment) {
  return query_all("SELECT " + sql::kRmColumns +
                       " FROM rms WHERE environment = ? AND active = 1 ORDER BY name_key",
                   sql::read_rm<Stmt>, environment);
}

std::optional<RmRow> SqliteStore::find_rm(std::int64_t id) {
  return query_first(sql::kSelectRm, sql::read_rm<Stmt>, id);
}

// The partial unique indexes refuse the row; SQLite's message names the refusing index's columns
// ("UNIQUE constraint failed: appointments.rm_id, appointments.slot_start").
BookOutcome SqliteStore::book_appointment(const AppointmentWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  try {
    Stmt s(db_, sql::kInsertAppointment);
    sql::bind_appointment(s, w.appointment);
    s.run();
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
  return query_first(sql::kSelectAppointment, sql::read_appointment<Stmt>, id);
}

std::vector<AppointmentRow> SqliteStore::booked_appointments(const std::string& environment,
                                                             std::int64_t from, std::int64_t to) {
  return query_all(sql::kSelectBookedAppointments, sql::read_appointment<Stmt>, environment, from,
                   to);
}

std::vector<AppointmentRow> SqliteStore::appointments_for_lead(const std::string& environment,
                                                               const std::string& lead_ref) {
  return query_all(sql::kSelectAppointmentsForLead, sql::read_appointment<Stmt>, environment,
                   lead_ref);
}

bool SqliteStore::cancel_appointment(const std::string& id, std::int64_t now,
                                     const std::string& reason,
                                     const std::vector<AuditEntry>& audit,
                                     const std::vector<OutboxMessage>& outbox) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt s(db_, sql::kCancelAppointment);
  s.bind(now).bind(reason).bind(id).run();
  if (sqlite3_changes(db_) != 1) return false;  // rolled back: no audit, no outbox
  write_children(audit, outbox);
  tx.commit();
  return true;
}

}  // namespace leadgate
