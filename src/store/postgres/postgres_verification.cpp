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
using namespace pg;  // the driver plumbing of postgres_db.h

// ---- OTPs ----

namespace {

// Inserts the phone's code or replaces every column of the existing one.
void upsert_otp(Connection& c, const OtpCode& o) {
  Params p;
  sql::bind_otp(p, o);
  exec(c, sql::kUpsertOtp, p);
}

// A PostgreSQL array literal of `items`, each quoted: {"a","b\"c"}.
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

// The numbers of a bigint[] in its text form ({1,2,3}).
std::vector<std::int64_t> parse_bigint_array(const std::string& text) {
  std::vector<std::int64_t> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) {
      std::size_t used = 0;
      out.push_back(std::stoll(text.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace

void PostgresStore::put_otp(const OtpCode& code) {
  auto lease = borrow();
  if (!code.consent) {
    upsert_otp(*lease, code);
    return;
  }
  // The code and the consent it was sent under in one statement: one round trip, one commit.
  static const std::string kUpsertWithConsent =
      "WITH otp AS (" + sql::kUpsertOtp + ") " + sql::shift_params(sql::kInsertConsentEvent, 7);
  Params p;
  sql::bind_otp(p, code);
  sql::bind_consent_event(p, *code.consent, /*only_if_changed=*/true);
  exec(*lease, kUpsertWithConsent, p);
}

std::optional<OtpCode> PostgresStore::find_otp(const std::string& environment,
                                               const std::string& phone_bidx) {
  return query_first(sql::kSelectOtp, sql::read_otp<Result::Row>, environment, phone_bidx);
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
  current = exec(c, sql::kSelectOtp + " FOR UPDATE", Params().bind(environment).bind(phone_bidx))
                .first(sql::read_otp<Result::Row>);
  std::optional<OtpCode> next = decide(current);
  if (!next) return std::nullopt;  // rolled back: nothing to write
  next->environment = environment;
  next->phone_bidx = phone_bidx;
  upsert_otp(c, *next);
  tx.commit();
  return next;
}

// ---- rate limits ----

// The reservation is one call of the reserve_rate_events() function (schema 16): under
// transaction-scoped advisory locks keyed by the scopes' 64-bit hashes, which serialise
// reservations of one scope across every connection and instance (a hash collision only serialises
// two scopes needlessly), it sums each scope's events in its window, checks its cooldown and adds
// an event to each scope's row of this second. A reservation only has to be visible to the next
// one, not durable (the function commits with synchronous_commit off): the request that made it
// ends with a durable write (the OTP itself), which flushes it too, and one lost in a crash
// belonged to a request that was never answered. One round trip, and the locks are held for that
// statement only: a busy scope (one API key's OTP sends) is not serialised behind the client's
// network latency.
RateReservation PostgresStore::reserve_rate_events(const std::vector<RateRule>& rules,
                                                   std::int64_t now) {
  std::vector<std::string> scopes;
  std::vector<std::string> windows;
  std::vector<std::string> maxes;
  std::vector<std::string> cooldowns;
  for (const auto& r : rules) {
    scopes.push_back(r.scope);
    windows.push_back(std::to_string(r.window_ms));
    maxes.push_back(std::to_string(r.max_events));
    cooldowns.push_back(std::to_string(r.cooldown_ms));
  }
  const auto read = [](const Result::Row& row) {
    RateReservation d;
    d.allowed = row.boolean(0);
    d.refused_rule = static_cast<std::size_t>(row.i64(1));
    d.retry_after_ms = row.i64(2);
    d.event_ids = parse_bigint_array(row.text(3));
    return d;
  };
  static const std::string kReserve =
      "SELECT r_allowed, r_refused, r_retry_after_ms, r_event_ids FROM reserve_rate_events("
      "$1::text[], $2::bigint[], $3::integer[], $4::bigint[], $5::bigint)";
  return query_first(kReserve, read, array_literal(scopes), array_literal(windows),
                     array_literal(maxes), array_literal(cooldowns), now)
      .value();
}

// The event's second may hold other events: the row goes with its last event only. A reservation
// merging into the row meanwhile makes the DELETE match nothing (it re-checks n on the locked row)
// and the UPDATE take one off.
void PostgresStore::release_rate_event(std::int64_t event_id) {
  auto lease = borrow();
  if (exec(*lease, sql::kDeleteLastRateEvent, Params().bind(event_id)).affected() == 0) {
    exec(*lease, sql::kReleaseRateEvent, Params().bind(event_id));
  }
}

std::int64_t PostgresStore::purge_rate_events(std::int64_t older_than) {
  return run(sql::kPurgeRateEvents, older_than);
}

// ---- consents ----

void PostgresStore::insert_consent(const ConsentRecord& c) {
  auto lease = borrow();
  Params p;
  sql::bind_consent(p, c);
  exec(*lease, sql::kInsertConsent, p);
}

// One statement: a concurrent grant of the same token waits for the row lock, re-checks
// granted_at = 0 on the updated row and matches nothing, so a link works once.
std::optional<ConsentRecord> PostgresStore::grant_consent(
    const std::string& token_hash, std::int64_t now, const std::optional<ConsentEvent>& ledger) {
  if (!ledger)
    return query_first(sql::kGrantConsent, sql::read_consent<Result::Row>, token_hash, now);
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  auto granted = exec(c, sql::kGrantConsent, Params().bind(token_hash).bind(now))
                     .first(sql::read_consent<Result::Row>);
  if (granted) insert_consent_event(c, sql::granted_event(*ledger, *granted, now), false);
  tx.commit();
  return granted;
}

std::optional<ConsentRecord> PostgresStore::find_consent(const std::string& token_hash) {
  return query_first(sql::kSelectConsent, sql::read_consent<Result::Row>, token_hash);
}

std::vector<ConsentRecord> PostgresStore::consents_for(const std::string& environment,
                                                       const std::string& phone_bidx) {
  return query_all(sql::kSelectConsentsForPhone, sql::read_consent<Result::Row>, environment,
                   phone_bidx);
}

// ---- customer tokens ----

void PostgresStore::insert_customer_token(const CustomerTokenRow& token) {
  auto lease = borrow();
  Params p;
  sql::bind_customer_token(p, token);
  exec(*lease, sql::kInsertCustomerToken, p);
}

std::optional<CustomerTokenRow> PostgresStore::find_customer_token(const std::string& token_hash) {
  return query_first(sql::kSelectCustomerToken, sql::read_customer_token<Result::Row>, token_hash);
}

std::int64_t PostgresStore::purge_customer_tokens(std::int64_t older_than) {
  return run(sql::kPurgeCustomerTokens, older_than);
}

}  // namespace leadgate
