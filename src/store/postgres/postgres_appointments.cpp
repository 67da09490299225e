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
using pg::UniqueViolation;
using pg::write_children;

// ---- relationship managers, appointments ----

namespace {

constexpr const char* kRmColumns =
    "id, environment, name, name_key, phone_enc, location, active, created_at";

RmRow read_rm(const Result& r, int row) {
  RmRow m;
  m.id = r.i64(row, 0);
  m.environment = r.text(row, 1);
  m.name = r.text(row, 2);
  m.name_key = r.text(row, 3);
  m.phone_enc = r.text(row, 4);
  m.location = r.text(row, 5);
  m.active = r.boolean(row, 6);
  m.created_at = r.i64(row, 7);
  return m;
}

constexpr const char* kAppointmentColumns =
    "id, environment, lead_ref, rm_id, slot_start, slot_minutes, status, request_id, created_at, "
    "cancelled_at, cancel_reason";

AppointmentRow read_appointment(const Result& r, int row) {
  AppointmentRow a;
  a.id = r.text(row, 0);
  a.environment = r.text(row, 1);
  a.lead_ref = r.text(row, 2);
  a.rm_id = r.i64(row, 3);
  a.slot_start = r.i64(row, 4);
  a.slot_minutes = static_cast<int>(r.i64(row, 5));
  a.status = r.text(row, 6);
  a.request_id = r.text(row, 7);
  a.created_at = r.i64(row, 8);
  a.cancelled_at = r.i64(row, 9);
  a.cancel_reason = r.text(row, 10);
  return a;
}

std::vector<AppointmentRow> read_appointments(const Result& r) {
  std::vector<AppointmentRow> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_appointment(r, i));
  return out;
}

}  // namespace

std::int64_t PostgresStore::insert_rm(const RmRow& rm) {
  auto lease = borrow();
  return exec(*lease,
              "INSERT INTO rms (environment, name, name_key, phone_enc, location, active, "
              "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
              Params()
                  .add(rm.environment)
                  .add(rm.name)
                  .add(rm.name_key)
                  .add(rm.phone_enc)
                  .add(rm.location)
                  .add(rm.active)
                  .add(rm.created_at))
      .i64(0, 0);
}

std::vector<RmRow> PostgresStore::list_rms(const std::string& environment) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kRmColumns +
                            " FROM rms WHERE environment = $1 AND active ORDER BY name_key",
                        Params().add(environment));
  std::vector<RmRow> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_rm(r, i));
  return out;
}

std::optional<RmRow> PostgresStore::find_rm(std::int64_t id) {
  auto lease = borrow();
  const Result r = exec(*lease, std::string("SELECT ") + kRmColumns + " FROM rms WHERE id = $1",
                        Params().add(id));
  if (r.rows() == 0) return std::nullopt;
  return read_rm(r, 0);
}

// The partial unique indexes refuse the row; the violation names the refusing index. A concurrent
// booking of the same slot or lead waits for the first one's transaction and then fails (or
// succeeds when that one rolled back). A new appointment is always booked, whatever status the
// caller put in it.
BookOutcome PostgresStore::book_appointment(const AppointmentWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const AppointmentRow& a = w.appointment;
  try {
    exec(c,
         "INSERT INTO appointments (id, environment, lead_ref, rm_id, slot_start, slot_minutes, "
         "status, request_id, created_at, cancelled_at, cancel_reason) VALUES ($1, $2, $3, $4, "
         "$5, $6, 'booked', $7, $8, 0, '')",
         Params()
             .add(a.id)
             .add(a.environment)
             .add(a.lead_ref)
             .add(a.rm_id)
             .add(a.slot_start)
             .add(a.slot_minutes)
             .add(a.request_id)
             .add(a.created_at));
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
  auto lease = borrow();
  const Result r = exec(
      *lease, std::string("SELECT ") + kAppointmentColumns + " FROM appointments WHERE id = $1",
      Params().add(id));
  if (r.rows() == 0) return std::nullopt;
  return read_appointment(r, 0);
}

std::vector<AppointmentRow> PostgresStore::booked_appointments(const std::string& environment,
                                                               std::int64_t from, std::int64_t to) {
  auto lease = borrow();
  return read_appointments(exec(*lease,
                                std::string("SELECT ") + kAppointmentColumns +
                                    " FROM appointments WHERE environment = $1 AND slot_start >= "
                                    "$2 AND slot_start < $3 AND status = 'booked' ORDER BY "
                                    "slot_start, rm_id",
                                Params().add(environment).add(from).add(to)));
}

std::vector<AppointmentRow> PostgresStore::appointments_for_lead(const std::string& environment,
                                                                 const std::string& lead_ref) {
  auto lease = borrow();
  return read_appointments(exec(*lease,
                                std::string("SELECT ") + kAppointmentColumns +
                                    " FROM appointments WHERE environment = $1 AND lead_ref = $2 "
                                    "ORDER BY created_at, id",
                                Params().add(environment).add(lead_ref)));
}

bool PostgresStore::cancel_appointment(const std::string& id, std::int64_t now,
                                       const std::string& reason,
                                       const std::vector<AuditEntry>& audit,
                                       const std::vector<OutboxMessage>& outbox) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  if (exec(c,
           "UPDATE appointments SET status = 'cancelled', cancelled_at = $1, cancel_reason = $2 "
           "WHERE id = $3 AND status = 'booked'",
           Params().add(now).add(reason).add(id))
          .affected() != 1) {
    return false;  // rolled back: no audit, no outbox
  }
  write_children(c, audit, outbox);
  tx.commit();
  return true;
}

}  // namespace leadgate
