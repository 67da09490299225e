#pragma once
// Works off the webhook inbox in the background (issue 7): claims due events under a lease, hands
// them to the handlers app/server.cpp gave it (services/whatsapp_assistant.h: answering messages,
// applying receipts, recording opt-outs) and retries an event whose handling failed, with
// backoff, until it is kept as failed for an operator. Stored events survive restarts: a claimed
// event whose instance died is claimed again when its lease expires; a handler marks an event
// done in the same transaction as its effects, so it is never answered twice.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/offload.h"
#include "jobs/polling_loop.h"
#include "store/store.h"

namespace leadgate {

// What the processor does with the events it claimed.
struct InboxHandlers {
  // Applies the claim's delivery receipts together; returns the events it did not finish, to be
  // handled one by one.
  std::function<boost::asio::awaitable<std::vector<const InboxEvent*>>(
      const std::vector<InboxEvent>&)>
      apply_receipts;
  // One event's effects, the event finished with them; throws to have the event retried.
  std::function<boost::asio::awaitable<void>(const InboxEvent&)> handle;
};

class InboxProcessor {
 public:
  InboxProcessor(boost::asio::any_io_executor executor, WhatsAppStore& store, BlockingPool& pool,
                 InboxHandlers handlers, const Config& config);
  void start();
  void stop() { loop_.stop(); }      // finishes the event in hand, then the loop ends
  void notify() { loop_.notify(); }  // an event was stored: look now instead of at the next poll
  bool stopped() const { return loop_.stopped(); }

 private:
  boost::asio::awaitable<bool> step();  // one claim: true when more is due at once
  // Handles one event; a failure is recorded for a retry with backoff (or as failed).
  boost::asio::awaitable<void> process(const InboxEvent& event);

  PollingLoop loop_;
  WhatsAppStore& store_;
  BlockingPool& pool_;
  InboxHandlers handlers_;
  const Config& config_;
  std::string owner_;
};

}  // namespace leadgate
