#pragma once
// lead_status and track_application (api-wireframes 3): find the customer's applications, ask
// the LOS for the live status (stored, with a timeline entry when it changed; the stored status
// when the LOS is down), and assemble the answers. refresh() is shared with the WhatsApp
// assistant.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "core/config.h"
#include "core/offload.h"
#include "crypto/crypto.h"
#include "domain/application_progress.h"
#include "domain/tracking_requests.h"
#include "jobs/outbox_dispatcher.h"
#include "partners/basic_app.h"
#include "store/store.h"

namespace leadgate {

struct RequestContext;

// An application's status as shown to clients.
struct StatusView {
  std::string status;  // partner's text, or lead_status_text of ours
  std::string source;  // live | cached | local
  Stage stage = Stage::processing;
  std::int64_t refreshed_at = 0;  // when the LOS last answered (0: never)
};

// The view of a lead's stored record (no partner call): cached, or local when the LOS never
// had it.
StatusView stored_status_view(const LeadRow& row);

class ApplicationTracker {
 public:
  ApplicationTracker(Store& store, BlockingPool& pool, BasicAppClient& los, const PiiCipher& cipher,
                     const Config& config, OutboxDispatcher& outbox)
      : store_(store), pool_(pool), los_(los), cipher_(cipher), config_(config), outbox_(outbox) {}

  boost::asio::awaitable<boost::json::object> lead_status(const LeadStatusRequest& req,
                                                          const std::string& environment,
                                                          RequestContext& ctx);
  boost::asio::awaitable<boost::json::object> track(const TrackRequest& req,
                                                    const std::string& environment,
                                                    RequestContext& ctx);

  // Asks the LOS about `row` (when it has a basic_application_id) and stores what it says; `row`
  // is updated in memory. Never throws for a partner failure (the stored status is the answer);
  // a database failure propagates.
  boost::asio::awaitable<StatusView> refresh(LeadRow& row, RequestContext& ctx);

 private:
  boost::asio::awaitable<void> record_change(const LeadRow& row, const PartnerStatusReport& report,
                                             std::int64_t refreshed_at, RequestContext& ctx);
  boost::json::object application_summary(const LeadRow& row, const StatusView& view) const;
  boost::json::value appointment_json(const std::string& environment,
                                      const std::vector<AppointmentRow>& appointments,
                                      std::optional<RmRow>* rm_out);

  Store& store_;
  BlockingPool& pool_;
  BasicAppClient& los_;
  const PiiCipher& cipher_;
  const Config& config_;
  OutboxDispatcher& outbox_;
};

}  // namespace leadgate
