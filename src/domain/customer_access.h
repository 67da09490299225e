#pragma once
// Customer-level authorisation (issue 20 §2). An API key is of one of two kinds:
//   - server: a brand's back end, trusted for every customer of its environments (the contract
//     from before key kinds existed; every existing key is one);
//   - app: a key shipped inside a mobile app, which anyone can extract. A call about one
//     customer (create_lead, lead_flash, lead_status, track_application, book_appointment,
//     cancel_appointment, the appointment's .ics) must then carry a customer token: the proof,
//     from a verified OTP, that the caller holds that customer's phone.
// This file decides, purely, whether a call may go on; services/customer_tokens.h issues and
// resolves the tokens.
#include <string>
#include <string_view>

namespace leadgate {

inline constexpr std::string_view kServerKeyKind = "server";
inline constexpr std::string_view kAppKeyKind = "app";
bool is_key_kind(std::string_view kind);

// What a request proves about the customer it concerns.
struct CustomerAccess {
  bool required = false;    // an app key: every call about a customer needs a valid token
  std::string environment;  // the valid token's environment ("" when none)
  std::string mobile_bidx;  // the valid token's phone (mobile blind index; "" when none)
};

enum class CustomerVerdict {
  allowed,         // a server key, or a token for this environment and this phone
  token_required,  // an app key without a valid token (401 CUSTOMER_TOKEN_REQUIRED)
  mismatch         // a token for another phone or another environment (403 CUSTOMER_MISMATCH)
};

// May a call about the customer with `mobile_bidx` in `environment` go on?
CustomerVerdict check_customer(const CustomerAccess& access, std::string_view environment,
                               std::string_view mobile_bidx);

}  // namespace leadgate
