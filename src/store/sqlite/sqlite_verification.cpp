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
using sqlite::Stmt;
using sqlite::Transaction;

// ---- OTPs ----

namespace {

// Inserts the phone's code or replaces every column of the existing one.
void upsert_otp(sqlite3* db, const OtpCode& o) {
  Stmt s(db, sql::kUpsertOtp);
  sql::bind_otp(s, o);
  s.run();
}

}  // namespace

void SqliteStore::put_otp(const OtpCode& code) {
  std::lock_guard lock(mutex_);
  if (!code.consent) {
    upsert_otp(db_, code);
    return;
  }
  Transaction tx(db_);
  upsert_otp(db_, code);
  sqlite::insert_consent_event(db_, *code.consent, true);
  tx.commit();
}

std::optional<OtpCode> SqliteStore::find_otp(const std::string& environment,
                                             const std::string& phone_bidx) {
  return query_first(sql::kSelectOtp, sql::read_otp<Stmt>, environment, phone_bidx);
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
    Stmt s(db_, sql::kSelectOtp);
    s.bind(environment).bind(phone_bidx);
    current = s.first(sql::read_otp<Stmt>);
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
namespace {

// The wait a rule imposes on a new event at `now` (0: none), as PostgreSQL's
// reserve_rate_events() computes it (postgres_migrations.cpp, schema 16).
std::int64_t rule_wait(sqlite3* db, const RateRule& rule, std::int64_t now) {
  std::int64_t wait = 0;
  if (rule.window_ms > 0 && rule.max_events > 0) {
    Stmt sum(db, "SELECT COALESCE(SUM(n), 0) FROM rate_events WHERE scope = ? AND at > ?");
    sum.bind(rule.scope).bind(now - rule.window_ms);
    sum.step();
    const std::int64_t total = sum.i64(0);
    if (total >= rule.max_events) {
      // Room again once the (total - max + 1)-th oldest event leaves the window.
      Stmt nth(db,
               "SELECT at FROM (SELECT at, id, SUM(n) OVER (ORDER BY at, id) AS upto FROM "
               "rate_events WHERE scope = ? AND at > ?) WHERE upto > ? ORDER BY at, id LIMIT 1");
      nth.bind(rule.scope).bind(now - rule.window_ms).bind(total - rule.max_events);
      if (nth.step()) wait = std::max(wait, nth.i64(0) + rule.window_ms - now);
    }
  }
  if (rule.cooldown_ms > 0) {
    Stmt newest(db, "SELECT MAX(at) FROM rate_events WHERE scope = ? AND at > ?");
    newest.bind(rule.scope).bind(now - rule.cooldown_ms);
    if (newest.step()) {
      if (const auto at = newest.opt_i64(0)) {
        wait = std::max({wait, *at + rule.cooldown_ms - now, std::int64_t{1}});
      }
    }
  }
  return wait;
}

}  // namespace

// A row per scope and second, n events in it, `at` the newest; BEGIN IMMEDIATE serialises every
// reservation (one writer), so no lock order is needed.
RateReservation SqliteStore::reserve_rate_events(const std::vector<RateRule>& rules,
                                                 std::int64_t now) {
  std::lock_guard lock(mutex_);
  // Visible, not durable: see PostgresStore::reserve_rate_events.
  Transaction tx(db_, /*durable=*/false);
  RateReservation d;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (const std::int64_t wait = rule_wait(db_, rules[i], now); wait > 0) {
      d.refused_rule = i;
      d.retry_after_ms = wait;
      return d;  // rolled back: nothing written
    }
  }
  for (const auto& rule : rules) {
    Stmt ins(db_,
             "INSERT INTO rate_events (scope, at, bucket, n) VALUES (?, ?, ?, 1) ON CONFLICT "
             "(scope, bucket) DO UPDATE SET n = n + 1, at = MAX(at, excluded.at) RETURNING id");
    ins.bind(rule.scope).bind(now).bind(now / 1000);
    ins.step();
    d.event_ids.push_back(ins.i64(0));
    ins.step();  // done: a statement still running would hold the commit back
  }
  d.allowed = true;
  tx.commit();
  return d;
}

void SqliteStore::release_rate_event(std::int64_t event_id) {
  std::lock_guard lock(mutex_);
  if (sqlite::run(db_, sql::kDeleteLastRateEvent, event_id) == 0) {
    sqlite::run(db_, sql::kReleaseRateEvent, event_id);
  }
}

std::int64_t SqliteStore::purge_rate_events(std::int64_t older_than) {
  return run(sql::kPurgeRateEvents, older_than);
}

// ---- consents ----

void SqliteStore::insert_consent(const ConsentRecord& c) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kInsertConsent);
  sql::bind_consent(s, c);
  s.run();
}

// One statement: of two concurrent grants of one token only one updates the row.
std::optional<ConsentRecord> SqliteStore::grant_consent(const std::string& token_hash,
                                                        std::int64_t now,
                                                        const std::optional<ConsentEvent>& ledger) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  std::optional<ConsentRecord> c;
  {
    Stmt s(db_, sql::kGrantConsent);
    s.bind(token_hash).bind(now);
    if (!s.step()) return std::nullopt;
    c = sql::read_consent(s);
    while (s.step()) {
    }  // finish the statement (token_hash is unique: no second row)
  }
  if (ledger) sqlite::insert_consent_event(db_, sql::granted_event(*ledger, *c, now), false);
  tx.commit();
  return c;
}

std::optional<ConsentRecord> SqliteStore::find_consent(const std::string& token_hash) {
  return query_first(sql::kSelectConsent, sql::read_consent<Stmt>, token_hash);
}

std::vector<ConsentRecord> SqliteStore::consents_for(const std::string& environment,
                                                     const std::string& phone_bidx) {
  return query_all(sql::kSelectConsentsForPhone, sql::read_consent<Stmt>, environment, phone_bidx);
}

// ---- customer tokens ----

void SqliteStore::insert_customer_token(const CustomerTokenRow& token) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kInsertCustomerToken);
  sql::bind_customer_token(s, token);
  s.run();
}

std::optional<CustomerTokenRow> SqliteStore::find_customer_token(const std::string& token_hash) {
  return query_first(sql::kSelectCustomerToken, sql::read_customer_token<Stmt>, token_hash);
}

std::int64_t SqliteStore::purge_customer_tokens(std::int64_t older_than) {
  return run(sql::kPurgeCustomerTokens, older_than);
}

}  // namespace leadgate
