#pragma once
// Delivers outbox rows (WhatsApp messages written in the same transaction as the business change
// that caused them). Claims due rows under a lease, sends each once per attempt, records every
// attempt and the provider's messageId, retries with exponential backoff and jitter, and marks a
// row `dead` after the configured number of attempts. A row the provider accepted is `sent` and
// never claimed again; a crash between acceptance and that record can repeat one send
// (at-least-once), never lose it.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <string>

#include "app/config.h"
#include "app/offload.h"
#include "crypto/crypto.h"
#include "http/metrics.h"
#include "partners/whatsapp.h"
#include "store/store.h"

namespace leadgate {

// The sealed payload of a WhatsApp outbox row.
std::string outbox_template_payload(const std::string& destination, const std::string& template_id,
                                    const std::vector<std::string>& params);

class OutboxDispatcher {
 public:
  OutboxDispatcher(boost::asio::any_io_executor executor, Store& store, BlockingPool& pool,
                   WhatsAppSender& sender, const PiiCipher& cipher, const Config& config,
                   Metrics& metrics);
  void start();
  void notify();  // a row was just written: look now instead of at the next poll
  void stop();    // finishes the message in flight, then the loop ends
  bool stopped() const { return stopped_.load(); }
  const std::string& owner() const { return owner_; }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> deliver(const OutboxMessage& message);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  Store& store_;
  BlockingPool& pool_;
  WhatsAppSender& sender_;
  const PiiCipher& cipher_;
  const Config& config_;
  Metrics& metrics_;
  std::string owner_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace leadgate
