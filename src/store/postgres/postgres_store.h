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
// set plan_cache_mode = force_custom_plan: named statements save the parse, not the planning for
// their parameters (see connect()).
// The URL is a libpq connection URI (sslmode=require etc. work as documented). Unless the URL sets
// them: connect_timeout=3 (s), TCP keepalives after 30 s idle, tcp_user_timeout=30000 (ms), so a
// vanished server is noticed in bounded time; application_name=leadgate.
#include <atomic>
#include <chrono>
#include <condition_variable>
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

  void migrate() override;
  int schema_version() override;
  int expected_schema_version() const override;
  void ping() override;
  std::string kind() const override { return "postgresql"; }

  void insert_api_key(const ApiKeyRow& row) override;
  std::optional<ApiKeyRow> find_api_key(const std::string& key_hash) override;
  std::int64_t count_api_keys() override;

  std::optional<LeadRow> find_lead_for_customer(const std::string& environment,
                                                const std::string& mobile_bidx,
                                                const std::string& loan_type) override;
  std::optional<LeadRow> find_lead_by_reference(const std::string& environment,
                                                const std::string& reference_id) override;
  std::optional<LeadRow> find_lead_by_application_id(const std::string& environment,
                                                     const std::string& application_id) override;
  std::int64_t insert_lead(const LeadWrite& w) override;
  bool update_lead(const LeadWrite& w) override;
  std::vector<AuditEntry> audit_for(const std::string& environment,
                                    const std::string& entity_ref) override;
  std::int64_t count_leads(const std::string& environment) override;
  std::vector<LeadRow> find_leads_by_mobile(const std::string& environment,
                                            const std::string& mobile_bidx) override;
  std::optional<LeadRow> find_lead_by_basic_id(const std::string& environment,
                                               const std::string& basic_application_id) override;
  bool record_partner_status(const PartnerStatusWrite& w) override;
  void record_status_refresh(std::int64_t lead_id, std::int64_t refreshed_at) override;
  void append_events(const std::vector<AuditEntry>& audit,
                     const std::vector<OutboxMessage>& outbox) override;

  std::int64_t insert_rm(const RmRow& rm) override;
  std::vector<RmRow> list_rms(const std::string& environment) override;
  std::optional<RmRow> find_rm(std::int64_t id) override;

  BookOutcome book_appointment(const AppointmentWrite& w) override;
  std::optional<AppointmentRow> find_appointment(const std::string& id) override;
  std::vector<AppointmentRow> booked_appointments(const std::string& environment, std::int64_t from,
                                                  std::int64_t to) override;
  std::vector<AppointmentRow> appointments_for_lead(const std::string& environment,
                                                    const std::string& lead_ref) override;
  bool cancel_appointment(const std::string& id, std::int64_t now, const std::string& reason,
                          const std::vector<AuditEntry>& audit,
                          const std::vector<OutboxMessage>& outbox) override;

  std::vector<OutboxMessage> claim_outbox(std::int64_t now, int limit, const std::string& owner,
                                          std::int64_t lease_until) override;
  void finish_outbox_attempt(const OutboxAttempt& attempt, const std::string& new_status,
                             std::int64_t next_attempt_at) override;
  void release_outbox_leases(const std::string& owner) override;
  std::vector<OutboxMessage> outbox_for(const std::string& environment,
                                        const std::string& lead_ref) override;
  std::vector<OutboxAttempt> outbox_attempts_for(const std::string& environment,
                                                 const std::string& lead_ref) override;
  std::vector<OutboxMessage> list_outbox(const std::string& status, int limit) override;
  std::int64_t requeue_outbox(std::int64_t id, std::int64_t now) override;

  int insert_inbox(const std::vector<InboxEvent>& events,
                   std::vector<char>* fresh = nullptr) override;
  void release_inbox_leases(const std::string& owner) override;
  std::vector<InboxEvent> claim_inbox(std::int64_t now, int limit, const std::string& owner,
                                      std::int64_t lease_until) override;
  void finish_inbox(std::int64_t id, const std::string& state, std::int64_t now,
                    std::int64_t next_attempt_at, const std::string& error) override;
  std::optional<InboxEvent> find_inbox(const std::string& provider,
                                       const std::string& event_id) override;

  void record_conversation(const ConversationWrite& w) override;
  std::vector<ConversationMessage> conversation(const std::string& environment,
                                                const std::string& phone_bidx, int limit) override;
  std::vector<std::int64_t> record_deliveries(
      const std::vector<DeliveryReceipt>& receipts) override;
  std::vector<DeliveryReceipt> receipts_for(const std::string& environment,
                                            const std::string& lead_ref) override;
  void set_opt_out(const std::string& environment, const std::string& phone_bidx, bool opted_out,
                   std::int64_t at) override;
  bool is_opted_out(const std::string& environment, const std::string& phone_bidx) override;

  void put_metric_minute(const MetricMinute& m) override;
  std::vector<MetricMinute> metric_minutes(int resolution, std::int64_t from_minute,
                                           std::int64_t to_minute) override;
  std::int64_t purge_metric_minutes(std::int64_t before_minute) override;
  std::map<std::string, std::int64_t> outbox_counts() override;
  std::map<std::string, std::int64_t> inbox_counts() override;
  std::int64_t database_size_bytes() override;

  void put_otp(const OtpCode& code) override;
  std::optional<OtpCode> find_otp(const std::string& environment,
                                  const std::string& phone_bidx) override;
  std::optional<OtpCode> update_otp(
      const std::string& environment, const std::string& phone_bidx,
      const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)>& decide) override;

  RateDecision reserve_rate_event(const std::string& scope, std::int64_t now,
                                  std::int64_t window_ms, int max_events,
                                  std::int64_t cooldown_ms) override;
  void release_rate_event(std::int64_t event_id) override;
  std::int64_t purge_rate_events(std::int64_t older_than) override;

  void insert_consent(const ConsentRecord& consent) override;
  std::optional<ConsentRecord> grant_consent(const std::string& token_hash,
                                             std::int64_t now) override;
  std::optional<ConsentRecord> find_consent(const std::string& token_hash) override;
  std::vector<ConsentRecord> consents_for(const std::string& environment,
                                          const std::string& phone_bidx) override;

  IdempotencyRecord begin_idempotent(const std::string& scope, const std::string& key,
                                     const std::string& fingerprint, std::int64_t now,
                                     std::int64_t stale_before) override;
  void complete_idempotent(const std::string& scope, const std::string& key, int status,
                           const std::string& body, const std::string& content_type,
                           std::int64_t now) override;
  void abandon_idempotent(const std::string& scope, const std::string& key) override;
  std::int64_t purge_idempotent(std::int64_t older_than) override;

  // One pooled connection; defined in the .cpp.
  struct Connection;

 private:
  class Lease;
  friend class Lease;

  Lease borrow();
  void give_back(std::unique_ptr<Connection> conn);
  std::unique_ptr<Connection> connect();

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
