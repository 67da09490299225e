#pragma once
// Validation and normalisation of a lead_flash request (api-wireframes 1B, issue 4). Pure: no
// I/O, and "today" is passed in. The stored-lead checks (exists, environment, status) and the
// financial consistency rules (LTV, FOIR, age at maturity) are not here: they need the stored
// lead merged with this input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "domain/lead_validation.h"
#include "domain/pincode_directory.h"
#include "domain/profession_catalogue.h"

namespace leadgate {

// A lead_flash request after validation: every value normalised.
struct FlashInput {
  std::string application_id;  // UUID, lower-cased
  int profession_id = 0;
  std::string profession_name;  // the catalogue's spelling (also when an alias was sent)
  // Core personal data: only the fields present in the request, validated and normalised with
  // create_lead's rules; the caller merges them onto the stored lead.
  std::optional<std::string> first_name, last_name, mobile, email, pan, loan_type, pincode,
      date_of_birth, gender;
  std::optional<std::int64_t> loan_amount_req;
  std::optional<int> loan_tenure, credit_score;
  bool property_identified = false;
  // property_type, agreement_type, usage_type: the documented lists' spellings.
  std::optional<std::string> property_name, property_type, agreement_type, location, usage_type;
  std::optional<std::int64_t> property_value;  // whole rupees
  std::optional<int> salary_credit_mode_id;
  std::optional<std::string> salary_credit_mode_name;  // the list's spelling for the id
  std::optional<int> self_company_type_id;
  std::optional<std::string> company_name;
  std::optional<std::int64_t> co_borrower_income;  // whole rupees, yearly (as annualIncome)
};

inline constexpr std::size_t kMaxPropertyTextChars = 200;  // propertyName, location
inline constexpr std::size_t kMaxCompanyNameChars = 100;
inline constexpr std::int64_t kMaxPropertyValue = 10'000'000'000;       // 1,000 crore
inline constexpr std::int64_t kMaxCoBorrowerIncome = kMaxAnnualIncome;  // 10 crore

// Parses a lead_flash body. Returns every invalid field at once, one FieldError per field (its
// first problem), in schema order: applicationId, professionId, professionName, firstName,
// lastName, mobile, email, pan, loanType, loanAmountReq, loanTenure, creditScore, pincode,
// dateOfBirth, gender, propertyIdentified, propertyName, propertyType, agreementType, location,
// usageType, propertyValue, salaryCreditModeId, salaryCreditModeName, selfCompanyTypeId,
// companyName, coBorrowerIncome. `today` is today's date in IST.
//
// Conventions as parse_lead's (absent = null; optional blank strings are absent; strings trimmed;
// "<field> is required"; "<field> must be a string/number/integer/boolean"; unknown fields
// ignored). Rules decided here, pinned by tests/unit/flash_validation_test.cpp:
//  - applicationId: 8-4-4-4-12 hex digits, either case ("applicationId must be a UUID"); no
//    version/variant check, no braces or "urn:uuid:". A blank string is "is required", as for
//    professionName.
//  - professionId must be in the catalogue ("Unknown professionId"; also 0, negative and values
//    beyond int). professionName must be the id's name or one of its aliases
//    (ProfessionCatalogue::name_matches). On a mismatch neither field can be blamed alone, so
//    BOTH get an entry: professionId "professionId <id> does not match professionName" and
//    professionName "professionName does not match professionId <id> (<catalogue name>)". When
//    professionId itself is invalid, professionName is only type-checked.
//  - Core personal fields (firstName … gender) are optional; a present one gets exactly
//    create_lead's rule and message (validate_name, normalize_mobile/email/pan/loan_type/gender,
//    the range validators, is_pincode_format + directory, parse_iso_date + validate_age).
//  - propertyIdentified: boolean, default false. propertyValue: integer 0..kMaxPropertyValue
//    ("propertyValue must be between 0-1000Cr"; the cap only guards later arithmetic), required
//    when propertyIdentified is true; accepted (and validated) when false too.
//  - propertyType / agreementType / usageType: from property_types() / agreement_types() /
//    usage_types(), compared case-insensitively with runs of whitespace as one space, normalised
//    to the list's spelling; otherwise "<field> must be one of <list>".
//  - propertyName, location: at most 200 characters; companyName at most 100.
//  - location: when the request also carries a valid pincode, check_location_state is applied
//    (error on location). When it does not, the caller must apply check_location_state with the
//    stored lead's pincode after merging.
//  - salaryCreditModeId: one of salary_credit_modes() ("salaryCreditModeId must be one of
//    1 (Bank Transfer), 2 (Cheque), 3 (Cash)"). salaryCreditModeName, when given with a valid id,
//    must be that id's name ("salaryCreditModeName does not match salaryCreditModeId 1 (Bank
//    Transfer)"; the error is on the name only, the id being the key). When given without an id,
//    it is looked up in the list and fills in both ("salaryCreditModeName must be one of Bank
//    Transfer, Cheque, Cash" otherwise). Output name is always the list's spelling.
//  - selfCompanyTypeId: one of self_company_types() (message lists them as for salary modes).
//  - coBorrowerIncome: integer 0..10 crore ("coBorrowerIncome must be between 0-10Cr").
std::variant<FlashInput, std::vector<FieldError>> parse_flash(
    const boost::json::object& body, const ProfessionCatalogue& professions,
    const PincodeDirectory& pins, CivilDate today);

// Documented lists (exact display spellings).
const std::vector<std::string>& property_types();   // Apartment, Independent House, Villa, Plot,
                                                    // Builder Floor, Commercial
const std::vector<std::string>& agreement_types();  // Sale Deed, Agreement to Sale, Allotment
                                                    // Letter, Gift Deed, Lease Deed
const std::vector<std::string>& usage_types();      // residential, commercial

struct IdName {
  int id = 0;
  std::string name;
};
const std::vector<IdName>& salary_credit_modes();  // 1 Bank Transfer, 2 Cheque, 3 Cash
const std::vector<IdName>& self_company_types();   // 1 Proprietorship, 2 Partnership, 3 LLP,
                                                   // 4 Private Limited, 5 Public Limited, 6 HUF

// Location vs the pincode's state. `location` "names a state" when the whole of it, or one of its
// parts separated by ',', ';' or a line break, is the name of one of the 36 States/UTs (compared
// as PincodeDirectory compares states: case, spaces and punctuation ignored, '&' = "and", and
// the same old names: Orissa, Pondicherry, Uttaranchal, NCT of Delhi, J&K …). When it names one
// or more states and none of them is the pincode's state, returns "Location does not match
// pincode state (expected <state>)". Otherwise (no state named, e.g. "Andheri East, Mumbai", or
// the pincode unknown to the directory) nullopt. Pincodes on a state border are mapped to one
// state (data/README.md), so a location naming the other state is rejected there.
std::optional<std::string> check_location_state(std::string_view location, std::string_view pincode,
                                                const PincodeDirectory& pins);

}  // namespace leadgate
