#include "domain/otp_policy.h"

namespace leadgate {

OtpDecision decide_verify(const std::optional<OtpSnapshot>& current, bool matches,
                          std::int64_t now_ms, const OtpPolicy& policy) {
  if (!current) return {OtpVerdict::not_found, std::nullopt};
  if (current->state == "used") return {OtpVerdict::already_used, std::nullopt};
  if (current->state == "burned") return {OtpVerdict::attempts_exceeded, std::nullopt};
  if (now_ms >= current->expires_at) return {OtpVerdict::expired, std::nullopt};
  OtpSnapshot next = *current;
  if (matches) {
    next.state = "used";
    return {OtpVerdict::verified, next};
  }
  next.attempts = current->attempts + 1;
  if (next.attempts >= policy.max_attempts) {
    next.state = "burned";
    return {OtpVerdict::attempts_exceeded, next};
  }
  return {OtpVerdict::invalid, next};
}

std::string_view verdict_code(OtpVerdict verdict) {
  switch (verdict) {
    case OtpVerdict::verified:
      return "";
    case OtpVerdict::invalid:
      return "OTP_INVALID";
    case OtpVerdict::expired:
      return "OTP_EXPIRED";
    case OtpVerdict::already_used:
      return "OTP_ALREADY_USED";
    case OtpVerdict::not_found:
      return "OTP_NOT_FOUND";
    case OtpVerdict::attempts_exceeded:
      return "OTP_ATTEMPTS_EXCEEDED";
  }
  return "OTP_INVALID";
}

std::string_view verdict_message(OtpVerdict verdict) {
  switch (verdict) {
    case OtpVerdict::verified:
      return "OTP verified successfully";
    case OtpVerdict::invalid:
      return "The OTP is incorrect";
    case OtpVerdict::expired:
      return "The OTP has expired; request a new one";
    case OtpVerdict::already_used:
      return "The OTP was already used; request a new one";
    case OtpVerdict::not_found:
      return "No OTP was sent to this number; request one first";
    case OtpVerdict::attempts_exceeded:
      return "Too many wrong attempts: the OTP is no longer valid; request a new one";
  }
  return "The OTP is incorrect";
}

std::optional<std::string> normalize_otp(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.size() != 6) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::string(text);
}

}  // namespace leadgate
