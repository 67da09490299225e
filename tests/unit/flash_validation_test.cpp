#include "domain/flash_validation.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace leadgate {
namespace {

namespace json = boost::json;

// Errors as "field: message" strings, so that failures print readably (and without a second
// PrintTo(FieldError) next to lead_validation_test.cpp's in the same test binary).
using Errors = std::vector<std::string>;

const CivilDate kToday{2025, 6, 15};
constexpr const char* kUuid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

const PincodeDirectory& pins() {
  static const PincodeDirectory dir = PincodeDirectory::from_rows({{"400001", "Maharashtra"},
                                                                   {"110001", "Delhi"},
                                                                   {"560001", "Karnataka"},
                                                                   {"751001", "Odisha"},
                                                                   {"190001", "Jammu and Kashmir"},
                                                                   {"605001", "Puducherry"},
                                                                   {"403001", "Goa"},
                                                                   {"600001", "Tamil Nadu"}});
  return dir;
}

const ProfessionCatalogue& professions() {
  static const ProfessionCatalogue catalogue = ProfessionCatalogue::from_rows({
      {1, "Software Engineer", EmploymentType::salaried, {"Software Developer", "SDE"}},
      {2, "Doctor", EmploymentType::self_employed_professional, {"Physician"}},
      {3, "Trader", EmploymentType::self_employed_business, {}},
  });
  return catalogue;
}

json::object valid_body() {
  return json::object{
      {"applicationId", kUuid}, {"professionId", 1}, {"professionName", "Software Engineer"}};
}

Errors as_strings(const std::vector<FieldError>& errors) {
  Errors out;
  for (const auto& e : errors) out.push_back(e.field + ": " + e.message);
  return out;
}

FlashInput parse_ok(const json::object& body, CivilDate today = kToday) {
  auto result = parse_flash(body, professions(), pins(), today);
  if (auto* errors = std::get_if<std::vector<FieldError>>(&result)) {
    ADD_FAILURE() << "unexpected errors, first: " << errors->front().field << ": "
                  << errors->front().message;
    return {};
  }
  return std::get<FlashInput>(result);
}

Errors parse_errors(const json::object& body, CivilDate today = kToday) {
  auto result = parse_flash(body, professions(), pins(), today);
  if (std::holds_alternative<FlashInput>(result)) {
    ADD_FAILURE() << "expected validation errors";
    return {};
  }
  return as_strings(std::get<std::vector<FieldError>>(result));
}

// Errors for valid_body() plus `fields`; empty when it parses.
Errors errors_with(const json::object& fields, CivilDate today = kToday) {
  json::object body = valid_body();
  for (const auto& [key, value] : fields) body[key] = value;
  auto result = parse_flash(body, professions(), pins(), today);
  if (auto* errors = std::get_if<std::vector<FieldError>>(&result)) return as_strings(*errors);
  return {};
}

FlashInput ok_with(const json::object& fields, CivilDate today = kToday) {
  json::object body = valid_body();
  for (const auto& [key, value] : fields) body[key] = value;
  return parse_ok(body, today);
}

json::value text(const std::string& s) {
  return json::value(json::string_view(s));
}

// ---- Documented lists ------------------------------------------------------------------------

TEST(FlashLists, ExactDisplaySpellings) {
  EXPECT_EQ(property_types(), (std::vector<std::string>{"Apartment", "Independent House", "Villa",
                                                        "Plot", "Builder Floor", "Commercial"}));
  EXPECT_EQ(agreement_types(),
            (std::vector<std::string>{"Sale Deed", "Agreement to Sale", "Allotment Letter",
                                      "Gift Deed", "Lease Deed"}));
  EXPECT_EQ(usage_types(), (std::vector<std::string>{"residential", "commercial"}));
  ASSERT_EQ(salary_credit_modes().size(), 3U);
  EXPECT_EQ(salary_credit_modes()[0].id, 1);
  EXPECT_EQ(salary_credit_modes()[0].name, "Bank Transfer");
  EXPECT_EQ(salary_credit_modes()[1].name, "Cheque");
  EXPECT_EQ(salary_credit_modes()[2].name, "Cash");
  ASSERT_EQ(self_company_types().size(), 6U);
  std::vector<std::string> names;
  for (const auto& t : self_company_types()) names.push_back(std::to_string(t.id) + " " + t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"1 Proprietorship", "2 Partnership", "3 LLP",
                                             "4 Private Limited", "5 Public Limited", "6 HUF"}));
}

// ---- Minimal and full bodies -----------------------------------------------------------------

