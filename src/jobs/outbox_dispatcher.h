#pragma once
// Delivers outbox rows (WhatsApp messages written in the same transaction as the business change
// that caused them). Claims due rows under a lease, sends each once per attempt, records every
// attempt and the provider's messageId, retries with exponential backoff and jitter, and marks a
// row `dead` after the configured number of attempts. A row the provider accepted is `sent` and
// never claimed again; a crash between acceptance and that record can repeat one send
// (at-least-once), never lose it.
//
// Per-customer cap (LEADGATE_CUSTOMER_MESSAGES_PER_DAY): a notification to a lead's customer
// (OutboxPayload::customer_notification) is sent only if it takes one of the customer's slots in
// a rolling 24 h, per environment and mobile, from the store's shared rate-limit events
// (VerificationStore::reserve_rate_event, serialised per scope across instances). Beyond the cap
// the row is `suppressed`, never sent. A slot is given back when the send fails (the row is
// retried and takes a slot again). Checked at send time, not when queued: what is counted is
// what the provider accepted, and the check-and-record is one serialised transaction, so several
// instances sending to one customer at once cannot pass the cap together.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "crypto/crypto.h"
#include "jobs/polling_loop.h"
#include "partners/whatsapp.h"
#include "store/store.h"

namespace leadgate {

class OutboxDispatcher {
 public:
  OutboxDispatcher(boost::asio::any_io_executor executor, OutboxStore& store,
                   WhatsAppStore& opt_outs, VerificationStore& limits, BlockingPool& pool,
                   WhatsAppSender& sender, const PiiCipher& cipher, const Config& config,
                   Metrics& metrics);
  void start();
  void notify() { loop_.notify(); }  // a row was just written: look now, not at the next poll
  void stop() { loop_.stop(); }      // finishes the message in flight, then the loop ends
  bool stopped() const { return loop_.stopped(); }
  const std::string& owner() const { return owner_; }

 private:
  boost::asio::awaitable<bool> step();  // one claim: true when it was full
  boost::asio::awaitable<void> deliver(const OutboxMessage& message);
  // Opens the payload and sends it unless the recipient opted out or the customer's daily cap is
  // reached (then true: suppressed); throws on failure.
  boost::asio::awaitable<bool> send(const OutboxMessage& m, OutboxAttempt& attempt,
                                    std::string& destination);
  // Takes one of the customer's daily message slots: its rate event id, or nullopt when the cap
  // is reached.
  boost::asio::awaitable<std::optional<std::int64_t>> take_customer_slot(
      const std::string& environment, const std::string& phone_bidx);
  // The attempt's outcome: the row's next status, the metric, the log line and the store record.
  boost::asio::awaitable<void> record(const OutboxMessage& m, const OutboxAttempt& attempt,
                                      const std::string& destination, bool suppressed,
                                      bool retryable);
  boost::asio::awaitable<void> release_leases();

  PollingLoop loop_;
  OutboxStore& store_;
  WhatsAppStore& chats_;       // opt-outs: a customer who sent STOP gets no notifications
  VerificationStore& limits_;  // rate events: the per-customer daily cap
  BlockingPool& pool_;
  WhatsAppSender& sender_;
  const PiiCipher& cipher_;
  const Config& config_;
  Metrics& metrics_;
  std::string owner_;
};

}  // namespace leadgate
