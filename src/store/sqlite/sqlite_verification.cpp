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

// ---- OTPs ----

namespace {

constexpr const char* kOtpColumns =
    "environment, phone_bidx, code_hash, created_at, expires_at, attempts, state";

OtpCode read_otp(const Stmt& s) {
  OtpCode o;
  o.environment = s.text(0);
  o.phone_bidx = s.text(1);
  o.code_hash = s.text(2);
  o.created_at = s.i64(3);
  o.expires_at = s.i64(4);
  o.attempts = static_cast<int>(s.i64(5));
  o.state = s.text(6);
  return o;
}

// Inserts the phone's code or replaces every column of the existing one.
void upsert_otp(sqlite3* db, const OtpCode& o) {
  Stmt s(db,
         "INSERT INTO otp_codes (environment, phone_bidx, code_hash, created_at, expires_at, "
         "attempts, state) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (environment, phone_bidx) DO "
         "UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at, "
         "expires_at = excluded.expires_at, attempts = excluded.attempts, state = excluded.state");
  s.bind(o.environment).bind(o.phone_bidx).bind(o.code_hash).bind(o.created_at);
  s.bind(o.expires_at).bind(o.attempts).bind(o.state).run();
}

constexpr const char* kConsentColumns =
    "environment, phone_bidx, phone_enc, token_hash, requested_at, expires_at, granted_at";

ConsentRecord read_consent(const Stmt& s) {
  ConsentRecord c;
  c.environment = s.text(0);
  c.phone_bidx = s.text(1);
  c.phone_enc = s.text(2);
  c.token_hash = s.text(3);
  c.requested_at = s.i64(4);
  c.expires_at = s.i64(5);
  c.granted_at = s.i64(6);
  return c;
}

}  // namespace

void SqliteStore::put_otp(const OtpCode& code) {
  std::lock_guard lock(mutex_);
  upsert_otp(db_, code);
}

std::optional<OtpCode> SqliteStore::find_otp(const std::string& environment,
                                             const std::string& phone_bidx) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kOtpColumns +
                          " FROM otp_codes WHERE environment = ? AND phone_bidx = ?";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(phone_bidx);
  if (!s.step()) return std::nullopt;
  return read_otp(s);
}

// The store mutex serialises this instance's callers; BEGIN IMMEDIATE takes the database's write
// lock before the read, so callers in other store instances or processes on the same file wait
// too, and the row read is the latest committed one. `decide` runs inside the transaction and
// under the mutex: it must not call the store. When it throws, nothing is written.
std::optional<OtpCode> SqliteStore::update_otp(
    const std::string& environment, const std::string& phone_bidx,
    const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)>& decide) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  std::optional<OtpCode> current;
  {
    const std::string sql = std::string("SELECT ") + kOtpColumns +
                            " FROM otp_codes WHERE environment = ? AND phone_bidx = ?";
    Stmt s(db_, sql.c_str());
    s.bind(environment).bind(phone_bidx);
    if (s.step()) current = read_otp(s);
  }
  std::optional<OtpCode> next = decide(current);
  if (!next) return std::nullopt;  // rolled back: nothing to write
  next->environment = environment;
  next->phone_bidx = phone_bidx;
  upsert_otp(db_, *next);
  tx.commit();
  return next;
}

// ---- rate limits ----

// BEGIN IMMEDIATE serialises reservations across every store instance and process on the file
// (the count and the insert cannot interleave with another reservation's).
RateDecision SqliteStore::reserve_rate_event(const std::string& scope, std::int64_t now,
                                             std::int64_t window_ms, int max_events,
                                             std::int64_t cooldown_ms) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  RateDecision d;
  bool refused = false;
  std::int64_t wait = 0;
  if (window_ms > 0 && max_events > 0) {
    Stmt count(db_, "SELECT COUNT(*) FROM rate_events WHERE scope = ? AND at > ?");
    count.bind(scope).bind(now - window_ms);
    count.step();
    const std::int64_t n = count.i64(0);
    if (n >= max_events) {
      // Room again once the (n - max_events + 1)-th oldest event leaves the window (the oldest
      // when n == max_events).
      Stmt nth(db_,
               "SELECT at FROM rate_events WHERE scope = ? AND at > ? ORDER BY at, id LIMIT 1 "
               "OFFSET ?");
      nth.bind(scope).bind(now - window_ms).bind(n - max_events);
      if (nth.step()) {
        refused = true;
        wait = std::max(wait, nth.i64(0) + window_ms - now);
      }
    }
  }
  if (cooldown_ms > 0) {
    Stmt newest(db_, "SELECT MAX(at) FROM rate_events WHERE scope = ? AND at > ?");
    newest.bind(scope).bind(now - cooldown_ms);
    if (newest.step()) {
      if (const auto at = newest.opt_i64(0)) {
        refused = true;
        wait = std::max(wait, *at + cooldown_ms - now);
      }
    }
  }
  if (refused) {
    d.retry_after_ms = std::max<std::int64_t>(1, wait);
    return d;  // rolled back: nothing written
  }
  Stmt ins(db_, "INSERT INTO rate_events (scope, at) VALUES (?, ?)");
  ins.bind(scope).bind(now).run();
  d.allowed = true;
  d.event_id = sqlite3_last_insert_rowid(db_);
  tx.commit();
  return d;
}

void SqliteStore::release_rate_event(std::int64_t event_id) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM rate_events WHERE id = ?");
  s.bind(event_id).run();
}

std::int64_t SqliteStore::purge_rate_events(std::int64_t older_than) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "DELETE FROM rate_events WHERE at < ?");
  s.bind(older_than).run();
  return sqlite3_changes(db_);
}

// ---- consents ----

void SqliteStore::insert_consent(const ConsentRecord& c) {
  std::lock_guard lock(mutex_);
  Stmt s(db_,
         "INSERT INTO consents (environment, phone_bidx, phone_enc, token_hash, requested_at, "
         "expires_at, granted_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.bind(c.environment).bind(c.phone_bidx).bind(c.phone_enc).bind(c.token_hash);
  s.bind(c.requested_at).bind(c.expires_at).bind(c.granted_at).run();
}

// One statement: of two concurrent grants of one token only one updates the row.
std::optional<ConsentRecord> SqliteStore::grant_consent(const std::string& token_hash,
                                                        std::int64_t now) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string(
                              "UPDATE consents SET granted_at = ? WHERE token_hash = ? AND "
                              "granted_at = 0 AND expires_at > ? RETURNING ") +
                          kConsentColumns;
  Stmt s(db_, sql.c_str());
  s.bind(now).bind(token_hash).bind(now);
  if (!s.step()) return std::nullopt;
  ConsentRecord c = read_consent(s);
  while (s.step()) {
  }  // finish the statement (token_hash is unique: no second row)
  return c;
}

std::optional<ConsentRecord> SqliteStore::find_consent(const std::string& token_hash) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kConsentColumns + " FROM consents WHERE token_hash = ?";
  Stmt s(db_, sql.c_str());
  s.bind(token_hash);
  if (!s.step()) return std::nullopt;
  return read_consent(s);
}

std::vector<ConsentRecord> SqliteStore::consents_for(const std::string& environment,
                                                     const std::string& phone_bidx) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kConsentColumns +
                          " FROM consents WHERE environment = ? AND phone_bidx = ? ORDER BY "
                          "requested_at, id";
  Stmt s(db_, sql.c_str());
  s.bind(environment).bind(phone_bidx);
  std::vector<ConsentRecord> out;
  while (s.step()) out.push_back(read_consent(s));
  return out;
}

}  // namespace leadgate
