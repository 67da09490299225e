#include "domain/privacy_requests.h"

#include <algorithm>

#include "domain/mobile.h"

namespace leadgate {

bool is_consent_purpose(std::string_view purpose) {
  return std::find(kConsentPurposes.begin(), kConsentPurposes.end(), purpose) !=
         kConsentPurposes.end();
}

std::variant<PrivacyRequest, std::vector<FieldError>> parse_privacy_request(
    const boost::json::object& body, bool with_purpose) {
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
  if (!r.errors().empty()) return std::move(r.errors());
  return out;
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
