#pragma once
// The Store: named operations, not SQL. Implementations (sqlite/, postgres/) are thread-safe and
// blocking; callers run them off the I/O threads (see app/offload.h). Timestamps are UTC unix
// milliseconds. PII arrives already sealed (crypto/crypto.h): the store never sees plaintext.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace leadgate {

// The database is unreachable or the connection pool is exhausted: surfaces as 503.
struct StoreUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A uniqueness rule was violated (e.g. a concurrent insert of the same customer's lead).
struct StoreConflict : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ApiKeyRow {
  std::string id;  // public, non-secret identifier (key prefix)
  std::string name;
  std::string key_hash;                   // hex SHA-256 of the full key
  std::vector<std::string> environments;  // scopes
  std::int64_t created_at = 0;
  bool revoked = false;
};

// One row of the leads table. *_enc columns are sealed PII; *_bidx are blind indexes.
struct LeadRow {
  std::int64_t id = 0;
  std::string environment;
  std::string reference_id;
  std::string basic_application_id;  // empty until the LOS accepted the lead
  std::string application_id;        // LOS applicationId (UUID)
  std::string status;                // pending_los | los_failed | created | completed | ...
  std::string first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc;
  std::string mobile_bidx, pan_bidx;
  std::string loan_type;
  std::int64_t loan_amount_req = 0;
  int loan_tenure = 0;
  int credit_score = 0;
  std::string pincode;
  std::optional<std::string> state, gender, application_assigned_to_rm, remarks, customer_id,
      qr_short_code;
  std::optional<std::int64_t> annual_income;
  bool include_credit_score = true;
  bool is_lead_prefilled = false;
  std::string los_error;  // last partner failure, for reconciliation
  std::string request_id;
  std::string user_agent;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  // Lead flash (schema 2): sealed JSON of the property/profession/employment details, the LOS's
  // completion reference, when the flash completed, and the soft-rule warnings (JSON array).
  std::string flash_details_enc;
  std::string completion_reference;
  std::int64_t flashed_at = 0;
  std::string warnings_json = "[]";
};

struct AuditEntry {
  std::string environment;
  std::string entity = "lead";
  std::string entity_ref;  // reference_id of the lead
  std::string operation;   // created | updated | status_changed | ...
  std::string field;
  std::string old_value;  // masked
  std::string new_value;  // masked
  std::string request_id;
  std::int64_t duration_ms = 0;
  std::int64_t created_at = 0;
};

struct OutboxMessage {
  std::int64_t id = 0;
  std::string environment;
  std::string lead_ref;            // reference_id of the lead it belongs to (may be empty)
  std::string kind;                // whatsapp_template | whatsapp_text
  std::string payload_enc;         // sealed JSON: destination, template, params
  std::string status = "pending";  // pending | sent | dead
  int attempts = 0;
  std::int64_t next_attempt_at = 0;
  std::string provider_message_id;
  std::string last_error;
  std::int64_t created_at = 0;
};

struct OutboxAttempt {
  std::int64_t outbox_id = 0;
  int attempt = 0;
  std::int64_t started_at = 0;
  std::int64_t duration_ms = 0;
  std::string outcome;  // accepted | failed
  int http_status = 0;
  std::string error;
  std::string provider_message_id;
};

// A business write and everything it causes, applied in one transaction.
struct LeadWrite {
  LeadRow lead;
  std::optional<std::string> expected_status;  // update only if the stored status still is this
  std::vector<AuditEntry> audit;
  std::vector<OutboxMessage> outbox;
};

struct IdempotencyRecord {
  enum class State { started, replay, mismatch, in_progress };
  State state = State::started;
  int status = 0;
  std::string body;
  std::string content_type;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual void migrate() = 0;
  virtual int schema_version() = 0;
  virtual int expected_schema_version() const = 0;
  virtual void ping() = 0;  // throws StoreUnavailable
  virtual std::string kind() const = 0;

  // API keys
  virtual void insert_api_key(const ApiKeyRow& row) = 0;
  virtual std::optional<ApiKeyRow> find_api_key(const std::string& key_hash) = 0;
  virtual std::int64_t count_api_keys() = 0;

  // Leads
  virtual std::optional<LeadRow> find_lead_for_customer(const std::string& environment,
                                                        const std::string& mobile_bidx,
                                                        const std::string& loan_type) = 0;
  virtual std::optional<LeadRow> find_lead_by_reference(const std::string& environment,
                                                        const std::string& reference_id) = 0;
  virtual std::optional<LeadRow> find_lead_by_application_id(const std::string& environment,
                                                             const std::string& application_id) = 0;
  // Inserts w.lead (id assigned and returned) with its audit and outbox rows. Throws StoreConflict
  // when the customer already has a lead of that loan type in that environment.
  virtual std::int64_t insert_lead(const LeadWrite& w) = 0;
  // Updates every column of w.lead by id; false when expected_status no longer matches.
  virtual bool update_lead(const LeadWrite& w) = 0;
  virtual std::vector<AuditEntry> audit_for(const std::string& environment,
                                            const std::string& entity_ref) = 0;
  virtual std::int64_t count_leads(const std::string& environment) = 0;

  // Outbox: claim due rows under a lease; a crashed holder's lease expires.
  virtual std::vector<OutboxMessage> claim_outbox(std::int64_t now, int limit,
                                                  const std::string& owner,
                                                  std::int64_t lease_until) = 0;
  // Records one delivery attempt and the row's new state, releasing the lease.
  virtual void finish_outbox_attempt(const OutboxAttempt& attempt, const std::string& new_status,
                                     std::int64_t next_attempt_at) = 0;
  virtual void release_outbox_leases(const std::string& owner) = 0;
  virtual std::vector<OutboxMessage> outbox_for(const std::string& environment,
                                                const std::string& lead_ref) = 0;
  // Operators: rows in a status (e.g. dead), oldest first; requeue a dead row (id) or all dead
  // rows (id 0) for immediate delivery with a fresh attempt budget. Returns rows requeued.
  virtual std::vector<OutboxMessage> list_outbox(const std::string& status, int limit) = 0;
  virtual std::int64_t requeue_outbox(std::int64_t id, std::int64_t now) = 0;

  // Idempotency-Key records (scope = API key id + route).
  virtual IdempotencyRecord begin_idempotent(const std::string& scope, const std::string& key,
                                             const std::string& fingerprint, std::int64_t now,
                                             std::int64_t stale_before) = 0;
  virtual void complete_idempotent(const std::string& scope, const std::string& key, int status,
                                   const std::string& body, const std::string& content_type,
                                   std::int64_t now) = 0;
  virtual void abandon_idempotent(const std::string& scope, const std::string& key) = 0;
  virtual std::int64_t purge_idempotent(std::int64_t older_than) = 0;
};

std::unique_ptr<Store> open_store(const std::string& database_url, int pool_size);
std::int64_t now_ms();

}  // namespace leadgate
