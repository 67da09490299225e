// KeyringStore on PostgreSQL: wrapped keys and re-sealing under a new master key (issue 21 §5).
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/postgres_db.h"
#include "store/postgres/postgres_store.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

std::optional<std::string> PostgresStore::keyring_key(const std::string& name) {
  return query_first(
      sql::kSelectKeyringKey, [](const Result::Row& r) { return r.text(0); }, name);
}

bool PostgresStore::put_keyring_key(const std::string& name, const std::string& wrapped,
                                    const std::optional<std::string>& expected, std::int64_t now) {
  if (!expected) return run(sql::kInsertKeyringKey, name, wrapped, now) == 1;
  return run(sql::kReplaceKeyringKey, name, wrapped, now, *expected) == 1;
}

std::int64_t PostgresStore::reseal_page(
    const SealedColumn& c, std::string* after, int limit,
    const std::function<std::optional<std::string>(const std::string&)>& reseal,
    std::int64_t* written) {
  const auto rows = query_all(
      sql::select_sealed_page(c),
      [](const Result::Row& r) {
        return std::pair<std::string, std::string>(r.text(0), r.text(1));
      },
      *after, limit);
  if (rows.empty()) return 0;
  const auto changes = sql::reseal_changes(rows, reseal);
  if (!changes.empty()) {
    auto lease = borrow();
    Connection& conn = *lease;
    Transaction tx(conn);
    const std::string update = sql::update_sealed_value(c);
    for (const auto& ch : changes) {
      *written += exec(conn, update, params(ch.key, ch.sealed, ch.read)).affected();
    }
    tx.commit();
  }
  *after = rows.back().first;
  return static_cast<std::int64_t>(rows.size());
}

}  // namespace leadgate
