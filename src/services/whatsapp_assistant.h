#pragma once
// What one stored webhook inbox event does (issue 7): an inbound message is answered by the
// status assistant through the outbox (domain/assistant_choice.h decides; the inbound row, the
// reply, an opt-out change and the event's end are one record_conversation call, so a message is
// never answered twice), delivery receipts move outbound messages' states forward (a claim's
// receipts in one call), user events record opt-outs. jobs/inbox_processor.h claims the events
// and retries one whose handling throws; app/server.cpp wires the two together.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/webhook_payloads.h"
#include "services/service_deps.h"
#include "services/tracking.h"
#include "store/store.h"

namespace leadgate {

class WhatsAppAssistant {
 public:
  // wake_outbox: a reply was queued (the outbox dispatcher looks now, not at its next poll).
  WhatsAppAssistant(WhatsAppStore& chats, LeadStore& leads, VerificationStore& limits,
                    PrivacyStore& consents, const ServiceDeps& deps, ApplicationTracker& tracker,
                    std::function<void()> wake_outbox);

  // The delivery receipts of a claim in one store call (one commit). Returns the events it did
  // not finish: other kinds, unreadable payloads, or all of them when the batch failed.
  boost::asio::awaitable<std::vector<const InboxEvent*>> apply_receipts(
      const std::vector<InboxEvent>& batch);
  // One event's effects, the event finished (or set to be looked at again) with them. Throws when
  // that failed (database down, unreadable payload, ...): nothing was stored, the caller retries.
  boost::asio::awaitable<void> handle(const InboxEvent& event);

 private:
  struct StatusAnswer;
  boost::asio::awaitable<void> answer(const InboxEvent& event, const InboundMessage& message);
  boost::asio::awaitable<bool> throttled(const std::string& environment, const std::string& bidx,
                                         std::int64_t now);
  boost::asio::awaitable<StatusAnswer> status_answer(const InboxEvent& event,
                                                     const std::optional<std::string>& named,
                                                     const std::string& bidx, std::int64_t now);
  void add_reply(ConversationWrite& w, const std::string& kind, const std::string& text,
                 const std::string& mobile) const;
  boost::asio::awaitable<void> record_user_event(const InboxEvent& event, const UserEvent& u);
  // Counts and times a receipt that was applied (not one put back for another look).
  void receipt_finished(const InboxEvent& event, const DeliveryReceipt& r, std::int64_t matched);
  void finished(const InboxEvent& event);

  PrivacyStore& consents_;  // WhatsApp STOP / START in the consent ledger
  WhatsAppStore& chats_;
  LeadStore& leads_;
  VerificationStore& limits_;
  ServiceDeps deps_;
  ApplicationTracker& tracker_;
  std::function<void()> wake_outbox_;
};

}  // namespace leadgate
