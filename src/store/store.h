#pragma once
// The Store: named operations, not SQL. Implementations (sqlite/, postgres/) are thread-safe and
// blocking; callers run them off the I/O threads (see core/offload.h). Timestamps are UTC unix
// milliseconds. PII arrives already sealed (crypto/crypto.h): the store never sees plaintext.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"

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

// The store is split by role: each service takes only the roles it uses (and a unit test fakes
// only those). Methods are grouped by the tables they touch; `Store` is the aggregate that
// open_store returns and that the implementations (sqlite/, postgres/) derive from.

// Leads, their audit trail and the events a lead change causes (outbox rows).
class LeadStore {
 public:
  virtual ~LeadStore() = default;

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
  // Every lead of one customer (mobile blind index) in one environment, newest first
  // (created_at, then id, descending).
  virtual std::vector<LeadRow> find_leads_by_mobile(const std::string& environment,
                                                    const std::string& mobile_bidx) = 0;
  virtual std::optional<LeadRow> find_lead_by_basic_id(const std::string& environment,
                                                       const std::string& basic_application_id) = 0;
  // lead_status's one statement: the customer's leads newest first (by.mobile_bidx) or the lead
  // with by.basic_application_id (when set), each with its booked appointment and that
  // appointment's RM.
  virtual std::vector<LeadWithAppointment> find_leads_with_appointment(
      const std::string& environment, const LeadLookup& by) = 0;
  // Leads of every environment left pending_los since before `updated_before` (ms), oldest
  // first, at most `limit`: the LOS recovery job's work.
  virtual std::vector<LeadRow> find_stale_pending_leads(std::int64_t updated_before, int limit) = 0;
  // One transaction. When (status, stage) differ from the stored (partner_status, partner_stage),
  // the stored partner_status still equals w.expected_status and w.partner_updated_at >= the
  // stored partner_updated_at: sets partner_status, partner_stage, partner_updated_at, inserts
  // w.audit and w.outbox, and returns true. In every case status_refreshed_at becomes
  // max(stored, w.refreshed_at). Returns false when nothing but the refresh time was written.
  virtual bool record_partner_status(const PartnerStatusWrite& w) = 0;
  // A poll whose answer equals the stored status: only status_refreshed_at = max(stored,
  // refreshed_at), in one statement. PostgreSQL commits it without waiting for the WAL flush (a
  // crash can lose the last few hundred ms of refresh times, never a status).
  virtual void record_status_refresh(std::int64_t lead_id, std::int64_t refreshed_at) = 0;
  // Appends audit entries and outbox messages in one transaction (events not tied to a row
  // change, e.g. a status notification the customer asked for).
  virtual void append_events(const std::vector<AuditEntry>& audit,
                             const std::vector<OutboxMessage>& outbox) = 0;
  // A status message the customer asked for (lead_status notify), at most one per lead per
  // interval. ONE transaction: a conditional UPDATE sets the lead's last_status_notified_at = now
  // only when the stored one is <= now - interval_ms, and only then are `outbox` rows inserted.
  // Returns whether they were. Concurrent calls for one lead (threads or instances) within an
  // interval: exactly one gets true (PostgreSQL's row lock re-checks the WHERE clause; SQLite's
  // single writer).
  virtual bool append_status_notification(std::int64_t lead_id, std::int64_t now,
                                          std::int64_t interval_ms,
                                          const std::vector<OutboxMessage>& outbox) = 0;
};

// Relationship managers and their appointments.
class AppointmentStore {
 public:
  virtual ~AppointmentStore() = default;

  // Relationship managers. insert_rm returns the id; StoreConflict when the environment already
  // has an RM with that name_key. list_rms: the environment's active RMs by name_key.
  virtual std::int64_t insert_rm(const RmRow& rm) = 0;
  virtual std::vector<RmRow> list_rms(const std::string& environment) = 0;
  virtual std::optional<RmRow> find_rm(std::int64_t id) = 0;

  // Appointments. book_appointment inserts w.appointment with w.audit and w.outbox in one
  // transaction, or nothing when the database's unique rules refuse it: one RM is never booked
  // twice for one slot start (unique over booked rows), one lead has at most one booked
  // appointment. Concurrent bookings of one slot: exactly one gets `booked`.
  virtual BookOutcome book_appointment(const AppointmentWrite& w) = 0;
  virtual std::optional<AppointmentRow> find_appointment(const std::string& id) = 0;
  // Booked appointments of an environment with from <= slot_start < to, by slot_start, then rm_id.
  virtual std::vector<AppointmentRow> booked_appointments(const std::string& environment,
                                                          std::int64_t from, std::int64_t to) = 0;
  // Every appointment of one lead (booked and cancelled), by created_at.
  virtual std::vector<AppointmentRow> appointments_for_lead(const std::string& environment,
                                                            const std::string& lead_ref) = 0;
  // One transaction: status booked -> cancelled (cancelled_at = now, cancel_reason) with the
  // audit entries and outbox messages; false (nothing written) when it is not booked.
  virtual bool cancel_appointment(const std::string& id, std::int64_t now,
                                  const std::string& reason, const std::vector<AuditEntry>& audit,
                                  const std::vector<OutboxMessage>& outbox) = 0;
};

