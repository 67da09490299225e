#include "store/postgres/postgres_store.h"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/postgres_db.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

namespace {

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Notices (e.g. "relation already exists, skipping") are dropped rather than printed on stderr.
// A FATAL arriving while no query runs means the server is closing this connection.
void on_notice(void* arg, const PGresult* res) {
  const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity && (std::string(severity) == "FATAL" || std::string(severity) == "PANIC")) {
    static_cast<Connection*>(arg)->broken = true;
  }
}

// A pooled idle connection may have been closed by the server meanwhile (backend terminated,
// server restarted, idle timeout): read whatever arrived without blocking and check.
bool still_usable(Connection& c) {
  if (c.broken || PQstatus(c.pg) != CONNECTION_OK) return false;
  pollfd pfd{};
  pfd.fd = PQsocket(c.pg);
  pfd.events = POLLIN;
  if (pfd.fd < 0) return false;
  const int ready = poll(&pfd, 1, 0);
  if (ready < 0) return false;
  if (ready > 0) {
    if (PQconsumeInput(c.pg) == 0) return false;  // EOF: the server closed it
    PQisBusy(c.pg);  // parses what arrived: a FATAL notice marks the connection broken
  }
  return !c.broken && PQstatus(c.pg) == CONNECTION_OK && PQtransactionStatus(c.pg) == PQTRANS_IDLE;
}

}  // namespace

namespace pg {

namespace {

bool connection_error(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 ||  // connection_exception
         sqlstate == "57P01" ||           // admin_shutdown (backend terminated)
         sqlstate == "57P02" ||           // crash_shutdown
         sqlstate == "57P03";             // cannot_connect_now (starting up / shutting down)
}

// Transient conditions worth a retry by the client: 503 rather than 500.
bool transient_error(const std::string& sqlstate) {
  return sqlstate == "40001" ||         // serialization_failure
         sqlstate == "40P01" ||         // deadlock_detected
         sqlstate == "55P03" ||         // lock_not_available
         sqlstate == "57014" ||         // query_canceled (statement_timeout)
         sqlstate.rfind("53", 0) == 0;  // insufficient_resources (too many connections, disk full)
}

// Maps a finished command to a Result or the Store's exceptions. The message carries the primary
// text only: DETAIL may quote column values.
Result checked(Connection& c, PGresult* raw) {
  if (!raw) {
    c.broken = true;
    throw StoreUnavailable("postgresql: " + trimmed(PQerrorMessage(c.pg)));
  }
  Result result(raw);
  const ExecStatusType status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  const char* state_field = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state_field ? state_field : "";
  const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
  const std::string message = "postgresql" + (sqlstate.empty() ? std::string() : " " + sqlstate) +
                              ": " +
                              (primary ? std::string(primary) : trimmed(PQresultErrorMessage(raw)));

  // libpq's own errors (no SQLSTATE) are lost connections: "server closed the connection", ...
  const bool lost = PQstatus(c.pg) != CONNECTION_OK || connection_error(sqlstate) ||
                    sqlstate.empty() || status == PGRES_BAD_RESPONSE ||
                    (status != PGRES_FATAL_ERROR && status != PGRES_NONFATAL_ERROR);
  if (lost) {
    c.broken = true;
    throw StoreUnavailable(message);
  }
  if (sqlstate == "23505") {
    const char* constraint = PQresultErrorField(raw, PG_DIAG_CONSTRAINT_NAME);
    throw UniqueViolation(message, constraint ? constraint : "");
  }
  if (transient_error(sqlstate)) throw StoreUnavailable(message);
  throw std::runtime_error(message);
}

// A statement's server-side name: its text's 64-bit FNV-1a hash, so a name always means the same
// text, whichever connection prepared it.
std::string statement_name(const char* sql) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char* p = sql; *p; ++p) {
    h ^= static_cast<unsigned char>(*p);
    h *= 1099511628211ULL;
  }
  char out[24];
  std::snprintf(out, sizeof out, "lg_%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::string sqlstate_of(const PGresult* r) {
  const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "";
}

// At most this many named statements per connection; statements beyond them (multi-row INSERTs

}  // namespace

// of unusual sizes) run unnamed.
constexpr std::size_t kMaxNamedStatements = 200;

