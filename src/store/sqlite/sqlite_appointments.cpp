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

}  // namespace leadgate
