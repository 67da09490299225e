#pragma once
// POST /api_v1/create_lead (api-wireframes 1A): parse, authorise the environment, validate, hand
// over to LeadIntake.
#include "app/lead_intake.h"
#include "domain/pincode_directory.h"
#include "http/types.h"

namespace leadgate {

Handler create_lead_handler(LeadIntake& intake, const PincodeDirectory& pincodes);

// 403 when the body names an environment the caller's key is not scoped for. A missing or
// invalid environment is left to validation (422).
void authorize_body_environment(const boost::json::object& body, RequestContext& ctx);

// Turns validation errors into the 422 problem.
[[noreturn]] void throw_validation_errors(const std::vector<FieldError>& errors);

}  // namespace leadgate
