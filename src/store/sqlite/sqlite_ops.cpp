#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"

namespace leadgate {
using sqlite::Stmt;
using sqlite::Transaction;

void SqliteStore::migrate() {
  std::lock_guard lock(mutex_);
  exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_at INTEGER NOT NULL)");
  const auto& all = sqlite_migrations();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto version = static_cast<std::int64_t>(i + 1);
    Transaction tx(db_);
    Stmt check(db_, sql::kSelectMigration);
    check.bind(version);
    if (check.step()) continue;
    exec(all[i].c_str());
    Stmt mark(db_, sql::kInsertMigration);
    mark.bind(version).bind(now_ms()).run();
    tx.commit();
  }
}

int SqliteStore::schema_version() {
  std::lock_guard lock(mutex_);
  {
    // Checked first: SQLite resolves table names when preparing, so one guarded query fails.
    Stmt exists(db_,
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists.step()) return 0;
  }
  Stmt s(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return s.step() ? static_cast<int>(s.i64(0)) : 0;
}

int SqliteStore::expected_schema_version() const {
  return static_cast<int>(sqlite_migrations().size());
}

void SqliteStore::ping() {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "SELECT 1");
  s.step();
}

// ---- monitoring ----

namespace {

// Rows per value of one text column (outbox status, inbox state); inside the store mutex.
std::map<std::string, std::int64_t> counts_by(sqlite3* db, const std::string& sql) {
  Stmt s(db, sql);
  std::map<std::string, std::int64_t> out;
  while (s.step()) out[s.text(0)] = s.i64(1);
  return out;
}

}  // namespace

void SqliteStore::put_metric_minute(const MetricMinute& m) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kUpsertMetricMinute);
  sql::bind_metric_minute(s, m);
  s.run();
}

std::vector<MetricMinute> SqliteStore::metric_minutes(int resolution, std::int64_t from_minute,
                                                      std::int64_t to_minute) {
  return query_all(
      sql::kSelectMetricMinutes,
      [&](const Stmt& r) { return sql::read_metric_minute(r, resolution); }, from_minute, to_minute,
      static_cast<std::int64_t>(resolution));
}

std::int64_t SqliteStore::purge_metric_minutes(std::int64_t before_minute) {
  return run(sql::kPurgeMetricMinutes, before_minute);
}

std::map<std::string, std::int64_t> SqliteStore::outbox_counts() {
  std::lock_guard lock(mutex_);
  return counts_by(db_, sql::kCountOutboxByStatus);
}

std::map<std::string, std::int64_t> SqliteStore::inbox_counts() {
  std::lock_guard lock(mutex_);
  return counts_by(db_, sql::kCountInboxByState);
}

// The database's size as of its latest commit (pages still in the WAL included), free pages
// included; the size of the -wal file itself is not added.
std::int64_t SqliteStore::database_size_bytes() {
  std::lock_guard lock(mutex_);
  Stmt count(db_, "PRAGMA page_count");
  Stmt size(db_, "PRAGMA page_size");
  if (!count.step() || !size.step()) return 0;
  return count.i64(0) * size.i64(0);
}

// ---- schema 13's backfill ----

// The WAL still holds the pages as they were before sealing: copy the new ones into the database
// file and empty the log, so that no plaintext survives in either.
void SqliteStore::checkpoint_after_sealing(std::size_t sealed) {
  if (sealed > 0) exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::int64_t SqliteStore::seal_plaintext_leads(
    int limit, const std::function<SealedLeadFields(SealedLeadFields)>& seal) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt select(db_, sql::kSelectPlaintextLeads);
  select.bind(limit);
  const auto rows = select.all([](Stmt& s) {
    return SealedLeadFields{s.i64(0), s.text(1), s.opt_text(2), s.opt_text(3)};
  });
  for (const auto& row : rows) {
    const SealedLeadFields sealed = seal(row);
    Stmt(db_, sql::kSealLeadFields)
        .bind(row.id)
        .bind(sealed.credit_score)
        .bind(sealed.annual_income)
        .bind(sealed.remarks)
        .run();
  }
  tx.commit();
  checkpoint_after_sealing(rows.size());
  return static_cast<std::int64_t>(rows.size());
}

std::int64_t SqliteStore::seal_plaintext_idempotency(
    int limit, const std::function<std::string(std::string)>& seal) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  Stmt select(db_, sql::kSelectPlaintextIdempotency);
  select.bind(limit);
  struct Stored {
    std::string scope, key, body;
  };
  const auto rows = select.all([](Stmt& s) { return Stored{s.text(0), s.text(1), s.text(2)}; });
  for (const auto& row : rows) {
    Stmt(db_, sql::kSealIdempotencyBody).bind(row.scope).bind(row.key).bind(seal(row.body)).run();
  }
  tx.commit();
  checkpoint_after_sealing(rows.size());
  return static_cast<std::int64_t>(rows.size());
}

}  // namespace leadgate
