#include "partners/whatsapp.h"

#include <boost/json.hpp>

#include "core/log.h"
#include "crypto/crypto.h"

namespace leadgate {
namespace {

constexpr const char* kPartner = "gupshup";

class GupshupSender final : public WhatsAppSender {
 public:
  GupshupSender(std::string base_url, std::chrono::milliseconds timeout, HttpClient& http,
                Metrics& metrics)
      : base_url_(std::move(base_url)), timeout_(timeout), http_(http), metrics_(metrics) {}
  bool sandboxed() const override { return false; }

  boost::asio::awaitable<std::string> send_template(
      const EnvironmentConfig& env, const std::string& destination, const std::string& template_id,
      const std::vector<std::string>& params) override {
    boost::json::array p;
    for (const auto& v : params) p.emplace_back(v);
    const std::string tmpl =
        boost::json::serialize(boost::json::object{{"id", template_id}, {"params", p}});
    co_return co_await post(env, "/wa/api/v1/template/msg", "template", destination,
                            "template=" + form_encode(tmpl));
  }

  boost::asio::awaitable<std::string> send_text(const EnvironmentConfig& env,
                                                const std::string& destination,
                                                const std::string& text) override {
    const std::string msg =
        boost::json::serialize(boost::json::object{{"type", "text"}, {"text", text}});
    co_return co_await post(env, "/wa/api/v1/msg", "msg", destination,
                            "message=" + form_encode(msg));
  }

 private:
  boost::asio::awaitable<std::string> post(const EnvironmentConfig& env, const std::string& path,
                                           const std::string& call, const std::string& destination,
                                           const std::string& payload_field) {
    ClientRequest req;
    req.method = "POST";
    req.url = base_url_ + path;
    req.headers = {{"apikey", env.gupshup_api_key}};
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "channel=whatsapp&source=" + form_encode(env.gupshup_source) +
               "&src.name=" + form_encode(env.gupshup_app_name) +
               "&destination=" + form_encode(destination) + "&" + payload_field;
    req.timeout = timeout_;
    const auto started = std::chrono::steady_clock::now();
    std::optional<PartnerError> failure;
    std::string message_id;
    try {
      message_id = parse_gupshup_answer(co_await http_.send(req));
    } catch (const TransportError& e) {
      failure = PartnerError(std::string("Gupshup: ") + e.what(),
                             e.timed_out ? "timeout" : "transport", true);
      failure->outcome_unknown = e.request_sent;
    } catch (const PartnerError& e) {
      failure = e;
      // A success status without a readable answer: Gupshup may have queued the message.
      failure->outcome_unknown =
          e.outcome == "invalid_response" && e.http_status >= 200 && e.http_status < 300;
    }
    record_partner_call(
        metrics_, kPartner, call, failure ? failure->outcome : "ok",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (failure) throw *failure;
    co_return message_id;
  }

  std::string base_url_;
  std::chrono::milliseconds timeout_;
  HttpClient& http_;
  Metrics& metrics_;
};

// SANDBOX SIMULATOR: stands in for Gupshup when LEADGATE_GUPSHUP_URL is unset. Accepts every
// message with a made-up messageId and logs that it did (masked); nothing is sent anywhere.
class SandboxSender final : public WhatsAppSender {
 public:
  explicit SandboxSender(Metrics& metrics) : metrics_(metrics) {}
  bool sandboxed() const override { return true; }
  boost::asio::awaitable<std::string> send_template(
      const EnvironmentConfig& env, const std::string& destination, const std::string& template_id,
      const std::vector<std::string>& /*params*/) override {
    co_return accept(env, destination, "template", template_id);
  }
  boost::asio::awaitable<std::string> send_text(const EnvironmentConfig& env,
                                                const std::string& destination,
                                                const std::string& /*text*/) override {
    co_return accept(env, destination, "msg", "");
  }

 private:
  std::string accept(const EnvironmentConfig& env, const std::string& destination,
                     const std::string& call, const std::string& template_id) {
    record_partner_call(metrics_, kPartner, call, "ok", 0);
    const std::string id = "sandbox-" + uuid_v4();
    log_info("whatsapp_sandbox_send", {{"sandbox", true},
                                       {"environment", env.name},
                                       {"destination", mask_mobile(destination)},
                                       {"template", template_id},
                                       {"message_id", id}});
    return id;
  }
  Metrics& metrics_;
};

}  // namespace

std::string parse_gupshup_answer(const ClientResponse& res) {
  check_http_status(res, "Gupshup");
  boost::system::error_code ec;
  auto value = boost::json::parse(res.body, ec);
  if (!ec && value.is_object()) {
    const auto& obj = value.as_object();
    const auto* status = obj.if_contains("status");
    const auto* id = obj.if_contains("messageId");
    if (status && status->is_string() && status->get_string() == "submitted" && id &&
        id->is_string() && !id->get_string().empty()) {
      return std::string(id->get_string());
    }
    if (const auto* m = obj.if_contains("message"); m && m->is_string()) {
      throw PartnerError("Gupshup did not accept the message: " + std::string(m->get_string()),
                         "rejected", true, res.status, std::string(m->get_string()));
    }
  }
  throw PartnerError("Gupshup answered without status submitted and a messageId",
                     "invalid_response", true, res.status);
}

std::unique_ptr<WhatsAppSender> make_whatsapp_sender(const std::string& gupshup_url,
                                                     std::chrono::milliseconds timeout,
                                                     HttpClient& http, Metrics& metrics) {
  if (gupshup_url.empty()) return std::make_unique<SandboxSender>(metrics);
  return std::make_unique<GupshupSender>(gupshup_url, timeout, http, metrics);
}

}  // namespace leadgate