// The outbox of WhatsApp messages: the dispatcher's claims and the operators' views.
class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  // Outbox: claim due rows under a lease; a crashed holder's lease expires.
  virtual std::vector<OutboxMessage> claim_outbox(std::int64_t now, int limit,
                                                  const std::string& owner,
                                                  std::int64_t lease_until) = 0;
  // Records one delivery attempt and the row's new state (pending | sent | dead | suppressed;
  // dead and suppressed are final, like sent), releasing the lease.
  virtual void finish_outbox_attempt(const OutboxAttempt& attempt, const std::string& new_status,
                                     std::int64_t next_attempt_at) = 0;
  virtual void release_outbox_leases(const std::string& owner) = 0;
  virtual std::vector<OutboxMessage> outbox_for(const std::string& environment,
                                                const std::string& lead_ref) = 0;
  // The delivery attempts of the lead's outbox messages, by started_at then attempt.
  virtual std::vector<OutboxAttempt> outbox_attempts_for(const std::string& environment,
                                                         const std::string& lead_ref) = 0;
  // Operators: rows in a status (e.g. dead), oldest first; requeue a dead row (id) or all dead
  // rows (id 0) for immediate delivery with a fresh attempt budget. Returns rows requeued.
  virtual std::vector<OutboxMessage> list_outbox(const std::string& status, int limit) = 0;
  virtual std::int64_t requeue_outbox(std::int64_t id, std::int64_t now) = 0;
};

// Inbound WhatsApp: the webhook inbox, conversations, delivery receipts and opt-outs.
class WhatsAppStore {
 public:
  virtual ~WhatsAppStore() = default;

  // Webhook inbox. insert_inbox stores, in one transaction, every event whose (provider,
  // event_id) is not stored yet (state pending, next_attempt_at = received_at) and returns how
  // many were new; a redelivered event is skipped, never an error. With `fresh`, it also sets
  // one flag per event (1: stored now; 0: stored before, or repeated earlier in `events`).
  // claim_inbox leases up to `limit` pending events with next_attempt_at <= now whose lease is free
  // or expired (earliest due first, then id: fresh events in the order they were stored, a retried
  // one when its retry falls due; FOR UPDATE SKIP LOCKED on PostgreSQL), like claim_outbox.
  // finish_inbox sets state (done | failed | pending to retry at next_attempt_at), attempts + 1,
  // processed_at = now (done/failed), last_error, and releases the lease.
  virtual int insert_inbox(const std::vector<InboxEvent>& events,
                           std::vector<char>* fresh = nullptr) = 0;
  virtual std::vector<InboxEvent> claim_inbox(std::int64_t now, int limit, const std::string& owner,
                                              std::int64_t lease_until) = 0;
  // Releases every lease `owner` holds on inbox events (claimed but not processed at shutdown).
  virtual void release_inbox_leases(const std::string& owner) = 0;
  virtual void finish_inbox(std::int64_t id, const std::string& state, std::int64_t now,
                            std::int64_t next_attempt_at, const std::string& error) = 0;
  virtual std::optional<InboxEvent> find_inbox(const std::string& provider,
                                               const std::string& event_id) = 0;

  // Conversations. record_conversation applies a ConversationWrite atomically (see above); a
  // duplicate inbound provider_message_id in the same environment is a StoreConflict and nothing
  // is written. conversation: the last `limit` messages of one phone in one environment, oldest
  // first (created_at, then id).
  virtual void record_conversation(const ConversationWrite& w) = 0;
  virtual std::vector<ConversationMessage> conversation(const std::string& environment,
                                                        const std::string& phone_bidx,
                                                        int limit) = 0;

