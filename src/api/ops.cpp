#include "api/ops.h"

#include <boost/json.hpp>

#include "core/log.h"
#include "http/problem.h"
#include "services/auth.h"

namespace leadgate {

Handler healthz_handler() {
  return [](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    co_return json_response(req, http::status::ok, {{"status", "ok"}});
  };
}

Handler readyz_handler(ReadinessInputs in) {
  return [in](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    boost::json::object db{{"kind", in.store.kind()},
                           {"expected_schema_version", in.store.expected_schema_version()}};
    bool ready = false;
    std::string error;
    try {
      const int version = co_await in.pool.run([&] {
        in.store.ping();
        return in.store.schema_version();
      });
      db["reachable"] = true;
      db["schema_version"] = version;
      ready = version == in.store.expected_schema_version();
      db["migrations_applied"] = ready;
    } catch (const std::exception& e) {
      db["reachable"] = false;
      error = e.what();
    }
    if (!error.empty()) {
      // Driver messages name hosts, users and databases: for operators only (issue 20 §5).
      const std::string key = ApiKeyAuth::key_of(req);
      std::optional<Caller> caller;
      try {
        // A key looked up lately is in the cache; with the database down, others are not known.
        if (!key.empty()) caller = co_await in.auth.lookup(key);
      } catch (const std::exception&) {
        caller.reset();
      }
      const bool ops = caller && caller->allows(kOpsScope);
      db["error"] = ops ? error : "unavailable (send an ops API key for the details)";
    }
    boost::json::object body{{"status", ready ? "ready" : "not_ready"},
                             {"database", db},
                             {"partners",
                              {{"basic_app", {{"sandbox", in.basic_app_sandboxed}}},
                               {"gupshup", {{"sandbox", in.gupshup_sandboxed}}}}}};
    co_return json_response(req, ready ? http::status::ok : http::status::service_unavailable,
                            body);
  };
}

Handler metrics_handler(Metrics& metrics) {
  return [&metrics](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    // The counters are labelled by environment: one brand's key must not read the other's.
    if (!ctx.caller || !ctx.caller->allows(kOpsScope)) {
      throw ApiError(403, "SCOPE_FORBIDDEN", kNoOpsScopeDetail);
    }
    co_return text_response(req, http::status::ok, metrics.render(),
                            "text/plain; version=0.0.4; charset=utf-8");
  };
}

}  // namespace leadgate
