#pragma once
// PostgreSQL store: a bounded pool of blocking libpq connections, used off the I/O threads (see
// core/offload.h) like every Store. Connections are opened lazily, one per concurrent call up to
// the pool size; a call that finds none free within the acquire timeout fails with
// StoreUnavailable (503) instead of queueing without bound. A connection that breaks is discarded
// and reopened by the next call, so the service recovers by itself when the database returns.
//
// Statements are parameterised. Outside a transaction each runs as a named prepared statement,
// prepared once per connection (PostgreSQL then skips parsing and mostly planning); inside
// BEGIN … COMMIT, unnamed. Behind a transaction-mode pooler that cannot carry named statements
// from one server connection to another (PgBouncer before 1.21; 1.21+ with
// max_prepared_statements, and Supavisor, can), the first execution landing where its statement
// was not prepared fails before running (26000): it is run again unnamed and the store stops
// naming statements. So a failure of a named statement never aborts a transaction. Connections
// set plan_cache_mode = force_custom_plan until the leads have statistics, then PostgreSQL's
// default (generic plans where they cost no more; see settle_plans()).
// The URL is a libpq connection URI (sslmode=require etc. work as documented). Unless the URL sets
// them: connect_timeout=3 (s), TCP keepalives after 30 s idle, tcp_user_timeout=30000 (ms), so a
// vanished server is noticed in bounded time; application_name=leadgate.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/store.h"

namespace leadgate {

const std::vector<std::string>& postgres_migrations();

std::unique_ptr<Store> make_postgres_store(const std::string& url, int pool_size);

class PostgresStore final : public Store {
 public:
  // Throws std::invalid_argument when the URL is not a valid libpq connection string; does not
  // connect (the first call does).
  PostgresStore(const std::string& url, int pool_size,
                std::chrono::milliseconds acquire_timeout = std::chrono::seconds(2));
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  std::string kind() const override { return "postgresql"; }
#include "store/store_overrides.inc"

  // One pooled connection; defined in the .cpp.
  struct Connection;

 private:
  class Lease;
  friend class Lease;

  Lease borrow();
  // One statement on a borrowed connection, `args` bound in order (defined in postgres_db.h):
  // every row mapped by `read` (e.g. sql::read_lead<pg::Result::Row>), the first one, or the
  // rows it touched.
  template <class Read, class... Args>
  auto query_all(const std::string& sql, Read read, const Args&... args);
  template <class Read, class... Args>
  auto query_first(const std::string& sql, Read read, const Args&... args);
  template <class... Args>
  std::int64_t run(const std::string& sql, const Args&... args);
  // The same for a claim (outbox, inbox), run by pg::claim_in_index_order.
  template <class Read, class... Args>
  auto claim(const std::string& sql, Read read, const Args&... args);
  void give_back(std::unique_ptr<Connection> conn);
  std::unique_ptr<Connection> connect();
  void settle_plans(Connection& c);

  std::string url_;
  int pool_size_;
  std::chrono::milliseconds acquire_timeout_;

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;                              // connections in idle_, lent out, or being opened
  std::atomic<bool> named_statements_{true};  // off for good after a pooler lost one (see exec)
};

}  // namespace leadgate
