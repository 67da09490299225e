#pragma once
// Request/response types shared by the server, middleware and handlers.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/trace.h"
#include "domain/customer_access.h"

namespace leadgate {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Who is calling: the API key's public id, name, environment scopes and kind (server | app,
// domain/customer_access.h).
struct Caller {
  std::string key_id;
  std::string key_name;
  std::vector<std::string> environments;
  std::string kind = std::string(kServerKeyKind);
  bool allows(const std::string& environment) const;
  bool is_app() const { return kind == kAppKeyKind; }
  // Scoped for at least one brand environment (not only "ops").
  bool has_brand_scope() const;
};

// One HTTP request's context. Its Trace part (request id, environment once a handler knows it,
// start time) is all a use case is given: services take `const Trace&`, never this.
struct RequestContext : Trace {
  std::string route;  // the route's pattern, e.g. /api_v1/create_lead (bounded metric label)
  std::string client_ip;
  std::string error_code;  // the problem's code when the answer is an error (metrics label)
  std::map<std::string, std::string> path_params;
  std::optional<Caller> caller;
  // What the request proves about its customer (customer-bound routes; services/customer_tokens.h).
  CustomerAccess customer;
  // 403 unless the caller's key is scoped for `environment`.
  void require_environment(const std::string& environment);
};

// The methods leadgate answers at all: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS. Any other
// token (Beast accepts every token as a method) is answered 501 before routing, and is counted
// under the method label "other": a client cannot grow the metrics with made-up methods.
bool is_served_method(http::verb method);
// The method as a bounded metric label: its name when served, "other" otherwise.
std::string_view method_label(http::verb method);

using Handler = std::function<boost::asio::awaitable<Response>(const Request&, RequestContext&)>;

Response json_response(const Request& req, http::status status, const boost::json::value& body);
Response text_response(const Request& req, http::status status, std::string body,
                       std::string content_type);
// An HTML page for browsers: it may load only what `csp` allows, cannot be framed, is not cached
// and sends no Referer (its URL may carry a token).
Response html_response(const Request& req, http::status status, std::string body,
                       std::string_view csp);

}  // namespace leadgate
