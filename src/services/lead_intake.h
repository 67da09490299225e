#pragma once
// create_lead, end to end: upsert rules, the LOS call, and the one transaction that stores the
// lead, its audit trail and its WhatsApp confirmation (outbox).
//
// A new lead is first stored as `pending_los` (so nothing the customer typed is lost even if the
// LOS call never returns), then the LOS is called, then the lead becomes `created` together with
// its confirmation message — or `los_failed`, answered with 400 BASIC_APP_API_ERROR. For one
// environment + mobile + loan type:
//   created            -> fields updated (audited), 200 "Lead updated successfully", same ids
//   los_failed         -> fields updated, the LOS call is retried for that stored lead
//   pending_los, stale -> treated like los_failed (its request died with its instance)
//   pending_los, fresh -> 409 LEAD_IN_PROGRESS
//   anything else      -> 409 DUPLICATE_LEAD with the existing basic_application_id
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "core/config.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "crypto/crypto.h"
#include "domain/lead_validation.h"
#include "jobs/outbox_dispatcher.h"
#include "partners/basic_app.h"
#include "store/store.h"

namespace leadgate {

struct RequestContext;

CivilDate today_ist();

class LeadIntake {
 public:
  LeadIntake(Store& store, BlockingPool& pool, BasicAppClient& los, const PiiCipher& cipher,
             const Config& config, OutboxDispatcher& outbox, Metrics& metrics)
      : store_(store),
        pool_(pool),
        los_(los),
        cipher_(cipher),
        config_(config),
        outbox_(outbox),
        metrics_(metrics) {}

  // Returns the success body; throws ApiError (400/409) otherwise.
  boost::asio::awaitable<boost::json::object> submit(const LeadInput& in, RequestContext& ctx,
                                                     const std::string& user_agent);

 private:
  boost::asio::awaitable<boost::json::object> call_los(LeadRow row, const LeadInput& in,
                                                       RequestContext& ctx, bool retry);

  Store& store_;
  BlockingPool& pool_;
  BasicAppClient& los_;
  const PiiCipher& cipher_;
  const Config& config_;
  OutboxDispatcher& outbox_;
  Metrics& metrics_;
};

}  // namespace leadgate
