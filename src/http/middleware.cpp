#include "http/middleware.h"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/request_id.h"
#include "http/problem.h"

namespace leadgate {
namespace {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

Response problem_from(const Request& req, const RequestContext& ctx, const ApiError& e) {
  Response res{static_cast<http::status>(e.status()), req.version()};
  res.set(http::field::content_type, "application/problem+json");
  if (e.retry_after_seconds() > 0) {
    res.set(http::field::retry_after, std::to_string(e.retry_after_seconds()));
  }
  for (const auto& [name, value] : e.headers) res.set(name, value);
  res.keep_alive(req.keep_alive());
  res.body() = problem_body(e.status(), e.code(), e.what(), ctx.request_id, e.errors(), e.extra);
  res.prepare_payload();
  return res;
}

}  // namespace

Handler compose(const std::vector<Middleware>& chain, Handler handler) {
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    handler = [mw = *it, next = std::move(handler)](const Request& req, RequestContext& ctx) {
      return mw(req, ctx, next);
    };
  }
  return handler;
}

Middleware metrics_middleware(Metrics& metrics, std::vector<std::string> environments) {
  metrics.describe({
      {"leadgate_http_requests_total", "counter",
       "HTTP requests by route, method, status and environment"},
      {"leadgate_http_errors_total", "counter",
       "HTTP error answers (4xx/5xx) by route, status, problem code and environment"},
      {"leadgate_http_request_duration_seconds", "histogram",
       "HTTP request latency by route, environment and outcome (ok, or error = 5xx)"},
  });
  return [&metrics, environments = std::move(environments)](
             const Request& req, RequestContext& ctx,
             const Handler& next) -> boost::asio::awaitable<Response> {
    Response res = co_await next(req, ctx);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
    const int status = res.result_int();
    // The environment is known once the handler parsed the request ("" before that, e.g. 401).
    const bool known =
        std::find(environments.begin(), environments.end(), ctx.environment) != environments.end();
    const std::string environment = known ? ctx.environment : std::string();
    metrics.count("leadgate_http_requests_total",
                  {{"route", ctx.route},
                   {"method", std::string(method_label(req.method()))},
                   {"status", std::to_string(status)},
                   {"environment", environment}});
    if (status >= 400) {
      metrics.count("leadgate_http_errors_total", {{"route", ctx.route},
                                                   {"status", std::to_string(status)},
                                                   {"code", ctx.error_code},
                                                   {"environment", environment}});
    }
    metrics.observe("leadgate_http_request_duration_seconds",
                    {{"route", ctx.route},
                     {"environment", environment},
                     {"outcome", status >= 500 ? "error" : "ok"}},
                    seconds);
    co_return res;
  };
}

std::string request_id_for(const Request& req) {
  auto given = req["X-Request-ID"];
  return valid_request_id(given) ? std::string(given) : correlation_uuid();
}

Middleware request_id_middleware() {
  return [](const Request& req, RequestContext& ctx,
            const Handler& next) -> boost::asio::awaitable<Response> {
    ctx.request_id = request_id_for(req);
    Response res = co_await next(req, ctx);
    res.set("X-Request-ID", ctx.request_id);
    const auto ms = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - ctx.started)
                        .count() /
                    1000.0;
    boost::json::object line{{"request_id", ctx.request_id},
                             {"method", std::string(method_label(req.method()))},
                             {"route", ctx.route},
                             {"status", res.result_int()},
                             {"duration_ms", ms},
                             {"environment", ctx.environment},
                             {"client_ip", ctx.client_ip}};
    if (ctx.caller) line["api_key_id"] = ctx.caller->key_id;
    log_info("http_request", std::move(line));
    co_return res;
  };
}

Middleware load_shedding_middleware(const BlockingPool& pool, double slo_seconds) {
  return [&pool, slo_seconds](const Request& req, RequestContext& ctx,
                              const Handler& next) -> boost::asio::awaitable<Response> {
    const double wait = pool.estimated_wait();
    if (wait > slo_seconds) {
      throw ServiceUnavailable("overloaded: the estimated queue wait of " + std::to_string(wait) +
                                   " s exceeds the route's " + std::to_string(slo_seconds) +
                                   " s objective",
                               static_cast<int>(std::ceil(wait)));
    }
    co_return co_await next(req, ctx);
  };
}

Middleware error_mapping_middleware() {
  return [](const Request& req, RequestContext& ctx,
            const Handler& next) -> boost::asio::awaitable<Response> {
    // Exceptions are turned into a value first: co_await is not allowed inside a handler block.
    std::optional<ApiError> failure;
    try {
      co_return co_await next(req, ctx);
    } catch (const ApiError& e) {
      failure = e;
    } catch (const ServiceUnavailable& e) {
      log_warn("dependency_unavailable", {{"request_id", ctx.request_id}, {"error", e.what()}});
      failure =
          ApiError(503, "SERVICE_UNAVAILABLE",
                   "A dependency is temporarily unavailable; retry shortly", {}, e.retry_after());
    } catch (const StoreUnavailable& e) {
      log_warn("database_unavailable", {{"request_id", ctx.request_id}, {"error", e.what()}});
      failure = ApiError(503, "DATABASE_UNAVAILABLE",
                         "The database is temporarily unavailable; retry shortly", {}, 2);
    } catch (const std::exception& e) {
      log_error("internal_error",
                {{"request_id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      failure = ApiError(500, "INTERNAL_ERROR", "An internal error occurred");
    }
    ctx.error_code = failure->code();
    co_return problem_from(req, ctx, *failure);
  };
}

boost::json::object query_object(const Request& req) {
  boost::json::object out;
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) throw ApiError(400, "MALFORMED_REQUEST", "The request target is not a valid URL");
  for (const auto& p : url->params()) out[p.key] = p.value;
  return out;
}

boost::json::object form_object(std::string_view body) {
  boost::json::object out;
  std::string target = "/?";
  for (char c : body) target.push_back(c == '+' ? ' ' : c);  // '+' is a space in forms
  if (auto url = boost::urls::parse_origin_form(target)) {
    for (const auto& p : url->params()) out[p.key] = p.value;
  }
  return out;
}

boost::json::object parse_json_object(const Request& req) {
  const auto type = req[http::field::content_type];
  const auto base = type.substr(0, type.find(';'));
  std::string lowered(base);
  for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!lowered.empty() && lowered.back() == ' ') lowered.pop_back();
  if (lowered != "application/json") {
    throw ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(req.body(), ec);
  if (ec) throw ApiError(400, "MALFORMED_JSON", "Request body is not valid JSON: " + ec.message());
  if (!value.is_object())
    throw ApiError(400, "MALFORMED_JSON", "Request body must be a JSON object");
  return std::move(value.as_object());
}

Response problem_response(const Request& req, int status, const std::string& code,
                          const std::string& detail, const std::string& request_id) {
  RequestContext ctx;
  ctx.request_id = request_id;
  return problem_from(req, ctx, ApiError(status, code, detail));
}

}  // namespace leadgate
