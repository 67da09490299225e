#pragma once
// The WhatsApp webhook's front door (issue 7): the verification handshake, authentication of
// both providers' callbacks, and the durable, de-duplicated inbox write that happens before the
// provider is answered. Processing the stored events happens later, in the background.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "app/config.h"
#include "app/offload.h"
#include "crypto/crypto.h"
#include "domain/webhook_payloads.h"
#include "http/metrics.h"
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

// One inbox row per message, status and user event of the batch, the item sealed as JSON.
std::vector<InboxEvent> inbox_events(const WebhookBatch& batch, const Config& config,
                                     const PiiCipher& cipher, std::int64_t now);

struct WebhookCredentials {
  std::string path_token;    // the {token} path segment, "" when absent
  std::string header_token;  // X-Webhook-Token
  std::string signature;     // X-Hub-Signature-256
  std::string client_ip;
};

class WebhookIntake {
 public:
  WebhookIntake(Store& store, BlockingPool& pool, const PiiCipher& cipher, const Config& config,
                Metrics& metrics, std::function<void()> on_stored);
  // Authenticates, parses and stores the callback; returns how many of its items were new.
  // Throws ApiError 400 (malformed / unknown shape), 401 (signature or token), 403 (source IP).
  boost::asio::awaitable<int> accept(const std::string& body, const WebhookCredentials& creds);

 private:
  Store& store_;
  BlockingPool& pool_;
  const PiiCipher& cipher_;
  const Config& config_;
  Metrics& metrics_;
  std::function<void()> on_stored_;  // wakes the inbox processor
};

}  // namespace leadgate