  // Delivery receipts. record_deliveries applies each receipt in order, all in one transaction
  // (one commit for a batch from the inbox), and returns each one's outbox id; record_delivery is
  // one of them. Each receipt is kept (history) and, when an outbox row has
  // that provider_message_id, moves its delivery state forward: the receipt wins when its `at` is
  // later than delivery_status_at, or equal with a higher rank (enqueued < sent < delivered <
  // read; failed ranks above sent and below delivered). Returns the outbox id (0: no such
  // message, the receipt is still kept unless retry_unmatched_at asks to look again later).
  // receipts_for: the receipts of one lead's outbox messages (outbox_id filled), by `at` then
  // insertion.
  virtual std::vector<std::int64_t> record_deliveries(
      const std::vector<DeliveryReceipt>& receipts) = 0;
  std::int64_t record_delivery(const DeliveryReceipt& r) { return record_deliveries({r}).at(0); }
  virtual std::vector<DeliveryReceipt> receipts_for(const std::string& environment,
                                                    const std::string& lead_ref) = 0;

  // Opt-outs per environment and phone: the change with the latest `at` wins (an older one
  // arriving later is ignored). A phone never seen is opted in.
  virtual void set_opt_out(const std::string& environment, const std::string& phone_bidx,
                           bool opted_out, std::int64_t at) = 0;
  virtual bool is_opted_out(const std::string& environment, const std::string& phone_bidx) = 0;
};

// Verifying customers: OTP codes, rate-limit events and consents.
class VerificationStore {
 public:
  virtual ~VerificationStore() = default;

  // OTPs, one current code per (environment, phone_bidx).
  // put_otp inserts the phone's code or replaces every column of the existing one (a new send:
  // new hash, times, attempts and state).
  // update_otp runs, in ONE transaction: read the phone's row under a write lock, call
  // decide(current) (nullopt when the phone has no row), and when it returns a code, upsert it;
  // it returns what `decide` returned. The returned/stored code always carries the given
  // environment and phone_bidx, whatever decide put there. When decide returns nullopt or throws,
  // nothing is written. Concurrent update_otp calls on one existing row (threads or instances)
  // are serialised: each decide sees the previous one's write, so two concurrent verifies of one
  // code cannot both succeed. SQLite: BEGIN IMMEDIATE under the store mutex (the database's single
  // writer lock, so other instances on the file wait too). PostgreSQL: SELECT ... FOR UPDATE;
  // when the phone has no row yet that locks nothing, so concurrent callers may all see nullopt —
  // acceptable because the OTP service's decide never creates a code from a missing row (sends
  // use put_otp). decide runs inside the transaction: it must be quick and must not call the
  // store.
  virtual void put_otp(const OtpCode& code) = 0;
  virtual std::optional<OtpCode> find_otp(const std::string& environment,
                                          const std::string& phone_bidx) = 0;
  virtual std::optional<OtpCode> update_otp(
      const std::string& environment, const std::string& phone_bidx,
      const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)>& decide) = 0;

  // Rate limits shared by all instances. reserve_rate_event is ONE transaction, serialised per
  // scope across instances (PostgreSQL: pg_advisory_xact_lock(hashtextextended(scope, 0)) in one
  // statement; SQLite: BEGIN IMMEDIATE). The events of one scope in one second of `now` (now/1000)
  // are one row that counts them, dated by the newest, so a busy scope costs at most a row a
  // second of its window:
  //   - window: n = scope's events in rows with at > now - window_ms; when n >= max_events it is
  //     refused until the (n - max_events + 1)-th oldest of them leaves the window (the oldest
  //     when n == max_events): wait = that event's at + window_ms - now. An event shares its
  //     row's (newest) time, so it may count up to a second longer: never fewer refusals.
  //   - cooldown: when the scope's newest event (in the window or not) has at > now - cooldown_ms
  //     it is refused: wait = newest + cooldown_ms - now.
  //   - refused: nothing is recorded; retry_after_ms = the larger wait of the rules that refused
  //     (>= 1), the earliest time every rule allows it if no event is added or released meanwhile.
  //   - allowed: records (scope, now) and returns its event_id (its row's id).
  // window_ms <= 0 or max_events <= 0 disables the window rule; cooldown_ms <= 0 the cooldown.
  // Events dated after `now` (another instance's clock ahead) count for both rules.
  // release_rate_event takes one event back (a send that failed does not count): its row counts
  // one less, and goes with its last event. purge_rate_events deletes rows with at < older_than
  // and returns how many.
  // reserve_rate_events does the same for several scopes in ONE transaction (one statement on
  // PostgreSQL): the rules are checked in order, the first that refuses ends it and nothing is
  // recorded; otherwise each rule's event is recorded. The scopes are locked in a fixed order, so
  // reservations naming the same scopes in another order cannot deadlock.
  virtual RateReservation reserve_rate_events(const std::vector<RateRule>& rules,
                                              std::int64_t now) = 0;
  RateDecision reserve_rate_event(const std::string& scope, std::int64_t now,
                                  std::int64_t window_ms, int max_events,
                                  std::int64_t cooldown_ms) {
    const RateReservation r =
        reserve_rate_events({RateRule{scope, window_ms, max_events, cooldown_ms}}, now);
    RateDecision d;
    d.allowed = r.allowed;
    d.retry_after_ms = r.retry_after_ms;
    if (r.allowed) d.event_id = r.event_ids.at(0);
    return d;
  }
  virtual void release_rate_event(std::int64_t event_id) = 0;
  virtual std::int64_t purge_rate_events(std::int64_t older_than) = 0;

  // Consents. insert_consent records a request (a duplicate token_hash is a StoreConflict).
  // grant_consent, in one statement, sets granted_at = now on the request whose token_hash
  // matches, that was not granted before (granted_at = 0) and has not expired (expires_at > now),
  // and returns the updated record; nullopt otherwise, so a link works once even when opened
  // concurrently. find_consent: the request of a token hash whatever its state, unchanged (the
  // consent page shows it before the customer agrees, or says it is already recorded).
  // consents_for: every request of one phone in one environment, oldest first (requested_at, then
  // insertion order).
  virtual void insert_consent(const ConsentRecord& consent) = 0;
  // `ledger`: appended to the consent ledger with the grant, in the same transaction, with the
  // granted request's environment, phone and sealed phone, at `now` (issue 21).
  virtual std::optional<ConsentRecord> grant_consent(const std::string& token_hash,
                                                     std::int64_t now,
                                                     const std::optional<ConsentEvent>& ledger) = 0;
  virtual std::optional<ConsentRecord> find_consent(const std::string& token_hash) = 0;
  virtual std::vector<ConsentRecord> consents_for(const std::string& environment,
                                                  const std::string& phone_bidx) = 0;

  // Customer tokens. insert_customer_token stores one (a duplicate hash is a StoreConflict);
  // find_customer_token answers it by hash whatever its expiry (the caller compares);
  // purge_customer_tokens deletes tokens with expires_at < older_than and returns how many.
  virtual void insert_customer_token(const CustomerTokenRow& token) = 0;
  virtual std::optional<CustomerTokenRow> find_customer_token(const std::string& token_hash) = 0;
  virtual std::int64_t purge_customer_tokens(std::int64_t older_than) = 0;
};

