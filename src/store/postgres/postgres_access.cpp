#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
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

// ---- API keys ----

void PostgresStore::insert_api_key(const ApiKeyRow& row) {
  auto lease = borrow();
  exec(*lease,
       "INSERT INTO api_keys (id, name, key_hash, environments, created_at, revoked) "
       "VALUES ($1, $2, $3, $4, $5, $6)",
       Params()
           .add(row.id)
           .add(row.name)
           .add(row.key_hash)
           .add(join(row.environments))
           .add(row.created_at)
           .add(row.revoked));
}

std::optional<ApiKeyRow> PostgresStore::find_api_key(const std::string& key_hash) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT id, name, key_hash, environments, created_at, revoked FROM "
                        "api_keys WHERE key_hash = $1",
                        Params().add(key_hash));
  if (r.rows() == 0) return std::nullopt;
  ApiKeyRow k;
  k.id = r.text(0, 0);
  k.name = r.text(0, 1);
  k.key_hash = r.text(0, 2);
  k.environments = split(r.text(0, 3));
  k.created_at = r.i64(0, 4);
  k.revoked = r.boolean(0, 5);
  return k;
}

std::int64_t PostgresStore::count_api_keys() {
  auto lease = borrow();
  return exec(*lease, "SELECT COUNT(*) FROM api_keys").i64(0, 0);
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
                            Params().add(scope).add(key).add(fingerprint).add(now));
    IdempotencyRecord rec;
    if (ins.affected() == 1) {
      tx.commit();
      return rec;
    }
    const Result r = exec(c,
                          "SELECT fingerprint, state, status, body, content_type, updated_at "
                          "FROM idempotency_keys WHERE scope = $1 AND key = $2 FOR UPDATE",
                          Params().add(scope).add(key));
    if (r.rows() == 0) continue;  // deleted (abandoned/purged) in between: try again
    if (r.text(0, 0) != fingerprint) {
      rec.state = IdempotencyRecord::State::mismatch;
      return rec;
    }
    if (r.text(0, 1) == "done") {
      rec.state = IdempotencyRecord::State::replay;
      rec.status = static_cast<int>(r.i64(0, 2));
      rec.body = r.text(0, 3);
      rec.content_type = r.text(0, 4);
      return rec;
    }
    if (r.i64(0, 5) >= stale_before) {
      rec.state = IdempotencyRecord::State::in_progress;
      return rec;
    }
    // The first attempt's holder died mid-request: take the key over.
    exec(c, "UPDATE idempotency_keys SET updated_at = $1 WHERE scope = $2 AND key = $3",
         Params().add(now).add(scope).add(key));
    tx.commit();
    return rec;
  }
  throw StoreUnavailable("postgresql: idempotency record keeps changing; retry");
}

void PostgresStore::complete_idempotent(const std::string& scope, const std::string& key,
                                        int status, const std::string& body,
                                        const std::string& content_type, std::int64_t now) {
  auto lease = borrow();
  exec(*lease,
       "UPDATE idempotency_keys SET state = 'done', status = $1, body = $2, content_type = $3, "
       "updated_at = $4 WHERE scope = $5 AND key = $6",
       Params().add(status).add(body).add(content_type).add(now).add(scope).add(key));
}

void PostgresStore::abandon_idempotent(const std::string& scope, const std::string& key) {
  auto lease = borrow();
  exec(*lease, "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'running'",
       Params().add(scope).add(key));
}

std::int64_t PostgresStore::purge_idempotent(std::int64_t older_than) {
  auto lease = borrow();
  return exec(*lease, "DELETE FROM idempotency_keys WHERE created_at < $1",
              Params().add(older_than))
      .affected();
}

}  // namespace leadgate
