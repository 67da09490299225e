#pragma once
// lead_flash, end to end (api-wireframes 1B): merge the flash details onto the stored lead,
// apply the financial rules, call CreateSelfFullfilmentLead, and complete the application in one
// transaction with its audit trail and the WhatsApp status update (outbox).
//
// Status flow of the lead: created | flash_failed -> flash_pending (while the LOS is called) ->
// completed, or flash_failed (details kept; the next lead_flash retries). A flash_pending older
// than the longest possible exchange is taken to have died with its instance and is retried
// (decide_flash_start in domain/lead_upsert.h).
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>

#include "core/trace.h"
#include "domain/customer_access.h"
#include "domain/flash_validation.h"
#include "domain/loan_rules.h"
#include "domain/pincode_directory.h"
#include "partners/basic_app.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

// The flash details kept with the lead (sealed JSON), in the API's field names.
boost::json::object flash_details_json(const FlashInput& in, const ProfessionCatalogue& catalogue);
// Applies the core personal fields present in the flash onto the stored lead.
void merge_core_fields(const FlashInput& flash, LeadInput& lead);
// The soft-rule warnings as the API and the stored lead show them: [{code, message}, ...].
boost::json::array warnings_json(const std::vector<RuleWarning>& warnings);

// A completed lead flash: the application's ids and the soft-rule warnings it raised.
struct FlashCompleted {
  std::string basic_application_id;
  std::string reference_id;
  std::vector<RuleWarning> warnings;
};

class LeadFlash {
 public:
  LeadFlash(LeadStore& store, const ServiceDeps& deps, BasicAppClient& los,
            std::function<void()> notify_outbox, const PincodeDirectory& pincodes,
            const ProfessionCatalogue& professions)
      : store_(store),
        deps_(deps),
        los_(los),
        notify_outbox_(std::move(notify_outbox)),
        pincodes_(pincodes),
        professions_(professions) {}

  // Throws ApiError (400/404/409/422) unless the flash completed. With an app key (`access`
  // required) the lead's current mobile must be the token's, and the flash may not change it:
  // the token proves the current phone, not a new one (401/403, services/customer_tokens.h).
  boost::asio::awaitable<FlashCompleted> submit(const FlashInput& flash,
                                                const std::string& environment,
                                                const CustomerAccess& access, const Trace& trace);

 private:
  struct Merged;  // the lead and its flash details after this flash, and its warnings
  // Merges the flash onto the stored lead and applies the rules; throws 422 on a violation.
  Merged merge(const LeadRow& row, const FlashInput& flash, const std::string& environment) const;
  // Claims the application (flash_pending) with everything typed; throws 409 when it cannot.
  boost::asio::awaitable<void> claim(LeadRow& row, const Merged& m, const std::string& environment,
                                     const Trace& trace);
  // Calls the LOS and stores its answer (completed, or flash_failed and 400).
  boost::asio::awaitable<void> complete(LeadRow& row, const Merged& m,
                                        const std::string& environment, const Trace& trace);

  LeadStore& store_;
  ServiceDeps deps_;
  BasicAppClient& los_;
  std::function<void()> notify_outbox_;  // wakes the outbox dispatcher: a message is due
  const PincodeDirectory& pincodes_;
  const ProfessionCatalogue& professions_;
};

}  // namespace leadgate
