#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

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

namespace {

using Connection = PostgresStore::Connection;

// Serialises migrations of every instance sharing the database ("leadgate" in ASCII).
constexpr std::int64_t kMigrationLockKey = 7810756212603057253;

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

// Text-format query parameters; std::nullopt is SQL NULL.
class Params {
 public:
  Params& add(const std::string& v) {
    values_.emplace_back(v);
    return *this;
  }
  Params& add(const char* v) { return add(std::string(v)); }
  Params& add(std::int64_t v) { return add(std::to_string(v)); }
  Params& add(int v) { return add(static_cast<std::int64_t>(v)); }
  Params& add(bool v) { return add(std::string(v ? "true" : "false")); }
  Params& add(const std::optional<std::string>& v) {
    values_.push_back(v);
    return *this;
  }
  Params& add(const std::optional<std::int64_t>& v) {
    if (v) return add(*v);
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
// of unusual sizes) run unnamed.
constexpr std::size_t kMaxNamedStatements = 200;

// One parameterised statement. Outside a transaction it runs as a named prepared statement,
// prepared once per connection (the server skips parsing and, after a few runs, planning:
// PostgreSQL's CPU per statement is mostly parse and plan of leadgate's short statements); inside
// one, unnamed. A transaction-mode pooler without prepared-statement support (PgBouncer before
// 1.21) can run the execution on another server connection than the preparation: that fails with
// 26000 before anything ran, and the statement is run again unnamed and named statements are
// switched off for the store. Transactions never use them, so that a failure can never abort one.
Result exec(Connection& c, const char* sql, const Params& params = Params()) {
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
Result exec(Connection& c, const std::string& sql, const Params& params = Params()) {
  return exec(c, sql.c_str(), params);
}

// Several statements without parameters (migrations).
void exec_script(Connection& c, const std::string& sql) {
  checked(c, PQexec(c.pg, sql.c_str()));
}

// BEGIN ... COMMIT on one connection, rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c) { exec_script(c_, "BEGIN"); }
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

constexpr const char* kLeadColumns =
    "id, environment, reference_id, basic_application_id, application_id, status, "
    "first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, mobile_bidx, "
    "pan_bidx, loan_type, loan_amount_req, loan_tenure, credit_score, pincode, state, gender, "
    "application_assigned_to_rm, remarks, customer_id, qr_short_code, annual_income, "
    "include_credit_score, is_lead_prefilled, los_error, request_id, user_agent, created_at, "
    "updated_at, flash_details_enc, completion_reference, flashed_at, warnings_json, "
    "partner_status, partner_stage, partner_updated_at, status_refreshed_at";

LeadRow read_lead(const Result& r, int row) {
  LeadRow l;
  int c = 0;
  l.id = r.i64(row, c++);
  l.environment = r.text(row, c++);
  l.reference_id = r.text(row, c++);
  l.basic_application_id = r.text(row, c++);
  l.application_id = r.text(row, c++);
  l.status = r.text(row, c++);
  l.first_name_enc = r.text(row, c++);
  l.last_name_enc = r.text(row, c++);
  l.mobile_enc = r.text(row, c++);
  l.email_enc = r.text(row, c++);
  l.pan_enc = r.text(row, c++);
  l.dob_enc = r.text(row, c++);
  l.mobile_bidx = r.text(row, c++);
  l.pan_bidx = r.text(row, c++);
  l.loan_type = r.text(row, c++);
  l.loan_amount_req = r.i64(row, c++);
  l.loan_tenure = static_cast<int>(r.i64(row, c++));
  l.credit_score = static_cast<int>(r.i64(row, c++));
  l.pincode = r.text(row, c++);
  l.state = r.opt_text(row, c++);
  l.gender = r.opt_text(row, c++);
  l.application_assigned_to_rm = r.opt_text(row, c++);
  l.remarks = r.opt_text(row, c++);
  l.customer_id = r.opt_text(row, c++);
  l.qr_short_code = r.opt_text(row, c++);
  l.annual_income = r.opt_i64(row, c++);
  l.include_credit_score = r.boolean(row, c++);
  l.is_lead_prefilled = r.boolean(row, c++);
  l.los_error = r.text(row, c++);
  l.request_id = r.text(row, c++);
  l.user_agent = r.text(row, c++);
  l.created_at = r.i64(row, c++);
  l.updated_at = r.i64(row, c++);
  l.flash_details_enc = r.text(row, c++);
  l.completion_reference = r.text(row, c++);
  l.flashed_at = r.i64(row, c++);
  l.warnings_json = r.text(row, c++);
  l.partner_status = r.text(row, c++);
  l.partner_stage = r.text(row, c++);
  l.partner_updated_at = r.i64(row, c++);
  l.status_refreshed_at = r.i64(row, c++);
  return l;
}

// The columns update_lead writes: every column after id up to warnings_json, in kLeadColumns
// order ($1..$36; add_partner adds the rest). Empty LOS ids are stored as NULL, as the SQLite
// store does, so the partial lookups never match an empty string.
void add_lead(Params& p, const LeadRow& r) {
  auto opt = [](const std::string& v) {
    return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
  };
  p.add(r.environment)
      .add(r.reference_id)
      .add(opt(r.basic_application_id))
      .add(opt(r.application_id))
      .add(r.status)
      .add(r.first_name_enc)
      .add(r.last_name_enc)
      .add(r.mobile_enc)
      .add(r.email_enc)
      .add(r.pan_enc)
      .add(r.dob_enc)
      .add(r.mobile_bidx)
      .add(r.pan_bidx)
      .add(r.loan_type)
      .add(r.loan_amount_req)
      .add(r.loan_tenure)
      .add(r.credit_score)
      .add(r.pincode)
      .add(r.state)
      .add(r.gender)
      .add(r.application_assigned_to_rm)
      .add(r.remarks)
      .add(r.customer_id)
      .add(r.qr_short_code)
      .add(r.annual_income)
      .add(r.include_credit_score)
      .add(r.is_lead_prefilled)
      .add(r.los_error)
      .add(r.request_id)
      .add(r.user_agent)
      .add(r.created_at)
      .add(r.updated_at)
      .add(r.flash_details_enc)
      .add(r.completion_reference)
      .add(r.flashed_at)
      .add(r.warnings_json);
}

// The partner columns, last in kLeadColumns: written by insert_lead (as given) and
// record_partner_status only, never by update_lead.
void add_partner(Params& p, const LeadRow& r) {
  p.add(r.partner_status).add(r.partner_stage).add(r.partner_updated_at).add(r.status_refreshed_at);
}

constexpr const char* kOutboxColumns =
    "id, environment, lead_ref, kind, payload_enc, status, attempts, next_attempt_at, "
    "provider_message_id, last_error, created_at, delivery_status, delivery_status_at, "
    "delivery_error";

OutboxMessage read_outbox(const Result& r, int row) {
  OutboxMessage m;
  m.id = r.i64(row, 0);
  m.environment = r.text(row, 1);
  m.lead_ref = r.text(row, 2);
  m.kind = r.text(row, 3);
  m.payload_enc = r.text(row, 4);
  m.status = r.text(row, 5);
  m.attempts = static_cast<int>(r.i64(row, 6));
  m.next_attempt_at = r.i64(row, 7);
  m.provider_message_id = r.text(row, 8);
  m.last_error = r.text(row, 9);
  m.created_at = r.i64(row, 10);
  m.delivery_status = r.text(row, 11);
  m.delivery_status_at = r.i64(row, 12);
  m.delivery_error = r.text(row, 13);
  return m;
}

// Inserts one new outbox message (pending, no attempts, no delivery state yet) and returns its id.
std::int64_t insert_outbox(Connection& c, const OutboxMessage& m) {
  return exec(c,
              "INSERT INTO outbox (environment, lead_ref, kind, payload_enc, status, attempts, "
              "next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, "
              "$5, $6, $6) RETURNING id",
              Params()
                  .add(m.environment)
                  .add(m.lead_ref)
                  .add(m.kind)
                  .add(m.payload_enc)
                  .add(m.next_attempt_at)
                  .add(m.created_at))
      .i64(0, 0);
}

// "($1::t1, $2::t2, ...), ($k::t1, ...)": `rows` groups of numbered parameters, one per entry of
// `types`, each cast to its type (an empty type: no cast). Multi-row INSERTs need no casts; a
// VALUES list joined in an UPDATE does (its columns would otherwise be text).
std::string values_groups(std::size_t rows, const std::vector<std::string_view>& types) {
  std::string out;
  int n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t k = 0; k < types.size(); ++k) {
      out += (k == 0 ? "$" : ", $") + std::to_string(++n);
      if (!types[k].empty()) out.append("::").append(types[k]);
    }
    out += ')';
  }
  return out;
}
std::string values_groups(std::size_t rows, int columns) {
  return values_groups(rows, std::vector<std::string_view>(static_cast<std::size_t>(columns)));
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
      const auto& a = audit[i];
      p.add(a.environment)
          .add(a.entity)
          .add(a.entity_ref)
          .add(a.operation)
          .add(a.field)
          .add(a.old_value)
          .add(a.new_value)
          .add(a.request_id)
          .add(a.duration_ms)
          .add(a.created_at);
    }
    exec(c,
         "INSERT INTO audit_log (environment, entity, entity_ref, operation, field, old_value, "
         "new_value, request_id, duration_ms, created_at) VALUES " +
             values_groups(rows, 10),
         p);
  }
  for (const auto& m : outbox) insert_outbox(c, m);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

}  // namespace

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
  // Named statements are planned for their parameters at every run, as unnamed ones are: a plan
  // made once for any parameters (PostgreSQL's choice after five runs) is made from the
  // statistics of that moment, and before a table's first ANALYZE it picked a scan of every lead
  // of the environment for the customer lookup (30 ms instead of 0.1). Parsing is still saved.
  exec_script(*c, "SET plan_cache_mode = force_custom_plan");
  return c;
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

