// lead_flash's body parser (domain/flash_validation.h parse_flash) on any JSON object. Beyond
// memory safety and UB: one error per field, and every accepted value passes its own rule again
// (normalised values are fixed points: the service merges them onto the stored lead).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "domain/flash_validation.h"
#include "domain/mobile.h"
#include "domain/pincode_directory.h"
#include "domain/profession_catalogue.h"
#include "fuzz_support.h"

namespace leadgate {
namespace {

constexpr CivilDate kToday{2025, 12, 7};

template <class T>
bool fixed_point(const std::optional<std::string>& value, T normalize) {
  return !value || normalize(*value) == *value;
}

void check_personal(const FlashInput& in, const PincodeDirectory& pins) {
  if (in.first_name) fuzz::check(!validate_name(*in.first_name, "First name"), "firstName rule");
  if (in.last_name) fuzz::check(!validate_name(*in.last_name, "Last name"), "lastName rule");
  fuzz::check(fixed_point(in.mobile, normalize_mobile), "mobile not a fixed point");
  fuzz::check(fixed_point(in.email, normalize_email), "email not a fixed point");
  fuzz::check(fixed_point(in.pan, normalize_pan), "pan not a fixed point");
  fuzz::check(fixed_point(in.loan_type, normalize_loan_type), "loanType not a fixed point");
  fuzz::check(fixed_point(in.gender, normalize_gender), "gender not a fixed point");
  if (in.loan_amount_req) fuzz::check(!validate_loan_amount(*in.loan_amount_req), "loanAmountReq");
  if (in.loan_tenure) fuzz::check(!validate_loan_tenure(*in.loan_tenure), "loanTenure range");
  if (in.credit_score) fuzz::check(!validate_credit_score(*in.credit_score), "creditScore range");
  if (in.pincode) fuzz::check(pins.state_of(*in.pincode).has_value(), "pincode unknown");
  if (in.date_of_birth) {
    const auto dob = parse_iso_date(*in.date_of_birth);
    fuzz::check(dob && !validate_age(*dob, kToday), "dateOfBirth fails its own rule");
  }
  if (in.location && in.pincode) {
    fuzz::check(!check_location_state(*in.location, *in.pincode, pins), "location vs pincode");
  }
}

void check_flash(const FlashInput& in, const ProfessionCatalogue& professions,
                 const PincodeDirectory& pins) {
  fuzz::check(normalize_uuid(in.application_id) == in.application_id, "applicationId");
  const Profession* profession = professions.find(in.profession_id);
  fuzz::check(profession != nullptr && profession->name == in.profession_name,
              "profession not the catalogue's");
  check_personal(in, pins);
  if (in.property_identified) fuzz::check(in.property_value.has_value(), "no propertyValue");
  if (in.property_value) {
    fuzz::check(*in.property_value >= 0 && *in.property_value <= kMaxPropertyValue,
                "propertyValue range");
  }
  if (in.co_borrower_income) {
    fuzz::check(*in.co_borrower_income >= 0 && *in.co_borrower_income <= kMaxCoBorrowerIncome,
                "coBorrowerIncome range");
  }
  fuzz::check(in.salary_credit_mode_id.has_value() == in.salary_credit_mode_name.has_value(),
              "salary credit mode id without name");
}

}  // namespace
}  // namespace leadgate

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadgate;
  static const PincodeDirectory pins = PincodeDirectory::load(fuzz::data_file("pincodes.csv"));
  static const ProfessionCatalogue professions =
      ProfessionCatalogue::load(fuzz::data_file("professions.csv"));
  const auto body = fuzz::json_object(data, size);
  if (!body) return -1;  // not a JSON object: the handler answers 400 before parse_flash
  const auto parsed = parse_flash(*body, professions, pins, kToday);
  if (const auto* errors = std::get_if<std::vector<FieldError>>(&parsed)) {
    fuzz::check_field_errors(*errors);
  } else {
    check_flash(std::get<FlashInput>(parsed), professions, pins);
  }
  return 0;
}
