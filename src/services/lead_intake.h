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
// (decide_lead_upsert in domain/lead_upsert.h; this class carries the decision out.)
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "core/trace.h"
#include "domain/customer_access.h"
#include "domain/lead_validation.h"
#include "partners/basic_app.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

CivilDate today_ist();

// A lead stored and accepted by the LOS: its ids, and whether this request created it (or
// resubmitted it after a failure) or only updated the fields of an accepted one.
struct LeadSubmitted {
  std::string basic_application_id;
  std::string application_id;
  std::string reference_id;
  bool updated = false;
};

class LeadIntake {
 public:
  // `people`: where each person's data key is found or created (services/person_keys.h).
  LeadIntake(LeadStore& store, PrivacyStore& people, const ServiceDeps& deps, BasicAppClient& los,
             std::function<void()> notify_outbox)
      : store_(store),
        people_(people),
        deps_(deps),
        los_(los),
        notify_outbox_(std::move(notify_outbox)) {}

  // Throws ApiError (400/409) unless the lead is stored and accepted; 401/403 when `access`
  // (an app key's) does not prove the lead's mobile (services/customer_tokens.h).
  boost::asio::awaitable<LeadSubmitted> submit(const LeadInput& in, const CustomerAccess& access,
                                               const Trace& trace, const std::string& user_agent);

  // The LOS recovery job's round (issue 20): leads left pending_los for longer than
  // LEADGATE_LOS_RECOVERY_AFTER_SECONDS (a crash around the LOS call) are claimed, one owner per
  // lead (compare-and-set on the stored request id), and sent to the LOS again with the same
  // referenceId; the confirmation is queued by the same final write as for a customer's request,
  // so at most once. Returns true when a full batch was found (more may be due now).
  boost::asio::awaitable<bool> recover_stale();

 private:
  // nullopt: a concurrent request changed the customer's lead first (look again).
  boost::asio::awaitable<std::optional<LeadSubmitted>> insert_new(const LeadInput& in,
                                                                  const Trace& trace,
                                                                  const std::string& user_agent);
  boost::asio::awaitable<std::optional<LeadSubmitted>> update_existing(LeadRow row,
                                                                       const LeadInput& in,
                                                                       const Trace& trace);
  boost::asio::awaitable<LeadSubmitted> call_los(LeadRow row, const LeadInput& in,
                                                 const Trace& trace, bool retry);

  LeadStore& store_;
  PrivacyStore& people_;
  ServiceDeps deps_;
  BasicAppClient& los_;
  std::function<void()> notify_outbox_;  // wakes the outbox dispatcher: a message is due
};

}  // namespace leadgate
