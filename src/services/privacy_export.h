#pragma once
// Access (issue 21 §2, DPDP Act §11): everything leadgate holds about one person, decrypted, for
// POST /api_v1/privacy/export and `leadgate privacy export`. It only reads the store.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <string>

#include "core/config.h"
#include "crypto/crypto.h"
#include "domain/customer_access.h"
#include "domain/privacy_requests.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

// The person with `mobile` (normalised) in `environment`: {mobile_number, leads (every field,
// flash details, appointments, messages sent, audit entries: which field, which operation, when),
// consents (the ledger), messages_received (texts), messages_sent_outside_leads (assistant
// replies not tied to an application), otp (times only, never a code), consent_requests}. An
// unknown person: the same keys with empty lists.
boost::json::object export_personal_data(Store& store, const PiiCipher& cipher,
                                         const Config& config, const std::string& environment,
                                         const std::string& mobile);

// The API's side: the customer token's check (domain/customer_access.h), the export on a store
// thread, the metric.
class PersonalDataExport {
 public:
  PersonalDataExport(Store& store, const ServiceDeps& deps) : store_(store), deps_(deps) {}
  boost::asio::awaitable<boost::json::object> export_data(const std::string& environment,
                                                          const PrivacyRequest& request,
                                                          const CustomerAccess& access);

 private:
  Store& store_;
  const ServiceDeps& deps_;
};

}  // namespace leadgate
