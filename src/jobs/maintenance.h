#pragma once
// The rounds of the store's upkeep jobs (run as PeriodicJob, wired in app/server.cpp).
#include <chrono>

#include "core/metrics.h"
#include "store/store.h"

namespace leadgate {

// How long transient rows are kept (docs/privacy.md, "Retention"): an OTP code a day past its
// expiry (what a support question about a failed verification needs), a consent link never
// granted 30 days past its expiry, a processed webhook callback 30 days (a provider's redelivery
// comes within hours; it is recognised by its id while kept). Failed callbacks stay for an
// operator; granted consent links stay with the person's data.
inline constexpr std::chrono::hours kOtpRetention{24};
inline constexpr std::chrono::hours kConsentRequestRetention{24 * 30};
inline constexpr std::chrono::hours kInboxRetention{24 * 30};

// Hourly: OTP rate events older than 24 hours, idempotency records older than `idempotency`,
// expired customer tokens, and the transient rows above (logged when any went).
void purge_expired(VerificationStore& verification, AccessStore& access, PrivacyStore& privacy,
                   std::chrono::milliseconds idempotency);

// Backlog gauges for monitoring: outbox rows by status (pending = backlog, dead, suppressed),
// inbox events by state (failed = needs an operator), database size, and whether the database
// answered (leadgate_database_up; a failure sets it to 0 and is rethrown). Every instance reports
// the same shared numbers; take max() across instances.
void describe_backlog_gauges(Metrics& metrics);
void refresh_backlog_gauges(OpsStore& ops, Metrics& metrics);

}  // namespace leadgate