// One parameterised statement. Outside a transaction it runs as a named prepared statement,
// prepared once per connection (the server skips parsing and, after a few runs, planning:
// PostgreSQL's CPU per statement is mostly parse and plan of leadgate's short statements); inside
// one, unnamed. A transaction-mode pooler without prepared-statement support (PgBouncer before
// 1.21) can run the execution on another server connection than the preparation: that fails with
// 26000 before anything ran, and the statement is run again unnamed and named statements are
// switched off for the store. Transactions never use them, so that a failure can never abort one.
Result exec(Connection& c, const char* sql, const Params& params) {
  const auto values = params.pointers();
  if (c.named && c.named->load(std::memory_order_relaxed) &&
      PQtransactionStatus(c.pg) == PQTRANS_IDLE) {
    const std::string name = statement_name(sql);
    bool ready = c.prepared.contains(name);
    if (!ready && c.prepared.size() < kMaxNamedStatements) {
      PGresult* p = PQprepare(c.pg, name.c_str(), sql, params.size(), nullptr);
      if (p && (PQresultStatus(p) == PGRES_COMMAND_OK || sqlstate_of(p) == "42P05")) {
        // 42P05: this server connection has it already (a pooler's, prepared by another client
        // connection): the same name is the same text.
        PQclear(p);
        c.prepared.insert(name);
        ready = true;
      } else {
        checked(c, p);  // throws: a broken connection, a syntax error, ...
      }
    }
    if (ready) {
      PGresult* r =
          PQexecPrepared(c.pg, name.c_str(), params.size(), values.data(), nullptr, nullptr, 0);
      const std::string state =
          PQresultStatus(r) == PGRES_FATAL_ERROR ? sqlstate_of(r) : std::string();
      if (state == "26000") {
        PQclear(r);
        c.named->store(false, std::memory_order_relaxed);
        c.prepared.clear();
      } else if (state == "0A000") {
        // "cached plan must not change result type": the table changed under it (another
        // instance migrated). Prepared again at its next use.
        PQclear(r);
        c.prepared.erase(name);
        PQclear(PQexec(c.pg, ("DEALLOCATE " + name).c_str()));
      } else {
        return checked(c, r);
      }
    }
  }
  return checked(
      c, PQexecParams(c.pg, sql, params.size(), nullptr, values.data(), nullptr, nullptr, 0));
}
Result exec(Connection& c, const std::string& sql, const Params& params) {
  return exec(c, sql.c_str(), params);
}

// Several statements without parameters (migrations).
void exec_script(Connection& c, const std::string& sql) {
  checked(c, PQexec(c.pg, sql.c_str()));
}

// Inserts one new outbox message (pending, no attempts, no delivery state yet) and returns its id.
std::int64_t insert_outbox(Connection& c, const OutboxMessage& m) {
  Params p;
  sql::bind_new_outbox(p, m);
  return exec(c, sql::kInsertOutbox + " RETURNING id", p).i64(0, 0);
}

// Inserts audit entries and outbox messages (inside the caller's transaction). The audit rows go
// in multi-row INSERTs, one round trip per 1,000 rows instead of one per row (a new lead writes
// 15): VALUES rows get their ids in order, so audit_for's ORDER BY id is unchanged.
void write_children(Connection& c, const std::vector<AuditEntry>& audit,
                    const std::vector<OutboxMessage>& outbox) {
  constexpr std::size_t kRowsPerStatement = 1000;  // 10,000 parameters, far below libpq's 65,535
  for (std::size_t first = 0; first < audit.size(); first += kRowsPerStatement) {
    const std::size_t rows = std::min(kRowsPerStatement, audit.size() - first);
    Params p;
    for (std::size_t i = first; i < first + rows; ++i) {
      sql::bind_audit(p, audit[i]);
    }
    exec(c, sql::insert_audit(rows), p);
  }
  for (const auto& m : outbox) insert_outbox(c, m);
}

// Claims read the due index in its order. Before a table's first ANALYZE (a new deployment's
// first burst, autovacuum not caught up) the planner guesses a few dozen due rows, and with that
// guess a bitmap scan that fetches and sorts every due row looks cheaper than the ordered index
// scan: 40-95 ms per claim at 60,000-100,000 pending webhook events, measured. A claim therefore
// runs in its own transaction with sorting disabled, which leaves the ordered index scan, and JIT
// off: a disabled sort still costs 10^10 where it remains (the claimed rows' final order), and at
// that cost PostgreSQL compiles the query, 250 ms per claim. SET LOCAL ends with the transaction,
// so a transaction-mode pooler is fine with it.
Result claim_in_index_order(Connection& c, const std::string& sql, const Params& params) {
  Transaction tx(c);
  exec_script(c, "SET LOCAL enable_sort = off; SET LOCAL jit = off");
  Result r = exec(c, sql, params);
  tx.commit();
  return r;
}

}  // namespace pg

// ---- pool ----

