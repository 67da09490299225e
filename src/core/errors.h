#pragma once
// The error types every floor may throw. The HTTP layer maps them (http/middleware.h): ApiError to
// its status and problem+json, ServiceUnavailable and StoreUnavailable to 503 + Retry-After.
#include <boost/json/object.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace leadgate {

struct FieldProblem {
  std::string field;
  std::string message;
};

// Thrown anywhere below a handler; the error-mapping middleware turns it into problem+json.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string detail, std::vector<FieldProblem> errors = {},
           int retry_after_seconds = 0)
      : std::runtime_error(detail),
        status_(status),
        code_(std::move(code)),
        errors_(std::move(errors)),
        retry_after_seconds_(retry_after_seconds) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::vector<FieldProblem>& errors() const { return errors_; }
  int retry_after_seconds() const { return retry_after_seconds_; }
  // Extra members merged into the problem body (e.g. basic_application_id on a 409).
  boost::json::object extra;
  // Extra response headers (e.g. Allow on a 405).
  std::vector<std::pair<std::string, std::string>> headers;

 private:
  int status_;
  std::string code_;
  std::vector<FieldProblem> errors_;
  int retry_after_seconds_;
};

// A dependency needed right now is down (database, pool exhausted): 503 + Retry-After.
class ServiceUnavailable : public std::runtime_error {
 public:
  explicit ServiceUnavailable(const std::string& what, int retry_after = 1)
      : std::runtime_error(what), retry_after_(retry_after) {}
  int retry_after() const { return retry_after_; }

 private:
  int retry_after_;
};

// The database is unreachable or the connection pool is exhausted: surfaces as 503.
struct StoreUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A uniqueness rule was violated (e.g. a concurrent insert of the same customer's lead).
struct StoreConflict : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace leadgate