// ---- schema ----

void PostgresStore::migrate() {
  auto lease = borrow();
  Connection& c = *lease;
  const auto& all = postgres_migrations();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto version = static_cast<std::int64_t>(i + 1);
    // Each migration in its own transaction, under a lock every instance takes: several
    // instances starting at once apply each migration exactly once.
    Transaction tx(c);
    exec(c, "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
    exec_script(c,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "applied_at BIGINT NOT NULL)");
    if (exec(c, "SELECT 1 FROM schema_migrations WHERE version = $1", Params().add(version))
            .rows() > 0) {
      continue;  // rolled back: nothing to keep
    }
    exec_script(c, all[i]);
    exec(c, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
         Params().add(version).add(now_ms()));
    tx.commit();
  }
}

int PostgresStore::schema_version() {
  auto lease = borrow();
  Connection& c = *lease;
  if (!exec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL").boolean(0, 0)) return 0;
  return static_cast<int>(
      exec(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").i64(0, 0));
}

int PostgresStore::expected_schema_version() const {
  return static_cast<int>(postgres_migrations().size());
}

void PostgresStore::ping() {
  auto lease = borrow();
  exec(*lease, "SELECT 1");
}

// ---- API keys ----

void PostgresStore::insert_api_key(const ApiKeyRow& row) {
  auto lease = borrow();
  exec(*lease,
       "INSERT INTO api_keys (id, name, key_hash, environments, created_at, revoked) "
       "VALUES ($1, $2, $3, $4, $5, $6)",
       Params()
           .add(row.id)
           .add(row.name)
           .add(row.key_hash)
           .add(join(row.environments))
           .add(row.created_at)
           .add(row.revoked));
}

std::optional<ApiKeyRow> PostgresStore::find_api_key(const std::string& key_hash) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT id, name, key_hash, environments, created_at, revoked FROM "
                        "api_keys WHERE key_hash = $1",
                        Params().add(key_hash));
  if (r.rows() == 0) return std::nullopt;
  ApiKeyRow k;
  k.id = r.text(0, 0);
  k.name = r.text(0, 1);
  k.key_hash = r.text(0, 2);
  k.environments = split(r.text(0, 3));
  k.created_at = r.i64(0, 4);
  k.revoked = r.boolean(0, 5);
  return k;
}

std::int64_t PostgresStore::count_api_keys() {
  auto lease = borrow();
  return exec(*lease, "SELECT COUNT(*) FROM api_keys").i64(0, 0);
}

// ---- leads ----

std::optional<LeadRow> PostgresStore::find_lead_for_customer(const std::string& environment,
                                                             const std::string& mobile_bidx,
                                                             const std::string& loan_type) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND mobile_bidx = $2 AND "
                            "loan_type = $3",
                        Params().add(environment).add(mobile_bidx).add(loan_type));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

std::optional<LeadRow> PostgresStore::find_lead_by_reference(const std::string& environment,
                                                             const std::string& reference_id) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND reference_id = $2",
                        Params().add(environment).add(reference_id));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

std::optional<LeadRow> PostgresStore::find_lead_by_application_id(
    const std::string& environment, const std::string& application_id) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND application_id = $2",
                        Params().add(environment).add(application_id));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

std::int64_t PostgresStore::insert_lead(const LeadWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  Params p;
  add_lead(p, w.lead);
  add_partner(p, w.lead);
  const std::int64_t id =
      exec(c,
           std::string("INSERT INTO leads (") + (kLeadColumns + 4) +
               ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
               "$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, "
               "$33, $34, $35, $36, $37, $38, $39, $40) RETURNING id",
           p)
          .i64(0, 0);
  write_children(c, w.audit, w.outbox);
  tx.commit();
  return id;
}

bool PostgresStore::update_lead(const LeadWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  std::string sql =
      "UPDATE leads SET environment = $1, reference_id = $2, basic_application_id = $3, "
      "application_id = $4, status = $5, first_name_enc = $6, last_name_enc = $7, "
      "mobile_enc = $8, email_enc = $9, pan_enc = $10, dob_enc = $11, mobile_bidx = $12, "
      "pan_bidx = $13, loan_type = $14, loan_amount_req = $15, loan_tenure = $16, "
      "credit_score = $17, pincode = $18, state = $19, gender = $20, "
      "application_assigned_to_rm = $21, remarks = $22, customer_id = $23, qr_short_code = $24, "
      "annual_income = $25, include_credit_score = $26, is_lead_prefilled = $27, los_error = $28, "
      "request_id = $29, user_agent = $30, created_at = $31, updated_at = $32, "
      "flash_details_enc = $33, completion_reference = $34, flashed_at = $35, "
      "warnings_json = $36 WHERE id = $37";
  Params p;
  add_lead(p, w.lead);
  p.add(w.lead.id);
  int next = 38;
  if (w.expected_status) {
    sql += " AND status = $" + std::to_string(next++);
    p.add(*w.expected_status);
  }
  if (w.expected_request_id) {
    sql += " AND request_id = $" + std::to_string(next++);
    p.add(*w.expected_request_id);
  }
  if (exec(c, sql, p).affected() != 1) return false;  // rolled back: no audit, no outbox
  write_children(c, w.audit, w.outbox);
  tx.commit();
  return true;
}

