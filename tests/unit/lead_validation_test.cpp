#include "domain/lead_validation.h"

#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace leadgate {

void PrintTo(const FieldError& e, std::ostream* os) {
  *os << e.field << ": " << e.message;
}
void PrintTo(const CivilDate& d, std::ostream* os) {
  *os << d.year << '-' << d.month << '-' << d.day;
}

namespace {

namespace json = boost::json;

using Errors = std::vector<FieldError>;

// ---- Names -----------------------------------------------------------------------------------

constexpr const char* kFirstLength = "First name must be 2-50 characters";
constexpr const char* kFirstChars = "First name may contain only letters, spaces, '.', ''' and '-'";

TEST(ValidateName, LengthBoundaries) {
  EXPECT_EQ(validate_name("A", "First name"), kFirstLength);
  EXPECT_EQ(validate_name("Al", "First name"), std::nullopt);
  EXPECT_EQ(validate_name(std::string(50, 'a'), "First name"), std::nullopt);
  EXPECT_EQ(validate_name(std::string(51, 'a'), "First name"), kFirstLength);
  EXPECT_EQ(validate_name("", "First name"), kFirstLength);
}

TEST(ValidateName, LabelNamesTheField) {
  EXPECT_EQ(validate_name("A", "Last name"), "Last name must be 2-50 characters");
  EXPECT_EQ(validate_name("A1", "Last name"),
            "Last name may contain only letters, spaces, '.', ''' and '-'");
}

TEST(ValidateName, LengthIsCheckedBeforeCharacters) {
  EXPECT_EQ(validate_name("1", "First name"), kFirstLength);
  EXPECT_EQ(validate_name(std::string(51, '1'), "First name"), kFirstLength);
}

TEST(ValidateName, LengthCountsCharactersNotBytes) {
  // 26 two-byte characters = 52 bytes but 26 characters: a character problem, not a length one.
  std::string accented;
  for (int i = 0; i < 26; ++i) accented += "\xC3\xA9";  // é
  EXPECT_EQ(validate_name(accented, "First name"), kFirstChars);
}

TEST(ValidateName, AcceptsLettersAndInnerSeparators) {
  for (const char* name : {"Ravi", "Ravi Kumar", "Mary-Jane", "O'Brien", "D'Souza", "A. R. Rahman",
                           "A.R. Rahman", "St.John", "Al"}) {
    EXPECT_EQ(validate_name(name, "First name"), std::nullopt) << name;
  }
}

TEST(ValidateName, RejectsBadCharactersAndPlacement) {
  for (const char* name : {"Ravi1", "Ravi_Kumar", "Ravi@", "-Ravi", "Ravi-", ".Ravi", "Ravi.",
                           "'Ravi", "Ravi'", "Ra--vi", "Ravi  Kumar", "Ra..vi", "Ra''vi", "Ra-.vi",
                           "Ra .vi", "Ra -vi", "Zo\xC3\xAB", "Ravi\tKumar"}) {
    EXPECT_EQ(validate_name(name, "First name"), kFirstChars) << name;
  }
}

// ---- Email -----------------------------------------------------------------------------------

TEST(NormalizeEmail, AcceptsCommonAddresses) {
  EXPECT_EQ(normalize_email("user@example.com"), "user@example.com");
  EXPECT_EQ(normalize_email("first.last+tag@mail.example.co.in"),
            "first.last+tag@mail.example.co.in");
  EXPECT_EQ(normalize_email("a@b.co"), "a@b.co");
  EXPECT_EQ(normalize_email("x_y-z@my-domain.in"), "x_y-z@my-domain.in");
  EXPECT_EQ(normalize_email("!#$%&'*+/=?^_`{|}~-@example.org"), "!#$%&'*+/=?^_`{|}~-@example.org");
  EXPECT_EQ(normalize_email("user@123.example.com"), "user@123.example.com");
}

TEST(NormalizeEmail, TrimsAndLowerCasesOnlyTheDomain) {
  EXPECT_EQ(normalize_email("  Ravi.Kumar@Example.COM \n"), "Ravi.Kumar@example.com");
}

TEST(NormalizeEmail, RejectsMalformedLocalParts) {
  for (const char* email :
       {"", "@example.com", "userexample.com", ".user@example.com", "user.@example.com",
        "us..er@example.com", "us er@example.com", "\"quoted\"@example.com", "us(er)@example.com",
        "us,er@example.com", "r\xC3\xA9mi@example.com"}) {
    EXPECT_EQ(normalize_email(email), std::nullopt) << email;
  }
}

TEST(NormalizeEmail, RejectsMalformedDomains) {
  for (const char* email :
       {"user@", "user@localhost", "user@example", "user@-example.com", "user@example-.com",
        "user@exa_mple.com", "user@example..com", "user@.example.com", "user@example.com.",
        "user@example.c", "user@example.c0m", "user@example.123", "user@a@example.com",
        "user@[192.168.0.1]", "user@192.168.0.1", "user@ex ample.com"}) {
    EXPECT_EQ(normalize_email(email), std::nullopt) << email;
  }
}

TEST(NormalizeEmail, LocalPartLengthBoundary) {
  EXPECT_TRUE(normalize_email(std::string(64, 'a') + "@example.com"));
  EXPECT_FALSE(normalize_email(std::string(65, 'a') + "@example.com"));
}

TEST(NormalizeEmail, LabelLengthBoundary) {
  EXPECT_TRUE(normalize_email("user@" + std::string(63, 'a') + ".com"));
  EXPECT_FALSE(normalize_email("user@" + std::string(64, 'a') + ".com"));
}

TEST(NormalizeEmail, TotalLengthBoundary) {
  // 64 + 1 + 189 = 254 characters.
  const std::string local(64, 'l');
  const std::string domain189 =
      std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(57, 'c') + ".com";
  ASSERT_EQ(domain189.size(), 189U);
  EXPECT_TRUE(normalize_email(local + "@" + domain189));
  EXPECT_FALSE(normalize_email(local + "@x" + domain189));  // 255
}

// ---- PAN -------------------------------------------------------------------------------------

TEST(NormalizePan, AcceptsEveryHolderType) {
  for (char holder : std::string_view("PCHFATBLJG")) {
    std::string pan = "ABC";
    pan += holder;
    pan += "E1234F";
    EXPECT_EQ(normalize_pan(pan), pan) << pan;
  }
}

TEST(NormalizePan, RejectsOtherFourthLetters) {
  for (char holder : std::string_view("DEIKMNOQRSUVWXYZ")) {
    std::string pan = "ABC";
    pan += holder;
    pan += "E1234F";
    EXPECT_EQ(normalize_pan(pan), std::nullopt) << pan;
  }
}

TEST(NormalizePan, TrimsAndUpperCases) {
  EXPECT_EQ(normalize_pan(" abcpe1234f "), "ABCPE1234F");
  EXPECT_EQ(normalize_pan("AbCpE1234f"), "ABCPE1234F");
}

TEST(NormalizePan, RejectsWrongShape) {
  for (const char* pan : {"", "ABCPE1234", "ABCPE1234FF", "ABCPE12345", "1BCPE1234F", "ABCP51234F",
                          "ABCPEA234F", "ABCPE123AF", "ABCPE 1234F", "ABCPE-1234-F",
                          "ABCPE\xC3\xA9"
                          "234F"}) {
    EXPECT_EQ(normalize_pan(pan), std::nullopt) << pan;
  }
}

// ---- Loan ------------------------------------------------------------------------------------

TEST(LoanType, AcceptsKnownCodesAnyCase) {
  for (std::string_view code : kLoanTypes) EXPECT_EQ(normalize_loan_type(code), code);
  EXPECT_EQ(normalize_loan_type("hl"), "HL");
  EXPECT_EQ(normalize_loan_type(" Lap "), "LAP");
}

TEST(LoanType, RejectsUnknownCodes) {
  for (const char* code : {"", "H", "HLX", "XX", "Home Loan", "H L"}) {
    EXPECT_EQ(normalize_loan_type(code), std::nullopt) << code;
  }
}

TEST(LoanType, Names) {
  EXPECT_STREQ(loan_type_name("HL"), "Home Loan");
  EXPECT_STREQ(loan_type_name("LAP"), "Loan Against Property");
  EXPECT_STREQ(loan_type_name("PL"), "Personal Loan");
  EXPECT_STREQ(loan_type_name("BL"), "Business Loan");
  EXPECT_STREQ(loan_type_name("CL"), "Car Loan");
  EXPECT_STREQ(loan_type_name("EL"), "Education Loan");
  EXPECT_EQ(loan_type_name("hl"), nullptr);
  EXPECT_EQ(loan_type_name("XX"), nullptr);
  for (std::string_view code : kLoanTypes) EXPECT_NE(loan_type_name(code), nullptr) << code;
}

TEST(Ranges, LoanAmount) {
  const char* msg = "Loan amount must be between 1L-5Cr";
  EXPECT_EQ(validate_loan_amount(99'999), msg);
  EXPECT_EQ(validate_loan_amount(100'000), std::nullopt);
  EXPECT_EQ(validate_loan_amount(50'000'000), std::nullopt);
  EXPECT_EQ(validate_loan_amount(50'000'001), msg);
  EXPECT_EQ(validate_loan_amount(-100'000), msg);
}

TEST(Ranges, LoanTenure) {
  const char* msg = "Loan tenure must be between 12-360 months";
  EXPECT_EQ(validate_loan_tenure(11), msg);
  EXPECT_EQ(validate_loan_tenure(12), std::nullopt);
  EXPECT_EQ(validate_loan_tenure(360), std::nullopt);
  EXPECT_EQ(validate_loan_tenure(361), msg);
}

TEST(Ranges, CreditScore) {
  const char* msg = "Credit score must be between 300-900";
  EXPECT_EQ(validate_credit_score(299), msg);
  EXPECT_EQ(validate_credit_score(300), std::nullopt);
  EXPECT_EQ(validate_credit_score(900), std::nullopt);
  EXPECT_EQ(validate_credit_score(901), msg);
}

TEST(Ranges, AnnualIncome) {
  const char* msg = "Annual income must be between 0-10Cr";
  EXPECT_EQ(validate_annual_income(-1), msg);
  EXPECT_EQ(validate_annual_income(0), std::nullopt);
  EXPECT_EQ(validate_annual_income(100'000'000), std::nullopt);
  EXPECT_EQ(validate_annual_income(100'000'001), msg);
}

// ---- Dates and age ---------------------------------------------------------------------------

TEST(ParseIsoDate, AcceptsRealDates) {
  EXPECT_EQ(parse_iso_date("1990-01-31"), (CivilDate{1990, 1, 31}));
  EXPECT_EQ(parse_iso_date("2024-02-29"), (CivilDate{2024, 2, 29}));  // leap year
  EXPECT_EQ(parse_iso_date("2000-02-29"), (CivilDate{2000, 2, 29}));  // divisible by 400
  EXPECT_EQ(parse_iso_date("2023-12-31"), (CivilDate{2023, 12, 31}));
  EXPECT_EQ(parse_iso_date("2023-04-30"), (CivilDate{2023, 4, 30}));
}

TEST(ParseIsoDate, RejectsUnrealDates) {
  for (const char* date : {"2023-02-29", "1900-02-29", "2024-02-30", "2024-13-01", "2024-00-10",
                           "2024-04-31", "2024-01-32", "2024-01-00", "0000-01-01"}) {
    EXPECT_EQ(parse_iso_date(date), std::nullopt) << date;
  }
}

TEST(ParseIsoDate, RejectsOtherFormats) {
  for (const char* date :
       {"", "2024-2-29", "2024/02/29", "29-02-2024", "24-02-29", "20240229", "2024-02-29T00:00:00",
        " 2024-02-29", "2024-02-29 ", "2024-0a-01", "+024-02-29", "2024-02--9"}) {
    EXPECT_EQ(parse_iso_date(date), std::nullopt) << date;
  }
}

TEST(IsRealDate, MonthLengths) {
  EXPECT_TRUE(is_real_date(2023, 1, 31));
  EXPECT_FALSE(is_real_date(2023, 6, 31));
  EXPECT_TRUE(is_real_date(2023, 2, 28));
  EXPECT_FALSE(is_real_date(2023, 2, 29));
  EXPECT_TRUE(is_real_date(2024, 2, 29));
  EXPECT_FALSE(is_real_date(2100, 2, 29));
  EXPECT_TRUE(is_real_date(2400, 2, 29));
}

TEST(AgeOn, FullYearsAroundTheBirthday) {
  EXPECT_EQ(age_on({2007, 6, 15}, {2025, 6, 15}), 18);
  EXPECT_EQ(age_on({2007, 6, 16}, {2025, 6, 15}), 17);
  EXPECT_EQ(age_on({2007, 7, 1}, {2025, 6, 30}), 17);
  EXPECT_EQ(age_on({2007, 5, 31}, {2025, 6, 1}), 18);
  EXPECT_EQ(age_on({2025, 6, 16}, {2025, 6, 15}), -1);  // not born yet
}

TEST(AgeOn, LeapDayBirthday) {
  const CivilDate dob{2004, 2, 29};
  EXPECT_EQ(age_on(dob, {2022, 2, 28}), 17);  // common year: not yet on 28 Feb
  EXPECT_EQ(age_on(dob, {2022, 3, 1}), 18);   // … reached on 1 March
  EXPECT_EQ(age_on(dob, {2024, 2, 28}), 19);
  EXPECT_EQ(age_on(dob, {2024, 2, 29}), 20);  // leap year: on the day itself
}

TEST(ValidateAge, Boundaries) {
  const char* msg = "Age must be between 18-65 years";
  const CivilDate today{2025, 6, 15};
  EXPECT_EQ(validate_age({2007, 6, 15}, today), std::nullopt);  // 18 today
  EXPECT_EQ(validate_age({2007, 6, 16}, today), msg);           // one day short of 18
  EXPECT_EQ(validate_age({1960, 6, 15}, today), std::nullopt);  // 65 today
  EXPECT_EQ(validate_age({1959, 6, 16}, today), std::nullopt);  // 65, 66 tomorrow
  EXPECT_EQ(validate_age({1959, 6, 15}, today), msg);           // 66 today
  EXPECT_EQ(validate_age({1959, 6, 14}, today), msg);           // 66 yesterday
  EXPECT_EQ(validate_age({2030, 1, 1}, today), msg);            // in the future
}

TEST(ValidateAge, LeapDayBirthdays) {
  const char* msg = "Age must be between 18-65 years";
  EXPECT_EQ(validate_age({2004, 2, 29}, {2022, 2, 28}), msg);
  EXPECT_EQ(validate_age({2004, 2, 29}, {2022, 3, 1}), std::nullopt);
  // Turns 66 on 1 March 2026 (a common year): still 65 on 28 February.
  EXPECT_EQ(validate_age({1960, 2, 29}, {2026, 2, 28}), std::nullopt);
  EXPECT_EQ(validate_age({1960, 2, 29}, {2026, 3, 1}), msg);
}

// ---- Gender, pincode -------------------------------------------------------------------------

TEST(NormalizeGender, CaseInsensitive) {
  EXPECT_EQ(normalize_gender("Male"), "Male");
  EXPECT_EQ(normalize_gender("male"), "Male");
  EXPECT_EQ(normalize_gender("FEMALE"), "Female");
  EXPECT_EQ(normalize_gender(" other "), "Other");
  for (const char* g : {"", "M", "F", "Man", "Females", "Unknown"}) {
    EXPECT_EQ(normalize_gender(g), std::nullopt) << g;
  }
}

TEST(PincodeFormat, SixDigitsFirstNonZero) {
  EXPECT_TRUE(is_pincode_format("400001"));
  EXPECT_TRUE(is_pincode_format("999999"));
  EXPECT_FALSE(is_pincode_format("012345"));
  EXPECT_FALSE(is_pincode_format("40000"));
  EXPECT_FALSE(is_pincode_format("4000011"));
  EXPECT_FALSE(is_pincode_format("400 01"));
  EXPECT_FALSE(is_pincode_format("40000a"));
  EXPECT_FALSE(is_pincode_format(""));
}

// ---- parse_lead ------------------------------------------------------------------------------

const CivilDate kToday{2025, 6, 15};

const PincodeDirectory& pins() {
  static const PincodeDirectory dir =
      PincodeDirectory::from_rows({{"400001", "Maharashtra"}, {"110001", "Delhi"}});
  return dir;
}

json::object valid_body() {
  return json::object{
      {"environment", "orbit"}, {"firstName", "Ravi"},         {"lastName", "Kumar"},
      {"mobile", "9876543210"}, {"email", "ravi@example.com"}, {"pan", "ABCPE1234F"},
      {"loanType", "HL"},       {"loanAmountReq", 2'500'000},  {"loanTenure", 240},
      {"creditScore", 750},     {"pincode", "400001"},         {"dateOfBirth", "1990-05-20"},
  };
}

LeadInput parse_ok(const json::object& body, CivilDate today = kToday) {
  auto result = parse_lead(body, pins(), today);
  if (auto* errors = std::get_if<Errors>(&result)) {
    ADD_FAILURE() << "unexpected errors, first: " << errors->front().field << ": "
                  << errors->front().message;
    return {};
  }
  return std::get<LeadInput>(result);
}

Errors parse_errors(const json::object& body, CivilDate today = kToday) {
  auto result = parse_lead(body, pins(), today);
  if (std::holds_alternative<LeadInput>(result)) {
    ADD_FAILURE() << "expected validation errors";
    return {};
  }
  return std::get<Errors>(result);
}

// Errors for `valid_body()` with one field set to `value`; empty when it parses.
Errors with_field(std::string_view field, json::value value) {
  json::object body = valid_body();
  body[field] = std::move(value);
  auto result = parse_lead(body, pins(), kToday);
  if (auto* errors = std::get_if<Errors>(&result)) return *errors;
  return {};
}
json::value text(const std::string& s) {
  return json::value(json::string_view(s));
}

TEST(ParseLead, MinimalValidBodyUsesDefaults) {
  const LeadInput lead = parse_ok(valid_body());
  EXPECT_EQ(lead.environment, "orbit");
  EXPECT_EQ(lead.first_name, "Ravi");
  EXPECT_EQ(lead.last_name, "Kumar");
  EXPECT_EQ(lead.mobile, "9876543210");
  EXPECT_EQ(lead.email, "ravi@example.com");
  EXPECT_EQ(lead.pan, "ABCPE1234F");
  EXPECT_EQ(lead.loan_type, "HL");
  EXPECT_EQ(lead.loan_amount_req, 2'500'000);
  EXPECT_EQ(lead.loan_tenure, 240);
  EXPECT_EQ(lead.credit_score, 750);
  EXPECT_EQ(lead.pincode, "400001");
  EXPECT_EQ(lead.date_of_birth, "1990-05-20");
  EXPECT_EQ(lead.gender, std::nullopt);
  EXPECT_EQ(lead.application_assigned_to_rm, std::nullopt);
  EXPECT_EQ(lead.remarks, std::nullopt);
  EXPECT_EQ(lead.state, std::nullopt);
  EXPECT_EQ(lead.customer_id, std::nullopt);
  EXPECT_EQ(lead.qr_short_code, std::nullopt);
  EXPECT_EQ(lead.annual_income, std::nullopt);
  EXPECT_TRUE(lead.include_credit_score);
  EXPECT_FALSE(lead.is_lead_prefilled);
}

TEST(ParseLead, FullBodyIsNormalised) {
  const json::value body = json::parse(R"({
    "environment": "homfinity",
    "firstName": "  A. R. Anil\t",
    "lastName": " D'Souza-Rao ",
    "mobile": "+91 (0) 98765-43210",
    "email": " Ravi.K@Example.CO.IN ",
    "pan": "abcpe1234f",
    "loanType": "lap",
    "loanAmountReq": 1e5,
    "loanTenure": 360.0,
    "creditScore": 900,
    "pincode": " 110001 ",
    "dateOfBirth": "2004-02-29",
    "gender": "FEMALE",
    "annualIncome": 1200000,
    "applicationAssignedToRm": " RM-042 ",
    "remarks": "Prefers a call after 6 pm",
    "state": "nct of delhi",
    "customerId": "CUST-1",
    "qrShortCode": "QR7",
    "includeCreditScore": false,
    "isLeadPrefilled": true,
    "someFutureField": {"ignored": true}
  })");
  const LeadInput lead = parse_ok(body.as_object(), CivilDate{2022, 3, 1});
  EXPECT_EQ(lead.environment, "homfinity");
  EXPECT_EQ(lead.first_name, "A. R. Anil");
  EXPECT_EQ(lead.last_name, "D'Souza-Rao");
  EXPECT_EQ(lead.mobile, "9876543210");
  EXPECT_EQ(lead.email, "Ravi.K@example.co.in");
  EXPECT_EQ(lead.pan, "ABCPE1234F");
  EXPECT_EQ(lead.loan_type, "LAP");
  EXPECT_EQ(lead.loan_amount_req, 100'000);
  EXPECT_EQ(lead.loan_tenure, 360);
  EXPECT_EQ(lead.credit_score, 900);
  EXPECT_EQ(lead.pincode, "110001");
  EXPECT_EQ(lead.date_of_birth, "2004-02-29");
  EXPECT_EQ(lead.gender, "Female");
  EXPECT_EQ(lead.annual_income, 1'200'000);
  EXPECT_EQ(lead.application_assigned_to_rm, "RM-042");
  EXPECT_EQ(lead.remarks, "Prefers a call after 6 pm");
  EXPECT_EQ(lead.state, "Delhi");  // the directory's spelling
  EXPECT_EQ(lead.customer_id, "CUST-1");
  EXPECT_EQ(lead.qr_short_code, "QR7");
  EXPECT_FALSE(lead.include_credit_score);
  EXPECT_TRUE(lead.is_lead_prefilled);
}

TEST(ParseLead, EmptyBodyListsEveryRequiredFieldInOrder) {
  EXPECT_EQ(parse_errors(json::object{}), (Errors{{"environment", "environment is required"},
                                                  {"firstName", "firstName is required"},
                                                  {"lastName", "lastName is required"},
                                                  {"mobile", "mobile is required"},
                                                  {"email", "email is required"},
                                                  {"pan", "pan is required"},
                                                  {"loanType", "loanType is required"},
                                                  {"loanAmountReq", "loanAmountReq is required"},
                                                  {"loanTenure", "loanTenure is required"},
                                                  {"creditScore", "creditScore is required"},
                                                  {"pincode", "pincode is required"},
                                                  {"dateOfBirth", "dateOfBirth is required"}}));
}

TEST(ParseLead, ManyBadFieldsGiveOneErrorEachInSchemaOrder) {
  const json::value body = json::parse(R"({
    "isLeadPrefilled": "yes",
    "qrShortCode": 7,
    "state": "Maharashtra",
    "environment": "production",
    "firstName": "R",
    "lastName": "K2",
    "mobile": "12345",
    "email": "not-an-email",
    "pan": "ABCDE1234F",
    "loanType": "GOLD",
    "loanAmountReq": 99999,
    "loanTenure": 361,
    "creditScore": 299,
    "pincode": "000001",
    "dateOfBirth": "2023-02-29",
    "gender": "M",
    "annualIncome": -1,
    "applicationAssignedToRm": ["rm"],
    "remarks": true,
    "customerId": {},
    "includeCreditScore": 1
  })");
  EXPECT_EQ(parse_errors(body.as_object()),
            (Errors{
                {"environment", "Environment must be orbit or homfinity"},
                {"firstName", "First name must be 2-50 characters"},
                {"lastName", "Last name may contain only letters, spaces, '.', ''' and '-'"},
                {"mobile", "Invalid mobile number format"},
                {"email", "Invalid email address format"},
                {"pan", "Invalid PAN number format"},
                {"loanType", "Loan type must be one of HL, LAP, PL, BL, CL, EL"},
                {"loanAmountReq", "Loan amount must be between 1L-5Cr"},
                {"loanTenure", "Loan tenure must be between 12-360 months"},
                {"creditScore", "Credit score must be between 300-900"},
                {"pincode", "Invalid pincode format"},
                {"dateOfBirth", "Date of birth must be a valid date in YYYY-MM-DD format"},
                {"gender", "Gender must be Male, Female or Other"},
                {"annualIncome", "Annual income must be between 0-10Cr"},
                {"applicationAssignedToRm", "applicationAssignedToRm must be a string"},
                {"remarks", "remarks must be a string"},
                // state is not checked: the pincode is invalid.
                {"customerId", "customerId must be a string"},
                {"qrShortCode", "qrShortCode must be a string"},
                {"includeCreditScore", "includeCreditScore must be a boolean"},
                {"isLeadPrefilled", "isLeadPrefilled must be a boolean"},
            }));
}

TEST(ParseLead, WrongTypesForRequiredFields) {
  json::object body = valid_body();
  body["environment"] = 1;
  body["firstName"] = json::array{"Ravi"};
  body["mobile"] = 9876543210;  // numbers are not accepted for a mobile
  body["loanAmountReq"] = "2500000";
  body["loanTenure"] = true;
  body["creditScore"] = json::object{};
  body["pincode"] = 400001;  // decided: string only
  body["dateOfBirth"] = 19900520;
  EXPECT_EQ(parse_errors(body), (Errors{{"environment", "environment must be a string"},
                                        {"firstName", "firstName must be a string"},
                                        {"mobile", "mobile must be a string"},
                                        {"loanAmountReq", "loanAmountReq must be a number"},
                                        {"loanTenure", "loanTenure must be a number"},
                                        {"creditScore", "creditScore must be a number"},
                                        {"pincode", "pincode must be a string"},
                                        {"dateOfBirth", "dateOfBirth must be a string"}}));
}

TEST(ParseLead, NullRequiredFieldIsMissing) {
  EXPECT_EQ(with_field("email", nullptr), (Errors{{"email", "email is required"}}));
  EXPECT_EQ(with_field("creditScore", nullptr),
            (Errors{{"creditScore", "creditScore is required"}}));
}

TEST(ParseLead, NullOrBlankOptionalFieldsAreAbsent) {
  json::object body = valid_body();
  for (const char* field : {"gender", "annualIncome", "applicationAssignedToRm", "remarks", "state",
                            "customerId", "qrShortCode", "includeCreditScore", "isLeadPrefilled"}) {
    body[field] = nullptr;
  }
  LeadInput lead = parse_ok(body);
  EXPECT_EQ(lead.gender, std::nullopt);
  EXPECT_EQ(lead.annual_income, std::nullopt);
  EXPECT_EQ(lead.state, std::nullopt);
  EXPECT_TRUE(lead.include_credit_score);
  EXPECT_FALSE(lead.is_lead_prefilled);

  for (const char* field :
       {"gender", "applicationAssignedToRm", "remarks", "state", "customerId", "qrShortCode"}) {
    body[field] = "  ";
  }
  lead = parse_ok(body);
  EXPECT_EQ(lead.gender, std::nullopt);
  EXPECT_EQ(lead.application_assigned_to_rm, std::nullopt);
  EXPECT_EQ(lead.remarks, std::nullopt);
  EXPECT_EQ(lead.state, std::nullopt);
  EXPECT_EQ(lead.customer_id, std::nullopt);
  EXPECT_EQ(lead.qr_short_code, std::nullopt);
}

TEST(ParseLead, BlankRequiredStringGetsTheFieldsOwnMessage) {
  EXPECT_EQ(with_field("firstName", "   "),
            (Errors{{"firstName", "First name must be 2-50 characters"}}));
  EXPECT_EQ(with_field("mobile", ""), (Errors{{"mobile", "Invalid mobile number format"}}));
  EXPECT_EQ(with_field("environment", ""),
            (Errors{{"environment", "Environment must be orbit or homfinity"}}));
}

TEST(ParseLead, EnvironmentIsExact) {
  EXPECT_EQ(parse_ok(valid_body()).environment, "orbit");
  const Errors wrong{{"environment", "Environment must be orbit or homfinity"}};
  EXPECT_EQ(with_field("environment", "Orbit"), wrong);
  EXPECT_EQ(with_field("environment", "HOMFINITY"), wrong);
  EXPECT_EQ(with_field("environment", "sandbox"), wrong);
}

TEST(ParseLead, NameBoundariesAfterTrimming) {
  EXPECT_EQ(with_field("lastName", " K "),
            (Errors{{"lastName", "Last name must be 2-50 characters"}}));
  json::object body = valid_body();
  body["lastName"] = "  " + std::string(50, 'k') + "  ";
  EXPECT_EQ(parse_ok(body).last_name, std::string(50, 'k'));
  EXPECT_EQ(with_field("lastName", text(std::string(51, 'k'))),
            (Errors{{"lastName", "Last name must be 2-50 characters"}}));
  body["firstName"] = "Al";
  EXPECT_EQ(parse_ok(body).first_name, "Al");
}

TEST(ParseLead, LoanAmountBoundariesAndNumberForms) {
  const Errors range{{"loanAmountReq", "Loan amount must be between 1L-5Cr"}};
  EXPECT_EQ(with_field("loanAmountReq", 99'999), range);
  EXPECT_EQ(with_field("loanAmountReq", 50'000'001), range);
  EXPECT_EQ(with_field("loanAmountReq", 100'000.0).size(), 0U);
  EXPECT_EQ(with_field("loanAmountReq", 50'000'000.0).size(), 0U);
  EXPECT_EQ(with_field("loanAmountReq", 100'000.5),
            (Errors{{"loanAmountReq", "loanAmountReq must be an integer"}}));
  // Beyond 64 bits: saturated, so the range message rather than a crash or wrap-around.
  EXPECT_EQ(with_field("loanAmountReq", std::uint64_t{18'446'744'073'709'551'615U}), range);
  EXPECT_EQ(with_field("loanAmountReq", 1e30), range);
  EXPECT_EQ(with_field("loanAmountReq", -1e30), range);

  json::object body = valid_body();
  body["loanAmountReq"] = 100'000;
  EXPECT_EQ(parse_ok(body).loan_amount_req, 100'000);
  body["loanAmountReq"] = 50'000'000;
  EXPECT_EQ(parse_ok(body).loan_amount_req, 50'000'000);
  body["loanAmountReq"] = std::uint64_t{1'000'000};
  EXPECT_EQ(parse_ok(body).loan_amount_req, 1'000'000);
}

TEST(ParseLead, ParsedJsonNumbers) {
  // As a client would send them: exponent and fraction forms are doubles in Boost.JSON.
  const auto parse_amount = [](const char* number) {
    json::object body = valid_body();
    body["loanAmountReq"] = json::parse(number);
    return parse_lead(body, pins(), kToday);
  };
  EXPECT_TRUE(std::holds_alternative<LeadInput>(parse_amount("1e5")));
  EXPECT_TRUE(std::holds_alternative<LeadInput>(parse_amount("5.0E7")));
  EXPECT_TRUE(std::holds_alternative<Errors>(parse_amount("5.00000001E7")));
  EXPECT_TRUE(std::holds_alternative<Errors>(parse_amount("99999999999999999999999")));
}

TEST(ParseLead, TenureScoreIncomeBoundaries) {
  EXPECT_EQ(with_field("loanTenure", 11),
            (Errors{{"loanTenure", "Loan tenure must be between 12-360 months"}}));
  EXPECT_EQ(with_field("loanTenure", 12).size(), 0U);
  EXPECT_EQ(with_field("loanTenure", 360).size(), 0U);
  EXPECT_EQ(with_field("loanTenure", 361),
            (Errors{{"loanTenure", "Loan tenure must be between 12-360 months"}}));
  EXPECT_EQ(with_field("loanTenure", 12.5),
            (Errors{{"loanTenure", "loanTenure must be an integer"}}));

  EXPECT_EQ(with_field("creditScore", 299),
            (Errors{{"creditScore", "Credit score must be between 300-900"}}));
  EXPECT_EQ(with_field("creditScore", 300).size(), 0U);
  EXPECT_EQ(with_field("creditScore", 900).size(), 0U);
  EXPECT_EQ(with_field("creditScore", 901),
            (Errors{{"creditScore", "Credit score must be between 300-900"}}));

  const Errors income{{"annualIncome", "Annual income must be between 0-10Cr"}};
  EXPECT_EQ(with_field("annualIncome", -1), income);
  EXPECT_EQ(with_field("annualIncome", 100'000'001), income);
  EXPECT_EQ(with_field("annualIncome", "500000"),
            (Errors{{"annualIncome", "annualIncome must be a number"}}));
  json::object body = valid_body();
  body["annualIncome"] = 0;
  EXPECT_EQ(parse_ok(body).annual_income, 0);
  body["annualIncome"] = 100'000'000;
  EXPECT_EQ(parse_ok(body).annual_income, 100'000'000);
}

TEST(ParseLead, MobileEmailPanLoanTypeMessages) {
  EXPECT_EQ(with_field("mobile", "5876543210"),
            (Errors{{"mobile", "Invalid mobile number format"}}));
  EXPECT_EQ(with_field("email", "a..b@example.com"),
            (Errors{{"email", "Invalid email address format"}}));
  EXPECT_EQ(with_field("pan", "ABCZE1234F"), (Errors{{"pan", "Invalid PAN number format"}}));
  EXPECT_EQ(with_field("loanType", "GL"),
            (Errors{{"loanType", "Loan type must be one of HL, LAP, PL, BL, CL, EL"}}));
}

TEST(ParseLead, Pincode) {
  EXPECT_EQ(with_field("pincode", "999999"), (Errors{{"pincode", "Pincode not found"}}));
  EXPECT_EQ(with_field("pincode", "012345"), (Errors{{"pincode", "Invalid pincode format"}}));
  EXPECT_EQ(with_field("pincode", "40000"), (Errors{{"pincode", "Invalid pincode format"}}));
  EXPECT_EQ(with_field("pincode", "400 001"), (Errors{{"pincode", "Invalid pincode format"}}));
  EXPECT_EQ(with_field("pincode", 400001), (Errors{{"pincode", "pincode must be a string"}}));
}

TEST(ParseLead, StateMustMatchPincode) {
  json::object body = valid_body();
  body["state"] = "Delhi";
  EXPECT_EQ(parse_errors(body),
            (Errors{{"state", "State does not match pincode (expected Maharashtra)"}}));
  body["state"] = " maharashtra ";
  EXPECT_EQ(parse_ok(body).state, "Maharashtra");
  // Unknown pincode: only the pincode is reported.
  body["pincode"] = "999999";
  body["state"] = "Delhi";
  EXPECT_EQ(parse_errors(body), (Errors{{"pincode", "Pincode not found"}}));
  body["state"] = 27;
  EXPECT_EQ(parse_errors(body),
            (Errors{{"pincode", "Pincode not found"}, {"state", "state must be a string"}}));
}

TEST(ParseLead, DateOfBirth) {
  const Errors format{{"dateOfBirth", "Date of birth must be a valid date in YYYY-MM-DD format"}};
  EXPECT_EQ(with_field("dateOfBirth", "2023-02-29"), format);
  EXPECT_EQ(with_field("dateOfBirth", "2024-13-01"), format);
  EXPECT_EQ(with_field("dateOfBirth", "20-05-1990"), format);
  EXPECT_EQ(with_field("dateOfBirth", "1990-05-20T00:00:00Z"), format);

  const Errors age{{"dateOfBirth", "Age must be between 18-65 years"}};
  EXPECT_EQ(with_field("dateOfBirth", "2007-06-15").size(), 0U);  // 18 on kToday
  EXPECT_EQ(with_field("dateOfBirth", "2007-06-16"), age);        // one day short
  EXPECT_EQ(with_field("dateOfBirth", "1959-06-16").size(), 0U);  // 65, 66 tomorrow
  EXPECT_EQ(with_field("dateOfBirth", "1959-06-15"), age);        // 66 today
  EXPECT_EQ(with_field("dateOfBirth", "1959-06-14"), age);
}

TEST(ParseLead, LeapDayBirthdayAge) {
  json::object body = valid_body();
  body["dateOfBirth"] = "2004-02-29";
  EXPECT_EQ(parse_errors(body, CivilDate{2022, 2, 28}),
            (Errors{{"dateOfBirth", "Age must be between 18-65 years"}}));
  EXPECT_EQ(parse_ok(body, CivilDate{2022, 3, 1}).date_of_birth, "2004-02-29");
}

TEST(ParseLead, Gender) {
  json::object body = valid_body();
  for (const auto& [given, expected] :
       {std::pair{"male", "Male"}, {"Female", "Female"}, {"OTHER", "Other"}}) {
    body["gender"] = given;
    EXPECT_EQ(parse_ok(body).gender, expected);
  }
  EXPECT_EQ(with_field("gender", "F"),
            (Errors{{"gender", "Gender must be Male, Female or Other"}}));
}

TEST(ParseLead, RemarksCountCharactersNotBytes) {
  std::string devanagari;  // "अ" is 3 bytes
  for (int i = 0; i < 500; ++i) devanagari += "\xE0\xA4\x85";
  json::object body = valid_body();
  body["remarks"] = devanagari;
  EXPECT_EQ(parse_ok(body).remarks, devanagari);
  body["remarks"] = devanagari + "a";
  EXPECT_EQ(parse_errors(body), (Errors{{"remarks", "Remarks must be at most 500 characters"}}));
  body["remarks"] = std::string(500, 'r');
  EXPECT_EQ(parse_ok(body).remarks, std::string(500, 'r'));
  body["remarks"] = std::string(501, 'r');
  EXPECT_EQ(parse_errors(body), (Errors{{"remarks", "Remarks must be at most 500 characters"}}));
}

TEST(ParseLead, ShortTextsAtMostOneHundredCharacters) {
  for (const char* field : {"applicationAssignedToRm", "customerId", "qrShortCode"}) {
    EXPECT_EQ(with_field(field, text(std::string(100, 'x'))).size(), 0U) << field;
    EXPECT_EQ(with_field(field, text(std::string(101, 'x'))),
              (Errors{{field, std::string(field) + " must be at most 100 characters"}}));
  }
}

TEST(ParseLead, Booleans) {
  json::object body = valid_body();
  body["includeCreditScore"] = false;
  body["isLeadPrefilled"] = true;
  const LeadInput lead = parse_ok(body);
  EXPECT_FALSE(lead.include_credit_score);
  EXPECT_TRUE(lead.is_lead_prefilled);
  EXPECT_EQ(with_field("includeCreditScore", "true"),
            (Errors{{"includeCreditScore", "includeCreditScore must be a boolean"}}));
  EXPECT_EQ(with_field("isLeadPrefilled", 0),
            (Errors{{"isLeadPrefilled", "isLeadPrefilled must be a boolean"}}));
}

TEST(ParseLead, UnknownFieldsAreIgnored) {
  json::object body = valid_body();
  body["utm_source"] = "google";
  body["nested"] = json::object{{"a", 1}};
  EXPECT_TRUE(std::holds_alternative<LeadInput>(parse_lead(body, pins(), kToday)));
}

}  // namespace
}  // namespace leadgate
