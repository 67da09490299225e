#pragma once
// lead_status and track_application (api-wireframes 3): find the customer's applications, show
// the partner status under LEADGATE_STATUS_TTL (stale-while-revalidate: within the TTL the stored
// status; after it the stored status at once and one background refresh per application; only a
// status never fetched waits for the LOS), and assemble the answers. current_status() is shared
// with the WhatsApp assistant (services/whatsapp_assistant.h).
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <utility>

#include "core/trace.h"
#include "domain/application_progress.h"
#include "domain/customer_access.h"
#include "domain/tracking_requests.h"
#include "partners/basic_app.h"
#include "services/refresh_gate.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

// A time (unix ms) as ISO 8601 UTC, or null when unknown (0).
boost::json::value iso_or_null(std::int64_t ms);
// Which of the environment's purposes (otp, lead_confirmation, ...) a template id serves ("" none).
std::string template_purpose(const Config& config, const std::string& environment,
                             const std::string& template_id);

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
        wake_outbox_(std::move(wake_outbox)),
        gate_(std::make_shared<RefreshGate>()) {}

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

  // The status a read shows for `row` under LEADGATE_STATUS_TTL: the stored one while it is
  // fresh; the stored one plus a background refresh once it is stale; a live answer (waiting for
  // the LOS) when it was never fetched or the TTL is 0. A read writes nothing itself.
  boost::asio::awaitable<StatusView> current_status(LeadRow& row, const Trace& trace);

  // Asks the LOS about `row` (when it has a basic_application_id) and stores what it says; `row`
  // is updated in memory. Never throws for a partner failure (the stored status is the answer);
  // a database failure propagates.
  boost::asio::awaitable<StatusView> refresh(LeadRow& row, const Trace& trace);

 private:
  // The background half of current_status: one refresh of `row`, its failures logged.
  boost::asio::awaitable<void> revalidate(std::shared_ptr<RefreshGate> gate, LeadRow row,
                                          Trace trace);
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
  // Shared with the background refreshes, whose frames can outlive this object at shutdown.
  std::shared_ptr<RefreshGate> gate_;
};

}  // namespace leadgate
