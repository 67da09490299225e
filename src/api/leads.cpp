#include "api/leads.h"

#include "app/config.h"
#include "http/middleware.h"
#include "http/problem.h"

namespace leadgate {

void authorize_body_environment(const boost::json::object& body, RequestContext& ctx) {
  const auto* env = body.if_contains("environment");
  if (env && env->is_string() && is_environment(env->get_string())) {
    ctx.require_environment(std::string(env->get_string()));
  }
}

void throw_validation_errors(const std::vector<FieldError>& errors) {
  std::vector<FieldProblem> problems;
  for (const auto& e : errors) problems.push_back({e.field, e.message});
  const std::string detail = errors.size() == 1
                                 ? errors.front().message
                                 : std::to_string(errors.size()) + " fields are invalid";
  throw ApiError(422, "VALIDATION_ERROR", detail, std::move(problems));
}

Handler create_lead_handler(LeadIntake& intake, const PincodeDirectory& pincodes) {
  return [&intake, &pincodes](const Request& req,
                              RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto body = parse_json_object(req);
    authorize_body_environment(body, ctx);
    auto parsed = parse_lead(body, pincodes, today_ist());
    if (auto* errors = std::get_if<std::vector<FieldError>>(&parsed)) {
      throw_validation_errors(*errors);
    }
    const auto& lead = std::get<LeadInput>(parsed);
    auto result = co_await intake.submit(lead, ctx, std::string(req[http::field::user_agent]));
    co_return json_response(req, http::status::ok, result);
  };
}

}  // namespace leadgate
