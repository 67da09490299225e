#pragma once
// The rows, writes and results the store roles (store.h) take and answer: plain values. PII in
// them is already sealed (crypto/crypto.h); timestamps are UTC unix milliseconds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace leadgate {

struct ApiKeyRow {
  std::string id;  // public, non-secret identifier (key prefix)
  std::string name;
  std::string key_hash;                   // hex SHA-256 of the full key
  std::vector<std::string> environments;  // scopes
  std::int64_t created_at = 0;
  bool revoked = false;
  // Schema 10 (issue 20): "server" (a brand's back end, trusted for every customer of its
  // environments) or "app" (a mobile app: customer routes need a customer token); when the key
  // was last used (0: never; kept to about a minute, see services/auth.h).
  std::string kind = "server";
  std::int64_t last_used_at = 0;
};

// A customer token (issue 20): proof, from a verified OTP, that the caller holds one phone in one
// environment. Only its hash is stored, with the phone's mobile blind index (never the mobile).
struct CustomerTokenRow {
  std::string token_hash;  // hex SHA-256 of the token
  std::string environment;
  std::string phone_bidx;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

// One consent event (issue 21): a person (environment + the mobile's blind index) granted or
// withdrew one purpose. The consent ledger is append-only.
struct ConsentEvent {
  std::int64_t id = 0;  // filled on reads
  std::string environment;
  std::string phone_bidx;
  std::optional<std::string> phone_enc;  // the mobile, sealed, when known
  std::string purpose;                   // whatsapp_otp | whatsapp_updates | loan_processing
  std::string action;                    // granted | withdrawn
  std::string notice_version;
  std::string source;  // consent_link | client_asserted | whatsapp_stop | whatsapp_start | api
  std::int64_t at = 0;
  std::string request_id;
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
  // Sealed since schema 13 (issue 20): the credit score, the yearly income (decimal text before
  // sealing) and the remarks. A value written before schema 13 is plaintext until
  // seal_plaintext_leads reaches it (services/pii_backfill.h).
  std::string credit_score_enc;
  std::string pincode;
  std::optional<std::string> state, gender, application_assigned_to_rm, remarks_enc, customer_id,
      qr_short_code;
  std::optional<std::string> annual_income_enc;
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
  // The Basic Application API's view (schema 4), written only by record_partner_status (insert
  // stores them as given; update_lead leaves them alone, so a concurrent status refresh is never
  // overwritten by an older copy of the row).
  std::string partner_status;            // e.g. "Under Review"; empty: never reported
  std::string partner_stage;             // the LOS's stage text
  std::int64_t partner_updated_at = 0;   // the LOS's updated_at (unix ms); 0: unknown
  std::int64_t status_refreshed_at = 0;  // when the LOS last answered about this lead
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
  std::string status = "pending";  // pending | sent | dead | suppressed (customer opted out)
  int attempts = 0;
  std::int64_t next_attempt_at = 0;
  std::string provider_message_id;
  std::string last_error;
  std::int64_t created_at = 0;
  // Delivery receipts (schema 6): the latest state the provider reported for the sent message
  // (enqueued | sent | delivered | read | failed; "" none yet), when, and its error code.
  std::string delivery_status;
  std::int64_t delivery_status_at = 0;
  std::string delivery_error;
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
  // ... and only if the row is still owned by this request (stored request_id): two requests
  // taking over the same abandoned lead cannot both proceed.
  std::optional<std::string> expected_request_id;
  std::vector<AuditEntry> audit;
  std::vector<OutboxMessage> outbox;
  // false: a claim (pending_los) that only has to be visible, not durable, because the write that
  // ends the request follows and makes it durable with it (the WAL is flushed in order):
  // PostgreSQL commits it without waiting for the WAL flush, SQLite without an fsync. A crash in
  // between can lose the claim of a request that was never answered, never an answered one.
  bool durable = true;
  // A loan_processing grant for the consent ledger (issue 21), appended in the same transaction
  // unless the person's latest loan_processing event already is a grant.
  std::optional<ConsentEvent> consent;
};

// What the LOS reported about one lead (lead_status / the WhatsApp assistant).
struct PartnerStatusWrite {
  std::int64_t lead_id = 0;
  std::string expected_status;  // the partner_status the caller read (compare-and-set)
  std::string status;
  std::string stage;
  std::int64_t partner_updated_at = 0;
  std::int64_t refreshed_at = 0;
  // Written in the same transaction, only when the status/stage change is applied.
  std::vector<AuditEntry> audit;
  std::vector<OutboxMessage> outbox;
};

// A relationship manager on an environment's roster (appointments).
struct RmRow {
  std::int64_t id = 0;
  std::string environment;
  std::string name;       // as entered, e.g. "John Smith"
  std::string name_key;   // lower-cased, single-spaced: unique per environment, used for lookups
  std::string phone_enc;  // sealed mobile (10 digits)
  std::string location;   // branch address
  bool active = true;
  std::int64_t created_at = 0;
};

struct AppointmentRow {
  std::string id;  // UUID v4, public
  std::string environment;
  std::string lead_ref;  // reference_id of the lead
  std::int64_t rm_id = 0;
  std::int64_t slot_start = 0;  // UTC unix ms
  int slot_minutes = 30;
  std::string status = "booked";  // booked | cancelled
  std::string request_id;
  std::int64_t created_at = 0;
  std::int64_t cancelled_at = 0;  // 0 while booked
  std::string cancel_reason;
};

// A lead with its booked appointment and that appointment's RM (both or neither).
struct LeadWithAppointment {
  LeadRow lead;
  std::optional<AppointmentRow> appointment;
  std::optional<RmRow> rm;
};

// Which leads lead_status reads: by basic_application_id when it is set, else by mobile.
struct LeadLookup {
  std::string mobile_bidx;
  std::string basic_application_id;
};

struct AppointmentWrite {
  AppointmentRow appointment;
  std::vector<AuditEntry> audit;
  std::vector<OutboxMessage> outbox;
};

enum class BookOutcome {
  booked,
  slot_taken,           // the RM already has a booked appointment starting at that slot
  lead_has_appointment  // the lead already has a booked appointment
};

// One item of an inbound WhatsApp webhook callback (a message, a delivery receipt, a user event),
// stored raw before the provider is answered, processed later in the background.
struct InboxEvent {
  std::int64_t id = 0;
  std::string provider;     // gupshup | meta
  std::string event_id;     // the provider's id of the item: unique per provider (de-duplication)
  std::string environment;  // from the receiving business number; "" when it matches none
  std::string kind;         // message | status | user_event
  std::string payload_enc;  // sealed JSON of the item
  std::int64_t received_at = 0;
  std::string state = "pending";  // pending | done | failed
  int attempts = 0;
  std::int64_t next_attempt_at = 0;
  std::int64_t processed_at = 0;
  std::string last_error;
};

// One message of a customer's WhatsApp conversation with an environment's business number.
struct ConversationMessage {
  std::int64_t id = 0;
  std::string environment;
  std::string phone_bidx;           // the customer's mobile blind index
  std::string direction;            // in | out
  std::string provider_message_id;  // inbound: the provider's id ("" for outbound)
  std::int64_t outbox_id = 0;       // outbound: the outbox row that carries it
  std::string lead_ref;             // the application it is about ("" none)
  std::string application_id;       // the basic_application_id it named or answered about
  std::string msg_type;             // text | image | ... (inbound); text (outbound)
  std::string text_enc;             // sealed text ("" for media)
  std::string classification;       // inbound: status | help | ... | unsupported | throttled;
                                    // outbound: the reply kind (status | error | fallback | ...)
  std::int64_t created_at = 0;
};

// Processing one inbound message, in one transaction: the inbound row; the reply's outbox row
// and its conversation row (outbox_id filled in by the store); an opt-out change; and the inbox
// event marked done.
struct ConversationWrite {
  ConversationMessage inbound;
  std::optional<OutboxMessage> reply_outbox;
  std::optional<ConversationMessage> reply;  // written only with reply_outbox
  std::optional<bool> opted_out;             // set_opt_out(inbound's environment/phone, value)
  std::optional<ConsentEvent> consent;       // STOP / START in the consent ledger (issue 21)
  std::int64_t inbox_id = 0;                 // 0: no inbox row to finish
  std::int64_t now = 0;
};

struct DeliveryReceipt {
  std::string provider_message_id;
  std::string status;   // enqueued | sent | delivered | read | failed
  std::int64_t at = 0;  // when the provider says it happened
  std::string error_code;
  std::string error_message;
  std::int64_t received_at = 0;
  std::int64_t outbox_id = 0;  // filled on reads
  // Write side only. inbox_id: the webhook inbox event the receipt came from, finished in the
  // same transaction (done at processed_at, attempts + 1). retry_unmatched_at > 0: when no outbox
  // row has the id (yet), nothing is stored and that event is set pending again for this time
  // instead, with last_error kReceiptNotMatchedYet.
  std::int64_t inbox_id = 0;
  std::int64_t processed_at = 0;
  std::int64_t retry_unmatched_at = 0;
};
inline constexpr const char* kReceiptNotMatchedYet = "no message with this id yet";

// One instance's monitoring counters for one minute (issue 8's dashboard): the deltas of its
// metrics registry during that minute, as JSON (services/monitoring.h defines the payload).
struct MetricMinute {
  std::int64_t minute = 0;  // unix time / 60 s: the first minute of the row's period
  int resolution = 1;       // the period in minutes: 1, or a rollup (15, 60)
  std::string instance;     // the process's instance id
  std::string payload_json;
  std::int64_t updated_at = 0;
};

// The current OTP of one phone in one environment (a new send replaces it).
struct OtpCode {
  std::string environment;
  std::string phone_bidx;
  std::string code_hash;  // hex HMAC-SHA256 of the code with a server key; never the code
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  int attempts = 0;              // wrong verifies so far
  std::string state = "active";  // active | used | burned
  // Written with the code (one transaction, issue 21): the consent the client asserted for this
  // send (otp_send with user_check: true), unless the ledger already shows it granted.
  std::optional<ConsentEvent> consent;
};

// Outcome of an atomic rate-limit reservation.
struct RateDecision {
  bool allowed = false;
  std::int64_t retry_after_ms = 0;  // when refused
  std::int64_t event_id = 0;        // when allowed: release_rate_event undoes it
};

// One scope's limits in a reservation of several (VerificationStore::reserve_rate_events).
struct RateRule {
  std::string scope;
  std::int64_t window_ms = 0;
  int max_events = 0;
  std::int64_t cooldown_ms = 0;
};

// Outcome of reserve_rate_events: all of its rules' events, or none.
struct RateReservation {
  bool allowed = false;
  std::size_t refused_rule = 0;         // when refused: the first rule that refused
  std::int64_t retry_after_ms = 0;      // when refused: that rule's wait
  std::vector<std::int64_t> event_ids;  // when allowed: one per rule, in their order
};

// A consent request sent on WhatsApp, granted when the customer opens its link.
struct ConsentRecord {
  std::string environment;
  std::string phone_bidx;
  std::string phone_enc;   // sealed, for audit views
  std::string token_hash;  // hex SHA-256 of the link token
  std::int64_t requested_at = 0;
  std::int64_t expires_at = 0;
  std::int64_t granted_at = 0;  // 0 until granted
};

// The values of one lead that schema 13 seals, as stored (SealedLeadFields::id names the row).
struct SealedLeadFields {
  std::int64_t id = 0;
  std::string credit_score;
  std::optional<std::string> annual_income, remarks;
};

// A dashboard session (issue 20): the cookie's token is stored only as its SHA-256, with the ops
// key it was opened with; logout deletes the row, so the session ends on every instance.
struct OpsSessionRow {
  std::string token_hash;
  std::string key_hash;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

struct IdempotencyRecord {
  enum class State { started, replay, mismatch, in_progress };
  State state = State::started;
  int status = 0;
  std::string body;
  std::string content_type;
};

// What purge_transient deletes: rows whose time is before each cutoff (ms since the epoch).
struct RetentionCutoffs {
  std::int64_t otps_expired_before = 0;              // OTP codes (otp_codes.expires_at)
  std::int64_t consent_requests_expired_before = 0;  // consent links never granted
  std::int64_t inbox_processed_before = 0;           // webhook callbacks processed ('done')
};
struct RetentionCounts {
  std::int64_t otps = 0, consent_requests = 0, inbox_events = 0;
};

// A person's data key (issue 21 §3), as stored: wrapped by the master key (PiiCipher).
struct DataKeyRow {
  std::int64_t id = 0;
  std::string wrapped;  // "" once erased
};

// Erasing one person (environment + the mobile's blind index) in one transaction.
struct PersonErasure {
  std::string environment;
  std::string phone_bidx;
  std::string tombstone;  // replaces their blind indexes: "erased:" + the erasure's id
  std::int64_t at = 0;
  ConsentEvent ledger;  // the erasure itself (phone_bidx = tombstone, no phone_enc)
  AuditEntry audit;     // the same, in the audit trail (entity "person", no PII)
};
// What erase_person changed: leads tombstoned, queued messages cancelled, message payloads
// blanked (sent or not), conversation texts deleted, appointments cancelled, ledger rows detached
// from the person, and data keys destroyed (0 or 1).
struct ErasureCounts {
  std::int64_t leads = 0, messages_cancelled = 0, messages_blanked = 0, conversation_texts = 0,
               appointments_cancelled = 0, consent_events = 0, data_keys = 0;
};

// A person the retention sweep may erase, and when they were last active (ms).
struct PersonRef {
  std::string environment, phone_bidx;
  std::int64_t last_active_at = 0;
};

// One sealed column of one table, for the master-key rotation (issue 21 §5). `key`: a unique
// column or expression ordering the rows, compared as `key_type` (BIGINT or TEXT). Code constants.
struct SealedColumn {
  const char* table;
  const char* key;
  const char* key_type;
  const char* column;
};

}  // namespace leadgate
