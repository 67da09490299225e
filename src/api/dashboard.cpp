#include "api/dashboard.h"

#include <boost/asio/ip/address.hpp>

#include "core/config.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "http/middleware.h"
#include "http/problem.h"
#include "services/dashboard.h"

namespace leadgate {
namespace {

constexpr const char* kCookie = "lg_ops";
constexpr std::int64_t kSessionMs = 8LL * 3600 * 1000;
constexpr std::string_view kLoginMarker = "<!--LOGIN_ERROR-->";

// The value of one cookie of the request, "" when absent.
std::string cookie_value(const Request& req, std::string_view name) {
  const std::string_view header = req[http::field::cookie];
  std::size_t at = 0;
  while (at < header.size()) {
    auto end = header.find(';', at);
    if (end == std::string_view::npos) end = header.size();
    auto part = header.substr(at, end - at);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    at = end + 1;
  }
  return {};
}

// Browsers get pages that load nothing from elsewhere and cannot be framed.
Response html_page(const Request& req, http::status status, std::string body) {
  return html_response(
      req, status, std::move(body),
      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
}

Response redirect(const Request& req, const std::string& location) {
  auto res = text_response(req, http::status::see_other, "", "text/plain; charset=utf-8");
  res.set(http::field::location, location);
  res.set(http::field::cache_control, "no-store");
  return res;
}

std::string login_page(std::string_view error) {
  std::string page(embedded_dashboard("login.html"));
  if (page.empty()) {
    page =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>leadgate "
        "operations</title></head><body><h1>leadgate operations</h1><!--LOGIN_ERROR--><form "
        "method=\"post\" action=\"/dashboard/login\"><label>Operations API key <input "
        "type=\"password\" name=\"api_key\" autocomplete=\"off\" required></label><button "
        "type=\"submit\">Sign in</button></form></body></html>";
  }
  const auto at = page.find(kLoginMarker);
  if (at != std::string::npos) {
    // The message is ours (fixed text), never the submitted value.
    page.replace(at, kLoginMarker.size(),
                 error.empty()
                     ? std::string()
                     : "<p class=\"login-error\" role=\"alert\">" + std::string(error) + "</p>");
  }
  return page;
}

enum class Access { none, denied, ops };

// The session a cookie names: stored only as the SHA-256 of the cookie's random token.
std::string session_hash(std::string_view token) {
  return hex_encode(sha256(token));
}

// Who is asking: a session cookie or an API key with the ops scope.
boost::asio::awaitable<Access> access_of(const DashboardDeps& deps, const Request& req) {
  std::optional<Caller> caller;
  const std::string key = ApiKeyAuth::key_of(req);
  if (!key.empty()) {
    caller = co_await deps.auth.lookup(key);
  } else if (const auto cookie = cookie_value(req, kCookie);
             !cookie.empty() && cookie.size() < 100) {
    const auto now = now_ms();
    auto key_hash = co_await deps.pool.run(
        [&] { return deps.sessions.find_ops_session(session_hash(cookie), now); });
    if (key_hash) caller = co_await deps.auth.lookup_hash(std::move(*key_hash));
  }
  if (!caller) co_return Access::none;
  co_return caller->allows(kOpsScope) ? Access::ops : Access::denied;
}

}  // namespace

bool secure_session_cookie(const std::string& listen_host) {
  if (listen_host == "localhost") return false;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(listen_host, ec);
  return ec || !address.is_loopback();
}

Handler dashboard_page_handler(const DashboardDeps& deps) {
  return [&deps](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    const Access access = co_await access_of(deps, req);
    if (access != Access::ops) co_return redirect(req, "/dashboard/login");
    std::string page(embedded_dashboard("index.html"));
    if (page.empty()) {
      page =
          "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>leadgate "
          "dashboard</title></head><body><p>The dashboard page was not built into this binary; "
          "its numbers are at <a href=\"/dashboard/data\">/dashboard/data</a>.</p></body></html>";
    }
    co_return html_page(req, http::status::ok, std::move(page));
  };
}

Handler dashboard_login_page_handler() {
  return [](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    co_return html_page(req, http::status::ok, login_page(""));
  };
}

Handler dashboard_login_handler(const DashboardDeps& deps) {
  return [&deps](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    const auto form = form_object(req.body());
    std::string key;
    if (const auto* v = form.if_contains("api_key"); v && v->is_string()) {
      key = std::string(v->get_string());
    }
    while (!key.empty() && (key.back() == ' ' || key.back() == '\n' || key.back() == '\r')) {
      key.pop_back();
    }
    // No co_await inside a conditional expression: g++ 12 miscompiles it.
    std::optional<Caller> caller;
    if (!key.empty()) caller = co_await deps.auth.lookup(key);
    if (!caller || !caller->allows(kOpsScope)) {
      log_warn("dashboard_login_failed", {{"reason", caller ? "not_ops_scope" : "unknown_key"}});
      co_return html_page(
          req, http::status::unauthorized,
          login_page(caller ? "This API key has no ops scope." : "Unknown or revoked API key."));
    }
    const std::string token = "lgs_" + random_token(43);
    const auto now = now_ms();
    co_await deps.pool.run([&] {
      deps.sessions.insert_ops_session(
          {session_hash(token), hash_api_key(key), now, now + kSessionMs});
    });
    std::string cookie = std::string(kCookie) + "=" + token +
                         "; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=" +
                         std::to_string(kSessionMs / 1000);
    if (deps.secure_cookie) cookie += "; Secure";
    log_info("dashboard_login", {{"api_key_id", caller->key_id}});
    auto res = redirect(req, "/dashboard");
    res.set(http::field::set_cookie, cookie);
    co_return res;
  };
}

Handler dashboard_logout_handler(const DashboardDeps& deps) {
  return [&deps](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    // The session ends on the server, on every instance: a copy of the cookie is worth nothing.
    if (const auto cookie = cookie_value(req, kCookie); !cookie.empty() && cookie.size() < 100) {
      const bool ended = co_await deps.pool.run(
          [&] { return deps.sessions.delete_ops_session(session_hash(cookie)); });
      if (ended) log_info("dashboard_logout", {});
    }
    auto res = redirect(req, "/dashboard/login");
    res.set(http::field::set_cookie,
            std::string(kCookie) + "=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0");
    co_return res;
  };
}

Handler dashboard_data_handler(const DashboardDeps& deps) {
  return [&deps](const Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
    const Access access = co_await access_of(deps, req);
    if (access == Access::none) {
      throw ApiError(401, "UNAUTHENTICATED",
                     "An ops API key is required: sign in at /dashboard/login or send "
                     "Authorization: Bearer <key>");
    }
    if (access == Access::denied) {
      throw ApiError(403, "SCOPE_FORBIDDEN", kNoOpsScopeDetail);
    }
    const auto query = query_object(req);
    std::vector<FieldProblem> problems;
    DashboardQuery q;
    q.now_ms = now_ms();
    std::string range;
    if (const auto* v = query.if_contains("range")) range = std::string(v->get_string());
    if (auto r = parse_dashboard_range(range)) {
      q.range = *r;
    } else {
      problems.push_back({"range", "range must be hour, day or week"});
    }
    if (const auto* v = query.if_contains("environment")) {
      const std::string env(v->get_string());
      if (is_environment(env)) {
        q.environment = env;
      } else if (!env.empty() && env != "all") {
        problems.push_back({"environment", "environment must be all, orbit or homfinity"});
      }
    }
    if (!problems.empty()) {
      throw ApiError(422, "VALIDATION_ERROR", "Invalid dashboard query", std::move(problems));
    }
    const DashboardWindow window = dashboard_window(q);
    const auto rows = co_await deps.pool.run([&] {
      return deps.store.metric_minutes(window.step_minutes, window.from_minute, window.to_minute);
    });
    auto res = json_response(req, http::status::ok, dashboard_data(rows, q));
    res.set(http::field::cache_control, "no-store");
    co_return res;
  };
}

Handler dashboard_asset_handler(const DashboardDeps& deps) {
  return [&deps](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const std::string& name = ctx.path_params["asset"];
    std::string body;
    if (const std::string* vendored = deps.assets.find(name);
        vendored && name.rfind("uPlot", 0) == 0) {
      body = *vendored;
    } else if (name.find(".html") == std::string::npos) {
      body = std::string(embedded_dashboard(name));
    }
    if (body.empty()) throw ApiError(404, "NOT_FOUND", "No such dashboard file");
    auto res = text_response(req, http::status::ok, std::move(body), content_type_of(name));
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Content-Type-Options", "nosniff");
    co_return res;
  };
}

}  // namespace leadgate
