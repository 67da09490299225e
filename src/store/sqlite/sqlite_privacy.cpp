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

}  // namespace leadgate
