#include "domain/customer_access.h"

namespace leadgate {

bool is_key_kind(std::string_view kind) {
  return kind == kServerKeyKind || kind == kAppKeyKind;
}

CustomerVerdict check_customer(const CustomerAccess& access, std::string_view environment,
                               std::string_view mobile_bidx) {
  if (!access.required) return CustomerVerdict::allowed;
  if (access.environment.empty() || access.mobile_bidx.empty()) {
    return CustomerVerdict::token_required;
  }
  if (access.environment != environment || mobile_bidx.empty() ||
      access.mobile_bidx != mobile_bidx) {
    return CustomerVerdict::mismatch;
  }
  return CustomerVerdict::allowed;
}

}  // namespace leadgate