std::vector<AuditEntry> PostgresStore::audit_for(const std::string& environment,
                                                 const std::string& entity_ref) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT environment, entity, entity_ref, operation, field, old_value, "
                        "new_value, request_id, duration_ms, created_at FROM audit_log WHERE "
                        "environment = $1 AND entity_ref = $2 ORDER BY id",
                        Params().add(environment).add(entity_ref));
  std::vector<AuditEntry> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    AuditEntry a;
    a.environment = r.text(i, 0);
    a.entity = r.text(i, 1);
    a.entity_ref = r.text(i, 2);
    a.operation = r.text(i, 3);
    a.field = r.text(i, 4);
    a.old_value = r.text(i, 5);
    a.new_value = r.text(i, 6);
    a.request_id = r.text(i, 7);
    a.duration_ms = r.i64(i, 8);
    a.created_at = r.i64(i, 9);
    out.push_back(std::move(a));
  }
  return out;
}

std::int64_t PostgresStore::count_leads(const std::string& environment) {
  auto lease = borrow();
  return exec(*lease, "SELECT COUNT(*) FROM leads WHERE environment = $1",
              Params().add(environment))
      .i64(0, 0);
}

std::vector<LeadRow> PostgresStore::find_leads_by_mobile(const std::string& environment,
                                                         const std::string& mobile_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND mobile_bidx = $2 ORDER BY "
                            "created_at DESC, id DESC",
                        Params().add(environment).add(mobile_bidx));
  std::vector<LeadRow> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_lead(r, i));
  return out;
}

std::optional<LeadRow> PostgresStore::find_lead_by_basic_id(
    const std::string& environment, const std::string& basic_application_id) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kLeadColumns +
                            " FROM leads WHERE environment = $1 AND basic_application_id = $2",
                        Params().add(environment).add(basic_application_id));
  if (r.rows() == 0) return std::nullopt;
  return read_lead(r, 0);
}

// The compare-and-set is the UPDATE's WHERE clause: a concurrent writer of the row waits for the
// row lock and re-checks it against the committed row. The refresh time is raised either way.
bool PostgresStore::record_partner_status(const PartnerStatusWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const bool applied =
      exec(c,
           "UPDATE leads SET partner_status = $1, partner_stage = $2, partner_updated_at = $3, "
           "status_refreshed_at = GREATEST(status_refreshed_at, $4::bigint) WHERE id = $5 AND "
           "partner_status = $6 AND partner_updated_at <= $3 AND (partner_status <> $1 OR "
           "partner_stage <> $2)",
           Params()
               .add(w.status)
               .add(w.stage)
               .add(w.partner_updated_at)
               .add(w.refreshed_at)
               .add(w.lead_id)
               .add(w.expected_status))
          .affected() == 1;
  if (applied) {
    write_children(c, w.audit, w.outbox);
  } else {
    // Only the refresh time changes (every status poll of an unchanged application): committed
    // without waiting for the WAL flush. A crash can lose at most the last few hundred ms of
    // such times (the stored status itself is written durably above); an fsync per poll would
    // cap lead_status at the disk's flush rate.
    exec(c, "SET LOCAL synchronous_commit = off");
    exec(c, "UPDATE leads SET status_refreshed_at = $1 WHERE id = $2 AND status_refreshed_at < $1",
         Params().add(w.refreshed_at).add(w.lead_id));
  }
  tx.commit();
  return applied;
}

// One round trip in autocommit: set_config(..., true) lasts for the statement's implicit
// transaction, whose commit then does not wait for the WAL flush (the CTE is joined so that it
// runs). An fsync per status poll would cap lead_status at the disk's flush rate.
void PostgresStore::record_status_refresh(std::int64_t lead_id, std::int64_t refreshed_at) {
  auto lease = borrow();
  exec(*lease,
       "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) UPDATE leads SET "
       "status_refreshed_at = $1 FROM async WHERE id = $2 AND status_refreshed_at < $1",
       Params().add(refreshed_at).add(lead_id));
}

void PostgresStore::append_events(const std::vector<AuditEntry>& audit,
                                  const std::vector<OutboxMessage>& outbox) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  write_children(c, audit, outbox);
  tx.commit();
}

// ---- relationship managers, appointments ----

namespace {

constexpr const char* kRmColumns =
    "id, environment, name, name_key, phone_enc, location, active, created_at";

RmRow read_rm(const Result& r, int row) {
  RmRow m;
  m.id = r.i64(row, 0);
  m.environment = r.text(row, 1);
  m.name = r.text(row, 2);
  m.name_key = r.text(row, 3);
  m.phone_enc = r.text(row, 4);
  m.location = r.text(row, 5);
  m.active = r.boolean(row, 6);
  m.created_at = r.i64(row, 7);
  return m;
}

constexpr const char* kAppointmentColumns =
    "id, environment, lead_ref, rm_id, slot_start, slot_minutes, status, request_id, created_at, "
    "cancelled_at, cancel_reason";

AppointmentRow read_appointment(const Result& r, int row) {
  AppointmentRow a;
  a.id = r.text(row, 0);
  a.environment = r.text(row, 1);
  a.lead_ref = r.text(row, 2);
  a.rm_id = r.i64(row, 3);
  a.slot_start = r.i64(row, 4);
  a.slot_minutes = static_cast<int>(r.i64(row, 5));
  a.status = r.text(row, 6);
  a.request_id = r.text(row, 7);
  a.created_at = r.i64(row, 8);
  a.cancelled_at = r.i64(row, 9);
  a.cancel_reason = r.text(row, 10);
  return a;
}

std::vector<AppointmentRow> read_appointments(const Result& r) {
  std::vector<AppointmentRow> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_appointment(r, i));
  return out;
}

}  // namespace

std::int64_t PostgresStore::insert_rm(const RmRow& rm) {
  auto lease = borrow();
  return exec(*lease,
              "INSERT INTO rms (environment, name, name_key, phone_enc, location, active, "
              "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
              Params()
                  .add(rm.environment)
                  .add(rm.name)
                  .add(rm.name_key)
                  .add(rm.phone_enc)
                  .add(rm.location)
                  .add(rm.active)
                  .add(rm.created_at))
      .i64(0, 0);
}

std::vector<RmRow> PostgresStore::list_rms(const std::string& environment) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kRmColumns +
                            " FROM rms WHERE environment = $1 AND active ORDER BY name_key",
                        Params().add(environment));
  std::vector<RmRow> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_rm(r, i));
  return out;
}

std::optional<RmRow> PostgresStore::find_rm(std::int64_t id) {
  auto lease = borrow();
  const Result r = exec(*lease, std::string("SELECT ") + kRmColumns + " FROM rms WHERE id = $1",
                        Params().add(id));
  if (r.rows() == 0) return std::nullopt;
  return read_rm(r, 0);
}

// The partial unique indexes refuse the row; the violation names the refusing index. A concurrent
// booking of the same slot or lead waits for the first one's transaction and then fails (or
// succeeds when that one rolled back). A new appointment is always booked, whatever status the
// caller put in it.
BookOutcome PostgresStore::book_appointment(const AppointmentWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const AppointmentRow& a = w.appointment;
  try {
    exec(c,
         "INSERT INTO appointments (id, environment, lead_ref, rm_id, slot_start, slot_minutes, "
         "status, request_id, created_at, cancelled_at, cancel_reason) VALUES ($1, $2, $3, $4, "
         "$5, $6, 'booked', $7, $8, 0, '')",
         Params()
             .add(a.id)
             .add(a.environment)
             .add(a.lead_ref)
             .add(a.rm_id)
             .add(a.slot_start)
             .add(a.slot_minutes)
             .add(a.request_id)
             .add(a.created_at));
  } catch (const UniqueViolation& e) {
    if (e.constraint == "appointments_booked_rm_slot") return BookOutcome::slot_taken;
    if (e.constraint == "appointments_booked_lead") return BookOutcome::lead_has_appointment;
    throw;  // e.g. a duplicate id: rolled back
  }
  write_children(c, w.audit, w.outbox);
  tx.commit();
  return BookOutcome::booked;
}

