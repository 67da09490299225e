#pragma once
// The data-protection requests (issue 21): who they are about, which purpose, and the person's
// current consent per purpose as the ledger's events give it. Pure.
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "domain/lead_validation.h"

namespace leadgate {

// What a person may consent to: OTP codes on WhatsApp, other WhatsApp messages (status updates,
// confirmations, replies), and the processing of their loan application.
inline constexpr std::array<std::string_view, 3> kConsentPurposes = {
    "whatsapp_otp", "whatsapp_updates", "loan_processing"};
bool is_consent_purpose(std::string_view purpose);

struct PrivacyRequest {
  std::string mobile;   // normalised, 10 digits
  std::string purpose;  // withdrawals only
  std::string reason;   // erasures only: why (kept in the audit trail, PII scrubbed)
};

// {mobile_number} (consents, export) or {mobile_number, purpose} (withdraw); the environment is
// read by the caller. Messages: "mobile_number is required", "Invalid mobile number format",
// "purpose is required", "purpose must be one of whatsapp_otp, whatsapp_updates,
// loan_processing". with_reason (erase): {mobile_number, reason}, the reason trimmed, 1-500
// characters: "reason is required", "reason must be at most 500 characters".
inline constexpr std::size_t kMaxErasureReason = 500;
std::variant<PrivacyRequest, std::vector<FieldError>> parse_privacy_request(
    const boost::json::object& body, bool with_purpose, bool with_reason = false);

// `leadgate privacy sweep --older-than`: a whole number and a unit, s, m, h or d ("0s", "90m",
// "30d"), as milliseconds; nullopt for anything else (or more than 100 years).
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

// Each purpose's state after the events, in order ({purpose, action} pairs; action granted or
// withdrawn): "granted", "withdrawn", or "none" when the purpose has no event.
std::map<std::string, std::string> consent_states(
    const std::vector<std::pair<std::string, std::string>>& events);

}  // namespace leadgate
