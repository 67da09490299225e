#pragma once
// The Basic Application API (the lender's loan origination system, "LOS"), interfaces.md §3.
// All mapping between our lead and the partner's names lives here.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "domain/application_progress.h"
#include "domain/lead_validation.h"
#include "http/client.h"
#include "partners/partner_call.h"

namespace leadgate {

struct FbbCreated {
  std::string basic_application_id;
  std::string application_id;
};

struct SelfFulfilment {
  std::string status;     // "completed"
  std::string reference;  // the LOS's completion reference
};

class BasicAppClient {
 public:
  virtual ~BasicAppClient() = default;
  // CreateFBBByBasicUser with retries; throws PartnerError when it finally fails.
  virtual boost::asio::awaitable<FbbCreated> create_fbb(const EnvironmentConfig& env,
                                                        boost::json::object payload,
                                                        const std::string& request_id) = 0;
  // CreateSelfFullfilmentLead with its own timeout and fixed retry delay.
  virtual boost::asio::awaitable<SelfFulfilment> create_self_fulfilment(
      const EnvironmentConfig& env, boost::json::object payload, const std::string& request_id) = 0;
  // GetApplicationStatus: short timeout, few attempts (a status lookup must answer quickly and
  // falls back to the stored status); throws PartnerError.
  virtual boost::asio::awaitable<PartnerStatusReport> application_status(
      const EnvironmentConfig& env, const std::string& basic_application_id,
      const std::string& request_id) = 0;
  virtual bool sandboxed() const = 0;
};

struct BasicAppOptions {
  std::string base_url;  // empty: sandbox simulator
  std::chrono::milliseconds timeout{30000};
  int attempts = 3;
  std::chrono::milliseconds backoff{500};
  std::chrono::milliseconds self_fulfilment_timeout{45000};
  int self_fulfilment_attempts = 2;
  std::chrono::milliseconds self_fulfilment_delay{5000};
  std::chrono::milliseconds status_timeout{3000};
  int status_attempts = 2;
  std::chrono::milliseconds status_delay{250};
};

std::unique_ptr<BasicAppClient> make_basic_app_client(const BasicAppOptions& options,
                                                      HttpClient& http, Metrics& metrics);

// The lead in the partner's field names (dates DD-MM-YYYY, loan type as its product name).
boost::json::object fbb_payload(const LeadInput& lead, const std::string& reference_id);
// Validates a CreateFBBByBasicUser answer body; throws PartnerError (invalid_response/rejected).
FbbCreated parse_fbb_answer(const std::string& body);
SelfFulfilment parse_self_fulfilment_answer(const std::string& body);
// A GetApplicationStatus answer about `basic_application_id`: success, the same id, a non-empty
// status, a stage and an ISO 8601 updated_at; throws PartnerError (invalid_response/rejected).
PartnerStatusReport parse_status_answer(const std::string& body,
                                        const std::string& basic_application_id);

}  // namespace leadgate
