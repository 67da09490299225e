#include <chrono>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace leadgate {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<Store> open_store(const std::string& database_url, int pool_size) {
  if (database_url.rfind("sqlite:", 0) == 0) {
    return std::make_unique<SqliteStore>(database_url.substr(7));
  }
  if (database_url.rfind("postgresql://", 0) == 0 || database_url.rfind("postgres://", 0) == 0) {
    return make_postgres_store(database_url, pool_size);
  }
  throw std::invalid_argument("LEADGATE_DATABASE_URL must start with sqlite: or postgresql://");
}

}  // namespace leadgate
