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
#include "store/records.h"

namespace leadgate {

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

// Keys kept in the database wrapped by the master key (issue 21 §5), and re-sealing under it.
class KeyringStore {
 public:
  virtual ~KeyringStore() = default;
  // keyring_key: the wrapped key of `name` (e.g. "blind-index"). put_keyring_key stores it when
  // `name` has none (expected nullopt) or replaces `expected` (compare-and-set); answers whether
  // it wrote.
  virtual std::optional<std::string> keyring_key(const std::string& name) = 0;
  virtual bool put_keyring_key(const std::string& name, const std::string& wrapped,
                               const std::optional<std::string>& expected, std::int64_t now) = 0;
  // One page of re-sealing: the next `limit` rows of c.table after `*after` (by c.key), each
  // value handed to `reseal`, which answers a new value or nullopt (leave it); the new values are
  // written in one transaction, each only if the stored value is still the one read. Sets
  // `*after` to the page's last key; answers how many rows were read (0: the table is done) and
  // adds the rows written to `*written`.
  virtual std::int64_t reseal_page(
      const SealedColumn& c, std::string* after, int limit,
      const std::function<std::optional<std::string>(const std::string&)>& reseal,
      std::int64_t* written) = 0;
};

// Every role in one object: what open_store returns and the implementations derive from.
class Store : public LeadStore,
              public AppointmentStore,
              public OutboxStore,
              public WhatsAppStore,
              public VerificationStore,
              public AccessStore,
              public OpsStore,
              public PrivacyStore,
              public KeyringStore {};

std::unique_ptr<Store> open_store(const std::string& database_url, int pool_size);
std::int64_t now_ms();

}  // namespace leadgate
