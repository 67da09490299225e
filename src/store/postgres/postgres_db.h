#pragma once
// The PostgreSQL store's plumbing, shared by its role files (postgres_*.cpp): a pooled
// connection, query parameters and results, statement execution, transactions, and the helpers
// several roles use. Internal to the store.
#include <libpq-fe.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/postgres/postgres_store.h"
#include "store/sql/rows.h"
#include "store/sql/statements.h"

namespace leadgate {

// One libpq connection. `broken` is set when a query failed with a connection-class error or the
// server announced, while the connection sat idle, that it is closing it (FATAL: e.g. the backend
// was terminated or the server is shutting down); a broken connection is never reused.
struct PostgresStore::Connection {
  PGconn* pg = nullptr;
  bool broken = false;
  // Named statements (see exec): the store's switch, and the names prepared on this connection.
  std::atomic<bool>* named = nullptr;
  std::unordered_set<std::string> prepared;
  // Plans (see PostgresStore::settle_plans): custom until `leads` has statistics, then
  // PostgreSQL's default (a generic plan once it measures no worse); when that was last looked at.
  bool generic_plans = false;
  std::chrono::steady_clock::time_point plans_checked{};

  Connection() = default;
  ~Connection() {
    if (pg) PQfinish(pg);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};

// A borrowed connection, returned to the pool (or discarded when broken) on scope exit.
class PostgresStore::Lease {
 public:
  Lease(PostgresStore& store, std::unique_ptr<Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  ~Lease() {
    if (conn_) store_.give_back(std::move(conn_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Connection& operator*() const { return *conn_; }

 private:
  PostgresStore& store_;
  std::unique_ptr<Connection> conn_;
};

namespace pg {

using Connection = PostgresStore::Connection;

// Text-format query parameters; std::nullopt is SQL NULL. The binder of sql/rows.h.
class Params {
 public:
  Params& bind(const std::string& v) {
    values_.emplace_back(v);
    return *this;
  }
  Params& bind(const char* v) { return bind(std::string(v)); }
  Params& bind(std::int64_t v) { return bind(std::to_string(v)); }
  Params& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  Params& bind(bool v) { return bind(std::string(v ? "true" : "false")); }
  Params& bind(const std::optional<std::string>& v) {
    values_.push_back(v);
    return *this;
  }
  Params& bind(const std::optional<std::int64_t>& v) {
    if (v) return bind(*v);
    values_.emplace_back();
    return *this;
  }

  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
    return out;
  }

 private:
  std::vector<std::optional<std::string>> values_;
};

// A unique violation (23505), naming the constraint or unique index that refused the row
// (PG_DIAG_CONSTRAINT_NAME), for callers that tell several unique rules apart.
struct UniqueViolation : StoreConflict {
  UniqueViolation(const std::string& message, std::string constraint_name)
      : StoreConflict(message), constraint(std::move(constraint_name)) {}
  std::string constraint;
};

struct ClearResult {
  void operator()(PGresult* r) const { PQclear(r); }
};

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}

  // One row of the result: the column reader of sql/rows.h.
  struct Row {
    const Result& r;
    int row;
    std::string text(int col) const { return r.text(row, col); }
    std::optional<std::string> opt_text(int col) const { return r.opt_text(row, col); }
    std::int64_t i64(int col) const { return r.i64(row, col); }
    std::optional<std::int64_t> opt_i64(int col) const { return r.opt_i64(row, col); }
    bool boolean(int col) const { return r.boolean(row, col); }
  };
  // Every row, mapped by `read` (e.g. sql::read_lead<Result::Row>).
  template <class Read>
  auto all(Read read) const {
    std::vector<decltype(read(Row{*this, 0}))> out;
    out.reserve(static_cast<std::size_t>(rows()));
    for (int i = 0; i < rows(); ++i) out.push_back(read(Row{*this, i}));
    return out;
  }
  // The first row, mapped by `read`, or nullopt.
  template <class Read>
  auto first(Read read) const -> std::optional<decltype(read(Row{*this, 0}))> {
    if (rows() == 0) return std::nullopt;
    return read(Row{*this, 0});
  }

  int rows() const { return PQntuples(r_.get()); }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  std::optional<std::string> opt_text(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return text(row, col);
  }
  std::int64_t i64(int row, int col) const { return parse(PQgetvalue(r_.get(), row, col)); }
  std::optional<std::int64_t> opt_i64(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return i64(row, col);
  }
  bool boolean(int row, int col) const { return PQgetvalue(r_.get(), row, col)[0] == 't'; }
  // Rows an INSERT/UPDATE/DELETE touched.
  std::int64_t affected() const {
    const char* n = PQcmdTuples(r_.get());
    return (n && *n) ? parse(n) : 0;
  }

 private:
  static std::int64_t parse(const char* s) {
    std::int64_t v = 0;
    const char* end = s + std::char_traits<char>::length(s);
    const auto [ptr, ec] = std::from_chars(s, end, v);
    if (ec != std::errc() || ptr != end) {
      throw std::runtime_error(std::string("postgresql: not an integer: ") + s);
    }
    return v;
  }
  std::unique_ptr<PGresult, ClearResult> r_;
};

// Parameters with `args` bound in order.
template <class... Args>
Params params(const Args&... args) {
  Params p;
  (p.bind(args), ...);
  return p;
}

// One parameterised statement (see postgres_store.cpp: named outside a transaction).
Result exec(Connection& c, const char* sql, const Params& params = Params());
Result exec(Connection& c, const std::string& sql, const Params& params = Params());
// Several statements without parameters (migrations).
void exec_script(Connection& c, const std::string& sql);

// BEGIN ... COMMIT on one connection, rolled back unless committed.
class Transaction {
 public:
  // durable false: the commit does not wait for the WAL flush (LeadWrite::durable).
  explicit Transaction(Connection& c, bool durable = true) : c_(c) {
    exec_script(c_, durable ? "BEGIN" : "BEGIN; SET LOCAL synchronous_commit = off");
  }
  ~Transaction() {
    if (done_ || c_.broken) return;
    PGresult* r = PQexec(c_.pg, "ROLLBACK");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) c_.broken = true;
    PQclear(r);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    exec(c_, "COMMIT");
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

// Inserts one new outbox message (pending, no attempts, no delivery state yet) and returns its id.
std::int64_t insert_outbox(Connection& c, const OutboxMessage& m);

// Appends one consent event (PrivacyStore::record_consent's rule for only_if_changed; the
// whatsapp_updates opt-out is the caller's) and answers whether it was appended.
bool insert_consent_event(Connection& c, const ConsentEvent& e, bool only_if_changed);

// Inserts audit entries and outbox messages (inside the caller's transaction).
void write_children(Connection& c, const std::vector<AuditEntry>& audit,
                    const std::vector<OutboxMessage>& outbox);

// Runs a claim (outbox, inbox) in its own transaction in the due index's order (see
// postgres_store.cpp).
Result claim_in_index_order(Connection& c, const std::string& sql, const Params& params);

}  // namespace pg

template <class Read, class... Args>
auto PostgresStore::query_all(const std::string& sql, Read read, const Args&... args) {
  auto lease = borrow();
  return pg::exec(*lease, sql, pg::params(args...)).all(read);
}
template <class Read, class... Args>
auto PostgresStore::query_first(const std::string& sql, Read read, const Args&... args) {
  auto lease = borrow();
  return pg::exec(*lease, sql, pg::params(args...)).first(read);
}
template <class... Args>
std::int64_t PostgresStore::run(const std::string& sql, const Args&... args) {
  auto lease = borrow();
  return pg::exec(*lease, sql, pg::params(args...)).affected();
}
template <class Read, class... Args>
auto PostgresStore::claim(const std::string& sql, Read read, const Args&... args) {
  auto lease = borrow();
  return pg::claim_in_index_order(*lease, sql, pg::params(args...)).all(read);
}

}  // namespace leadgate
