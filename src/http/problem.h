#pragma once
// RFC 9457 problem details and the exception handlers throw to produce them.
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "core/errors.h"

namespace leadgate {

std::string problem_title(int status);
// Serialises a problem+json body.
std::string problem_body(int status, const std::string& code, const std::string& detail,
                         const std::string& request_id, const std::vector<FieldProblem>& errors,
                         const boost::json::object& extra = {});

}  // namespace leadgate
