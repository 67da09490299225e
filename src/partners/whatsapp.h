#pragma once
// Outbound WhatsApp through Gupshup (interfaces.md §4). One attempt per call: retries belong to
// the outbox dispatcher, which records every attempt.
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "http/client.h"
#include "partners/partner_call.h"

namespace leadgate {

class WhatsAppSender {
 public:
  virtual ~WhatsAppSender() = default;
  // Returns the provider's messageId; throws PartnerError.
  virtual boost::asio::awaitable<std::string> send_template(
      const EnvironmentConfig& env, const std::string& destination, const std::string& template_id,
      const std::vector<std::string>& params) = 0;
  virtual boost::asio::awaitable<std::string> send_text(const EnvironmentConfig& env,
                                                        const std::string& destination,
                                                        const std::string& text) = 0;
  virtual bool sandboxed() const = 0;
};

std::unique_ptr<WhatsAppSender> make_whatsapp_sender(const std::string& gupshup_url,
                                                     std::chrono::milliseconds timeout,
                                                     HttpClient& http, Metrics& metrics);

// Validates a Gupshup send answer ({"status":"submitted","messageId":...}); throws PartnerError.
std::string parse_gupshup_answer(const ClientResponse& res);

}  // namespace leadgate