std::optional<AppointmentRow> PostgresStore::find_appointment(const std::string& id) {
  auto lease = borrow();
  const Result r = exec(
      *lease, std::string("SELECT ") + kAppointmentColumns + " FROM appointments WHERE id = $1",
      Params().add(id));
  if (r.rows() == 0) return std::nullopt;
  return read_appointment(r, 0);
}

std::vector<AppointmentRow> PostgresStore::booked_appointments(const std::string& environment,
                                                               std::int64_t from, std::int64_t to) {
  auto lease = borrow();
  return read_appointments(exec(*lease,
                                std::string("SELECT ") + kAppointmentColumns +
                                    " FROM appointments WHERE environment = $1 AND slot_start >= "
                                    "$2 AND slot_start < $3 AND status = 'booked' ORDER BY "
                                    "slot_start, rm_id",
                                Params().add(environment).add(from).add(to)));
}

std::vector<AppointmentRow> PostgresStore::appointments_for_lead(const std::string& environment,
                                                                 const std::string& lead_ref) {
  auto lease = borrow();
  return read_appointments(exec(*lease,
                                std::string("SELECT ") + kAppointmentColumns +
                                    " FROM appointments WHERE environment = $1 AND lead_ref = $2 "
                                    "ORDER BY created_at, id",
                                Params().add(environment).add(lead_ref)));
}

bool PostgresStore::cancel_appointment(const std::string& id, std::int64_t now,
                                       const std::string& reason,
                                       const std::vector<AuditEntry>& audit,
                                       const std::vector<OutboxMessage>& outbox) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  if (exec(c,
           "UPDATE appointments SET status = 'cancelled', cancelled_at = $1, cancel_reason = $2 "
           "WHERE id = $3 AND status = 'booked'",
           Params().add(now).add(reason).add(id))
          .affected() != 1) {
    return false;  // rolled back: no audit, no outbox
  }
  write_children(c, audit, outbox);
  tx.commit();
  return true;
}

// ---- outbox ----

namespace {

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

}  // namespace

std::vector<OutboxMessage> PostgresStore::claim_outbox(std::int64_t now, int limit,
                                                       const std::string& owner,
                                                       std::int64_t lease_until) {
  auto lease = borrow();
  // SKIP LOCKED: concurrent claimers (threads or instances) each get different rows without
  // waiting for one another. MATERIALIZED: the locking subquery runs exactly once.
  const std::string sql =
      std::string(
          "WITH due AS MATERIALIZED (SELECT id FROM outbox WHERE status = 'pending' AND "
          "next_attempt_at <= $4 AND (lease_until IS NULL OR lease_until < $4) "
          "ORDER BY next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED), "
          "claimed AS (UPDATE outbox o SET lease_owner = $1, lease_until = $2, updated_at = $3 "
          "FROM due WHERE o.id = due.id RETURNING o.*) SELECT ") +
      kOutboxColumns + " FROM claimed ORDER BY next_attempt_at, id";
  const Result r = claim_in_index_order(
      *lease, sql, Params().add(owner).add(lease_until).add(now).add(now).add(limit));
  std::vector<OutboxMessage> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
  return out;
}

void PostgresStore::finish_outbox_attempt(const OutboxAttempt& a, const std::string& new_status,
                                          std::int64_t next_attempt_at) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  exec(c,
       "INSERT INTO outbox_attempts (outbox_id, attempt, started_at, duration_ms, outcome, "
       "http_status, error, provider_message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
       Params()
           .add(a.outbox_id)
           .add(a.attempt)
           .add(a.started_at)
           .add(a.duration_ms)
           .add(a.outcome)
           .add(a.http_status)
           .add(a.error)
           .add(a.provider_message_id));
  exec(c,
       "UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, lease_owner = NULL, "
       "lease_until = NULL, provider_message_id = CASE WHEN $4::text <> '' THEN $4 ELSE "
       "provider_message_id END, last_error = $5, updated_at = $6 WHERE id = $7",
       Params()
           .add(new_status)
           .add(a.attempt)
           .add(next_attempt_at)
           .add(a.provider_message_id)
           .add(a.error)
           .add(now_ms())
           .add(a.outbox_id));
  tx.commit();
}

void PostgresStore::release_inbox_leases(const std::string& owner) {
  auto lease = borrow();
  exec(*lease,
       "UPDATE whatsapp_inbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
       Params().add(owner));
}

void PostgresStore::release_outbox_leases(const std::string& owner) {
  auto lease = borrow();
  exec(*lease, "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
       Params().add(owner));
}

std::vector<OutboxMessage> PostgresStore::outbox_for(const std::string& environment,
                                                     const std::string& lead_ref) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kOutboxColumns +
                            " FROM outbox WHERE environment = $1 AND lead_ref = $2 ORDER BY id",
                        Params().add(environment).add(lead_ref));
  std::vector<OutboxMessage> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
  return out;
}

std::vector<OutboxAttempt> PostgresStore::outbox_attempts_for(const std::string& environment,
                                                              const std::string& lead_ref) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT a.outbox_id, a.attempt, a.started_at, a.duration_ms, a.outcome, "
                        "a.http_status, a.error, a.provider_message_id FROM outbox_attempts a "
                        "JOIN outbox o ON o.id = a.outbox_id WHERE o.environment = $1 AND "
                        "o.lead_ref = $2 ORDER BY a.started_at, a.attempt, a.id",
                        Params().add(environment).add(lead_ref));
  std::vector<OutboxAttempt> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    OutboxAttempt a;
    a.outbox_id = r.i64(i, 0);
    a.attempt = static_cast<int>(r.i64(i, 1));
    a.started_at = r.i64(i, 2);
    a.duration_ms = r.i64(i, 3);
    a.outcome = r.text(i, 4);
    a.http_status = static_cast<int>(r.i64(i, 5));
    a.error = r.text(i, 6);
    a.provider_message_id = r.text(i, 7);
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<OutboxMessage> PostgresStore::list_outbox(const std::string& status, int limit) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kOutboxColumns +
                            " FROM outbox WHERE status = $1 ORDER BY id LIMIT $2",
                        Params().add(status).add(limit));
  std::vector<OutboxMessage> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r, i));
  return out;
}

std::int64_t PostgresStore::requeue_outbox(std::int64_t id, std::int64_t now) {
  auto lease = borrow();
  return exec(*lease,
              "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, "
              "lease_owner = NULL, lease_until = NULL, updated_at = $1 WHERE status = 'dead' AND "
              "($2::bigint = 0 OR id = $2::bigint)",
              Params().add(now).add(id))
      .affected();
}

// ---- webhook inbox ----

