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
using pg::exec_script;
using pg::Params;
using pg::Result;
using pg::Transaction;

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
    if (exec(c, "SELECT 1 FROM schema_migrations WHERE version = $1", Params().add(version))
            .rows() > 0) {
      continue;  // rolled back: nothing to keep
    }
    exec_script(c, all[i]);
    exec(c, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
         Params().add(version).add(now_ms()));
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
std::map<std::string, std::int64_t> counts_by(Connection& c, const char* sql) {
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
  exec(*lease,
       "INSERT INTO metric_minutes (minute, resolution, instance, payload, updated_at) VALUES "
       "($1, $2, $3, $4, $5) ON CONFLICT (minute, resolution, instance) DO UPDATE SET payload = "
       "EXCLUDED.payload, updated_at = EXCLUDED.updated_at",
       Params()
           .add(m.minute)
           .add(static_cast<std::int64_t>(m.resolution))
           .add(m.instance)
           .add(m.payload_json)
           .add(m.updated_at));
}

std::vector<MetricMinute> PostgresStore::metric_minutes(int resolution, std::int64_t from_minute,
                                                        std::int64_t to_minute) {
  auto lease = borrow();
  const Result r =
      exec(*lease,
           "SELECT minute, instance, payload, updated_at FROM metric_minutes WHERE "
           "minute >= $1 AND minute < $2 AND resolution = $3 ORDER BY minute, instance",
           Params().add(from_minute).add(to_minute).add(static_cast<std::int64_t>(resolution)));
  std::vector<MetricMinute> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    MetricMinute m;
    m.minute = r.i64(i, 0);
    m.resolution = resolution;
    m.instance = r.text(i, 1);
    m.payload_json = r.text(i, 2);
    m.updated_at = r.i64(i, 3);
    out.push_back(std::move(m));
  }
  return out;
}

std::int64_t PostgresStore::purge_metric_minutes(std::int64_t before_minute) {
  auto lease = borrow();
  return exec(*lease, "DELETE FROM metric_minutes WHERE minute < $1", Params().add(before_minute))
      .affected();
}

std::map<std::string, std::int64_t> PostgresStore::outbox_counts() {
  auto lease = borrow();
  return counts_by(*lease, "SELECT status, COUNT(*) FROM outbox GROUP BY status");
}

std::map<std::string, std::int64_t> PostgresStore::inbox_counts() {
  auto lease = borrow();
  return counts_by(*lease, "SELECT state, COUNT(*) FROM whatsapp_inbox GROUP BY state");
}

// The whole database's size (every schema in it), as the server reports it.
std::int64_t PostgresStore::database_size_bytes() {
  auto lease = borrow();
  return exec(*lease, "SELECT pg_database_size(current_database())").i64(0, 0);
}

}  // namespace leadgate
