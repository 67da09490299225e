#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/postgres_db.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

namespace {

// Serialises migrations of every instance sharing the database ("leadgate" in ASCII).
constexpr std::int64_t kMigrationLockKey = 7810756212603057253;

}  // namespace

// ---- schema ----

void PostgresStore::migrate() {
  auto lease = borrow();
  Connection& c = *lease;
  const auto& all = postgres_migrations();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto version = static_cast<std::int64_t>(i + 1);
    // Each migration in its own transaction, under a lock every instance takes: several
    // instances starting at once apply each migration exactly once.
    Transaction tx(c);
    exec(c, "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
    exec_script(c,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "applied_at BIGINT NOT NULL)");
    if (exec(c, sql::kSelectMigration, Params().bind(version)).rows() > 0) {
      continue;  // rolled back: nothing to keep
    }
    exec_script(c, all[i]);
    exec(c, sql::kInsertMigration, Params().bind(version).bind(now_ms()));
    tx.commit();
  }
}

int PostgresStore::schema_version() {
  auto lease = borrow();
  Connection& c = *lease;
  if (!exec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL").boolean(0, 0)) return 0;
  return static_cast<int>(
      exec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").i64(0, 0));
}

int PostgresStore::expected_schema_version() const {
  return static_cast<int>(postgres_migrations().size());
}

void PostgresStore::ping() {
  auto lease = borrow();
  exec(*lease, "SELECT 1");
}

// ---- monitoring ----

namespace {

// Rows per value of one text column (outbox status, inbox state).
std::map<std::string, std::int64_t> counts_by(Connection& c, const std::string& sql) {
  const Result r = exec(c, sql);
  std::map<std::string, std::int64_t> out;
  for (int i = 0; i < r.rows(); ++i) out[r.text(i, 0)] = r.i64(i, 1);
  return out;
}

}  // namespace

// ON CONFLICT DO UPDATE: concurrent writes of one (minute, instance) serialise on the row; the
// last one's payload wins.
void PostgresStore::put_metric_minute(const MetricMinute& m) {
  auto lease = borrow();
  Params p;
  sql::bind_metric_minute(p, m);
  exec(*lease, sql::kUpsertMetricMinute, p);
}

std::vector<MetricMinute> PostgresStore::metric_minutes(int resolution, std::int64_t from_minute,
                                                        std::int64_t to_minute) {
  auto lease = borrow();
  return exec(
             *lease, sql::kSelectMetricMinutes,
             Params().bind(from_minute).bind(to_minute).bind(static_cast<std::int64_t>(resolution)))
      .all([&](const Result::Row& r) { return sql::read_metric_minute(r, resolution); });
}

std::int64_t PostgresStore::purge_metric_minutes(std::int64_t before_minute) {
  return run(sql::kPurgeMetricMinutes, before_minute);
}

std::map<std::string, std::int64_t> PostgresStore::outbox_counts() {
  auto lease = borrow();
  return counts_by(*lease, sql::kCountOutboxByStatus);
}

std::map<std::string, std::int64_t> PostgresStore::inbox_counts() {
  auto lease = borrow();
  return counts_by(*lease, sql::kCountInboxByState);
}

// The whole database's size (every schema in it), as the server reports it.
std::int64_t PostgresStore::database_size_bytes() {
  auto lease = borrow();
  return exec(*lease, "SELECT pg_database_size(current_database())").i64(0, 0);
}

// ---- schema 13's backfill ----

std::int64_t PostgresStore::seal_plaintext_leads(
    int limit, const std::function<SealedLeadFields(SealedLeadFields)>& seal) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  // Two instances starting together seal each row once, neither waiting for the other.
  const Result r =
      exec(c, sql::kSelectPlaintextLeads + " FOR UPDATE SKIP LOCKED", Params().bind(limit));
  const auto rows = r.all([](const Result::Row& row) {
    return SealedLeadFields{row.i64(0), row.text(1), row.opt_text(2), row.opt_text(3)};
  });
  for (const auto& row : rows) {
    const SealedLeadFields sealed = seal(row);
    exec(c, sql::kSealLeadFields,
         Params()
             .bind(row.id)
             .bind(sealed.credit_score)
             .bind(sealed.annual_income)
             .bind(sealed.remarks));
  }
  tx.commit();
  return static_cast<std::int64_t>(rows.size());
}

std::int64_t PostgresStore::seal_plaintext_idempotency(
    int limit, const std::function<std::string(std::string)>& seal) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const Result r =
      exec(c, sql::kSelectPlaintextIdempotency + " FOR UPDATE SKIP LOCKED", Params().bind(limit));
  for (int i = 0; i < r.rows(); ++i) {
    exec(c, sql::kSealIdempotencyBody,
         Params().bind(r.text(i, 0)).bind(r.text(i, 1)).bind(seal(r.text(i, 2))));
  }
  tx.commit();
  return r.rows();
}

}  // namespace leadgate
