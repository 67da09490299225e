// PrivacyStore on SQLite: the consent ledger (issue 21).
#include <cstdint>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace leadgate {

namespace sqlite {

bool insert_consent_event(sqlite3* db, const ConsentEvent& e, bool only_if_changed) {
  Stmt s(db, sql::kInsertConsentEvent);
  sql::bind_consent_event(s, e, only_if_changed);
  s.run();
  return sqlite3_changes(db) == 1;
}

}  // namespace sqlite

using sqlite::Stmt;
using sqlite::Transaction;

bool SqliteStore::record_consent(const ConsentEvent& e, bool only_if_changed) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  const bool appended = sqlite::insert_consent_event(db_, e, only_if_changed);
  if (appended && e.purpose == "whatsapp_updates") {
    Stmt(db_, sql::kUpsertOptOut)
        .bind(e.environment)
        .bind(e.phone_bidx)
        .bind(e.action == "withdrawn")
        .bind(e.at)
        .run();
  }
  tx.commit();
  return appended;
}

std::vector<ConsentEvent> SqliteStore::consent_events(const std::string& environment,
                                                      const std::string& phone_bidx) {
  return query_all(sql::kSelectConsentEvents, sql::read_consent_event<Stmt>, environment,
                   phone_bidx);
}

RetentionCounts SqliteStore::purge_transient(const RetentionCutoffs& cutoffs) {
  return sql::purge_transient(
      [this](const std::string& statement, std::int64_t cutoff) { return run(statement, cutoff); },
      cutoffs);
}

DataKeyRow SqliteStore::person_data_key(const std::string& environment,
                                        const std::string& phone_bidx,
                                        const std::string& wrapped_if_new, std::int64_t now) {
  std::lock_guard lock(mutex_);
  if (auto found = sqlite::query_first(db_, sql::kSelectPersonKey, sql::read_data_key<Stmt>,
                                       environment, phone_bidx)) {
    return *found;
  }
  // A new person: their key, inserted; one inserted meanwhile by another process wins.
  Transaction tx(db_);
  auto row = sqlite::query_first(db_, sql::kInsertPersonKey, sql::read_data_key<Stmt>, environment,
                                 phone_bidx, wrapped_if_new, now);
  if (!row) {
    row = sqlite::query_first(db_, sql::kSelectPersonKey, sql::read_data_key<Stmt>, environment,
                              phone_bidx);
  }
  tx.commit();
  return row.value();
}

std::optional<std::string> SqliteStore::wrapped_data_key(std::int64_t id) {
  return query_first(
      sql::kSelectWrappedKey, [](const Stmt& r) { return r.text(0); }, id);
}

ErasureCounts SqliteStore::erase_person(const PersonErasure& e) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  const ErasureCounts n = sql::erase_person(
      [this](const std::string& statement, const auto&... args) {
        return sqlite::run(db_, statement, args...);
      },
      e);
  sqlite::insert_consent_event(db_, e.ledger, false);
  write_children({e.audit}, {});
  tx.commit();
  // Old pages in the WAL still hold the erased values until a checkpoint overwrites them
  // (secure_delete zeroes the database file's free space; the WAL is truncated here).
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return n;
}

std::vector<PersonRef> SqliteStore::inactive_people(std::int64_t inactive_before,
                                                    const PersonRef& after, int limit) {
  return query_all(sql::kSelectInactivePeople, sql::read_person_ref<Stmt>, inactive_before,
                   after.environment, after.phone_bidx, limit);
}

}  // namespace leadgate
