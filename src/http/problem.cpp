#include "http/problem.h"

#include <boost/json.hpp>

namespace leadgate {

std::string problem_title(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string problem_body(int status, const std::string& code, const std::string& detail,
                         const std::string& request_id, const std::vector<FieldProblem>& errors,
                         const boost::json::object& extra) {
  boost::json::object body;
  body["type"] = "about:blank";
  body["title"] = problem_title(status);
  body["status"] = status;
  body["detail"] = detail;
  body["success"] = false;
  body["code"] = code;
  body["request_id"] = request_id;
  if (!errors.empty() || status == 422) {
    boost::json::array list;
    for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(list);
  }
  for (const auto& kv : extra) body[kv.key()] = kv.value();
  return boost::json::serialize(body);
}

}  // namespace leadgate
