#include "http/types.h"

#include <boost/json/serialize.hpp>

#include "domain/environments.h"
#include "http/problem.h"

namespace leadgate {

bool Caller::allows(const std::string& environment) const {
  for (const auto& e : environments) {
    if (e == environment) return true;
  }
  return false;
}

bool Caller::has_brand_scope() const {
  for (const auto& e : environments) {
    if (is_environment(e)) return true;
  }
  return false;
}

void RequestContext::require_environment(const std::string& env) {
  environment = env;
  if (!caller || !caller->allows(env)) {
    throw ApiError(403, "ENVIRONMENT_FORBIDDEN",
                   "This API key is not allowed to access environment '" + env + "'");
  }
}

Response text_response(const Request& req, http::status status, std::string body,
                       std::string content_type) {
  Response res{status, req.version()};
  res.set(http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response html_response(const Request& req, http::status status, std::string body,
                       std::string_view csp) {
  auto res = text_response(req, status, std::move(body), "text/html; charset=utf-8");
  res.set("Content-Security-Policy", csp);
  res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::cache_control, "no-store");
  return res;
}

Response json_response(const Request& req, http::status status, const boost::json::value& body) {
  return text_response(req, status, boost::json::serialize(body), "application/json");
}

bool is_served_method(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::post:
    case http::verb::put:
    case http::verb::patch:
    case http::verb::delete_:
    case http::verb::options:
      return true;
    default:
      return false;
  }
}

std::string_view method_label(http::verb method) {
  if (!is_served_method(method)) return "other";
  const auto name = http::to_string(method);
  return {name.data(), name.size()};
}

}  // namespace leadgate