TEST(ParseFlash, MinimalBodyLeavesEverythingElseAbsent) {
  const FlashInput in = parse_ok(valid_body());
  EXPECT_EQ(in.application_id, kUuid);
  EXPECT_EQ(in.profession_id, 1);
  EXPECT_EQ(in.profession_name, "Software Engineer");
  EXPECT_EQ(in.first_name, std::nullopt);
  EXPECT_EQ(in.last_name, std::nullopt);
  EXPECT_EQ(in.mobile, std::nullopt);
  EXPECT_EQ(in.email, std::nullopt);
  EXPECT_EQ(in.pan, std::nullopt);
  EXPECT_EQ(in.loan_type, std::nullopt);
  EXPECT_EQ(in.loan_amount_req, std::nullopt);
  EXPECT_EQ(in.loan_tenure, std::nullopt);
  EXPECT_EQ(in.credit_score, std::nullopt);
  EXPECT_EQ(in.pincode, std::nullopt);
  EXPECT_EQ(in.date_of_birth, std::nullopt);
  EXPECT_EQ(in.gender, std::nullopt);
  EXPECT_FALSE(in.property_identified);
  EXPECT_EQ(in.property_name, std::nullopt);
  EXPECT_EQ(in.property_type, std::nullopt);
  EXPECT_EQ(in.agreement_type, std::nullopt);
  EXPECT_EQ(in.location, std::nullopt);
  EXPECT_EQ(in.usage_type, std::nullopt);
  EXPECT_EQ(in.property_value, std::nullopt);
  EXPECT_EQ(in.salary_credit_mode_id, std::nullopt);
  EXPECT_EQ(in.salary_credit_mode_name, std::nullopt);
  EXPECT_EQ(in.self_company_type_id, std::nullopt);
  EXPECT_EQ(in.company_name, std::nullopt);
  EXPECT_EQ(in.co_borrower_income, std::nullopt);
}

TEST(ParseFlash, FullBodyIsNormalised) {
  const json::value body = json::parse(R"({
    "applicationId": " 3F2504E0-4F89-11D3-9A0C-0305E82C3301 ",
    "professionId": 2.0,
    "professionName": "  physician ",
    "firstName": " Anita ",
    "lastName": "D'Souza",
    "mobile": "+91 98765 43210",
    "email": "Anita@Example.COM",
    "pan": "abcpe1234f",
    "loanType": "hl",
    "loanAmountReq": 2500000,
    "loanTenure": 240,
    "creditScore": 780,
    "pincode": "400001",
    "dateOfBirth": "1990-05-20",
    "gender": "female",
    "propertyIdentified": true,
    "propertyName": " Dream Home ",
    "propertyType": "apartment",
    "agreementType": "SALE DEED",
    "location": "Andheri East, Mumbai, maharashtra",
    "usageType": "Residential",
    "propertyValue": 4000000,
    "salaryCreditModeId": 1,
    "salaryCreditModeName": "bank transfer",
    "selfCompanyTypeId": 4,
    "companyName": " Acme Pvt Ltd ",
    "coBorrowerIncome": 600000,
    "someFutureField": [1, 2, 3]
  })");
  const FlashInput in = parse_ok(body.as_object());
  EXPECT_EQ(in.application_id, kUuid);
  EXPECT_EQ(in.profession_id, 2);
  EXPECT_EQ(in.profession_name, "Doctor");  // the catalogue's name, not the alias sent
  EXPECT_EQ(in.first_name, "Anita");
  EXPECT_EQ(in.last_name, "D'Souza");
  EXPECT_EQ(in.mobile, "9876543210");
  EXPECT_EQ(in.email, "Anita@example.com");
  EXPECT_EQ(in.pan, "ABCPE1234F");
  EXPECT_EQ(in.loan_type, "HL");
  EXPECT_EQ(in.loan_amount_req, 2'500'000);
  EXPECT_EQ(in.loan_tenure, 240);
  EXPECT_EQ(in.credit_score, 780);
  EXPECT_EQ(in.pincode, "400001");
  EXPECT_EQ(in.date_of_birth, "1990-05-20");
  EXPECT_EQ(in.gender, "Female");
  EXPECT_TRUE(in.property_identified);
  EXPECT_EQ(in.property_name, "Dream Home");
  EXPECT_EQ(in.property_type, "Apartment");
  EXPECT_EQ(in.agreement_type, "Sale Deed");
  EXPECT_EQ(in.location, "Andheri East, Mumbai, maharashtra");  // kept as typed
  EXPECT_EQ(in.usage_type, "residential");
  EXPECT_EQ(in.property_value, 4'000'000);
  EXPECT_EQ(in.salary_credit_mode_id, 1);
  EXPECT_EQ(in.salary_credit_mode_name, "Bank Transfer");
  EXPECT_EQ(in.self_company_type_id, 4);
  EXPECT_EQ(in.company_name, "Acme Pvt Ltd");
  EXPECT_EQ(in.co_borrower_income, 600'000);
}

TEST(ParseFlash, EmptyBodyListsTheThreeRequiredFields) {
  EXPECT_EQ(parse_errors(json::object{}), (Errors{"applicationId: applicationId is required",
                                                  "professionId: professionId is required",
                                                  "professionName: professionName is required"}));
}

