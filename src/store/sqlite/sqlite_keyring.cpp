// KeyringStore on SQLite: wrapped keys and re-sealing under a new master key (issue 21 §5).
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace leadgate {
using sqlite::Stmt;
using sqlite::Transaction;

std::optional<std::string> SqliteStore::keyring_key(const std::string& name) {
  return query_first(
      sql::kSelectKeyringKey, [](const Stmt& r) { return r.text(0); }, name);
}

bool SqliteStore::put_keyring_key(const std::string& name, const std::string& wrapped,
                                  const std::optional<std::string>& expected, std::int64_t now) {
  if (!expected) return run(sql::kInsertKeyringKey, name, wrapped, now) == 1;
  return run(sql::kReplaceKeyringKey, name, wrapped, now, *expected) == 1;
}

std::int64_t SqliteStore::reseal_page(
    const SealedColumn& c, std::string* after, int limit,
    const std::function<std::optional<std::string>(const std::string&)>& reseal,
    std::int64_t* written) {
  // Read, then re-seal with the store unlocked (the work is the caller's), then write.
  const auto rows =
      query_all(sql::select_sealed_page(c), sql::read_sealed_row<Stmt>, *after, limit);
  if (rows.empty()) return 0;
  const auto changes = sql::reseal_changes(rows, reseal);
  if (!changes.empty()) {
    std::lock_guard lock(mutex_);
    Transaction tx(db_);
    const std::string update = sql::update_sealed_value(c);
    for (const auto& ch : changes) *written += sqlite::run(db_, update, ch.key, ch.sealed, ch.read);
    tx.commit();
  }
  *after = rows.back().first;
  return static_cast<std::int64_t>(rows.size());
}

}  // namespace leadgate