// Who may call: API keys and Idempotency-Key records.
class AccessStore {
 public:
  virtual ~AccessStore() = default;

  // API keys
  virtual void insert_api_key(const ApiKeyRow& row) = 0;
  virtual std::optional<ApiKeyRow> find_api_key(const std::string& key_hash) = 0;
  virtual std::int64_t count_api_keys() = 0;
  // Every key, revoked ones too, by created_at then id.
  virtual std::vector<ApiKeyRow> list_api_keys() = 0;
  // Marks the key revoked; false when there is no such key or it was revoked already.
  virtual bool revoke_api_key(const std::string& id) = 0;
  // last_used_at = at, when that is later than the stored value (one statement).
  virtual void touch_api_key(const std::string& id, std::int64_t at) = 0;

  // Idempotency-Key records (scope = API key id + route).
  virtual IdempotencyRecord begin_idempotent(const std::string& scope, const std::string& key,
                                             const std::string& fingerprint, std::int64_t now,
                                             std::int64_t stale_before) = 0;
  virtual void complete_idempotent(const std::string& scope, const std::string& key, int status,
                                   const std::string& body, const std::string& content_type,
                                   std::int64_t now) = 0;
  virtual void abandon_idempotent(const std::string& scope, const std::string& key) = 0;
  virtual std::int64_t purge_idempotent(std::int64_t older_than) = 0;

  // Dashboard sessions (issue 20). insert_ops_session also deletes every session expired at
  // row.created_at; find_ops_session answers the key hash of a session unexpired at `now`;
  // delete_ops_session is logout (false when there was no such session).
  virtual void insert_ops_session(const OpsSessionRow& row) = 0;
  virtual std::optional<std::string> find_ops_session(const std::string& token_hash,
                                                      std::int64_t now) = 0;
  virtual bool delete_ops_session(const std::string& token_hash) = 0;
};

// Operating the database: schema, health and the monitoring aggregates.
class OpsStore {
 public:
  virtual ~OpsStore() = default;

  virtual void migrate() = 0;
  virtual int schema_version() = 0;
  virtual int expected_schema_version() const = 0;
  virtual void ping() = 0;  // throws StoreUnavailable
  virtual std::string kind() const = 0;

