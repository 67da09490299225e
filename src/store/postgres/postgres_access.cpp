#include <cstdint>
#include <optional>
#include <string>

#include "store/postgres/postgres_db.h"
#include "store/postgres/postgres_store.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

// ---- API keys ----

void PostgresStore::insert_api_key(const ApiKeyRow& row) {
  auto lease = borrow();
  Params p;
  sql::bind_api_key(p, row);
  exec(*lease, sql::kInsertApiKey, p);
}

std::optional<ApiKeyRow> PostgresStore::find_api_key(const std::string& key_hash) {
  return query_first(sql::kSelectApiKey, sql::read_api_key<Result::Row>, key_hash);
}

std::int64_t PostgresStore::count_api_keys() {
  auto lease = borrow();
  return exec(*lease, sql::kCountApiKeys).i64(0, 0);
}

std::vector<ApiKeyRow> PostgresStore::list_api_keys() {
  return query_all(sql::kListApiKeys, sql::read_api_key<Result::Row>);
}

bool PostgresStore::revoke_api_key(const std::string& id) {
  return run(sql::kRevokeApiKey, id, true, false) > 0;
}

void PostgresStore::touch_api_key(const std::string& id, std::int64_t at) {
  run(sql::kTouchApiKey, id, at);
}

// ---- idempotency ----

IdempotencyRecord PostgresStore::begin_idempotent(const std::string& scope, const std::string& key,
                                                  const std::string& fingerprint, std::int64_t now,
                                                  std::int64_t stale_before) {
  auto lease = borrow();
  Connection& c = *lease;
  // Race-free across instances: the insert either creates the record (this call owns the key) or
  // waits for a concurrent creator to commit and does nothing; the row lock then serialises the
  // decision, so of several concurrent takeovers of a stale record only the first wins.
  for (int round = 0; round < 3; ++round) {
    Transaction tx(c);
    const Result ins = exec(c,
                            "INSERT INTO idempotency_keys (scope, key, fingerprint, state, "
                            "created_at, updated_at) VALUES ($1, $2, $3, 'running', $4, $4) "
                            "ON CONFLICT (scope, key) DO NOTHING",
                            Params().bind(scope).bind(key).bind(fingerprint).bind(now));
    if (ins.affected() == 1) {
      tx.commit();
      return IdempotencyRecord{};  // started
    }
    const Result r =
        exec(c, sql::kSelectIdempotency + " FOR UPDATE", Params().bind(scope).bind(key));
    if (r.rows() == 0) continue;  // deleted (abandoned/purged) in between: try again
    if (auto answer = sql::idempotent_answer(Result::Row{r, 0}, fingerprint, stale_before)) {
      return *answer;
    }
    exec(c, sql::kTakeOverIdempotency, Params().bind(now).bind(scope).bind(key));
    tx.commit();
    return IdempotencyRecord{};  // started
  }
  throw StoreUnavailable("postgresql: idempotency record keeps changing; retry");
}

void PostgresStore::complete_idempotent(const std::string& scope, const std::string& key,
                                        int status, const std::string& body,
                                        const std::string& content_type, std::int64_t now) {
  run(sql::kCompleteIdempotency, status, body, content_type, now, scope, key);
}

void PostgresStore::abandon_idempotent(const std::string& scope, const std::string& key) {
  run(sql::kAbandonIdempotency, scope, key);
}

std::int64_t PostgresStore::purge_idempotent(std::int64_t older_than) {
  return run(sql::kPurgeIdempotency, older_than);
}

// ---- dashboard sessions ----

void PostgresStore::insert_ops_session(const OpsSessionRow& row) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  exec(c, sql::kPurgeOpsSessions, Params().bind(row.created_at));
  exec(c, sql::kInsertOpsSession,
       Params().bind(row.token_hash).bind(row.key_hash).bind(row.created_at).bind(row.expires_at));
  tx.commit();
}

std::optional<std::string> PostgresStore::find_ops_session(const std::string& token_hash,
                                                           std::int64_t now) {
  return query_first(
      sql::kSelectOpsSession, [](const Result::Row& r) { return r.text(0); }, token_hash, now);
}

bool PostgresStore::delete_ops_session(const std::string& token_hash) {
  return run(sql::kDeleteOpsSession, token_hash) > 0;
}

}  // namespace leadgate
