#include "api/leads.h"

#include "core/config.h"
#include "domain/application_progress.h"
#include "http/middleware.h"
#include "http/problem.h"
#include "services/lead_records.h"

namespace leadgate {

void authorize_body_environment(const boost::json::object& body, RequestContext& ctx) {
  const auto* env = body.if_contains("environment");
  if (env && env->is_string() && is_environment(env->get_string())) {
    ctx.require_environment(std::string(env->get_string()));
  }
}

std::string resolve_environment(const boost::json::object& body, RequestContext& ctx) {
  const auto* env = body.if_contains("environment");
  if (env && !env->is_null()) {
    if (!env->is_string() || !is_environment(env->get_string())) {
      throw_field_errors({{"environment", "Environment must be orbit or homfinity"}});
    }
    ctx.require_environment(std::string(env->get_string()));
    return ctx.environment;
  }
  // The key's only brand environment (an "ops" scope beside it does not count).
  std::vector<std::string> brands;
  if (ctx.caller) {
    for (const auto& e : ctx.caller->environments) {
      if (is_environment(e)) brands.push_back(e);
    }
  }
  if (brands.size() == 1) {
    ctx.require_environment(brands.front());
    return ctx.environment;
  }
  throw_field_errors(
      {{"environment", "environment is required: this API key is scoped to several environments"}});
}

Handler lead_flash_handler(LeadFlash& flash, const PincodeDirectory& pincodes,
                           const ProfessionCatalogue& professions) {
  return [&flash, &pincodes, &professions](
             const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto body = parse_json_object(req);
    const std::string environment = resolve_environment(body, ctx);
    auto parsed = parse_flash(body, professions, pincodes, today_ist());
    if (auto* errors = std::get_if<std::vector<FieldError>>(&parsed)) throw_field_errors(*errors);
    const auto done =
        co_await flash.submit(std::get<FlashInput>(parsed), environment, ctx.customer, ctx);
    boost::json::array steps;
    for (const auto& s : next_steps(Stage::completed)) steps.emplace_back(s);
    boost::json::object answer{{"success", true},
                               {"basic_application_id", done.basic_application_id},
                               {"reference_id", done.reference_id},
                               {"message", "Lead Flash processed successfully"},
                               {"status", "completed"},
                               {"next_steps", steps}};
    if (!done.warnings.empty()) answer["warnings"] = warnings_json(done.warnings);
    co_return json_response(req, http::status::ok, answer);
  };
}

Handler create_lead_handler(LeadIntake& intake, const PincodeDirectory& pincodes) {
  return [&intake, &pincodes](const Request& req,
                              RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto body = parse_json_object(req);
    authorize_body_environment(body, ctx);
    auto parsed = parse_lead(body, pincodes, today_ist());
    if (auto* errors = std::get_if<std::vector<FieldError>>(&parsed)) {
      throw_field_errors(*errors);
    }
    const auto& lead = std::get<LeadInput>(parsed);
    ctx.require_environment(lead.environment);  // the parsed (trimmed) value is what is used
    const auto done =
        co_await intake.submit(lead, ctx.customer, ctx, std::string(req[http::field::user_agent]));
    co_return json_response(
        req, http::status::ok,
        boost::json::object{
            {"success", true},
            {"basic_application_id", done.basic_application_id},
            {"applicationId", done.application_id},
            {"reference_id", done.reference_id},
            {"message", done.updated ? "Lead updated successfully" : "Lead created successfully"}});
  };
}

}  // namespace leadgate
