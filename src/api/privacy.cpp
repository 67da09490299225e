#include "api/privacy.h"

#include "api/leads.h"
#include "core/log.h"
#include "http/middleware.h"
#include "http/problem.h"
#include "services/lead_records.h"

namespace leadgate {
namespace {

struct ParsedPrivacy {
  PrivacyRequest request;
  std::string environment;
};

ParsedPrivacy parse(const Request& req, RequestContext& ctx, bool with_purpose) {
  const auto body = parse_json_object(req);
  std::string environment = resolve_environment(body, ctx);
  auto parsed = parse_privacy_request(body, with_purpose);
  if (auto* errors = std::get_if<std::vector<FieldError>>(&parsed)) throw_field_errors(*errors);
  return {std::get<PrivacyRequest>(std::move(parsed)), std::move(environment)};
}

// Who asked, for the record (DPDP: every exercise of a right is accountable).
void log_request(const char* kind, const RequestContext& ctx, const std::string& environment,
                 const std::string& purpose = "") {
  boost::json::object fields{{"request_id", ctx.request_id},
                             {"environment", environment},
                             {"api_key_id", ctx.caller ? ctx.caller->key_id : ""},
                             {"api_key_name", ctx.caller ? ctx.caller->key_name : ""}};
  if (!purpose.empty()) fields["purpose"] = purpose;
  log_info(kind, std::move(fields));
}

}  // namespace

Handler privacy_consents_handler(ConsentLedger& ledger) {
  return [&ledger](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] = parse(req, ctx, false);
    const ConsentView view = co_await ledger.consents(environment, request, ctx.customer);
    log_request("privacy_consents", ctx, environment);
    boost::json::object current;
    for (const auto& [purpose, state] : view.current) current[purpose] = state;
    boost::json::array history;
    for (const auto& e : view.history) history.push_back(consent_event_json(e));
    co_return json_response(
        req, http::status::ok,
        {{"success", true},
         {"data",
          {{"mobile_number", request.mobile}, {"current", current}, {"history", history}}}});
  };
}

Handler privacy_withdraw_handler(ConsentLedger& ledger) {
  return [&ledger](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] = parse(req, ctx, true);
    const ConsentEvent e = co_await ledger.withdraw(environment, request, ctx.customer, ctx);
    log_request("privacy_withdraw", ctx, environment, request.purpose);
    co_return json_response(req, http::status::ok,
                            {{"success", true},
                             {"data",
                              {{"mobile_number", request.mobile},
                               {"current", "withdrawn"},
                               {"event", consent_event_json(e)}}}});
  };
}

Handler privacy_export_handler(PersonalDataExport& exporter) {
  return [&exporter](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] = parse(req, ctx, false);
    boost::json::object data = co_await exporter.export_data(environment, request, ctx.customer);
    log_request("privacy_export", ctx, environment);
    co_return json_response(req, http::status::ok, {{"success", true}, {"data", std::move(data)}});
  };
}

}  // namespace leadgate
