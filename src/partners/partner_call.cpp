#include "partners/partner_call.h"

#include <algorithm>
#include <boost/json.hpp>
#include <random>

#include "core/log.h"

namespace leadgate {

std::chrono::milliseconds backoff_delay(std::chrono::milliseconds base, int attempt) {
  const auto exp = base.count() << std::min(std::max(attempt - 1, 0), 16);
  if (exp <= 0) return std::chrono::milliseconds(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<long long> dist(exp / 2, exp);
  return std::chrono::milliseconds(dist(rng));
}

void check_http_status(const ClientResponse& res, const std::string& what) {
  if (res.status >= 200 && res.status < 300) return;
  std::string partner_message;
  boost::system::error_code ec;
  auto body = boost::json::parse(res.body, ec);
  if (!ec && body.is_object()) {
    for (const char* k : {"message", "error", "detail"}) {
      if (auto* v = body.as_object().if_contains(k); v && v->is_string()) {
        partner_message = std::string(v->get_string()).substr(0, 300);
        break;
      }
    }
  }
  const bool retryable = res.status >= 500 || res.status == 408 || res.status == 429;
  throw PartnerError(what + " answered HTTP " + std::to_string(res.status),
                     res.status >= 500   ? "http_5xx"
                     : res.status >= 400 ? "http_4xx"
                                         : "http_unexpected",
                     retryable, res.status, partner_message);
}

void record_partner_call(Metrics& metrics, const std::string& partner, const std::string& call,
                         const std::string& outcome, double seconds) {
  metrics.observe("leadgate_partner_call_duration_seconds",
                  {{"partner", partner}, {"call", call}, {"outcome", outcome}}, seconds);
  if (outcome != "ok") {
    metrics.count("leadgate_partner_call_failures_total",
                  {{"partner", partner}, {"call", call}, {"outcome", outcome}});
  }
}

void record_sandbox_call(Metrics& metrics, const std::string& partner, const std::string& call,
                         const std::string& request_id, const std::string& environment) {
  record_partner_call(metrics, partner, call, "ok", 0);
  log_info("partner_call", {{"partner", partner},
                            {"call", call},
                            {"sandbox", true},
                            {"request_id", request_id},
                            {"environment", environment},
                            {"outcome", "ok"}});
}

}  // namespace leadgate
