#pragma once
// Processes the webhook inbox in the background (issue 7): inbound messages are classified and
// answered by the status assistant through the outbox, delivery receipts move outbound messages'
// states forward, user events record opt-outs. Stored events survive restarts: a claimed event
// whose instance died is claimed again when its lease expires; an event is marked done in the
// same transaction as its effects, so it is never answered twice.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/object.hpp>

#include "core/config.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "crypto/crypto.h"
#include "jobs/outbox_dispatcher.h"
#include "services/tracking.h"
#include "store/store.h"

namespace leadgate {

// The sealed payload of a session (free-text) WhatsApp reply. exempt_opt_out: sent even to an
// opted-out number (the opt-out/opt-in confirmations and direct answers to the customer's own
// questions).
std::string outbox_text_payload(const std::string& destination, const std::string& text,
                                bool exempt_opt_out);

class InboxProcessor {
 public:
  InboxProcessor(boost::asio::any_io_executor executor, Store& store, BlockingPool& pool,
                 ApplicationTracker& tracker, OutboxDispatcher& outbox, const PiiCipher& cipher,
                 const Config& config, Metrics& metrics);
  void start();
  void stop();    // finishes the event in hand, then the loop ends
  void notify();  // an event was stored: look now instead of at the next poll
  bool stopped() const { return stopped_.load(); }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> process(const InboxEvent& event);
  // The event's item: its sealed payload opened and parsed (throws when unreadable).
  boost::json::object open_item(const InboxEvent& event) const;
  // The delivery receipts of a claim in one store call (one commit); the events it did not handle
  // (other kinds, unreadable payloads, or all of them when the batch failed) go to `rest`.
  boost::asio::awaitable<void> process_receipts(const std::vector<InboxEvent>& batch,
                                                std::vector<const InboxEvent*>& rest);
  // Counts and times a receipt that was applied (not one put back for another look).
  void receipt_finished(const InboxEvent& event, const DeliveryReceipt& r, std::int64_t matched);
  boost::asio::awaitable<void> process_message(const InboxEvent& event,
                                               const boost::json::object& item);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  Store& store_;
  BlockingPool& pool_;
  ApplicationTracker& tracker_;
  OutboxDispatcher& outbox_;
  const PiiCipher& cipher_;
  const Config& config_;
  Metrics& metrics_;
  std::string owner_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace leadgate
