#pragma once
// The WhatsApp webhook's front door (issue 7): the verification handshake, authentication of
// both providers' callbacks, and the durable, de-duplicated inbox write that happens before the
// provider is answered. Processing the stored events happens later, in the background.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/offload.h"
#include "domain/webhook_payloads.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

// GET handshake: the challenge to echo when hub.mode is "subscribe" and hub.verify_token equals
// `expected` (constant time); also the underscore spellings hub_mode, hub_verify_token,
// hub_challenge. nullopt -> 403.
std::optional<std::string> webhook_challenge(const std::map<std::string, std::string>& query,
                                             const std::string& expected);

// "sha256=<hex HMAC-SHA256(secret, body)>" compared in constant time; false for an empty secret
// or header.
bool valid_meta_signature(const std::string& secret, std::string_view body,
                          std::string_view header);

// Whether `ip` is in the allow-list: comma-separated addresses and IPv4 CIDR blocks; an empty
// list allows every address.
bool ip_allowed(const std::string& allow_list, const std::string& ip);

// The environment whose business number / app name received the batch ("" when none does).
std::string environment_for(const Config& config, Provider provider,
                            const std::string& to_business_number);

// One inbox row per message, status and user event of the batch, the item sealed as JSON
// (to_json of domain/webhook_payloads.h).
std::vector<InboxEvent> inbox_events(const WebhookBatch& batch, const Config& config,
                                     const PiiCipher& cipher, std::int64_t now);

struct WebhookCredentials {
  std::string path_token;    // the {token} path segment, "" when absent
  std::string header_token;  // X-Webhook-Token
  std::string signature;     // X-Hub-Signature-256
  std::string client_ip;
};

// Group commit for inbox writes. A callback's events are stored before it is acknowledged, and
// one durable commit per callback made the commit rate the webhook's ceiling. Up to kMaxWriters
// writes are in flight; callbacks that arrive while all of them are busy queue, and the next
// write to finish stores the whole queue in one insert_inbox call (one statement, one commit). A
// callback that finds a writer free is written at once, so a lone callback waits for nothing but
// its own commit. (bench, webhook peak: one durable commit per callback 2,973 req/s; one writer
// 7,474; four writers 8,277.) Each caller learns which of its own events were
// new; if the write fails, every caller of that write gets the error (nothing was stored, the
// provider retries). At most `max_waiting` callbacks queue; more get ServiceUnavailable (503).
class InboxWriter {
 public:
  InboxWriter(WhatsAppStore& store, BlockingPool& pool, int max_waiting);
  // Per event of `events`: 1 if it was stored now, 0 if it was stored before (a redelivery).
  boost::asio::awaitable<std::vector<char>> write(const std::vector<InboxEvent>& events);

 private:
  struct Waiter {
    const std::vector<InboxEvent>* events;
    std::function<void(std::exception_ptr, std::vector<char>)> complete;
  };
  boost::asio::awaitable<void> flush();
  void start(Waiter waiter, const boost::asio::any_io_executor& executor);

  WhatsAppStore& store_;
  BlockingPool& pool_;
  const std::size_t max_waiting_;
  std::mutex mutex_;
  std::vector<Waiter> queue_;  // guarded by mutex_
  static constexpr int kMaxWriters = 4;
  int writers_ = 0;  // guarded by mutex_: flush() loops running
};

class WebhookIntake {
 public:
  WebhookIntake(WhatsAppStore& store, const ServiceDeps& deps, std::function<void()> on_stored);
  // Authenticates, parses and stores the callback; returns how many of its items were new.
  // Throws ApiError 400 (malformed / unknown shape), 401 (signature or token), 403 (source IP).
  boost::asio::awaitable<int> accept(const std::string& body, const WebhookCredentials& creds);

 private:
  WhatsAppStore& store_;
  ServiceDeps deps_;
  std::function<void()> on_stored_;  // wakes the inbox processor
  InboxWriter writer_;
};

}  // namespace leadgate