namespace {

constexpr const char* kInboxColumns =
    "id, provider, event_id, environment, kind, payload_enc, received_at, state, attempts, "
    "next_attempt_at, processed_at, last_error";

// The state an inbox event is given after an attempt (see Store::finish_inbox).
struct InboxEnd {
  std::int64_t id = 0;
  std::string state;
  std::int64_t now = 0;
  std::int64_t next_attempt_at = 0;
  std::string error;
};

// Sets inbox events' states after an attempt, in one statement; inside the caller's transaction
// when there is one.
void update_inbox_states(Connection& c, const std::vector<InboxEnd>& ends) {
  if (ends.empty()) return;
  Params p;
  for (const auto& e : ends)
    p.add(e.id).add(e.state).add(e.now).add(e.next_attempt_at).add(e.error);
  exec(c,
       "UPDATE whatsapp_inbox i SET state = v.state, attempts = i.attempts + 1, next_attempt_at = "
       "v.next_attempt_at, processed_at = CASE WHEN v.state IN ('done', 'failed') THEN v.now "
       "ELSE i.processed_at END, last_error = v.error, lease_owner = NULL, lease_until = NULL "
       "FROM (VALUES " +
           values_groups(ends.size(), {"bigint", "text", "bigint", "bigint", "text"}) +
           ") AS v (id, state, now, next_attempt_at, error) WHERE i.id = v.id",
       p);
}

void update_inbox_state(Connection& c, std::int64_t id, const std::string& state, std::int64_t now,
                        std::int64_t next_attempt_at, const std::string& error) {
  update_inbox_states(c, {InboxEnd{id, state, now, next_attempt_at, error}});
}

InboxEvent read_inbox(const Result& r, int row) {
  InboxEvent e;
  e.id = r.i64(row, 0);
  e.provider = r.text(row, 1);
  e.event_id = r.text(row, 2);
  e.environment = r.text(row, 3);
  e.kind = r.text(row, 4);
  e.payload_enc = r.text(row, 5);
  e.received_at = r.i64(row, 6);
  e.state = r.text(row, 7);
  e.attempts = static_cast<int>(r.i64(row, 8));
  e.next_attempt_at = r.i64(row, 9);
  e.processed_at = r.i64(row, 10);
  e.last_error = r.text(row, 11);
  return e;
}

}  // namespace

// ON CONFLICT DO NOTHING: a concurrent insert of the same (provider, event_id) by another
// transaction waits for that one and is then skipped, never a unique violation; the command tag
// counts only rows really inserted.
// One multi-row INSERT in autocommit: atomic like the transaction it replaces, in one round trip
// instead of BEGIN + one per event + COMMIT (the webhook acknowledgement waits for it). A
// redelivered event (or one repeated inside the body) is skipped by ON CONFLICT DO NOTHING.
int PostgresStore::insert_inbox(const std::vector<InboxEvent>& events, std::vector<char>* fresh) {
  if (fresh) fresh->assign(events.size(), 0);
  if (events.empty()) return 0;
  auto lease = borrow();
  Connection& c = *lease;
  constexpr std::size_t kRowsPerStatement = 1000;
  // Several statements (a body of over 1,000 events) still commit together.
  std::optional<Transaction> tx;
  if (events.size() > kRowsPerStatement) tx.emplace(c);
  std::int64_t inserted = 0;
  for (std::size_t first = 0; first < events.size(); first += kRowsPerStatement) {
    const std::size_t rows = std::min(kRowsPerStatement, events.size() - first);
    Params p;
    std::string values;
    for (std::size_t i = 0; i < rows; ++i) {
      const auto& e = events[first + i];
      p.add(e.provider)
          .add(e.event_id)
          .add(e.environment)
          .add(e.kind)
          .add(e.payload_enc)
          .add(e.received_at);
      const int b = static_cast<int>(i) * 6;
      auto arg = [&](int k) { return "$" + std::to_string(b + k); };
      values += (i == 0 ? "(" : ", (") + arg(1) + ", " + arg(2) + ", " + arg(3) + ", " + arg(4) +
                ", " + arg(5) + ", " + arg(6) + "::bigint, 'pending', 0, " + arg(6) + "::bigint)";
    }
    // RETURNING names the rows inserted; rows are inserted in VALUES order, so of an event
    // repeated within `events` the first occurrence is the one stored.
    const Result r = exec(c,
                          "INSERT INTO whatsapp_inbox (provider, event_id, environment, kind, "
                          "payload_enc, received_at, state, attempts, next_attempt_at) VALUES " +
                              values +
                              " ON CONFLICT (provider, event_id) DO NOTHING RETURNING provider, "
                              "event_id",
                          p);
    inserted += r.rows();
    if (fresh) {
      std::map<std::pair<std::string, std::string>, int> stored;
      for (int i = 0; i < r.rows(); ++i) ++stored[{r.text(i, 0), r.text(i, 1)}];
      for (std::size_t i = 0; i < rows; ++i) {
        const auto& e = events[first + i];
        auto it = stored.find({e.provider, e.event_id});
        if (it != stored.end() && it->second > 0) {
          --it->second;
          (*fresh)[first + i] = 1;
        }
      }
    }
  }
  if (tx) tx->commit();
  return static_cast<int>(inserted);
}

std::vector<InboxEvent> PostgresStore::claim_inbox(std::int64_t now, int limit,
                                                   const std::string& owner,
                                                   std::int64_t lease_until) {
  auto lease = borrow();
  // As claim_outbox: SKIP LOCKED lets concurrent claimers take different rows without waiting;
  // MATERIALIZED runs the locking subquery exactly once. The order is the index's
  // (state, next_attempt_at), so a claim reads only the rows it takes however long the backlog;
  // ordering by received_at made each claim sort every due row (190 ms at 100,000 pending).
  const std::string sql =
      std::string(
          "WITH due AS MATERIALIZED (SELECT id FROM whatsapp_inbox WHERE state = 'pending' AND "
          "next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) "
          "ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED), "
          "claimed AS (UPDATE whatsapp_inbox i SET lease_owner = $1, lease_until = $2 "
          "FROM due WHERE i.id = due.id RETURNING i.*) SELECT ") +
      kInboxColumns + " FROM claimed ORDER BY next_attempt_at, id";
  const Result r =
      claim_in_index_order(*lease, sql, Params().add(owner).add(lease_until).add(now).add(limit));
  std::vector<InboxEvent> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_inbox(r, i));
  return out;
}

void PostgresStore::finish_inbox(std::int64_t id, const std::string& state, std::int64_t now,
                                 std::int64_t next_attempt_at, const std::string& error) {
  auto lease = borrow();
  update_inbox_state(*lease, id, state, now, next_attempt_at, error);
}

std::optional<InboxEvent> PostgresStore::find_inbox(const std::string& provider,
                                                    const std::string& event_id) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kInboxColumns +
                            " FROM whatsapp_inbox WHERE provider = $1 AND event_id = $2",
                        Params().add(provider).add(event_id));
  if (r.rows() == 0) return std::nullopt;
  return read_inbox(r, 0);
}

// ---- conversations, delivery receipts, opt-outs ----

namespace {

constexpr const char* kConversationColumns =
    "id, environment, phone_bidx, direction, provider_message_id, outbox_id, lead_ref, "
    "application_id, msg_type, text_enc, classification, created_at";

ConversationMessage read_conversation(const Result& r, int row) {
  ConversationMessage m;
  m.id = r.i64(row, 0);
  m.environment = r.text(row, 1);
  m.phone_bidx = r.text(row, 2);
  m.direction = r.text(row, 3);
  m.provider_message_id = r.text(row, 4);
  m.outbox_id = r.i64(row, 5);
  m.lead_ref = r.text(row, 6);
  m.application_id = r.text(row, 7);
  m.msg_type = r.text(row, 8);
  m.text_enc = r.text(row, 9);
  m.classification = r.text(row, 10);
  m.created_at = r.i64(row, 11);
  return m;
}

void insert_conversation(Connection& c, const ConversationMessage& m) {
  exec(c,
       std::string("INSERT INTO whatsapp_conversation (") + (kConversationColumns + 4) +
           ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
       Params()
           .add(m.environment)
           .add(m.phone_bidx)
           .add(m.direction)
           .add(m.provider_message_id)
           .add(m.outbox_id)
           .add(m.lead_ref)
           .add(m.application_id)
           .add(m.msg_type)
           .add(m.text_enc)
           .add(m.classification)
           .add(m.created_at));
}

// The latest change wins; on equal times the new value wins. ON CONFLICT DO UPDATE locks the
// existing row, so concurrent changes compare against the committed time.
void upsert_opt_out(Connection& c, const std::string& environment, const std::string& phone_bidx,
                    bool opted_out, std::int64_t at) {
  exec(c,
       "INSERT INTO whatsapp_opt_outs (environment, phone_bidx, opted_out, updated_at) VALUES "
       "($1, $2, $3, $4) ON CONFLICT (environment, phone_bidx) DO UPDATE SET opted_out = "
       "EXCLUDED.opted_out, updated_at = EXCLUDED.updated_at WHERE EXCLUDED.updated_at >= "
       "whatsapp_opt_outs.updated_at",
       Params().add(environment).add(phone_bidx).add(opted_out).add(at));
}

// A delivery status's rank (see Store::record_delivery); unknown statuses rank 0 and are never
// applied. `expr` is an SQL expression of type text.
std::string delivery_rank(const std::string& expr) {
  return "(CASE " + expr +
         " WHEN 'enqueued' THEN 1 WHEN 'sent' THEN 2 WHEN 'failed' THEN 3 WHEN 'delivered' THEN 4 "
         "WHEN 'read' THEN 5 ELSE 0 END)";
}

}  // namespace

