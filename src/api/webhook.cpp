#include "api/webhook.h"

#include <boost/url/parse.hpp>

#include "http/problem.h"

namespace leadgate {

Handler webhook_verify_handler(const Config& config) {
  return [&config](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    std::map<std::string, std::string> query;
    if (auto url = boost::urls::parse_origin_form(req.target())) {
      for (const auto& p : url->params()) query[p.key] = p.value;
    }
    if (auto challenge = webhook_challenge(query, config.webhook_verify_token)) {
      co_return text_response(req, http::status::ok, *challenge, "text/plain; charset=utf-8");
    }
    throw ApiError(403, "VERIFICATION_FAILED", "Webhook verification failed");
  };
}

Handler webhook_intake_handler(WebhookIntake& intake) {
  return [&intake](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    WebhookCredentials creds;
    if (auto it = ctx.path_params.find("token"); it != ctx.path_params.end()) {
      creds.path_token = it->second;
    }
    creds.header_token = std::string(req["X-Webhook-Token"]);
    creds.signature = std::string(req["X-Hub-Signature-256"]);
    creds.client_ip = ctx.client_ip;
    const int stored = co_await intake.accept(req.body(), creds);
    boost::json::object body{{"success", true}, {"stored", stored}};
    co_return json_response(req, http::status::ok, body);
  };
}

}  // namespace leadgate
