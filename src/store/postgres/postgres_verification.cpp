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
using pg::Connection;
using pg::exec;
using pg::Params;
using pg::Result;
using pg::Transaction;

// ---- OTPs ----

namespace {

constexpr const char* kOtpColumns =
    "environment, phone_bidx, code_hash, created_at, expires_at, attempts, state";

OtpCode read_otp(const Result& r, int row) {
  OtpCode o;
  o.environment = r.text(row, 0);
  o.phone_bidx = r.text(row, 1);
  o.code_hash = r.text(row, 2);
  o.created_at = r.i64(row, 3);
  o.expires_at = r.i64(row, 4);
  o.attempts = static_cast<int>(r.i64(row, 5));
  o.state = r.text(row, 6);
  return o;
}

// Inserts the phone's code or replaces every column of the existing one.
void upsert_otp(Connection& c, const OtpCode& o) {
  exec(c,
       "INSERT INTO otp_codes (environment, phone_bidx, code_hash, created_at, expires_at, "
       "attempts, state) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (environment, "
       "phone_bidx) DO UPDATE SET code_hash = EXCLUDED.code_hash, created_at = "
       "EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, attempts = EXCLUDED.attempts, "
       "state = EXCLUDED.state",
       Params()
           .add(o.environment)
           .add(o.phone_bidx)
           .add(o.code_hash)
           .add(o.created_at)
           .add(o.expires_at)
           .add(o.attempts)
           .add(o.state));
}

constexpr const char* kConsentColumns =
    "environment, phone_bidx, phone_enc, token_hash, requested_at, expires_at, granted_at";

ConsentRecord read_consent(const Result& r, int row) {
  ConsentRecord c;
  c.environment = r.text(row, 0);
  c.phone_bidx = r.text(row, 1);
  c.phone_enc = r.text(row, 2);
  c.token_hash = r.text(row, 3);
  c.requested_at = r.i64(row, 4);
  c.expires_at = r.i64(row, 5);
  c.granted_at = r.i64(row, 6);
  return c;
}

}  // namespace

void PostgresStore::put_otp(const OtpCode& code) {
  auto lease = borrow();
  upsert_otp(*lease, code);
}

std::optional<OtpCode> PostgresStore::find_otp(const std::string& environment,
                                               const std::string& phone_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kOtpColumns +
                            " FROM otp_codes WHERE environment = $1 AND phone_bidx = $2",
                        Params().add(environment).add(phone_bidx));
  if (r.rows() == 0) return std::nullopt;
  return read_otp(r, 0);
}

// SELECT ... FOR UPDATE locks the phone's row until the commit, so concurrent update_otp calls
// on one phone (any thread, any instance) run `decide` one after another, each on the row the
// previous one wrote. When the phone has no row yet, FOR UPDATE locks nothing: concurrent callers
// may all see nullopt, and if several of them returned a code the last upsert would win. That is
// acceptable because the OTP service's decide never creates a code from a missing row (a send
// uses put_otp). `decide` runs inside the transaction on a pooled connection: it must not call
// the store. When it throws, nothing is written.
std::optional<OtpCode> PostgresStore::update_otp(
    const std::string& environment, const std::string& phone_bidx,
    const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)>& decide) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  std::optional<OtpCode> current;
  {
    const Result r =
        exec(c,
             std::string("SELECT ") + kOtpColumns +
                 " FROM otp_codes WHERE environment = $1 AND phone_bidx = $2 FOR UPDATE",
             Params().add(environment).add(phone_bidx));
    if (r.rows() > 0) current = read_otp(r, 0);
  }
  std::optional<OtpCode> next = decide(current);
  if (!next) return std::nullopt;  // rolled back: nothing to write
  next->environment = environment;
  next->phone_bidx = phone_bidx;
  upsert_otp(c, *next);
  tx.commit();
  return next;
}

// ---- rate limits ----

