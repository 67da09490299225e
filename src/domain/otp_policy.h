#pragma once
// The OTP rules (OWASP ASVS out-of-band verifier; Twilio Verify's limits): a 6-digit code valid
// for a TTL, at most `max_attempts` verifies (the last wrong one burns the code), used once.
// Pure: the current time is a parameter.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace leadgate {

struct OtpPolicy {
  std::int64_t ttl_ms = 180'000;
  int max_attempts = 5;
  std::int64_t resend_cooldown_ms = 30'000;  // per phone and environment
  int max_sends = 5;                         // per phone and environment per window
  std::int64_t send_window_ms = 600'000;
  int key_sends_per_minute = 60;  // per API key, so one client cannot pump WhatsApp costs
};

enum class OtpVerdict { verified, invalid, expired, already_used, not_found, attempts_exceeded };

// The stored state of a phone's current code, as far as the rules care.
struct OtpSnapshot {
  std::int64_t expires_at = 0;
  int attempts = 0;
  std::string state = "active";  // active | used | burned
};

struct OtpDecision {
  OtpVerdict verdict = OtpVerdict::not_found;
  std::optional<OtpSnapshot> next;  // the state to store; nullopt: unchanged
};

// One verify of a code: `matches` says whether the given code is the stored one (compared in
// constant time by the caller). Order: missing, already used, burned, expired, then the match.
OtpDecision decide_verify(const std::optional<OtpSnapshot>& current, bool matches,
                          std::int64_t now_ms, const OtpPolicy& policy);

// Stable error code for a failed verdict: OTP_INVALID, OTP_EXPIRED, OTP_ALREADY_USED,
// OTP_NOT_FOUND, OTP_ATTEMPTS_EXCEEDED ("" for verified).
std::string_view verdict_code(OtpVerdict verdict);
std::string_view verdict_message(OtpVerdict verdict);

// A 6-digit OTP as typed: exactly six ASCII digits after trimming spaces.
std::optional<std::string> normalize_otp(std::string_view text);

}  // namespace leadgate
