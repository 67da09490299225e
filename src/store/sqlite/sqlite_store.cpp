#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"

namespace leadgate {
using sqlite::insert_outbox;
using sqlite::Stmt;
using sqlite::Transaction;

namespace sqlite {

std::int64_t insert_outbox(sqlite3* db, const OutboxMessage& m) {
  Stmt s(db, sql::kInsertOutbox);
  sql::bind_new_outbox(s, m);
  s.run();
  return sqlite3_last_insert_rowid(db);
}

}  // namespace sqlite

SqliteStore::SqliteStore(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreUnavailable("cannot open sqlite database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  // WAL + synchronous=FULL: an acknowledged write survives a crash of the process or machine.
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
  // Deleted and overwritten content is zeroed, not left in free space where a copy of the file
  // would still show it (sealing plaintext in place, purges, erasure).
  exec("PRAGMA secure_delete=ON");
}

SqliteStore::~SqliteStore() {
  sqlite3_close(db_);
}

void SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(std::string("sqlite: ") + msg);
  }
}

void SqliteStore::write_children(const std::vector<AuditEntry>& audit,
                                 const std::vector<OutboxMessage>& outbox) {
  const std::string insert_audit = sql::insert_audit(1);
  for (const auto& a : audit) {
    Stmt s(db_, insert_audit);
    sql::bind_audit(s, a);
    s.run();
  }
  for (const auto& m : outbox) insert_outbox(db_, m);
}

}  // namespace leadgate
