#include "app/routes.h"

#include <map>
#include <memory>

#include "api/leads.h"
#include "api/ops.h"
#include "api/otp.h"
#include "api/privacy.h"
#include "api/tracking.h"
#include "api/webhook.h"
#include "core/errors.h"
#include "domain/slo.h"
#include "http/middleware.h"

namespace leadgate {

namespace asio = boost::asio;

namespace {

void add_ops_routes(Router& router, const RouteDeps& d) {
  router.add({http::verb::get, "/healthz", healthz_handler(), false});
  router.add({http::verb::get, "/readyz",
              readyz_handler(
                  {d.store, d.pool, d.dashboard.auth, d.basic_app_sandboxed, d.gupshup_sandboxed}),
              false});
  router.add({http::verb::get, "/metrics", metrics_handler(d.metrics), true});
  router.add({http::verb::get, "/openapi.json", openapi_handler(), false});
  router.add({http::verb::get, "/docs", docs_page_handler(d.docs), false});
  router.add({http::verb::get, "/docs/{asset}", docs_asset_handler(d.docs), false});
  router.add({http::verb::get, "/dashboard", dashboard_page_handler(d.dashboard), false});
  router.add({http::verb::get, "/dashboard/login", dashboard_login_page_handler(), false});
  router.add({http::verb::post, "/dashboard/login", dashboard_login_handler(d.dashboard), false});
  router.add({http::verb::post, "/dashboard/logout", dashboard_logout_handler(d.dashboard), false});
  router.add({http::verb::get, "/dashboard/data", dashboard_data_handler(d.dashboard), false});
  router.add(
      {http::verb::get, "/dashboard/assets/{asset}", dashboard_asset_handler(d.dashboard), false});
}

void add_api_routes(Router& router, const RouteDeps& d) {
  // {method, pattern, handler, requires_api_key, idempotent, customer_bound}
  router.add({http::verb::post, "/api_v1/create_lead", create_lead_handler(d.intake, d.pincodes),
              true, true, true});
  router.add({http::verb::post, "/api_v1/otp_send", otp_send_handler(d.otp), true});
  router.add({http::verb::post, "/api_v1/otp_resend", otp_resend_handler(d.otp), true});
  router.add({http::verb::post, "/api_v1/otp_verify", otp_verify_handler(d.otp), true});
  router.add(
      {http::verb::get, "/api_v1/consent/{token}", consent_page_handler(d.otp, d.config), false});
  router.add({http::verb::post, "/api_v1/consent/{token}", consent_grant_handler(d.otp), false});
  router.add({http::verb::post, "/api_v1/lead_flash",
              lead_flash_handler(d.flash, d.pincodes, d.professions), true, true, true});
  router.add(
      {http::verb::post, "/api_v1/lead_status", lead_status_handler(d.tracker), true, true, true});
  router.add({http::verb::post, "/api_v1/track_application", track_application_handler(d.tracker),
              true, false, true});
  router.add({http::verb::post, "/api_v1/book_appointment",
              book_appointment_handler(d.appointments, d.config), true, true, true});
  router.add({http::verb::post, "/api_v1/cancel_appointment",
              cancel_appointment_handler(d.appointments), true, true, true});
  router.add({http::verb::get, "/api_v1/appointment_slots",
              appointment_slots_handler(d.appointments), true});
  router.add(
      {http::verb::get, "/api_v1/whatsapp/webhook", webhook_verify_handler(d.config), false});
  router.add(
      {http::verb::post, "/api_v1/whatsapp/webhook", webhook_intake_handler(d.webhook), false});
  router.add({http::verb::post, "/api_v1/whatsapp/webhook/{token}",
              webhook_intake_handler(d.webhook), false});
  // Data-protection rights (issue 21): customer-bound, like the lead routes.
  router.add({http::verb::post, "/api_v1/privacy/consents", privacy_consents_handler(d.privacy),
              true, false, true});
  router.add({http::verb::post, "/api_v1/privacy/consent/withdraw",
              privacy_withdraw_handler(d.privacy, d.eraser), true, true, true});
  router.add({http::verb::post, "/api_v1/privacy/export", privacy_export_handler(d.privacy_export),
              true, false, true});
  router.add({http::verb::post, "/api_v1/privacy/erase", privacy_erase_handler(d.eraser), true,
              true, true});
  router.add({http::verb::get, "/api_v1/appointments/{file}",
              appointment_ics_handler(d.appointments), true, false, true});
}

// Unknown paths: 405 with Allow when the path exists for other methods, else 404.
Handler unmatched_handler(const Router& router, const std::vector<Middleware>& outer) {
  return compose(outer,
                 [&router](const Request& req, RequestContext&) -> asio::awaitable<Response> {
                   auto m = router.match(req.method(), req.target());
                   if (!m.allowed.empty()) {
                     std::string allow;
                     for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
                     ApiError e(405, "METHOD_NOT_ALLOWED", "Method not allowed; use " + allow);
                     e.headers.emplace_back("Allow", allow);  // RFC 9110 §15.5.6
                     throw e;
                   }
                   throw ApiError(404, "NOT_FOUND", "No such endpoint");
                 });
}

}  // namespace

void add_routes(Router& router, const RouteDeps& deps) {
  add_ops_routes(router, deps);
  add_api_routes(router, deps);
}

Dispatch make_dispatch(const Router& router, const Config& config, Metrics& metrics,
                       const BlockingPool& pool, ApiKeyAuth& auth, CustomerGuard& customers,
                       Idempotency& idempotency) {
  const std::vector<Middleware> outer{metrics_middleware(metrics, environments()),
                                      request_id_middleware(), error_mapping_middleware()};
  auto chains = std::make_shared<std::map<const Route*, Handler>>();
  for (const auto& r : router.routes()) {
    std::vector<Middleware> chain = outer;
    if (auto slo = slo_threshold(r.pattern)) chain.push_back(load_shedding_middleware(pool, *slo));
    // The brands' API (/api_v1/...) is closed to keys scoped for operations only.
    if (r.requires_api_key) chain.push_back(auth.middleware(r.pattern.starts_with("/api_v1/")));
    if (r.customer_bound) chain.push_back(customers.middleware());
    if (r.idempotent) {
      // A key's first request is presumed dead after the route's slowest partner exchange.
      std::chrono::milliseconds horizon = config.max_status_exchange();
      if (r.pattern == "/api_v1/lead_flash") horizon = config.max_flash_exchange();
      if (r.pattern == "/api_v1/create_lead") horizon = config.max_los_exchange();
      chain.push_back(idempotency.middleware(horizon));
    }
    (*chains)[&r] = compose(chain, r.handler);
  }
  Handler unmatched = unmatched_handler(router, outer);
  Handler not_implemented =
      compose(outer, [](const Request&, RequestContext&) -> asio::awaitable<Response> {
        throw ApiError(501, "METHOD_NOT_IMPLEMENTED",
                       "This method is not implemented; use GET, HEAD, POST, PUT, PATCH, DELETE or "
                       "OPTIONS");
      });
  return [&router, chains, unmatched, not_implemented](
             Request& req, const std::string& ip) -> asio::awaitable<Response> {
    RequestContext ctx;
    ctx.client_ip = ip;
    if (!is_served_method(req.method())) {
      ctx.route = "unsupported_method";  // whatever the path: a bounded label
      co_return co_await not_implemented(req, ctx);
    }
    auto m = router.match(req.method(), req.target());
    if (!m.route) {
      // A bounded metric label: unknown API paths apart from the rest (favicons, scanners).
      ctx.route = req.target().starts_with("/api_v1/") ? "unmatched" : "unmatched_other";
      co_return co_await unmatched(req, ctx);
    }
    ctx.route = m.route->pattern;
    ctx.path_params = std::move(m.params);
    co_return co_await chains->at(m.route)(req, ctx);
  };
}

}  // namespace leadgate
