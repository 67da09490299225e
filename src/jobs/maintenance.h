#pragma once
// The rounds of the store's upkeep jobs (run as PeriodicJob, wired in app/server.cpp).
#include <chrono>

#include "core/metrics.h"
#include "store/store.h"

namespace leadgate {

// Hourly: OTP rate events older than 24 hours, idempotency records older than `idempotency` and
// expired customer tokens.
void purge_expired(VerificationStore& verification, AccessStore& access,
                   std::chrono::milliseconds idempotency);

// Backlog gauges for monitoring: outbox rows by status (pending = backlog, dead, suppressed),
// inbox events by state (failed = needs an operator), database size, and whether the database
// answered (leadgate_database_up; a failure sets it to 0 and is rethrown). Every instance reports
// the same shared numbers; take max() across instances.
void describe_backlog_gauges(Metrics& metrics);
void refresh_backlog_gauges(OpsStore& ops, Metrics& metrics);

}  // namespace leadgate