// A transaction-scoped advisory lock keyed by the scope's 64-bit hash serialises reservations of
// one scope across every connection and instance (a hash collision only serialises two scopes
// needlessly); under READ COMMITTED each later statement sees what the previous holder committed.
RateDecision PostgresStore::reserve_rate_event(const std::string& scope, std::int64_t now,
                                               std::int64_t window_ms, int max_events,
                                               std::int64_t cooldown_ms) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  exec(c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", Params().add(scope));
  RateDecision d;
  bool refused = false;
  std::int64_t wait = 0;
  if (window_ms > 0 && max_events > 0) {
    const std::int64_t n = exec(c,
                                "SELECT COUNT(*) FROM rate_events WHERE scope = $1 AND "
                                "at > $2::bigint",
                                Params().add(scope).add(now - window_ms))
                               .i64(0, 0);
    if (n >= max_events) {
      // Room again once the (n - max_events + 1)-th oldest event leaves the window (the oldest
      // when n == max_events).
      const Result r = exec(
          c,
          "SELECT at FROM rate_events WHERE scope = $1 AND at > $2::bigint "
          "ORDER BY at, id LIMIT 1 OFFSET $3::bigint",
          Params().add(scope).add(now - window_ms).add(n - static_cast<std::int64_t>(max_events)));
      if (r.rows() > 0) {
        refused = true;
        wait = std::max(wait, r.i64(0, 0) + window_ms - now);
      }
    }
  }
  if (cooldown_ms > 0) {
    const Result r = exec(c, "SELECT MAX(at) FROM rate_events WHERE scope = $1 AND at > $2::bigint",
                          Params().add(scope).add(now - cooldown_ms));
    if (const auto at = r.opt_i64(0, 0)) {
      refused = true;
      wait = std::max(wait, *at + cooldown_ms - now);
    }
  }
  if (refused) {
    d.retry_after_ms = std::max<std::int64_t>(1, wait);
    return d;  // rolled back: nothing written, lock released
  }
  d.event_id = exec(c, "INSERT INTO rate_events (scope, at) VALUES ($1, $2) RETURNING id",
                    Params().add(scope).add(now))
                   .i64(0, 0);
  d.allowed = true;
  tx.commit();
  return d;
}

void PostgresStore::release_rate_event(std::int64_t event_id) {
  auto lease = borrow();
  exec(*lease, "DELETE FROM rate_events WHERE id = $1", Params().add(event_id));
}

std::int64_t PostgresStore::purge_rate_events(std::int64_t older_than) {
  auto lease = borrow();
  return exec(*lease, "DELETE FROM rate_events WHERE at < $1", Params().add(older_than)).affected();
}

// ---- consents ----

void PostgresStore::insert_consent(const ConsentRecord& c) {
  auto lease = borrow();
  exec(*lease,
       "INSERT INTO consents (environment, phone_bidx, phone_enc, token_hash, requested_at, "
       "expires_at, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
       Params()
           .add(c.environment)
           .add(c.phone_bidx)
           .add(c.phone_enc)
           .add(c.token_hash)
           .add(c.requested_at)
           .add(c.expires_at)
           .add(c.granted_at));
}

// One statement: a concurrent grant of the same token waits for the row lock, re-checks
// granted_at = 0 on the updated row and matches nothing, so a link works once.
std::optional<ConsentRecord> PostgresStore::grant_consent(const std::string& token_hash,
                                                          std::int64_t now) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("UPDATE consents SET granted_at = $2 WHERE token_hash = $1 "
                                    "AND granted_at = 0 AND expires_at > $2 RETURNING ") +
                            kConsentColumns,
                        Params().add(token_hash).add(now));
  if (r.rows() == 0) return std::nullopt;
  return read_consent(r, 0);
}

std::optional<ConsentRecord> PostgresStore::find_consent(const std::string& token_hash) {
  auto lease = borrow();
  const Result r = exec(
      *lease, std::string("SELECT ") + kConsentColumns + " FROM consents WHERE token_hash = $1",
      Params().add(token_hash));
  if (r.rows() == 0) return std::nullopt;
  return read_consent(r, 0);
}

std::vector<ConsentRecord> PostgresStore::consents_for(const std::string& environment,
                                                       const std::string& phone_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kConsentColumns +
                            " FROM consents WHERE environment = $1 AND phone_bidx = $2 ORDER BY "
                            "requested_at, id",
                        Params().add(environment).add(phone_bidx));
  std::vector<ConsentRecord> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_consent(r, i));
  return out;
}

}  // namespace leadgate
