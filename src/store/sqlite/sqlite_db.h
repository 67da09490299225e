#pragma once
// The SQLite store's plumbing, shared by its role files (sqlite_*.cpp): a prepared statement, a
// transaction, and the helpers several roles use. Internal to the store.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "store/store.h"

namespace leadgate::sqlite {

// A prepared statement with positional binding; finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
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
  explicit Transaction(sqlite3* db) : db_(db) { exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
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
  sqlite3* db_;
  bool done_ = false;
};

// Inserts one new outbox message (pending, no attempts, no delivery state yet) and returns its id.
std::int64_t insert_outbox(sqlite3* db, const OutboxMessage& m);

}  // namespace leadgate::sqlite