  // Monitoring (issue 8). put_metric_minute upserts by (minute, resolution, instance), replacing
  // the payload (an instance re-writes its current period as it goes). metric_minutes: the rows
  // of one resolution with from <= minute < to, by minute then instance. purge_metric_minutes
  // deletes rows (any resolution) with minute < before and returns how many. outbox_counts: rows
  // per outbox status; inbox_counts: rows per whatsapp_inbox state (statuses with no rows are
  // absent). database_size_bytes: the database's size on disk (SQLite: page_count * page_size;
  // PostgreSQL: pg_database_size(current_database())).
  virtual void put_metric_minute(const MetricMinute& m) = 0;
  virtual std::vector<MetricMinute> metric_minutes(int resolution, std::int64_t from_minute,
                                                   std::int64_t to_minute) = 0;
  virtual std::int64_t purge_metric_minutes(std::int64_t before_minute) = 0;
  virtual std::map<std::string, std::int64_t> outbox_counts() = 0;
  virtual std::map<std::string, std::int64_t> inbox_counts() = 0;
  virtual std::int64_t database_size_bytes() = 0;

  // Sealing what schema 13 found in plaintext (services/pii_backfill.h): each call hands up to
  // `limit` rows still holding a plaintext value to `seal` and writes back what it returns, in
  // one transaction, and answers how many rows it handed over (0: none is left). A value counts
  // as sealed when it starts with "v1:" (PiiCipher's format); NULLs are left alone.
  virtual std::int64_t seal_plaintext_leads(
      int limit, const std::function<SealedLeadFields(SealedLeadFields)>& seal) = 0;
  // The same for stored Idempotency-Key responses (state 'done', body not sealed).
  virtual std::int64_t seal_plaintext_idempotency(
      int limit, const std::function<std::string(std::string)>& seal) = 0;
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

// The data-protection rights (issue 21): consent ledger, retention, data keys, erasure.
class PrivacyStore {
 public:
  virtual ~PrivacyStore() = default;

  // Appends `e` to the ledger, unless `only_if_changed` and the person's latest event for that
  // purpose has the same action (one statement). A whatsapp_updates event also sets the person's
  // WhatsApp opt-out (withdrawn: opted out) in the same transaction, so that the outbox
  // suppresses what is already queued. Answers whether the event was appended.
  virtual bool record_consent(const ConsentEvent& e, bool only_if_changed) = 0;
  // The person's ledger, oldest first.
  virtual std::vector<ConsentEvent> consent_events(const std::string& environment,
                                                   const std::string& phone_bidx) = 0;
  // Deletes the transient rows past their retention (RetentionCutoffs), a statement each, and
  // answers how many of each. Granted consent links, and callbacks pending or failed, are kept.
  virtual RetentionCounts purge_transient(const RetentionCutoffs& cutoffs) = 0;

  // Per-person data keys (schema 18). person_data_key: the person's live key, created from
  // `wrapped_if_new` at `now` when they have none (concurrent callers get the same one).
  // wrapped_data_key: the wrapped key of id, nullopt once erased or unknown.
  virtual DataKeyRow person_data_key(const std::string& environment, const std::string& phone_bidx,
                                     const std::string& wrapped_if_new, std::int64_t now) = 0;
  virtual std::optional<std::string> wrapped_data_key(std::int64_t id) = 0;
  // Erasure (issue 21 §3), one transaction: the person's data key destroyed; their leads kept as
  // tombstones (no PII, blind indexes replaced by e.tombstone, erased_at set); the audit trail's
  // field values blanked; their messages' payloads blanked and the queued ones cancelled; booked
  // appointments cancelled; conversation texts deleted; the ledger detached from them; their OTP,
  // consent links, customer tokens and opt-out deleted; then e.ledger and e.audit appended.
  // SQLite checkpoints its WAL afterwards, so no old page keeps a copy.
  virtual ErasureCounts erase_person(const PersonErasure& e) = 0;
  // The retention sweep's candidates with no activity since `inactive_before`, after `after` in
  // (environment, phone_bidx) order (a page), at most `limit`.
  virtual std::vector<PersonRef> inactive_people(std::int64_t inactive_before,
                                                 const PersonRef& after, int limit) = 0;
};

// Every role in one object: what open_store returns and the implementations derive from.
class Store : public LeadStore,
              public AppointmentStore,
              public OutboxStore,
              public WhatsAppStore,
              public VerificationStore,
              public AccessStore,
              public OpsStore,
              public PrivacyStore {};

std::unique_ptr<Store> open_store(const std::string& database_url, int pool_size);
std::int64_t now_ms();

}  // namespace leadgate
