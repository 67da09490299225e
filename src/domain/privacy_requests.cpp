#include "domain/privacy_requests.h"

#include <algorithm>
#include <charconv>

#include "domain/mobile.h"

namespace leadgate {

bool is_consent_purpose(std::string_view purpose) {
  return std::find(kConsentPurposes.begin(), kConsentPurposes.end(), purpose) !=
         kConsentPurposes.end();
}

std::variant<PrivacyRequest, std::vector<FieldError>> parse_privacy_request(
    const boost::json::object& body, bool with_purpose, bool with_reason) {
  detail::FieldReader r(body);
  PrivacyRequest out;
  if (const auto s = r.required_string("mobile_number")) {
    if (s->empty()) {
      r.fail("mobile_number", "mobile_number is required");
    } else if (auto m = normalize_mobile(*s)) {
      out.mobile = std::move(*m);
    } else {
      r.fail("mobile_number", "Invalid mobile number format");
    }
  }
  if (with_purpose) {
    if (const auto p = r.required_string("purpose")) {
      if (p->empty()) {
        r.fail("purpose", "purpose is required");
      } else if (!is_consent_purpose(*p)) {
        r.fail("purpose", "purpose must be one of whatsapp_otp, whatsapp_updates, loan_processing");
      } else {
        out.purpose = std::string(*p);
      }
    }
  }
  if (with_reason) {
    if (const auto why = r.required_string("reason")) {
      const auto first = why->find_first_not_of(" \t\r\n");
      const std::string_view trimmed =
          first == std::string_view::npos
              ? std::string_view()
              : why->substr(first, why->find_last_not_of(" \t\r\n") - first + 1);
      if (trimmed.empty()) {
        r.fail("reason", "reason is required");
      } else if (trimmed.size() > kMaxErasureReason) {
        r.fail("reason", "reason must be at most 500 characters");
      } else {
        out.reason = std::string(trimmed);
      }
    }
  }
  if (!r.errors().empty()) return std::move(r.errors());
  return out;
}

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1000;
      break;
    case 'm':
      unit = 60 * 1000;
      break;
    case 'h':
      unit = 3600 * 1000;
      break;
    case 'd':
      unit = 86400 * 1000;
      break;
    default:
      return std::nullopt;
  }
  const std::string_view digits = text.substr(0, text.size() - 1);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n < 0) return std::nullopt;
  constexpr std::int64_t kMaxMs = 100LL * 366 * 86400 * 1000;
  if (n > kMaxMs / unit) return std::nullopt;
  return n * unit;
}

std::map<std::string, std::string> consent_states(
    const std::vector<std::pair<std::string, std::string>>& events) {
  std::map<std::string, std::string> out;
  for (const auto p : kConsentPurposes) out[std::string(p)] = "none";
  for (const auto& [purpose, action] : events) {
    if (is_consent_purpose(purpose) && (action == "granted" || action == "withdrawn")) {
      out[purpose] = action;
    }
  }
  return out;
}

}  // namespace leadgate
