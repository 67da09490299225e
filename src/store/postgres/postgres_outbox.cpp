#include <cstdint>
#include <string>
#include <vector>

#include "store/postgres/postgres_db.h"
#include "store/postgres/postgres_store.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

std::vector<OutboxMessage> PostgresStore::claim_outbox(std::int64_t now, int limit,
                                                       const std::string& owner,
                                                       std::int64_t lease_until) {
  // SKIP LOCKED: concurrent claimers (threads or instances) each get different rows without
  // waiting for one another. MATERIALIZED: the locking subquery runs exactly once.
  return claim(
      "WITH due AS MATERIALIZED (SELECT id FROM outbox WHERE status = 'pending' AND "
      "next_attempt_at <= $4 AND (lease_until IS NULL OR lease_until < $4) ORDER BY "
      "next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED), claimed AS (UPDATE outbox o "
      "SET lease_owner = $1, lease_until = $2, updated_at = $3 FROM due WHERE o.id = "
      "due.id RETURNING o.*) SELECT " +
          sql::kOutboxColumns + " FROM claimed ORDER BY next_attempt_at, id",
      sql::read_outbox<Result::Row>, owner, lease_until, now, now, limit);
}

void PostgresStore::finish_outbox_attempt(const OutboxAttempt& a, const std::string& new_status,
                                          std::int64_t next_attempt_at) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  Params attempt;
  sql::bind_outbox_attempt(attempt, a);
  exec(c, sql::kInsertOutboxAttempt, attempt);
  exec(c,
       "UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, lease_owner = NULL, "
       "lease_until = NULL, provider_message_id = CASE WHEN $4::text <> '' THEN $4 ELSE "
       "provider_message_id END, last_error = $5, updated_at = $6 WHERE id = $7",
       Params()
           .bind(new_status)
           .bind(a.attempt)
           .bind(next_attempt_at)
           .bind(a.provider_message_id)
           .bind(a.error)
           .bind(now_ms())
           .bind(a.outbox_id));
  tx.commit();
}

void PostgresStore::release_outbox_leases(const std::string& owner) {
  run(sql::kReleaseOutboxLeases, owner);
}

std::vector<OutboxMessage> PostgresStore::outbox_for(const std::string& environment,
                                                     const std::string& lead_ref) {
  return query_all(sql::kSelectOutboxForLead, sql::read_outbox<Result::Row>, environment, lead_ref);
}

std::vector<OutboxAttempt> PostgresStore::outbox_attempts_for(const std::string& environment,
                                                              const std::string& lead_ref) {
  return query_all(sql::kSelectOutboxAttemptsForLead, sql::read_outbox_attempt<Result::Row>,
                   environment, lead_ref);
}

std::vector<OutboxMessage> PostgresStore::list_outbox(const std::string& status, int limit) {
  return query_all(sql::kListOutbox, sql::read_outbox<Result::Row>, status, limit);
}

std::int64_t PostgresStore::requeue_outbox(std::int64_t id, std::int64_t now) {
  return run(
      "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, "
      "lease_owner = NULL, lease_until = NULL, updated_at = $1 WHERE status = 'dead' AND "
      "($2::bigint = 0 OR id = $2::bigint)",
      now, id);
}

}  // namespace leadgate