TEST(ParseFlash, NullIsAbsent) {
  EXPECT_EQ(
      parse_errors(json::object{
          {"applicationId", nullptr}, {"professionId", nullptr}, {"professionName", nullptr}}),
      (Errors{"applicationId: applicationId is required", "professionId: professionId is required",
              "professionName: professionName is required"}));

  json::object nulls;
  for (const char* field : {"firstName",
                            "lastName",
                            "mobile",
                            "email",
                            "pan",
                            "loanType",
                            "loanAmountReq",
                            "loanTenure",
                            "creditScore",
                            "pincode",
                            "dateOfBirth",
                            "gender",
                            "propertyIdentified",
                            "propertyName",
                            "propertyType",
                            "agreementType",
                            "location",
                            "usageType",
                            "propertyValue",
                            "salaryCreditModeId",
                            "salaryCreditModeName",
                            "selfCompanyTypeId",
                            "companyName",
                            "coBorrowerIncome"}) {
    nulls[field] = nullptr;
  }
  const FlashInput in = ok_with(nulls);
  EXPECT_EQ(in.first_name, std::nullopt);
  EXPECT_EQ(in.loan_amount_req, std::nullopt);
  EXPECT_EQ(in.pincode, std::nullopt);
  EXPECT_FALSE(in.property_identified);  // null propertyIdentified is the default
  EXPECT_EQ(in.property_value, std::nullopt);
  EXPECT_EQ(in.salary_credit_mode_id, std::nullopt);
  EXPECT_EQ(in.co_borrower_income, std::nullopt);
}

TEST(ParseFlash, BlankOptionalStringsAreAbsent) {
  const FlashInput in = ok_with({{"firstName", "  "},
                                 {"mobile", ""},
                                 {"pincode", " "},
                                 {"propertyType", ""},
                                 {"location", "\t"},
                                 {"salaryCreditModeName", " "},
                                 {"companyName", ""}});
  EXPECT_EQ(in.first_name, std::nullopt);
  EXPECT_EQ(in.mobile, std::nullopt);
  EXPECT_EQ(in.pincode, std::nullopt);
  EXPECT_EQ(in.property_type, std::nullopt);
  EXPECT_EQ(in.location, std::nullopt);
  EXPECT_EQ(in.salary_credit_mode_name, std::nullopt);
  EXPECT_EQ(in.company_name, std::nullopt);
}

TEST(ParseFlash, ManyBadFieldsGiveOneErrorEachInSchemaOrder) {
  const json::value body = json::parse(R"({
    "coBorrowerIncome": -1,
    "companyName": 5,
    "selfCompanyTypeId": 7,
    "salaryCreditModeName": "Cash",
    "salaryCreditModeId": 1,
    "propertyValue": -1,
    "usageType": "industrial",
    "location": "Bengaluru, Karnataka",
    "agreementType": "Power of Attorney",
    "propertyType": "Flat",
    "propertyName": ["x"],
    "propertyIdentified": true,
    "gender": "M",
    "dateOfBirth": "2008-01-01",
    "pincode": "400001",
    "creditScore": 901,
    "loanTenure": 11,
    "loanAmountReq": 99999,
    "loanType": "GOLD",
    "pan": "ABCDE1234F",
    "email": "nope",
    "mobile": "12345",
    "lastName": "K2",
    "firstName": "R",
    "professionName": "Doctor",
    "professionId": 1,
    "applicationId": "not-a-uuid"
  })");
  EXPECT_EQ(
      parse_errors(body.as_object()),
      (Errors{
          "applicationId: applicationId must be a UUID",
          "professionId: professionId 1 does not match professionName",
          "professionName: professionName does not match professionId 1 (Software Engineer)",
          "firstName: First name must be 2-50 characters",
          "lastName: Last name may contain only letters, spaces, '.', ''' and '-'",
          "mobile: Invalid mobile number format",
          "email: Invalid email address format",
          "pan: Invalid PAN number format",
          "loanType: Loan type must be one of HL, LAP, PL, BL, CL, EL",
          "loanAmountReq: Loan amount must be between 1L-5Cr",
          "loanTenure: Loan tenure must be between 12-360 months",
          "creditScore: Credit score must be between 300-900",
          "dateOfBirth: Age must be between 18-65 years",
          "gender: Gender must be Male, Female or Other",
          "propertyName: propertyName must be a string",
          "propertyType: propertyType must be one of Apartment, Independent House, Villa, Plot, "
          "Builder Floor, Commercial",
          "agreementType: agreementType must be one of Sale Deed, Agreement to Sale, Allotment "
          "Letter, Gift Deed, Lease Deed",
          "location: Location does not match pincode state (expected Maharashtra)",
          "usageType: usageType must be one of residential, commercial",
          "propertyValue: propertyValue must be between 0-1000Cr",
          "salaryCreditModeName: salaryCreditModeName does not match salaryCreditModeId 1 (Bank "
          "Transfer)",
          "selfCompanyTypeId: selfCompanyTypeId must be one of 1 (Proprietorship), 2 "
          "(Partnership), 3 (LLP), 4 (Private Limited), 5 (Public Limited), 6 (HUF)",
          "companyName: companyName must be a string",
          "coBorrowerIncome: coBorrowerIncome must be between 0-10Cr",
      }));
}

// ---- applicationId ---------------------------------------------------------------------------

