#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"

namespace leadgate {
using sqlite::insert_outbox;
using sqlite::Stmt;
using sqlite::Transaction;

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

}  // namespace

void SqliteStore::insert_api_key(const ApiKeyRow& row) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "INSERT INTO api_keys (id, name, key_hash, environments, created_at, revoked) "
         "VALUES (?, ?, ?, ?, ?, ?)");
  s.bind(row.id).bind(row.name).bind(row.key_hash).bind(join(row.environments));
  s.bind(row.created_at).bind(row.revoked).run();
}

std::optional<ApiKeyRow> SqliteStore::find_api_key(const std::string& key_hash) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "SELECT id, name, key_hash, environments, created_at, revoked FROM api_keys "
         "WHERE key_hash = ?");
  s.bind(key_hash);
  if (!s.step()) return std::nullopt;
  ApiKeyRow r;
  r.id = s.text(0);
  r.name = s.text(1);
  r.key_hash = s.text(2);
  r.environments = split(s.text(3));
  r.created_at = s.i64(4);
  r.revoked = s.i64(5) != 0;
  return r;
}

std::int64_t SqliteStore::count_api_keys() {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "SELECT COUNT(*) FROM api_keys");
  s.step();
  return s.i64(0);
}

// ---- idempotency ----

IdempotencyRecord SqliteStore::begin_idempotent(const std::string& scope, const std::string& key,
                                                const std::string& fingerprint, std::int64_t now,
                                                std::int64_t stale_before) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt s(db_,
         "SELECT fingerprint, state, status, body, content_type, updated_at FROM "
         "idempotency_keys WHERE scope = ? AND key = ?");
  s.bind(scope).bind(key);
  IdempotencyRecord rec;
  if (s.step()) {
    if (s.text(0) != fingerprint) {
      rec.state = IdempotencyRecord::State::mismatch;
      return rec;
    }
    if (s.text(1) == "done") {
      rec.state = IdempotencyRecord::State::replay;
      rec.status = static_cast<int>(s.i64(2));
      rec.body = s.text(3);
      rec.content_type = s.text(4);
      return rec;
    }
    if (s.i64(5) >= stale_before) {
      rec.state = IdempotencyRecord::State::in_progress;
      return rec;
    }
    // The first attempt's holder died mid-request: take the key over.
    Stmt take(db_, "UPDATE idempotency_keys SET updated_at = ? WHERE scope = ? AND key = ?");
    take.bind(now).bind(scope).bind(key).run();
  } else {
    Stmt ins(db_,
             "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, "
             "updated_at) VALUES (?, ?, ?, 'running', ?, ?)");
    ins.bind(scope).bind(key).bind(fingerprint).bind(now).bind(now).run();
  }
  tx.commit();
  return rec;
}

void SqliteStore::complete_idempotent(const std::string& scope, const std::string& key, int status,
                                      const std::string& body, const std::string& content_type,
                                      std::int64_t now) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?, content_type = ?, "
         "updated_at = ? WHERE scope = ? AND key = ?");
  s.bind(status).bind(body).bind(content_type).bind(now).bind(scope).bind(key).run();
}

void SqliteStore::abandon_idempotent(const std::string& scope, const std::string& key) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND state = 'running'");
  s.bind(scope).bind(key).run();
}

std::int64_t SqliteStore::purge_idempotent(std::int64_t older_than) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM idempotency_keys WHERE created_at < ?");
  s.bind(older_than).run();
  return sqlite3_changes(db_);
}

}  // namespace leadgate