void PostgresStore::record_conversation(const ConversationWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  insert_conversation(c, w.inbound);  // a duplicate inbound id: StoreConflict, rolled back
  if (w.reply_outbox) {
    const std::int64_t outbox_id = insert_outbox(c, *w.reply_outbox);
    if (w.reply) {
      ConversationMessage reply = *w.reply;
      reply.outbox_id = outbox_id;
      insert_conversation(c, reply);
    }
  }
  if (w.opted_out) {
    upsert_opt_out(c, w.inbound.environment, w.inbound.phone_bidx, *w.opted_out, w.now);
  }
  if (w.inbox_id != 0) update_inbox_state(c, w.inbox_id, "done", w.now, 0, "");
  tx.commit();
}

std::vector<ConversationMessage> PostgresStore::conversation(const std::string& environment,
                                                             const std::string& phone_bidx,
                                                             int limit) {
  if (limit <= 0) return {};
  auto lease = borrow();
  const Result r =
      exec(*lease,
           std::string("SELECT ") + kConversationColumns + " FROM (SELECT " + kConversationColumns +
               " FROM whatsapp_conversation WHERE environment = $1 AND phone_bidx = $2 ORDER BY "
               "created_at DESC, id DESC LIMIT $3) last ORDER BY created_at, id",
           Params().add(environment).add(phone_bidx).add(limit));
  std::vector<ConversationMessage> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_conversation(r, i));
  return out;
}

namespace {

// Applies up to 1,000 receipts (see Store::record_deliveries) inside the caller's transaction in
// at most four statements: the outbox ids of all their provider ids, the receipts kept in one
// multi-row INSERT (in order, so receipts_for's ties keep it), the matched rows' forward-only
// moves in one UPDATE, and the inbox events' ends in one UPDATE. The forward-only rule is the
// UPDATE's WHERE clause: a concurrent receipt for the same row waits for the row lock, and the
// clause is re-checked against the row it committed. (Two instances'
// batches locking the same rows in opposite orders deadlock; PostgreSQL aborts one, and its
// caller retries receipt by receipt.)
void apply_deliveries(Connection& c, const DeliveryReceipt* receipts, std::size_t n,
                      std::int64_t* outbox_ids) {
  std::map<std::string, std::int64_t> ids;  // provider id -> its first outbox row
  {
    Params p;
    std::string list;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& id = receipts[i].provider_message_id;
      if (id.empty() || !ids.emplace(id, 0).second) continue;  // unsent rows have an empty id
      p.add(id);
      list += (list.empty() ? "$" : ", $") + std::to_string(ids.size());
    }
    if (!list.empty()) {
      const Result found = exec(c,
                                "SELECT provider_message_id, min(id) FROM outbox WHERE "
                                "provider_message_id IN (" +
                                    list + ") GROUP BY provider_message_id",
                                p);
      for (int i = 0; i < found.rows(); ++i) ids[found.text(i, 0)] = found.i64(i, 1);
    }
  }
  Params kept;
  std::size_t kept_rows = 0;
  std::vector<InboxEnd> ends;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = receipts[i];
    const auto it = ids.find(r.provider_message_id);
    outbox_ids[i] = it == ids.end() ? 0 : it->second;
    if (outbox_ids[i] == 0 && r.retry_unmatched_at > 0) {
      if (r.inbox_id != 0) {
        ends.push_back(
            {r.inbox_id, "pending", r.processed_at, r.retry_unmatched_at, kReceiptNotMatchedYet});
      }
      continue;
    }
    kept.add(r.provider_message_id)
        .add(r.status)
        .add(r.at)
        .add(r.error_code)
        .add(r.error_message)
        .add(r.received_at)
        .add(outbox_ids[i]);
    ++kept_rows;
    if (r.inbox_id != 0) ends.push_back({r.inbox_id, "done", r.processed_at, 0, ""});
  }
  if (kept_rows > 0) {
    exec(c,
         "INSERT INTO delivery_receipts (provider_message_id, status, at, error_code, "
         "error_message, received_at, outbox_id) VALUES " +
             values_groups(kept_rows, 7),
         kept);
  }
  // The matched receipts' forward moves in one UPDATE: per outbox row the receipt that applying
  // them one by one would leave (the latest `at`, then the highest rank, then the first of equals)
  // is compared with the row as committed.
  Params moves;
  std::size_t moved = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (outbox_ids[i] == 0) continue;
    const auto& r = receipts[i];
    moves.add(static_cast<std::int64_t>(i))
        .add(outbox_ids[i])
        .add(r.status)
        .add(r.at)
        .add(r.error_code);
    ++moved;
  }
  if (moved > 0) {
    exec(c,
         "UPDATE outbox o SET delivery_status = w.status, delivery_status_at = w.at, "
         "delivery_error = w.error FROM (SELECT DISTINCT ON (id) id, status, at, error FROM "
         "(VALUES " +
             values_groups(moved, {"bigint", "bigint", "text", "bigint", "text"}) +
             ") AS v (ord, id, status, at, error) WHERE " + delivery_rank("status") +
             " > 0 ORDER BY id, at DESC, " + delivery_rank("status") +
             " DESC, ord) AS w WHERE o.id = w.id AND (o.delivery_status_at < w.at OR "
             "(o.delivery_status_at = w.at AND " +
             delivery_rank("w.status") + " > " + delivery_rank("o.delivery_status") + "))",
         moves);
  }
  update_inbox_states(c, ends);
}

}  // namespace

std::vector<std::int64_t> PostgresStore::record_deliveries(
    const std::vector<DeliveryReceipt>& receipts) {
  std::vector<std::int64_t> out(receipts.size(), 0);
  if (receipts.empty()) return out;
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  constexpr std::size_t kPerRound = 1000;  // 7,000 parameters, far below libpq's 65,535
  for (std::size_t first = 0; first < receipts.size(); first += kPerRound) {
    apply_deliveries(c, receipts.data() + first, std::min(kPerRound, receipts.size() - first),
                     out.data() + first);
  }
  tx.commit();
  return out;
}

std::vector<DeliveryReceipt> PostgresStore::receipts_for(const std::string& environment,
                                                         const std::string& lead_ref) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT d.provider_message_id, d.status, d.at, d.error_code, "
                        "d.error_message, d.received_at, o.id FROM delivery_receipts d JOIN outbox "
                        "o ON o.id = d.outbox_id WHERE o.environment = $1 AND o.lead_ref = $2 "
                        "ORDER BY d.at, d.id",
                        Params().add(environment).add(lead_ref));
  std::vector<DeliveryReceipt> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    DeliveryReceipt d;
    d.provider_message_id = r.text(i, 0);
    d.status = r.text(i, 1);
    d.at = r.i64(i, 2);
    d.error_code = r.text(i, 3);
    d.error_message = r.text(i, 4);
    d.received_at = r.i64(i, 5);
    d.outbox_id = r.i64(i, 6);
    out.push_back(std::move(d));
  }
  return out;
}