TEST(ParseFlashApplicationId, AcceptsAnyCaseAndLowerCases) {
  for (const char* id :
       {"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
        "3f2504E0-4F89-11d3-9A0c-0305e82C3301", "  3f2504e0-4f89-11d3-9a0c-0305e82c3301\n"}) {
    EXPECT_EQ(ok_with({{"applicationId", id}}).application_id, kUuid) << id;
  }
  // Any version and variant: only the shape is checked.
  EXPECT_EQ(ok_with({{"applicationId", "00000000-0000-0000-0000-000000000000"}}).application_id,
            "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(ok_with({{"applicationId", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"}}).application_id,
            "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST(ParseFlashApplicationId, RejectsOtherShapes) {
  for (const char* id : {
           "3f2504e0-4f89-11d3-9a0c-0305e82c330",    // 35 characters
           "3f2504e0-4f89-11d3-9a0c-0305e82c33011",  // 37
           "3f2504e04f8911d39a0c0305e82c3301",       // no dashes
           "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
           "urn:uuid:3f2504e0-4f89-11d3-9a0c-0305e82c3301",
           "3f2504e0-4f89-11d3-9a0c-0305e82c330g",  // not hex
           "3f2504e04-f89-11d3-9a0c-0305e82c3301",  // dash misplaced
           "3f2504e0_4f89_11d3_9a0c_0305e82c3301",
           "3f2504e0-4f89-11d3-9a0c 0305e82c3301",
           "B002BJF",
       }) {
    EXPECT_EQ(errors_with({{"applicationId", id}}),
              (Errors{"applicationId: applicationId must be a UUID"}))
        << id;
  }
}

TEST(ParseFlashApplicationId, BlankIsRequiredAndWrongTypeIsAStringError) {
  EXPECT_EQ(errors_with({{"applicationId", "  "}}),
            (Errors{"applicationId: applicationId is required"}));
  EXPECT_EQ(errors_with({{"applicationId", 12345}}),
            (Errors{"applicationId: applicationId must be a string"}));
}

// ---- Profession ------------------------------------------------------------------------------

TEST(ParseFlashProfession, NameOrAliasCaseInsensitively) {
  for (const char* name : {"Software Engineer", "software engineer", "SOFTWARE ENGINEER",
                           "  Software   Engineer ", "sde", "Software Developer"}) {
    const FlashInput in = ok_with({{"professionName", name}});
    EXPECT_EQ(in.profession_id, 1) << name;
    EXPECT_EQ(in.profession_name, "Software Engineer") << name;
  }
  EXPECT_EQ(ok_with({{"professionId", 3}, {"professionName", "TRADER"}}).profession_name, "Trader");
}

TEST(ParseFlashProfession, MismatchNamesBothFields) {
  EXPECT_EQ(
      errors_with({{"professionName", "Doctor"}}),
      (Errors{"professionId: professionId 1 does not match professionName",
              "professionName: professionName does not match professionId 1 (Software Engineer)"}));
  // Another profession's alias is a mismatch too.
  EXPECT_EQ(errors_with({{"professionId", 2}, {"professionName", "SDE"}}),
            (Errors{"professionId: professionId 2 does not match professionName",
                    "professionName: professionName does not match professionId 2 (Doctor)"}));
  // A near miss is not a match.
  EXPECT_EQ(errors_with({{"professionName", "Software Engineers"}}).size(), 2U);
}

TEST(ParseFlashProfession, UnknownIdIsOneErrorAndTheNameIsNotCrossChecked) {
  for (const json::value& id :
       {json::value(99), json::value(0), json::value(-1), json::value(4), json::value(2147483648LL),
        json::value(-2147483649LL), json::value(1e30), json::value(18446744073709551615ULL)}) {
    EXPECT_EQ(errors_with({{"professionId", id}, {"professionName", "Anything"}}),
              (Errors{"professionId: Unknown professionId"}))
        << json::serialize(id);
  }
}

TEST(ParseFlashProfession, IdTypes) {
  EXPECT_EQ(ok_with({{"professionId", 1.0}}).profession_id, 1);  // a whole double
  EXPECT_EQ(errors_with({{"professionId", 1.5}}),
            (Errors{"professionId: professionId must be an integer"}));
  EXPECT_EQ(errors_with({{"professionId", "1"}}),
            (Errors{"professionId: professionId must be a number"}));
  EXPECT_EQ(errors_with({{"professionId", true}}),
            (Errors{"professionId: professionId must be a number"}));
}

TEST(ParseFlashProfession, NameTypesAndBlank) {
  EXPECT_EQ(errors_with({{"professionName", 1}}),
            (Errors{"professionName: professionName must be a string"}));
  EXPECT_EQ(errors_with({{"professionName", " "}}),
            (Errors{"professionName: professionName is required"}));
  // With a bad id, the name's own problems are still reported, after the id's.
  EXPECT_EQ(errors_with({{"professionId", 99}, {"professionName", json::array{}}}),
            (Errors{"professionId: Unknown professionId",
                    "professionName: professionName must be a string"}));
}

// ---- Core personal data: create_lead's rules ---------------------------------------------------

// A valid create_lead body, to check that a value gets the same verdict and message from both.
json::object lead_body() {
  return json::object{
      {"environment", "orbit"}, {"firstName", "Ravi"},         {"lastName", "Kumar"},
      {"mobile", "9876543210"}, {"email", "ravi@example.com"}, {"pan", "ABCPE1234F"},
      {"loanType", "HL"},       {"loanAmountReq", 2'500'000},  {"loanTenure", 240},
      {"creditScore", 750},     {"pincode", "400001"},         {"dateOfBirth", "1990-05-20"},
  };
}

Errors lead_errors_with(std::string_view field, const json::value& value) {
  json::object body = lead_body();
  body[field] = value;
  auto result = parse_lead(body, pins(), kToday);
  if (auto* errors = std::get_if<std::vector<FieldError>>(&result)) return as_strings(*errors);
  return {};
}

