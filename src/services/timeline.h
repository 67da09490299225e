#pragma once
// An application's timeline (track_application): the audit trail and the outbox, turned into
// customer-level events in time order. Pure: the caller supplies what the rows cannot say (which
// purpose an outbox message served).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <vector>

#include "store/store.h"

namespace leadgate {

struct TimelineEvent {
  std::int64_t at = 0;  // UTC unix ms
  std::string event;    // lead_created, whatsapp_sent, ... (docs/api.md)
  std::string source;   // audit | outbox | whatsapp
  std::string description;
  boost::json::object details;
};

// Events from one lead's audit entries (as stored: insertion order), outbox messages and their
// delivery attempts, sorted by time; events at the same time keep the order they were written
// (audit first, then messages by id). purpose_of(message) names what a message was for
// ("lead_confirmation", ...; "" when unknown).
// Delivery receipts (delivered / read / failed; the provider's enqueued / sent add nothing to
// our own "sent") and the customer's WhatsApp conversation (inbound messages by classification,
// never their text; replies not already in `outbox`) join the same list, source "whatsapp".
std::vector<TimelineEvent> build_timeline(
    const std::vector<AuditEntry>& audit, const std::vector<OutboxMessage>& outbox,
    const std::vector<OutboxAttempt>& attempts,
    const std::function<std::string(const OutboxMessage&)>& purpose_of,
    const std::vector<DeliveryReceipt>& receipts = {},
    const std::vector<ConversationMessage>& conversation = {});

boost::json::array timeline_json(const std::vector<TimelineEvent>& events);

}  // namespace leadgate
