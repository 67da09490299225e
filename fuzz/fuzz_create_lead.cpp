// create_lead's body parser (domain/lead_validation.h parse_lead) on any JSON object. Beyond
// memory safety and UB: one error per field, and every accepted value passes its own rule again
// (normalised values are fixed points), since stored leads are re-validated when lead_flash
// merges onto them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "domain/environments.h"
#include "domain/lead_validation.h"
#include "domain/mobile.h"
#include "domain/pincode_directory.h"
#include "fuzz_support.h"

namespace leadgate {
namespace {

constexpr CivilDate kToday{2025, 12, 7};

void check_lead(const LeadInput& lead, const PincodeDirectory& pins) {
  fuzz::check(is_environment(lead.environment), "environment not one of the environments");
  fuzz::check(!validate_name(lead.first_name, "First name"), "firstName fails its own rule");
  fuzz::check(!validate_name(lead.last_name, "Last name"), "lastName fails its own rule");
  fuzz::check(normalize_mobile(lead.mobile) == lead.mobile, "mobile not a fixed point");
  fuzz::check(lead.mobile.size() == 10, "mobile not 10 digits");
  fuzz::check(normalize_email(lead.email) == lead.email, "email not a fixed point");
  fuzz::check(normalize_pan(lead.pan) == lead.pan, "pan not a fixed point");
  fuzz::check(normalize_loan_type(lead.loan_type) == lead.loan_type, "loanType not a fixed point");
  fuzz::check(!validate_loan_amount(lead.loan_amount_req), "loanAmountReq out of range");
  fuzz::check(!validate_loan_tenure(lead.loan_tenure), "loanTenure out of range");
  fuzz::check(!validate_credit_score(lead.credit_score), "creditScore out of range");
  fuzz::check(is_pincode_format(lead.pincode) && pins.state_of(lead.pincode).has_value(),
              "pincode unknown");
  const auto dob = parse_iso_date(lead.date_of_birth);
  fuzz::check(dob && !validate_age(*dob, kToday), "dateOfBirth fails its own rule");
  if (lead.gender) {
    fuzz::check(normalize_gender(*lead.gender) == *lead.gender, "gender not a fixed point");
  }
  if (lead.annual_income) {
    fuzz::check(!validate_annual_income(*lead.annual_income), "annualIncome out of range");
  }
  if (lead.state) {
    fuzz::check(pins.state_matches(lead.pincode, *lead.state), "state does not match pincode");
  }
}

}  // namespace
}  // namespace leadgate

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadgate;
  static const PincodeDirectory pins = PincodeDirectory::load(fuzz::data_file("pincodes.csv"));
  const auto body = fuzz::json_object(data, size);
  if (!body) return -1;  // not a JSON object: the handler answers 400 before parse_lead
  const auto parsed = parse_lead(*body, pins, kToday);
  if (const auto* errors = std::get_if<std::vector<FieldError>>(&parsed)) {
    fuzz::check_field_errors(*errors);
  } else {
    check_lead(std::get<LeadInput>(parsed), pins);
  }
  return 0;
}