void PostgresStore::set_opt_out(const std::string& environment, const std::string& phone_bidx,
                                bool opted_out, std::int64_t at) {
  auto lease = borrow();
  upsert_opt_out(*lease, environment, phone_bidx, opted_out, at);
}

bool PostgresStore::is_opted_out(const std::string& environment, const std::string& phone_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        "SELECT opted_out FROM whatsapp_opt_outs WHERE environment = $1 AND "
                        "phone_bidx = $2",
                        Params().add(environment).add(phone_bidx));
  return r.rows() > 0 && r.boolean(0, 0);
}

// ---- monitoring ----

namespace {

// Rows per value of one text column (outbox status, inbox state).
std::map<std::string, std::int64_t> counts_by(Connection& c, const char* sql) {
  const Result r = exec(c, sql);
  std::map<std::string, std::int64_t> out;
  for (int i = 0; i < r.rows(); ++i) out[r.text(i, 0)] = r.i64(i, 1);
  return out;
}

}  // namespace

// ON CONFLICT DO UPDATE: concurrent writes of one (minute, instance) serialise on the row; the
// last one's payload wins.
void PostgresStore::put_metric_minute(const MetricMinute& m) {
  auto lease = borrow();
  exec(*lease,
       "INSERT INTO metric_minutes (minute, resolution, instance, payload, updated_at) VALUES "
       "($1, $2, $3, $4, $5) ON CONFLICT (minute, resolution, instance) DO UPDATE SET payload = "
       "EXCLUDED.payload, updated_at = EXCLUDED.updated_at",
       Params()
           .add(m.minute)
           .add(static_cast<std::int64_t>(m.resolution))
           .add(m.instance)
           .add(m.payload_json)
           .add(m.updated_at));
}

std::vector<MetricMinute> PostgresStore::metric_minutes(int resolution, std::int64_t from_minute,
                                                        std::int64_t to_minute) {
  auto lease = borrow();
  const Result r =
      exec(*lease,
           "SELECT minute, instance, payload, updated_at FROM metric_minutes WHERE "
           "minute >= $1 AND minute < $2 AND resolution = $3 ORDER BY minute, instance",
           Params().add(from_minute).add(to_minute).add(static_cast<std::int64_t>(resolution)));
  std::vector<MetricMinute> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    MetricMinute m;
    m.minute = r.i64(i, 0);
    m.resolution = resolution;
    m.instance = r.text(i, 1);
    m.payload_json = r.text(i, 2);
    m.updated_at = r.i64(i, 3);
    out.push_back(std::move(m));
  }
  return out;
}

std::int64_t PostgresStore::purge_metric_minutes(std::int64_t before_minute) {
  auto lease = borrow();
  return exec(*lease, "DELETE FROM metric_minutes WHERE minute < $1", Params().add(before_minute))
      .affected();
}

std::map<std::string, std::int64_t> PostgresStore::outbox_counts() {
  auto lease = borrow();
  return counts_by(*lease, "SELECT status, COUNT(*) FROM outbox GROUP BY status");
}

std::map<std::string, std::int64_t> PostgresStore::inbox_counts() {
  auto lease = borrow();
  return counts_by(*lease, "SELECT state, COUNT(*) FROM whatsapp_inbox GROUP BY state");
}

// The whole database's size (every schema in it), as the server reports it.
std::int64_t PostgresStore::database_size_bytes() {
  auto lease = borrow();
  return exec(*lease, "SELECT pg_database_size(current_database())").i64(0, 0);
}

// ---- OTPs ----

namespace {

constexpr const char* kOtpColumns =
    "environment, phone_bidx, code_hash, created_at, expires_at, attempts, state";

OtpCode read_otp(const Result& r, int row) {
  OtpCode o;
  o.environment = r.text(row, 0);
  o.phone_bidx = r.text(row, 1);
  o.code_hash = r.text(row, 2);
  o.created_at = r.i64(row, 3);
  o.expires_at = r.i64(row, 4);
  o.attempts = static_cast<int>(r.i64(row, 5));
  o.state = r.text(row, 6);
  return o;
}

// Inserts the phone's code or replaces every column of the existing one.
void upsert_otp(Connection& c, const OtpCode& o) {
  exec(c,
       "INSERT INTO otp_codes (environment, phone_bidx, code_hash, created_at, expires_at, "
       "attempts, state) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (environment, "
       "phone_bidx) DO UPDATE SET code_hash = EXCLUDED.code_hash, created_at = "
       "EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, attempts = EXCLUDED.attempts, "
       "state = EXCLUDED.state",
       Params()
           .add(o.environment)
           .add(o.phone_bidx)
           .add(o.code_hash)
           .add(o.created_at)
           .add(o.expires_at)
           .add(o.attempts)
           .add(o.state));
}

constexpr const char* kConsentColumns =
    "environment, phone_bidx, phone_enc, token_hash, requested_at, expires_at, granted_at";

ConsentRecord read_consent(const Result& r, int row) {
  ConsentRecord c;
  c.environment = r.text(row, 0);
  c.phone_bidx = r.text(row, 1);
  c.phone_enc = r.text(row, 2);
  c.token_hash = r.text(row, 3);
  c.requested_at = r.i64(row, 4);
  c.expires_at = r.i64(row, 5);
  c.granted_at = r.i64(row, 6);
  return c;
}

}  // namespace

void PostgresStore::put_otp(const OtpCode& code) {
  auto lease = borrow();
  upsert_otp(*lease, code);
}

std::optional<OtpCode> PostgresStore::find_otp(const std::string& environment,
                                               const std::string& phone_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kOtpColumns +
                            " FROM otp_codes WHERE environment = $1 AND phone_bidx = $2",
                        Params().add(environment).add(phone_bidx));
  if (r.rows() == 0) return std::nullopt;
  return read_otp(r, 0);
}

// SELECT ... FOR UPDATE locks the phone's row until the commit, so concurrent update_otp calls
// on one phone (any thread, any instance) run `decide` one after another, each on the row the
// previous one wrote. When the phone has no row yet, FOR UPDATE locks nothing: concurrent callers
// may all see nullopt, and if several of them returned a code the last upsert would win. That is
// acceptable because the OTP service's decide never creates a code from a missing row (a send
// uses put_otp). `decide` runs inside the transaction on a pooled connection: it must not call
// the store. When it throws, nothing is written.
std::optional<OtpCode> PostgresStore::update_otp(
    const std::string& environment, const std::string& phone_bidx,
    const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)>& decide) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  std::optional<OtpCode> current;
  {
    const Result r =
        exec(c,
             std::string("SELECT ") + kOtpColumns +
                 " FROM otp_codes WHERE environment = $1 AND phone_bidx = $2 FOR UPDATE",
             Params().add(environment).add(phone_bidx));
    if (r.rows() > 0) current = read_otp(r, 0);
  }
  std::optional<OtpCode> next = decide(current);
  if (!next) return std::nullopt;  // rolled back: nothing to write
  next->environment = environment;
  next->phone_bidx = phone_bidx;
  upsert_otp(c, *next);
  tx.commit();
  return next;
}

// ---- rate limits ----

