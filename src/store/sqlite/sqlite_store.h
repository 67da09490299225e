#pragma once
// Embedded store: one SQLite connection in WAL mode, serialised by a mutex (SQLite has a single
// writer anyway). Blocking: call it off the I/O threads.
// Read-modify-write operations (update_otp, reserve_rate_event) run in BEGIN IMMEDIATE
// transactions, which take the file's write lock first: they are serialised across store
// instances and processes on the same file too, not only by the mutex.
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

struct sqlite3;

namespace leadgate {

const std::vector<std::string>& sqlite_migrations();

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  std::string kind() const override { return "sqlite"; }
#include "store/store_overrides.inc"

 private:
  // One statement under the mutex, `args` bound in order (defined in sqlite_db.h): every row
  // mapped by `read` (e.g. sql::read_lead<sqlite::Stmt>), the first one, or the rows it changed.
  template <class Read, class... Args>
  auto query_all(std::string_view sql, Read read, const Args&... args);
  template <class Read, class... Args>
  auto query_first(std::string_view sql, Read read, const Args&... args);
  template <class... Args>
  std::int64_t run(std::string_view sql, const Args&... args);
  void exec(const char* sql);
  void checkpoint_after_sealing(std::size_t sealed);  // mutex_ held
  // Inserts audit entries and outbox messages (inside the caller's transaction).
  void write_children(const std::vector<AuditEntry>& audit,
                      const std::vector<OutboxMessage>& outbox);
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace leadgate
