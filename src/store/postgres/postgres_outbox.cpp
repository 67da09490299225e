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
using pg::claim_in_index_order;
using pg::Connection;
using pg::exec;
using pg::Params;
using pg::Result;
using pg::Transaction;

namespace {

constexpr const char* kOutboxColumns =
    "id, environment, lead_ref, kind, payload_enc, status, attempts, next_attempt_at, "
    "provider_message_id, last_error, created_at, delivery_status, delivery_status_at, "
    "delivery_error";

OutboxMessage read_outbox(const Result& r, int row) {
  OutboxMessage m;
  m.id = r.i64(row, 0);
  m.environment = r.text(row, 1);
  m.lead_ref = r.text(row, 2);
  m.kind = r.text(row, 3);
  m.payload_enc = r.text(row, 4);
  m.status = r.text(row, 5);
  m.attempts = static_cast<int>(r.i64(row, 6));
  m.next_attempt_at = r.i64(row, 7);
  m.provider_message_id = r.text(row, 8);
  m.last_error = r.text(row, 9);
  m.created_at = r.i64(row, 10);
  m.delivery_status = r.text(row, 11);
  m.delivery_status_at = r.i64(row, 12);
  m.delivery_error = r.text(row, 13);
  return m;
}

}  // namespace

// ---- outbox ----

std::vector<OutboxMessage> PostgresStore::claim_outbox(std::int64_t now, int limit,
                                                       const std::string& owner,
                                                       std::int64_t lease_until) {
  auto lease = borrow();
  // SKIP LOCKED: concurrent claimers (threads or instances) each get different rows without
  // waiting for one another. MATERIALIZED: the locking subquery runs exactly once.
  const std::string sql =
      std::string(
          "WITH due AS MATERIALIZED (SELECT id FROM outbox WHERE status = 'pending' AND "
          "next_attempt_at <= $4 AND (lease_until IS NULL OR lease_until < $4) "
          "ORDER BY next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED), "
          "claimed AS (UPDATE outbox o SET lease_owner = $1, lease_until = $2, updated_at = $3 "
          "FROM due WHERE o.id = due.id RETURNING o.*) SELECT ") +
      kOutboxColumns + " FROM claimed ORDER BY next_attempt_at, id";
  const Result r = claim_in_index_order(
      *lease, sql, Params().add(owner).add(lease_until).add(now).add(now).add(limit));
  std::vector<OutboxMessage> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
  return out;
}

void PostgresStore::finish_outbox_attempt(const OutboxAttempt& a, const std::string& new_status,
                                          std::int64_t next_attempt_at) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  exec(c,
       "INSERT INTO outbox_attempts (outbox_id, attempt, started_at, duration_ms, outcome, "
       "http_status, error, provider_message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
       Params()
           .add(a.outbox_id)
           .add(a.attempt)
           .add(a.started_at)
           .add(a.duration_ms)
           .add(a.outcome)
           .add(a.http_status)
           .add(a.error)
           .add(a.provider_message_id));
  exec(c,
       "UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, lease_owner = NULL, "
       "lease_until = NULL, provider_message_id = CASE WHEN $4::text <> '' THEN $4 ELSE "
       "provider_message_id END, last_error = $5, updated_at = $6 WHERE id = $7",
       Params()
           .add(new_status)
           .add(a.attempt)
           .add(next_attempt_at)
           .add(a.provider_message_id)
           .add(a.error)
           .add(now_ms())
           .add(a.outbox_id));
  tx.commit();
}

void PostgresStore::release_outbox_leases(const std::string& owner) {
  auto lease = borrow();
  exec(*lease, "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
       Params().add(owner));
}

std::vector<OutboxMessage> PostgresStore::outbox_for(const std::string& environment,
                                                     const std::string& lead_ref) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kOutboxColumns +
                            " FROM outbox WHERE environment = $1 AND lead_ref = $2 ORDER BY id",
                        Params().add(environment).add(lead_ref));
  std::vector<OutboxMessage> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
  return out;
}

std::vector<OutboxAttempt> PostgresStore::outbox_attempts_for(const std::string& environment,
                                                              const std::string& lead_ref) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT a.outbox_id, a.attempt, a.started_at, a.duration_ms, a.outcome, "
                        "a.http_status, a.error, a.provider_message_id FROM outbox_attempts a "
                        "JOIN outbox o ON o.id = a.outbox_id WHERE o.environment = $1 AND "
                        "o.lead_ref = $2 ORDER BY a.started_at, a.attempt, a.id",
                        Params().add(environment).add(lead_ref));
  std::vector<OutboxAttempt> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    OutboxAttempt a;
    a.outbox_id = r.i64(i, 0);
    a.attempt = static_cast<int>(r.i64(i, 1));
    a.started_at = r.i64(i, 2);
    a.duration_ms = r.i64(i, 3);
    a.outcome = r.text(i, 4);
    a.http_status = static_cast<int>(r.i64(i, 5));
    a.error = r.text(i, 6);
    a.provider_message_id = r.text(i, 7);
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<OutboxMessage> PostgresStore::list_outbox(const std::string& status, int limit) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kOutboxColumns +
                            " FROM outbox WHERE status = $1 ORDER BY id LIMIT $2",
                        Params().add(status).add(limit));
  std::vector<OutboxMessage> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
  return out;
}

std::int64_t PostgresStore::requeue_outbox(std::int64_t id, std::int64_t now) {
  auto lease = borrow();
  return exec(*lease,
              "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, "
              "lease_owner = NULL, lease_until = NULL, updated_at = $1 WHERE status = 'dead' AND "
              "($2::bigint = 0 OR id = $2::bigint)",
              Params().add(now).add(id))
      .affected();
}

}  // namespace leadgate
