#pragma once
// The SQLite store's plumbing, shared by its role files (sqlite_*.cpp): a prepared statement, a
// transaction, and the helpers several roles use. Internal to the store.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql/rows.h"
#include "store/sql/statements.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace leadgate::sqlite {

// A statement in PostgreSQL's placeholders (statements.h) for SQLite: each $N becomes ?N, which
// SQLite binds to the N-th parameter (a repeated $N is bound once). `?` placeholders are kept.
// No statement has a `$` in a string literal.
inline std::string sqlite_sql(std::string_view sql) {
  std::string out(sql);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

// A prepared statement with positional binding; finalised on scope exit. The column reader of
// sql/rows.h (text, opt_text, i64, opt_i64, boolean) and its binder (bind).
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) : db_(db) {
    const std::string text = sqlite_sql(sql);
    if (sqlite3_prepare_v2(db, text.c_str(), static_cast<int>(text.size()), &stmt_, nullptr) !=
        SQLITE_OK) {
      fail("prepare");
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(const std::string& v) {
    sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(const char* v) { return bind(std::string(v)); }
  Stmt& bind(std::int64_t v) {
    sqlite3_bind_int64(stmt_, ++index_, v);
    return *this;
  }
  Stmt& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  Stmt& bind(bool v) { return bind(static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind(const std::optional<std::string>& v) {
    if (v) return bind(*v);
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }
  Stmt& bind(const std::optional<std::int64_t>& v) {
    if (v) return bind(*v);
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }

  // True when a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_CONSTRAINT || sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE) {
      throw StoreConflict(sqlite3_errmsg(db_));
    }
    fail("step");
  }
  void run() { step(); }

  std::string text(int col) const {
    auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::optional<std::string> opt_text(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return text(col);
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<std::int64_t> opt_i64(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return i64(col);
  }
  bool boolean(int col) const { return i64(col) != 0; }

  // Every remaining row, mapped by `read` (e.g. sql::read_lead<Stmt>).
  template <class Read>
  auto all(Read read) {
    std::vector<decltype(read(*this))> out;
    while (step()) out.push_back(read(*this));
    return out;
  }
  // The first row, mapped by `read`, or nullopt.
  template <class Read>
  auto first(Read read) -> std::optional<decltype(read(*this))> {
    if (!step()) return std::nullopt;
    return read(*this);
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    const int code = sqlite3_errcode(db_);
    std::string msg = std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
        code == SQLITE_CANTOPEN || code == SQLITE_FULL) {
      throw StoreUnavailable(msg);
    }
    throw std::runtime_error(msg);
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int index_ = 0;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
class Transaction {
 public:
  // durable false: committed without an fsync (synchronous=NORMAL for this transaction only;
  // LeadWrite::durable). The next FULL commit syncs the WAL, this one's frames included.
  explicit Transaction(sqlite3* db, bool durable = true) : db_(db), durable_(durable) {
    if (!durable_) exec("PRAGMA synchronous=NORMAL");
    try {
      exec("BEGIN IMMEDIATE");
    } catch (...) {
      restore_sync();
      throw;
    }
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    restore_sync();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    exec("COMMIT");
    done_ = true;
  }

 private:
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      throw StoreUnavailable(std::string("sqlite ") + sql + ": " + msg);
    }
  }
  void restore_sync() {
    if (!durable_) sqlite3_exec(db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  }

  sqlite3* db_;
  bool durable_;
  bool done_ = false;
};

// One statement with `args` bound in order to its placeholders (inside the caller's lock and
// transaction, if any): every row mapped by `read`, the first one, or the rows it changed.
template <class Read, class... Args>
auto query_all(sqlite3* db, std::string_view sql, Read read, const Args&... args) {
  Stmt s(db, sql);
  (s.bind(args), ...);
  return s.all(read);
}
template <class Read, class... Args>
auto query_first(sqlite3* db, std::string_view sql, Read read, const Args&... args) {
  Stmt s(db, sql);
  (s.bind(args), ...);
  return s.first(read);
}
template <class... Args>
std::int64_t run(sqlite3* db, std::string_view sql, const Args&... args) {
  Stmt s(db, sql);
  (s.bind(args), ...);
  s.run();
  return sqlite3_changes(db);
}

// A claim (outbox, inbox: UPDATE ... RETURNING) in its own transaction: every row mapped by `read`.
template <class Read, class... Args>
auto claim(sqlite3* db, std::string_view sql, Read read, const Args&... args) {
  Transaction tx(db);
  auto out = query_all(db, sql, read, args...);
  tx.commit();
  return out;
}

// Inserts one new outbox message (pending, no attempts, no delivery state yet) and returns its id.
std::int64_t insert_outbox(sqlite3* db, const OutboxMessage& m);

// Appends one consent event (PrivacyStore::record_consent's rule for only_if_changed; the
// whatsapp_updates opt-out is the caller's) and answers whether it was appended.
bool insert_consent_event(sqlite3* db, const ConsentEvent& e, bool only_if_changed);

}  // namespace leadgate::sqlite

namespace leadgate {

// The same under the store's mutex (declared in sqlite_store.h).
template <class Read, class... Args>
auto SqliteStore::query_all(std::string_view sql, Read read, const Args&... args) {
  std::lock_guard lock(mutex_);
  return sqlite::query_all(db_, sql, read, args...);
}
template <class Read, class... Args>
auto SqliteStore::query_first(std::string_view sql, Read read, const Args&... args) {
  std::lock_guard lock(mutex_);
  return sqlite::query_first(db_, sql, read, args...);
}
template <class... Args>
std::int64_t SqliteStore::run(std::string_view sql, const Args&... args) {
  std::lock_guard lock(mutex_);
  return sqlite::run(db_, sql, args...);
}

}  // namespace leadgate
