#include "domain/otp_policy.h"

#include "domain/enum_table.h"

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

constexpr auto kVerdictCodes =
    std::to_array<std::string_view>({"", "OTP_INVALID", "OTP_EXPIRED", "OTP_ALREADY_USED",
                                     "OTP_NOT_FOUND", "OTP_ATTEMPTS_EXCEEDED"});

std::string_view verdict_code(OtpVerdict verdict) {
  return enum_entry<OtpVerdict::attempts_exceeded>(kVerdictCodes, verdict, "OTP_INVALID");
}

constexpr auto kVerdictMessages = std::to_array<std::string_view>(
    {"OTP verified successfully", "The OTP is incorrect", "The OTP has expired; request a new one",
     "The OTP was already used; request a new one",
     "No OTP was sent to this number; request one first",
     "Too many wrong attempts: the OTP is no longer valid; request a new one"});

std::string_view verdict_message(OtpVerdict verdict) {
  return enum_entry<OtpVerdict::attempts_exceeded>(kVerdictMessages, verdict,
                                                   "The OTP is incorrect");
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
