#pragma once
// lead_flash, end to end (api-wireframes 1B): merge the flash details onto the stored lead,
// apply the financial rules, call CreateSelfFullfilmentLead, and complete the application in one
// transaction with its audit trail and the WhatsApp status update (outbox).
//
// Status flow of the lead: created | flash_failed -> flash_pending (while the LOS is called) ->
// completed, or flash_failed (details kept; the next lead_flash retries). A flash_pending older
// than the longest possible exchange is taken to have died with its instance and is retried.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "core/config.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "crypto/crypto.h"
#include "domain/flash_validation.h"
#include "domain/pincode_directory.h"
#include "jobs/outbox_dispatcher.h"
#include "partners/basic_app.h"
#include "store/store.h"

namespace leadgate {

struct RequestContext;

// The flash details kept with the lead (sealed JSON), in the API's field names.
boost::json::object flash_details_json(const FlashInput& in, const ProfessionCatalogue& catalogue);
// Applies the core personal fields present in the flash onto the stored lead.
void merge_core_fields(const FlashInput& flash, LeadInput& lead);

class LeadFlash {
 public:
  LeadFlash(Store& store, BlockingPool& pool, BasicAppClient& los, const PiiCipher& cipher,
            const Config& config, OutboxDispatcher& outbox, const PincodeDirectory& pincodes,
            const ProfessionCatalogue& professions, Metrics& metrics)
      : store_(store),
        pool_(pool),
        los_(los),
        cipher_(cipher),
        config_(config),
        outbox_(outbox),
        pincodes_(pincodes),
        professions_(professions),
        metrics_(metrics) {}

  // Returns the success body; throws ApiError (400/404/409/422) otherwise.
  boost::asio::awaitable<boost::json::object> submit(const FlashInput& flash,
                                                     const std::string& environment,
                                                     RequestContext& ctx);

 private:
  Store& store_;
  BlockingPool& pool_;
  BasicAppClient& los_;
  const PiiCipher& cipher_;
  const Config& config_;
  OutboxDispatcher& outbox_;
  const PincodeDirectory& pincodes_;
  const ProfessionCatalogue& professions_;
  Metrics& metrics_;
};

}  // namespace leadgate
