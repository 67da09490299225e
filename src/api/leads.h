#pragma once
// POST /api_v1/create_lead (api-wireframes 1A): parse, authorise the environment, validate, hand
// over to LeadIntake.
#include "domain/pincode_directory.h"
#include "http/types.h"
#include "services/lead_flash.h"
#include "services/lead_intake.h"

namespace leadgate {

Handler create_lead_handler(LeadIntake& intake, const PincodeDirectory& pincodes);
// POST /api_v1/lead_flash (api-wireframes 1B).
Handler lead_flash_handler(LeadFlash& flash, const PincodeDirectory& pincodes,
                           const ProfessionCatalogue& professions);

// The request's environment for APIs where it is optional: the body's `environment` (422 when
// not orbit/homfinity, 403 when the key is not scoped for it), else the key's only environment
// (422 when the key is scoped to both).
std::string resolve_environment(const boost::json::object& body, RequestContext& ctx);

// 403 when the body names an environment the caller's key is not scoped for. A missing or
// invalid environment is left to validation (422).
void authorize_body_environment(const boost::json::object& body, RequestContext& ctx);

}  // namespace leadgate