PostgresStore::PostgresStore(const std::string& url, int pool_size,
                             std::chrono::milliseconds acquire_timeout)
    : url_(url), pool_size_(std::max(1, pool_size)), acquire_timeout_(acquire_timeout) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url_.c_str(), &error);
  if (!parsed) {
    std::string msg = error ? trimmed(error) : "out of memory";
    PQfreemem(error);
    throw std::invalid_argument("LEADGATE_DATABASE_URL: " + msg);
  }
  PQconninfoFree(parsed);
}

PostgresStore::~PostgresStore() = default;

std::unique_ptr<PostgresStore::Connection> PostgresStore::connect() {
  // Defaults go before the expanded URL ("dbname"): libpq lets later entries win, so the URL's
  // own settings override them.
  static constexpr std::pair<const char*, const char*> kDefaults[] = {
      {"connect_timeout", "3"},         {"keepalives", "1"},       {"keepalives_idle", "30"},
      {"keepalives_interval", "10"},    {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"},
      {"application_name", "leadgate"},
  };
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [key, value] : kDefaults) {
    keys.push_back(key);
    values.push_back(value);
  }
  keys.insert(keys.end(), {"dbname", nullptr});
  values.insert(values.end(), {url_.c_str(), nullptr});
  auto c = std::make_unique<Connection>();
  c->named = &named_statements_;
  c->pg = PQconnectdbParams(keys.data(), values.data(), 1);
  if (!c->pg) throw StoreUnavailable("postgresql: cannot connect: out of memory");
  if (PQstatus(c->pg) != CONNECTION_OK) {
    throw StoreUnavailable("postgresql: cannot connect: " + trimmed(PQerrorMessage(c->pg)));
  }
  PQsetNoticeReceiver(c->pg, on_notice, c.get());
  // Named statements are planned for their parameters at every run, as unnamed ones are, until
  // the leads have statistics (settle_plans): a plan made once for any parameters (PostgreSQL's
  // choice after five runs) is made from the statistics of that moment, and before the table's
  // first ANALYZE it picked a scan of every lead of the environment for the customer lookup
  // (30 ms instead of 0.1). Parsing is still saved.
  exec_script(*c, "SET plan_cache_mode = force_custom_plan");
  settle_plans(*c);
  return c;
}

// Planning was the largest share of PostgreSQL's CPU in lead_status (perf: 27 % of the machine,
// its three-table join planned at every run). Once autovacuum (or an operator) has analyzed the
// leads, a connection goes back to PostgreSQL's default, plan_cache_mode = auto: after five runs
// of a statement it keeps a generic plan when that plan's estimated cost is no worse than the
// custom plans', and ANALYZE invalidates it. Until then it is looked at again every 30 s, at
// most, in one round trip.
void PostgresStore::settle_plans(Connection& c) {
  constexpr auto kRecheck = std::chrono::seconds(30);
  const auto now = std::chrono::steady_clock::now();
  if (c.generic_plans || now - c.plans_checked < kRecheck) return;
  c.plans_checked = now;
  c.generic_plans =
      exec(c,
           "SELECT set_config('plan_cache_mode', 'auto', false) FROM pg_class c JOIN "
           "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('leads') AND "
           "c.reltuples > 0 AND EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = n.nspname "
           "AND s.tablename = 'leads')")
          .rows() > 0;
}

PostgresStore::Lease PostgresStore::borrow() {
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock lock(mutex_);
    const bool ready = available_.wait_for(lock, acquire_timeout_,
                                           [&] { return !idle_.empty() || open_ < pool_size_; });
    if (!ready) {
      throw StoreUnavailable("postgresql: all " + std::to_string(pool_size_) +
                             " connections busy for " + std::to_string(acquire_timeout_.count()) +
                             " ms");
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // this call owns the new slot
    }
  }
  if (conn && !still_usable(*conn)) conn.reset();  // keep its slot for the replacement
  if (conn) {
    try {
      settle_plans(*conn);
    } catch (const std::exception&) {
      conn.reset();  // broken meanwhile: replaced below
    }
  }
  if (!conn) {
    try {
      conn = connect();
    } catch (...) {
      {
        std::lock_guard lock(mutex_);
        --open_;
      }
      available_.notify_one();
      throw;
    }
  }
  return Lease(*this, std::move(conn));
}

void PostgresStore::give_back(std::unique_ptr<Connection> conn) {
  if (conn->broken || PQstatus(conn->pg) != CONNECTION_OK ||
      PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
    conn.reset();  // closed outside the lock
  }
  {
    std::lock_guard lock(mutex_);
    if (conn) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  available_.notify_one();
}

std::unique_ptr<Store> make_postgres_store(const std::string& url, int pool_size) {
  return std::make_unique<PostgresStore>(url, pool_size);
}

}  // namespace leadgate
