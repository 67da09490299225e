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

}  // namespace

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

}  // namespace leadgate
