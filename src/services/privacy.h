#pragma once
// The data-protection rights (issue 21), so far the consent ledger: a person's consents per
// purpose and their history, withdrawal, and the events the other flows record (a lead's
// submission, OTP consents, WhatsApp STOP and START) built the same way.
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/trace.h"
#include "domain/customer_access.h"
#include "domain/privacy_requests.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

struct ConsentView {
  std::map<std::string, std::string> current;  // purpose -> granted | withdrawn | none
  std::vector<ConsentEvent> history;           // oldest first
};

// One ledger event about the person with `mobile` in `environment`, at the environment's current
// notice version, stamped now with the trace's request id; the mobile sealed and indexed.
ConsentEvent consent_event(const ServiceDeps& deps, const std::string& environment,
                           const std::string& mobile, const std::string& purpose,
                           const std::string& action, const std::string& source,
                           const Trace& trace);

// The ledger as the API shows it: {purpose, source, notice_version, granted_at | withdrawn_at
// (ISO 8601 UTC), request_id}.
boost::json::object consent_event_json(const ConsentEvent& e);

class ConsentLedger {
 public:
  ConsentLedger(PrivacyStore& store, const ServiceDeps& deps);

  // The person's current state per purpose and the whole history (an unknown person: every
  // purpose "none", no history).
  boost::asio::awaitable<ConsentView> consents(const std::string& environment,
                                               const PrivacyRequest& request,
                                               const CustomerAccess& access);
  // Withdraws one purpose (source "api"); sends the person nothing. whatsapp_updates: the
  // person's queued and future non-OTP messages are suppressed (and recorded so). Withdrawing
  // what is already withdrawn records nothing more and answers the standing withdrawal.
  // loan_processing: the caller then erases the person (services/erasure.h).
  boost::asio::awaitable<ConsentEvent> withdraw(const std::string& environment,
                                                const PrivacyRequest& request,
                                                const CustomerAccess& access, const Trace& trace);

 private:
  PrivacyStore& store_;
  const ServiceDeps& deps_;
};

}  // namespace leadgate
