#include <cstdint>
#include <optional>
#include <string>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace leadgate {
using sqlite::Stmt;
using sqlite::Transaction;

void SqliteStore::insert_api_key(const ApiKeyRow& row) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kInsertApiKey);
  sql::bind_api_key(s, row);
  s.run();
}

std::optional<ApiKeyRow> SqliteStore::find_api_key(const std::string& key_hash) {
  return query_first(sql::kSelectApiKey, sql::read_api_key<Stmt>, key_hash);
}

std::int64_t SqliteStore::count_api_keys() {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kCountApiKeys);
  s.step();
  return s.i64(0);
}

std::vector<ApiKeyRow> SqliteStore::list_api_keys() {
  return query_all(sql::kListApiKeys, sql::read_api_key<Stmt>);
}

bool SqliteStore::revoke_api_key(const std::string& id) {
  return run(sql::kRevokeApiKey, id, true, false) > 0;
}

void SqliteStore::touch_api_key(const std::string& id, std::int64_t at) {
  run(sql::kTouchApiKey, id, at);
}

// ---- idempotency ----

IdempotencyRecord SqliteStore::begin_idempotent(const std::string& scope, const std::string& key,
                                                const std::string& fingerprint, std::int64_t now,
                                                std::int64_t stale_before) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt s(db_, sql::kSelectIdempotency);
  s.bind(scope).bind(key);
  if (s.step()) {
    if (auto answer = sql::idempotent_answer(s, fingerprint, stale_before)) return *answer;
    Stmt take(db_, sql::kTakeOverIdempotency);
    take.bind(now).bind(scope).bind(key).run();
  } else {
    Stmt ins(db_,
             "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, "
             "updated_at) VALUES (?, ?, ?, 'running', ?, ?)");
    ins.bind(scope).bind(key).bind(fingerprint).bind(now).bind(now).run();
  }
  tx.commit();
  return IdempotencyRecord{};  // started
}

void SqliteStore::complete_idempotent(const std::string& scope, const std::string& key, int status,
                                      const std::string& body, const std::string& content_type,
                                      std::int64_t now) {
  run(sql::kCompleteIdempotency, status, body, content_type, now, scope, key);
}

void SqliteStore::abandon_idempotent(const std::string& scope, const std::string& key) {
  run(sql::kAbandonIdempotency, scope, key);
}

std::int64_t SqliteStore::purge_idempotent(std::int64_t older_than) {
  return run(sql::kPurgeIdempotency, older_than);
}

// ---- dashboard sessions ----

void SqliteStore::insert_ops_session(const OpsSessionRow& row) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt(db_, sql::kPurgeOpsSessions).bind(row.created_at).run();
  Stmt(db_, sql::kInsertOpsSession)
      .bind(row.token_hash)
      .bind(row.key_hash)
      .bind(row.created_at)
      .bind(row.expires_at)
      .run();
  tx.commit();
}

std::optional<std::string> SqliteStore::find_ops_session(const std::string& token_hash,
                                                         std::int64_t now) {
  return query_first(
      sql::kSelectOpsSession, [](Stmt& s) { return s.text(0); }, token_hash, now);
}

bool SqliteStore::delete_ops_session(const std::string& token_hash) {
  return run(sql::kDeleteOpsSession, token_hash) > 0;
}

}  // namespace leadgate
