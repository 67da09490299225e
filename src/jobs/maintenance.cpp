#include "jobs/maintenance.h"

#include <map>
#include <string>

#include <exception>
#include <initializer_list>

namespace leadgate {

void purge_expired(VerificationStore& verification, AccessStore& access,
                   std::chrono::milliseconds idempotency) {
  // A day: the longest window of any limit kept as rate events (the per-customer message cap).
  verification.purge_rate_events(now_ms() - 24LL * 3600 * 1000);
  access.purge_idempotent(now_ms() - idempotency.count());
  verification.purge_customer_tokens(now_ms());
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