TEST(ParseFlashCore, SameVerdictAndMessageAsCreateLead) {
  const std::vector<std::pair<const char*, json::value>> cases = {
      {"firstName", "R"},
      {"firstName", "Al"},
      {"firstName", text(std::string(50, 'a'))},
      {"firstName", text(std::string(51, 'a'))},
      {"firstName", "Ravi1"},
      {"lastName", "O'Brien"},
      {"lastName", "-Rao"},
      {"mobile", "+91 98765 43210"},
      {"mobile", "09876543210"},
      {"mobile", "5876543210"},
      {"mobile", "987654321"},
      {"mobile", 9876543210LL},
      {"email", "a@b.co"},
      {"email", "a@b"},
      {"pan", "abcpe1234f"},
      {"pan", "ABCDE1234F"},  // 4th letter not a holder type
      {"pan", "ABCP1234F"},
      {"loanType", "lap"},
      {"loanType", "GOLD"},
      {"loanAmountReq", 99'999},
      {"loanAmountReq", 100'000},
      {"loanAmountReq", 50'000'000},
      {"loanAmountReq", 50'000'001},
      {"loanAmountReq", 1e5},
      {"loanAmountReq", 100000.5},
      {"loanAmountReq", "100000"},
      {"loanTenure", 11},
      {"loanTenure", 12},
      {"loanTenure", 360},
      {"loanTenure", 361},
      {"creditScore", 299},
      {"creditScore", 300},
      {"creditScore", 900},
      {"creditScore", 901},
      {"pincode", "400001"},
      {"pincode", "999999"},  // well-formed, not in the directory
      {"pincode", "040001"},
      {"pincode", 400001},
      {"dateOfBirth", "2007-06-15"},  // 18 today
      {"dateOfBirth", "2007-06-16"},  // 18 tomorrow
      {"dateOfBirth", "1959-06-16"},  // 66 tomorrow: still 65
      {"dateOfBirth", "1959-06-15"},  // 66 today
      {"dateOfBirth", "1990-02-30"},
      {"dateOfBirth", "20-05-1990"},
      {"gender", "male"},
      {"gender", "OTHER"},
      {"gender", "M"},
  };
  for (const auto& [field, value] : cases) {
    EXPECT_EQ(errors_with({{field, value}}), lead_errors_with(field, value))
        << field << " = " << json::serialize(value);
  }
}

TEST(ParseFlashCore, MobileIsNormalised) {
  EXPECT_EQ(ok_with({{"mobile", "+91 98765 43210"}}).mobile, "9876543210");
  EXPECT_EQ(ok_with({{"mobile", "098765-43210"}}).mobile, "9876543210");
  EXPECT_EQ(errors_with({{"mobile", "+1 98765 43210"}}),
            (Errors{"mobile: Invalid mobile number format"}));
}

TEST(ParseFlashCore, PanAndLoanTypeAndGenderAreNormalised) {
  const FlashInput in =
      ok_with({{"pan", " abcpe1234f "}, {"loanType", "lap"}, {"gender", "oTHer"}});
  EXPECT_EQ(in.pan, "ABCPE1234F");
  EXPECT_EQ(in.loan_type, "LAP");
  EXPECT_EQ(in.gender, "Other");
  EXPECT_EQ(errors_with({{"pan", "ABCPE12345"}}), (Errors{"pan: Invalid PAN number format"}));
}

TEST(ParseFlashCore, AgeBoundaryUsesToday) {
  EXPECT_EQ(ok_with({{"dateOfBirth", "2007-06-15"}}).date_of_birth, "2007-06-15");
  EXPECT_EQ(errors_with({{"dateOfBirth", "2007-06-16"}}),
            (Errors{"dateOfBirth: Age must be between 18-65 years"}));
  EXPECT_EQ(ok_with({{"dateOfBirth", "1959-06-16"}}).date_of_birth, "1959-06-16");
  EXPECT_EQ(errors_with({{"dateOfBirth", "1959-06-15"}}),
            (Errors{"dateOfBirth: Age must be between 18-65 years"}));
  // The same birthday one day later is fine: `today` is the caller's.
  EXPECT_EQ(ok_with({{"dateOfBirth", "2007-06-16"}}, CivilDate{2025, 6, 16}).date_of_birth,
            "2007-06-16");
}

TEST(ParseFlashCore, RangesAtTheirBoundaries) {
  EXPECT_EQ(ok_with({{"loanAmountReq", 100'000}}).loan_amount_req, 100'000);
  EXPECT_EQ(ok_with({{"loanAmountReq", 50'000'000}}).loan_amount_req, 50'000'000);
  EXPECT_EQ(ok_with({{"loanTenure", 12}}).loan_tenure, 12);
  EXPECT_EQ(ok_with({{"loanTenure", 360}}).loan_tenure, 360);
  EXPECT_EQ(ok_with({{"creditScore", 300}}).credit_score, 300);
  EXPECT_EQ(ok_with({{"creditScore", 900}}).credit_score, 900);
  EXPECT_EQ(errors_with({{"loanTenure", 1e30}}),
            (Errors{"loanTenure: Loan tenure must be between 12-360 months"}));
}

TEST(ParseFlashCore, PincodeMustExist) {
  EXPECT_EQ(ok_with({{"pincode", " 110001 "}}).pincode, "110001");
  EXPECT_EQ(errors_with({{"pincode", "999999"}}), (Errors{"pincode: Pincode not found"}));
  EXPECT_EQ(errors_with({{"pincode", "12345"}}), (Errors{"pincode: Invalid pincode format"}));
  EXPECT_EQ(errors_with({{"pincode", 110001}}), (Errors{"pincode: pincode must be a string"}));
}

// ---- Property ---------------------------------------------------------------------------------

TEST(ParseFlashProperty, PropertyIdentifiedIsABooleanDefaultingToFalse) {
  EXPECT_FALSE(parse_ok(valid_body()).property_identified);
  EXPECT_TRUE(ok_with({{"propertyIdentified", true}, {"propertyValue", 1}}).property_identified);
  EXPECT_FALSE(ok_with({{"propertyIdentified", false}}).property_identified);
  EXPECT_EQ(errors_with({{"propertyIdentified", "yes"}}),
            (Errors{"propertyIdentified: propertyIdentified must be a boolean"}));
  EXPECT_EQ(errors_with({{"propertyIdentified", 1}}),
            (Errors{"propertyIdentified: propertyIdentified must be a boolean"}));
}

TEST(ParseFlashProperty, ValueRequiredOnlyWhenIdentified) {
  const Errors required{"propertyValue: propertyValue is required when propertyIdentified is true"};
  EXPECT_EQ(errors_with({{"propertyIdentified", true}}), required);
  EXPECT_EQ(errors_with({{"propertyIdentified", true}, {"propertyValue", nullptr}}), required);
  EXPECT_EQ(ok_with({{"propertyIdentified", false}}).property_value, std::nullopt);
  EXPECT_EQ(ok_with({}).property_value, std::nullopt);
  // Given without identification: accepted and validated.
  EXPECT_EQ(ok_with({{"propertyValue", 5'000'000}}).property_value, 5'000'000);
  EXPECT_EQ(errors_with({{"propertyValue", -1}}),
            (Errors{"propertyValue: propertyValue must be between 0-1000Cr"}));
  // A propertyIdentified of the wrong type is not taken as true.
  EXPECT_EQ(errors_with({{"propertyIdentified", "true"}}),
            (Errors{"propertyIdentified: propertyIdentified must be a boolean"}));
  // A value of the wrong type is one error, not also "required".
  EXPECT_EQ(errors_with({{"propertyIdentified", true}, {"propertyValue", "4000000"}}),
            (Errors{"propertyValue: propertyValue must be a number"}));
}

TEST(ParseFlashProperty, ValueBoundaries) {
  const Errors range{"propertyValue: propertyValue must be between 0-1000Cr"};
  EXPECT_EQ(ok_with({{"propertyIdentified", true}, {"propertyValue", 0}}).property_value, 0);
  EXPECT_EQ(errors_with({{"propertyIdentified", true}, {"propertyValue", -1}}), range);
  EXPECT_EQ(ok_with({{"propertyValue", kMaxPropertyValue}}).property_value, kMaxPropertyValue);
  EXPECT_EQ(errors_with({{"propertyValue", kMaxPropertyValue + 1}}), range);
  EXPECT_EQ(errors_with({{"propertyValue", 1e300}}), range);
  EXPECT_EQ(ok_with({{"propertyValue", 4e6}}).property_value, 4'000'000);
  EXPECT_EQ(errors_with({{"propertyValue", 4000000.5}}),
            (Errors{"propertyValue: propertyValue must be an integer"}));
}

TEST(ParseFlashProperty, ListsMatchCaseInsensitivelyAndNormalise) {
  EXPECT_EQ(ok_with({{"propertyType", "apartment"}}).property_type, "Apartment");
  EXPECT_EQ(ok_with({{"propertyType", " INDEPENDENT   house "}}).property_type,
            "Independent House");
  EXPECT_EQ(ok_with({{"propertyType", "builder floor"}}).property_type, "Builder Floor");
  for (const auto& t : property_types()) {
    EXPECT_EQ(ok_with({{"propertyType", text(t)}}).property_type, t);
  }
  EXPECT_EQ(ok_with({{"agreementType", "agreement TO sale"}}).agreement_type, "Agreement to Sale");
  for (const auto& t : agreement_types()) {
    EXPECT_EQ(ok_with({{"agreementType", text(t)}}).agreement_type, t);
  }
  EXPECT_EQ(ok_with({{"usageType", "Residential"}}).usage_type, "residential");
  EXPECT_EQ(ok_with({{"usageType", "COMMERCIAL"}}).usage_type, "commercial");
}

TEST(ParseFlashProperty, ListsRejectOtherValues) {
  EXPECT_EQ(errors_with({{"propertyType", "Flat"}}),
            (Errors{"propertyType: propertyType must be one of Apartment, Independent House, "
                    "Villa, Plot, Builder Floor, Commercial"}));
  EXPECT_EQ(errors_with({{"propertyType", "IndependentHouse"}}).size(), 1U);
  EXPECT_EQ(errors_with({{"agreementType", "Agreement for Sale"}}),
            (Errors{"agreementType: agreementType must be one of Sale Deed, Agreement to Sale, "
                    "Allotment Letter, Gift Deed, Lease Deed"}));
  EXPECT_EQ(errors_with({{"usageType", "mixed"}}),
            (Errors{"usageType: usageType must be one of residential, commercial"}));
  EXPECT_EQ(errors_with({{"usageType", 1}}), (Errors{"usageType: usageType must be a string"}));
}

TEST(ParseFlashProperty, TextLengthBoundaries) {
  EXPECT_EQ(ok_with({{"propertyName", text(std::string(200, 'a'))}}).property_name,
            std::string(200, 'a'));
  EXPECT_EQ(errors_with({{"propertyName", text(std::string(201, 'a'))}}),
            (Errors{"propertyName: propertyName must be at most 200 characters"}));
  EXPECT_EQ(ok_with({{"location", text(std::string(200, 'b'))}}).location, std::string(200, 'b'));
  EXPECT_EQ(errors_with({{"location", text(std::string(201, 'b'))}}),
            (Errors{"location: location must be at most 200 characters"}));
  // Characters, not bytes: 200 two-byte characters fit.
  std::string accented;
  for (int i = 0; i < 200; ++i) accented += "\xC3\xA9";
  EXPECT_EQ(ok_with({{"propertyName", text(accented)}}).property_name, accented);
  EXPECT_EQ(errors_with({{"propertyName", text(accented + "e")}}).size(), 1U);
}

// ---- Location vs state -----------------------------------------------------------------------

TEST(CheckLocationState, NoStateNamedIsFine) {
  for (const char* location : {"Andheri East, Mumbai", "Mumbai", "Punjab National Bank Colony",
                               "Goa Road", "Near Delhi Gate", "", ", ,"}) {
    EXPECT_EQ(check_location_state(location, "400001", pins()), std::nullopt) << location;
  }
}

TEST(CheckLocationState, StateNamedMustBeThePincodes) {
  for (const char* location :
       {"Maharashtra", "maharashtra", " MAHARASHTRA ", "Mumbai, Maharashtra",
        "Andheri East; Mumbai; Maharashtra", "Mumbai\nMaharashtra", "Mumbai,Maharashtra"}) {
    EXPECT_EQ(check_location_state(location, "400001", pins()), std::nullopt) << location;
  }
  for (const char* location : {"Karnataka", "Bengaluru, Karnataka", "Delhi", "New Delhi",
                               "Mumbai, Goa", "Tamil Nadu", "tamilnadu"}) {
    EXPECT_EQ(check_location_state(location, "400001", pins()),
              "Location does not match pincode state (expected Maharashtra)")
        << location;
  }
}

TEST(CheckLocationState, TolerantCompareAndOldNames) {
  EXPECT_EQ(check_location_state("Bhubaneswar, Orissa", "751001", pins()), std::nullopt);
  EXPECT_EQ(check_location_state("Odisha", "751001", pins()), std::nullopt);
  EXPECT_EQ(check_location_state("Srinagar, J&K", "190001", pins()), std::nullopt);
  EXPECT_EQ(check_location_state("Jammu & Kashmir", "190001", pins()), std::nullopt);
  EXPECT_EQ(check_location_state("JAMMU AND KASHMIR", "190001", pins()), std::nullopt);
  EXPECT_EQ(check_location_state("Connaught Place, New Delhi, NCT of Delhi", "110001", pins()),
            std::nullopt);
  EXPECT_EQ(check_location_state("Pondicherry", "605001", pins()), std::nullopt);
  EXPECT_EQ(check_location_state("Pondicherry", "110001", pins()),
            "Location does not match pincode state (expected Delhi)");
}

TEST(CheckLocationState, AnyNamedStateMatchingIsEnough) {
  // "Delhi" names a state too, but the pincode's state is also named.
  EXPECT_EQ(check_location_state("Delhi Road, Delhi, Maharashtra", "400001", pins()), std::nullopt);
}

TEST(CheckLocationState, UnknownPincodeIsNotChecked) {
  EXPECT_EQ(check_location_state("Karnataka", "999999", pins()), std::nullopt);
  EXPECT_EQ(check_location_state("Karnataka", "abc", pins()), std::nullopt);
}

TEST(ParseFlashLocation, CheckedAgainstTheRequestsPincode) {
  EXPECT_EQ(errors_with({{"pincode", "400001"}, {"location", "Bengaluru, Karnataka"}}),
            (Errors{"location: Location does not match pincode state (expected Maharashtra)"}));
  EXPECT_EQ(ok_with({{"pincode", "560001"}, {"location", "Bengaluru, Karnataka"}}).location,
            "Bengaluru, Karnataka");
  // Without a pincode in the request the caller checks against the stored lead's.
  EXPECT_EQ(ok_with({{"location", "Bengaluru, Karnataka"}}).location, "Bengaluru, Karnataka");
  // With an invalid pincode only the pincode is reported.
  EXPECT_EQ(errors_with({{"pincode", "999999"}, {"location", "Bengaluru, Karnataka"}}),
            (Errors{"pincode: Pincode not found"}));
}

// ---- Employment -------------------------------------------------------------------------------

TEST(ParseFlashEmployment, SalaryCreditModeIdFromTheList) {
  for (const auto& mode : salary_credit_modes()) {
    const FlashInput in = ok_with({{"salaryCreditModeId", mode.id}});
    EXPECT_EQ(in.salary_credit_mode_id, mode.id);
    EXPECT_EQ(in.salary_credit_mode_name, mode.name);  // filled in from the id
  }
  const Errors bad{
      "salaryCreditModeId: salaryCreditModeId must be one of 1 (Bank Transfer), 2 (Cheque), "
      "3 (Cash)"};
  EXPECT_EQ(errors_with({{"salaryCreditModeId", 0}}), bad);
  EXPECT_EQ(errors_with({{"salaryCreditModeId", 4}}), bad);
  EXPECT_EQ(errors_with({{"salaryCreditModeId", "1"}}),
            (Errors{"salaryCreditModeId: salaryCreditModeId must be a number"}));
}

TEST(ParseFlashEmployment, SalaryCreditModeNameMustMatchTheId) {
  const FlashInput in = ok_with({{"salaryCreditModeId", 2}, {"salaryCreditModeName", " CHEQUE "}});
  EXPECT_EQ(in.salary_credit_mode_id, 2);
  EXPECT_EQ(in.salary_credit_mode_name, "Cheque");
  EXPECT_EQ(ok_with({{"salaryCreditModeId", 1}, {"salaryCreditModeName", "bank  transfer"}})
                .salary_credit_mode_name,
            "Bank Transfer");
  EXPECT_EQ(errors_with({{"salaryCreditModeId", 2}, {"salaryCreditModeName", "Cash"}}),
            (Errors{"salaryCreditModeName: salaryCreditModeName does not match "
                    "salaryCreditModeId 2 (Cheque)"}));
  EXPECT_EQ(errors_with({{"salaryCreditModeId", 2}, {"salaryCreditModeName", 2}}),
            (Errors{"salaryCreditModeName: salaryCreditModeName must be a string"}));
}

TEST(ParseFlashEmployment, SalaryCreditModeNameAloneIsLookedUp) {
  const FlashInput in = ok_with({{"salaryCreditModeName", "cash"}});
  EXPECT_EQ(in.salary_credit_mode_id, 3);
  EXPECT_EQ(in.salary_credit_mode_name, "Cash");
  EXPECT_EQ(errors_with({{"salaryCreditModeName", "UPI"}}),
            (Errors{"salaryCreditModeName: salaryCreditModeName must be one of Bank Transfer, "
                    "Cheque, Cash"}));
}

TEST(ParseFlashEmployment, BadSalaryCreditModeIdIsOneError) {
  // The name cannot be checked against an invalid id, nor stand in for it.
  EXPECT_EQ(errors_with({{"salaryCreditModeId", 9}, {"salaryCreditModeName", "Cash"}}).size(), 1U);
  EXPECT_EQ(errors_with({{"salaryCreditModeId", "x"}, {"salaryCreditModeName", "Cash"}}),
            (Errors{"salaryCreditModeId: salaryCreditModeId must be a number"}));
}

TEST(ParseFlashEmployment, SelfCompanyTypeIdFromTheList) {
  EXPECT_EQ(ok_with({{"selfCompanyTypeId", 1}}).self_company_type_id, 1);
  EXPECT_EQ(ok_with({{"selfCompanyTypeId", 6}}).self_company_type_id, 6);
  const Errors bad{
      "selfCompanyTypeId: selfCompanyTypeId must be one of 1 (Proprietorship), 2 (Partnership), "
      "3 (LLP), 4 (Private Limited), 5 (Public Limited), 6 (HUF)"};
  EXPECT_EQ(errors_with({{"selfCompanyTypeId", 0}}), bad);
  EXPECT_EQ(errors_with({{"selfCompanyTypeId", 7}}), bad);
  EXPECT_EQ(errors_with({{"selfCompanyTypeId", 2.5}}),
            (Errors{"selfCompanyTypeId: selfCompanyTypeId must be an integer"}));
}

TEST(ParseFlashEmployment, CompanyNameLength) {
  EXPECT_EQ(ok_with({{"companyName", text(std::string(100, 'c'))}}).company_name,
            std::string(100, 'c'));
  EXPECT_EQ(errors_with({{"companyName", text(std::string(101, 'c'))}}),
            (Errors{"companyName: companyName must be at most 100 characters"}));
}

TEST(ParseFlashEmployment, CoBorrowerIncomeBoundaries) {
  const Errors range{"coBorrowerIncome: coBorrowerIncome must be between 0-10Cr"};
  EXPECT_EQ(ok_with({{"coBorrowerIncome", 0}}).co_borrower_income, 0);
  EXPECT_EQ(errors_with({{"coBorrowerIncome", -1}}), range);
  EXPECT_EQ(ok_with({{"coBorrowerIncome", 100'000'000}}).co_borrower_income, 100'000'000);
  EXPECT_EQ(errors_with({{"coBorrowerIncome", 100'000'001}}), range);
  EXPECT_EQ(errors_with({{"coBorrowerIncome", 1e30}}), range);
  EXPECT_EQ(errors_with({{"coBorrowerIncome", "600000"}}),
            (Errors{"coBorrowerIncome: coBorrowerIncome must be a number"}));
  EXPECT_EQ(errors_with({{"coBorrowerIncome", 0.5}}),
            (Errors{"coBorrowerIncome: coBorrowerIncome must be an integer"}));
}

}  // namespace
}  // namespace leadgate
