#pragma once
// lead_status and track_application (api-wireframes 3): find the customer's applications, ask
// the LOS for the live status (stored, with a timeline entry when it changed; the stored status
// when the LOS is down), and assemble the answers. refresh() is shared with the WhatsApp
// assistant (services/whatsapp_assistant.h).
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <utility>

#include "core/trace.h"
#include "domain/application_progress.h"
#include "domain/customer_access.h"
#include "domain/tracking_requests.h"
#include "partners/basic_app.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

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
  // wake_outbox: a notification was queued (the outbox dispatcher looks now, not at its next
  // poll).
  ApplicationTracker(LeadStore& leads, AppointmentStore& appointments, OutboxStore& outbox,
                     WhatsAppStore& chats, const ServiceDeps& deps, BasicAppClient& los,
                     std::function<void()> wake_outbox)
      : leads_(leads),
        appointments_(appointments),
        outbox_(outbox),
        chats_(chats),
        deps_(deps),
        los_(los),
        wake_outbox_(std::move(wake_outbox)) {}

  // With an app key (`access` required), the mobile asked about, and the lead found (by mobile
  // or by application id), must be the customer token's: 401/403 otherwise, checked before the
  // LOS is asked or a notification is queued (services/customer_tokens.h).
  boost::asio::awaitable<boost::json::object> lead_status(const LeadStatusRequest& req,
                                                          const std::string& environment,
                                                          const CustomerAccess& access,
                                                          const Trace& trace);
  boost::asio::awaitable<boost::json::object> track(const TrackRequest& req,
                                                    const std::string& environment,
                                                    const CustomerAccess& access,
                                                    const Trace& trace);

  // Asks the LOS about `row` (when it has a basic_application_id) and stores what it says; `row`
  // is updated in memory. Never throws for a partner failure (the stored status is the answer);
  // a database failure propagates.
  boost::asio::awaitable<StatusView> refresh(LeadRow& row, const Trace& trace);

 private:
  boost::asio::awaitable<void> record_change(const LeadRow& row, const PartnerStatusReport& report,
                                             std::int64_t refreshed_at, const Trace& trace);
  boost::json::object application_summary(const LeadRow& row, const StatusView& view) const;
  boost::json::value appointment_json(const std::string& environment,
                                      const std::vector<AppointmentRow>& appointments,
                                      std::optional<RmRow>* rm_out);

  LeadStore& leads_;
  AppointmentStore& appointments_;
  OutboxStore& outbox_;   // the timeline: messages and their delivery attempts
  WhatsAppStore& chats_;  // the timeline: receipts and conversations
  ServiceDeps deps_;
  BasicAppClient& los_;
  std::function<void()> wake_outbox_;
};

}  // namespace leadgate
