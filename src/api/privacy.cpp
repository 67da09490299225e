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

ParsedPrivacy parse(const Request& req, RequestContext& ctx, bool with_purpose,
                    bool with_reason = false) {
  const auto body = parse_json_object(req);
  std::string environment = resolve_environment(body, ctx);
  auto parsed = parse_privacy_request(body, with_purpose, with_reason);
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

boost::json::object erasure_json(const ErasureDone& done) {
  return {{"erasure_id", done.erasure_id},
          {"applications_checked", done.applications_checked},
          {"leads", done.counts.leads},
          {"messages_cancelled", done.counts.messages_cancelled},
          {"conversation_texts_deleted", done.counts.conversation_texts},
          {"appointments_cancelled", done.counts.appointments_cancelled},
          {"data_keys_destroyed", done.counts.data_keys}};
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

Handler privacy_withdraw_handler(ConsentLedger& ledger, Eraser& eraser) {
  return [&ledger, &eraser](const Request& req,
                            RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] = parse(req, ctx, true);
    const ConsentEvent e = co_await ledger.withdraw(environment, request, ctx.customer, ctx);
    log_request("privacy_withdraw", ctx, environment, request.purpose);
    boost::json::object data{{"mobile_number", request.mobile},
                             {"current", "withdrawn"},
                             {"event", consent_event_json(e)}};
    if (request.purpose == "loan_processing") {
      const ErasureDone done = co_await eraser.erase(
          environment, request.mobile, "consent to loan_processing withdrawn", "api", ctx);
      log_request("privacy_erase", ctx, environment, request.purpose);
      data["erasure"] = erasure_json(done);
    }
    co_return json_response(req, http::status::ok, {{"success", true}, {"data", std::move(data)}});
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

Handler privacy_erase_handler(Eraser& eraser) {
  return [&eraser](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] = parse(req, ctx, false, true);
    const ErasureDone done = co_await eraser.erase_request(environment, request, ctx.customer, ctx);
    log_request("privacy_erase", ctx, environment);
    co_return json_response(
        req, http::status::ok,
        {{"success", true},
         {"data", {{"mobile_number", request.mobile}, {"erasure", erasure_json(done)}}}});
  };
}

}  // namespace leadgate
