#pragma once
// What every partner adapter shares: a failure type that says whether a retry may help, backoff
// with jitter, and latency/failure metrics by partner, call and outcome.
#include <chrono>
#include <stdexcept>
#include <string>

#include "core/metrics.h"
#include "crypto/crypto.h"
#include "http/client.h"

namespace leadgate {

struct PartnerError : std::runtime_error {
  PartnerError(std::string message, std::string outcome_kind, bool may_retry, int status = 0,
               std::string partners_message = {})
      // Partners echo what they were sent ("PAN ABCDE1234F exists"): masked before it can reach a
      // log line, a stored error or a response.
      : std::runtime_error(scrub_pii(message)),
        outcome(std::move(outcome_kind)),
        retryable(may_retry),
        http_status(status),
        partner_message(scrub_pii(partners_message)) {}
  std::string outcome;  // timeout | transport | http_5xx | http_4xx | invalid_response | rejected
  bool retryable;
  int http_status;
  std::string partner_message;  // the partner's own message, when it gave one
  // The partner may have acted on the request although the call failed: a timeout or a broken
  // connection after the request was written (TransportError::request_sent), or a success
  // status with an unreadable body. False for definite failures (not connected, an error answer).
  bool outcome_unknown = false;
};

// Exponential backoff with full jitter: uniform in [base*2^(attempt-1)/2, base*2^(attempt-1)].
std::chrono::milliseconds backoff_delay(std::chrono::milliseconds base, int attempt);

// Classifies a transport exception or HTTP answer; throws PartnerError for failures.
// 408/429/5xx and transport errors are retryable; other 4xx are not.
void check_http_status(const ClientResponse& res, const std::string& what);

void record_partner_call(Metrics& metrics, const std::string& partner, const std::string& call,
                         const std::string& outcome, double seconds);
// A sandbox simulator's answer: counted and logged like a real call, marked "sandbox".
void record_sandbox_call(Metrics& metrics, const std::string& partner, const std::string& call,
                         const std::string& request_id, const std::string& environment);

}  // namespace leadgate
