#include "jobs/maintenance.h"

#include <map>
#include <string>

#include <exception>
#include <initializer_list>

#include "core/log.h"

namespace leadgate {

void purge_expired(VerificationStore& verification, AccessStore& access, PrivacyStore& privacy,
                   std::chrono::milliseconds idempotency) {
  const std::int64_t now = now_ms();
  const auto before = [now](std::chrono::hours kept) {
    return now - std::chrono::duration_cast<std::chrono::milliseconds>(kept).count();
  };
  // A day: the longest window of any limit kept as rate events (the per-customer message cap).
  verification.purge_rate_events(before(std::chrono::hours(24)));
  access.purge_idempotent(now - idempotency.count());
  verification.purge_customer_tokens(now);
  RetentionCutoffs cutoffs;
  cutoffs.otps_expired_before = before(kOtpRetention);
  cutoffs.consent_requests_expired_before = before(kConsentRequestRetention);
  cutoffs.inbox_processed_before = before(kInboxRetention);
  const RetentionCounts gone = privacy.purge_transient(cutoffs);
  if (gone.otps + gone.consent_requests + gone.inbox_events > 0) {
    log_info("retention_purge", {{"otp_codes", gone.otps},
                                 {"consent_requests", gone.consent_requests},
                                 {"inbox_events", gone.inbox_events}});
  }
}

void describe_backlog_gauges(Metrics& metrics) {
  metrics.describe({
      {"leadgate_outbox_messages", "gauge", "Outbox rows by status (all instances)"},
      {"leadgate_inbox_events", "gauge", "Webhook inbox events by state"},
      {"leadgate_database_size_bytes", "gauge", "Size of the database on disk"},
      {"leadgate_database_up", "gauge",
       "1 when the last backlog refresh reached the database, 0 when it failed"},
  });
}

namespace {
void set_counts(Metrics& metrics, const std::string& gauge, const char* label,
                const std::map<std::string, std::int64_t>& counts,
                std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    const auto it = counts.find(key);
    metrics.set_gauge(gauge, {{label, key}},
                      it == counts.end() ? 0.0 : static_cast<double>(it->second));
  }
}
}  // namespace

void refresh_backlog_gauges(OpsStore& ops, Metrics& metrics) {
  std::map<std::string, std::int64_t> outbox, inbox;
  std::int64_t size = 0;
  try {
    outbox = ops.outbox_counts();
    inbox = ops.inbox_counts();
    size = ops.database_size_bytes();
  } catch (const std::exception&) {
    metrics.set_gauge("leadgate_database_up", {}, 0);
    throw;
  }
  set_counts(metrics, "leadgate_outbox_messages", "status", outbox,
             {"pending", "sent", "dead", "suppressed"});
  set_counts(metrics, "leadgate_inbox_events", "state", inbox, {"pending", "done", "failed"});
  metrics.set_gauge("leadgate_database_size_bytes", {}, static_cast<double>(size));
  metrics.set_gauge("leadgate_database_up", {}, 1);
}

}  // namespace leadgate
