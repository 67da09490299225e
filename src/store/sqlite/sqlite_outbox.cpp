#include <cstdint>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace leadgate {
using sqlite::Stmt;
using sqlite::Transaction;

std::vector<OutboxMessage> SqliteStore::claim_outbox(std::int64_t now, int limit,
                                                     const std::string& owner,
                                                     std::int64_t lease_until) {
  std::lock_guard lock(mutex_);
  return sqlite::claim(db_,
                       "UPDATE outbox SET lease_owner = ?, lease_until = ?, updated_at = ? "
                       "WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND "
                       "next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
                       "ORDER BY next_attempt_at LIMIT ?) RETURNING " +
                           sql::kOutboxColumns,
                       sql::read_outbox<Stmt>, owner, lease_until, now, now, now, limit);
}

void SqliteStore::finish_outbox_attempt(const OutboxAttempt& a, const std::string& new_status,
                                        std::int64_t next_attempt_at) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  {
    Stmt s(db_, sql::kInsertOutboxAttempt);
    sql::bind_outbox_attempt(s, a);
    s.run();
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
  run(sql::kReleaseOutboxLeases, owner);
}

std::vector<OutboxMessage> SqliteStore::outbox_for(const std::string& environment,
                                                   const std::string& lead_ref) {
  return query_all(sql::kSelectOutboxForLead, sql::read_outbox<Stmt>, environment, lead_ref);
}

std::vector<OutboxAttempt> SqliteStore::outbox_attempts_for(const std::string& environment,
                                                            const std::string& lead_ref) {
  return query_all(sql::kSelectOutboxAttemptsForLead, sql::read_outbox_attempt<Stmt>, environment,
                   lead_ref);
}

std::vector<OutboxMessage> SqliteStore::list_outbox(const std::string& status, int limit) {
  return query_all(sql::kListOutbox, sql::read_outbox<Stmt>, status, limit);
}

std::int64_t SqliteStore::requeue_outbox(std::int64_t id, std::int64_t now) {
  return run(
      "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
      "lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE status = 'dead' AND "
      "(? = 0 OR id = ?)",
      now, now, id, id);
}

}  // namespace leadgate