// A transaction-scoped advisory lock keyed by the scope's 64-bit hash serialises reservations of
// one scope across every connection and instance (a hash collision only serialises two scopes
// needlessly); under READ COMMITTED each later statement sees what the previous holder committed.
RateDecision PostgresStore::reserve_rate_event(const std::string& scope, std::int64_t now,
                                               std::int64_t window_ms, int max_events,
                                               std::int64_t cooldown_ms) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  exec(c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", Params().add(scope));
  RateDecision d;
  bool refused = false;
  std::int64_t wait = 0;
  if (window_ms > 0 && max_events > 0) {
    const std::int64_t n = exec(c,
                                "SELECT COUNT(*) FROM rate_events WHERE scope = $1 AND "
                                "at > $2::bigint",
                                Params().add(scope).add(now - window_ms))
                               .i64(0, 0);
    if (n >= max_events) {
      // Room again once the (n - max_events + 1)-th oldest event leaves the window (the oldest
      // when n == max_events).
      const Result r = exec(
          c,
          "SELECT at FROM rate_events WHERE scope = $1 AND at > $2::bigint "
          "ORDER BY at, id LIMIT 1 OFFSET $3::bigint",
          Params().add(scope).add(now - window_ms).add(n - static_cast<std::int64_t>(max_events)));
      if (r.rows() > 0) {
        refused = true;
        wait = std::max(wait, r.i64(0, 0) + window_ms - now);
      }
    }
  }
  if (cooldown_ms > 0) {
    const Result r = exec(c, "SELECT MAX(at) FROM rate_events WHERE scope = $1 AND at > $2::bigint",
                          Params().add(scope).add(now - cooldown_ms));
    if (const auto at = r.opt_i64(0, 0)) {
      refused = true;
      wait = std::max(wait, *at + cooldown_ms - now);
    }
  }
  if (refused) {
    d.retry_after_ms = std::max<std::int64_t>(1, wait);
    return d;  // rolled back: nothing written, lock released
  }
  d.event_id = exec(c, "INSERT INTO rate_events (scope, at) VALUES ($1, $2) RETURNING id",
                    Params().add(scope).add(now))
                   .i64(0, 0);
  d.allowed = true;
  tx.commit();
  return d;
}

void PostgresStore::release_rate_event(std::int64_t event_id) {
  auto lease = borrow();
  exec(*lease, "DELETE FROM rate_events WHERE id = $1", Params().add(event_id));
}

std::int64_t PostgresStore::purge_rate_events(std::int64_t older_than) {
  auto lease = borrow();
  return exec(*lease, "DELETE FROM rate_events WHERE at < $1", Params().add(older_than)).affected();
}

// ---- consents ----

void PostgresStore::insert_consent(const ConsentRecord& c) {
  auto lease = borrow();
  exec(*lease,
       "INSERT INTO consents (environment, phone_bidx, phone_enc, token_hash, requested_at, "
       "expires_at, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
       Params()
           .add(c.environment)
           .add(c.phone_bidx)
           .add(c.phone_enc)
           .add(c.token_hash)
           .add(c.requested_at)
           .add(c.expires_at)
           .add(c.granted_at));
}

// One statement: a concurrent grant of the same token waits for the row lock, re-checks
// granted_at = 0 on the updated row and matches nothing, so a link works once.
std::optional<ConsentRecord> PostgresStore::grant_consent(const std::string& token_hash,
                                                          std::int64_t now) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("UPDATE consents SET granted_at = $2 WHERE token_hash = $1 "
                                    "AND granted_at = 0 AND expires_at > $2 RETURNING ") +
                            kConsentColumns,
                        Params().add(token_hash).add(now));
  if (r.rows() == 0) return std::nullopt;
  return read_consent(r, 0);
}

std::optional<ConsentRecord> PostgresStore::find_consent(const std::string& token_hash) {
  auto lease = borrow();
  const Result r = exec(
      *lease, std::string("SELECT ") + kConsentColumns + " FROM consents WHERE token_hash = $1",
      Params().add(token_hash));
  if (r.rows() == 0) return std::nullopt;
  return read_consent(r, 0);
}

std::vector<ConsentRecord> PostgresStore::consents_for(const std::string& environment,
                                                       const std::string& phone_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease,
                        std::string("SELECT ") + kConsentColumns +
                            " FROM consents WHERE environment = $1 AND phone_bidx = $2 ORDER BY "
                            "requested_at, id",
                        Params().add(environment).add(phone_bidx));
  std::vector<ConsentRecord> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_consent(r, i));
  return out;
}

// ---- idempotency ----

IdempotencyRecord PostgresStore::begin_idempotent(const std::string& scope, const std::string& key,
                                                  const std::string& fingerprint, std::int64_t now,
                                                  std::int64_t stale_before) {
  auto lease = borrow();
  Connection& c = *lease;
  // Race-free across instances: the insert either creates the record (this call owns the key) or
  // waits for a concurrent creator to commit and does nothing; the row lock then serialises the
  // decision, so of several concurrent takeovers of a stale record only the first wins.
  for (int round = 0; round < 3; ++round) {
    Transaction tx(c);
    const Result ins = exec(c,
                            "INSERT INTO idempotency_keys (scope, key, fingerprint, state, "
                            "created_at, updated_at) VALUES ($1, $2, $3, 'running', $4, $4) "
                            "ON CONFLICT (scope, key) DO NOTHING",
                            Params().add(scope).add(key).add(fingerprint).add(now));
    IdempotencyRecord rec;
    if (ins.affected() == 1) {
      tx.commit();
      return rec;
    }
    const Result r = exec(c,
                          "SELECT fingerprint, state, status, body, content_type, updated_at "
                          "FROM idempotency_keys WHERE scope = $1 AND key = $2 FOR UPDATE",
                          Params().add(scope).add(key));
    if (r.rows() == 0) continue;  // deleted (abandoned/purged) in between: try again
    if (r.text(0, 0) != fingerprint) {
      rec.state = IdempotencyRecord::State::mismatch;
      return rec;
    }
    if (r.text(0, 1) == "done") {
      rec.state = IdempotencyRecord::State::replay;
      rec.status = static_cast<int>(r.i64(0, 2));
      rec.body = r.text(0, 3);
      rec.content_type = r.text(0, 4);
      return rec;
    }
    if (r.i64(0, 5) >= stale_before) {
      rec.state = IdempotencyRecord::State::in_progress;
      return rec;
    }
    // The first attempt's holder died mid-request: take the key over.
    exec(c, "UPDATE idempotency_keys SET updated_at = $1 WHERE scope = $2 AND key = $3",
         Params().add(now).add(scope).add(key));
    tx.commit();
    return rec;
  }
  throw StoreUnavailable("postgresql: idempotency record keeps changing; retry");
}

void PostgresStore::complete_idempotent(const std::string& scope, const std::string& key,
                                        int status, const std::string& body,
                                        const std::string& content_type, std::int64_t now) {
  auto lease = borrow();
  exec(*lease,
       "UPDATE idempotency_keys SET state = 'done', status = $1, body = $2, content_type = $3, "
       "updated_at = $4 WHERE scope = $5 AND key = $6",
       Params().add(status).add(body).add(content_type).add(now).add(scope).add(key));
}

void PostgresStore::abandon_idempotent(const std::string& scope, const std::string& key) {
  auto lease = borrow();
  exec(*lease, "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'running'",
       Params().add(scope).add(key));
}

std::int64_t PostgresStore::purge_idempotent(std::int64_t older_than) {
  auto lease = borrow();
  return exec(*lease, "DELETE FROM idempotency_keys WHERE created_at < $1",
              Params().add(older_than))
      .affected();
}

std::unique_ptr<Store> make_postgres_store(const std::string& url, int pool_size) {
  return std::make_unique<PostgresStore>(url, pool_size);
}

}  // namespace leadgate
