#pragma once
// Validation and normalisation of a create_lead request (api-wireframes 1A). Pure: no I/O, and
// "today" is passed in, so every rule is testable at its boundaries.
//
// Conventions: validate_* return the customer-facing error message, or nullopt when the value is
// fine; normalize_* return the normalised value, or nullopt when the value is invalid (the
// matching message is given by parse_lead).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "domain/pincode_directory.h"

namespace leadgate {

struct FieldError {
  std::string field;    // the JSON field name, e.g. "loanAmountReq"
  std::string message;  // as the wireframes give it where they give one

  friend bool operator==(const FieldError&, const FieldError&) = default;
};

// A create_lead request after validation: every value normalised.
struct LeadInput {
  std::string environment, first_name, last_name, mobile /*10 digits*/,
      email /*lower-cased domain*/, pan /*upper*/, loan_type;
  std::int64_t loan_amount_req = 0;  // whole rupees
  int loan_tenure = 0;               // months
  int credit_score = 0;
  std::string pincode, date_of_birth /*YYYY-MM-DD*/;
  // state: when given, the directory's spelling of the pincode's state; never filled in from the
  // pincode (callers that need it use PincodeDirectory::state_of).
  std::optional<std::string> gender, application_assigned_to_rm, remarks, state, customer_id,
      qr_short_code;
  std::optional<std::int64_t> annual_income;  // whole rupees
  bool include_credit_score = true;
  bool is_lead_prefilled = false;
};

struct CivilDate {
  int year = 0, month = 0, day = 0;

  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

// Parses a create_lead body. Returns every invalid field at once, one FieldError per field (the
// first problem of that field), in the schema's field order. `today` is today's date in IST.
// Field rules beyond the wireframes' (decided here, pinned by tests):
//  - A required field absent or JSON null: "<field> is required". An optional field that is null,
//    or a string that is blank after trimming, is absent. Unknown fields are ignored.
//  - Wrong JSON type: "<field> must be a string" / "must be a number" / "must be a boolean"; a
//    number with a fraction where whole units are needed: "<field> must be an integer". Whole
//    doubles (1e5, 100000.0) are accepted; numbers beyond 64 bits fail the range check.
//  - Strings are trimmed of ASCII whitespace before checking. environment is matched exactly (it
//    is set by the client app, not typed by a person, and picks the data partition).
//  - pincode must be a JSON string (the wireframes say string; "400001" and 400001 are not both
//    accepted, so numbers with a fraction or exponent never become pincodes).
//  - state is checked against the pincode only when the pincode itself is valid.
std::variant<LeadInput, std::vector<FieldError>> parse_lead(const boost::json::object& body,
                                                            const PincodeDirectory& pins,
                                                            CivilDate today);

// --- Messages shared with lead_flash (flash_validation.h) -------------------------------------
// The fixed message of a field whose normaliser failed, as parse_lead reports it.

inline constexpr std::string_view kMsgMobile = "Invalid mobile number format";
inline constexpr std::string_view kMsgEmail = "Invalid email address format";
inline constexpr std::string_view kMsgPan = "Invalid PAN number format";
inline constexpr std::string_view kMsgLoanType = "Loan type must be one of HL, LAP, PL, BL, CL, EL";
inline constexpr std::string_view kMsgPincodeFormat = "Invalid pincode format";
inline constexpr std::string_view kMsgPincodeUnknown = "Pincode not found";
inline constexpr std::string_view kMsgDateOfBirth =
    "Date of birth must be a valid date in YYYY-MM-DD format";
inline constexpr std::string_view kMsgGender = "Gender must be Male, Female or Other";

// --- Names ------------------------------------------------------------------------------------

inline constexpr std::size_t kNameMinChars = 2;
inline constexpr std::size_t kNameMaxChars = 50;

// `name` is already trimmed; `label` is "First name" or "Last name". Length (in characters) is
// checked first, then characters: ASCII letters, with ' ', '.', '\'' and '-' allowed only inside
// the name — never first or last, and never two in a row except ". " (initials, as in
// "A. R. Rahman"). Internal double spaces are rejected, not collapsed.
std::optional<std::string> validate_name(std::string_view name, std::string_view label);

// --- Contact and identity -------------------------------------------------------------------

// A practical RFC 5321 subset: dot-atom local part of 1-64 characters from
// [A-Za-z0-9!#$%&'*+/=?^_`{|}~.-] without leading, trailing or doubled dots; a domain of at most
// 253 characters, at least two labels of 1-63 letters, digits and '-' (not first or last), and an
// alphabetic top-level label of at least 2; at most 254 characters in all. No quoted local parts,
// no IP literals, no internationalised addresses. Trims, then lower-cases the domain only (the
// local part is case-sensitive in principle).
std::optional<std::string> normalize_email(std::string_view input);

// 8-4-4-4-12 hex digits (no trimming, no braces), lower-cased; nullopt otherwise.
std::optional<std::string> normalize_uuid(std::string_view text);

// Trims and upper-cases, then checks AAAAA9999A with the 4th letter a holder type (P person,
// C company, H HUF, F firm, A AOP, T trust, B BOI, L local authority, J artificial juridical
// person, G government). The 10th character is a check letter, but its algorithm is not public,
// so it is checked only for being a letter.
std::optional<std::string> normalize_pan(std::string_view input);

// --- Loan -----------------------------------------------------------------------------------

inline constexpr std::array<std::string_view, 6> kLoanTypes = {"HL", "LAP", "PL", "BL", "CL", "EL"};

// Trims and upper-cases (so "hl" is accepted as "HL"), then checks against kLoanTypes.
std::optional<std::string> normalize_loan_type(std::string_view input);
// The product name of a loan type code (exact, upper-case code), or nullptr for an unknown code.
const char* loan_type_name(std::string_view code);

inline constexpr std::int64_t kMinLoanAmount = 100'000;     // 1 lakh
inline constexpr std::int64_t kMaxLoanAmount = 50'000'000;  // 5 crore
inline constexpr std::int64_t kMinLoanTenure = 12;          // months
inline constexpr std::int64_t kMaxLoanTenure = 360;
inline constexpr std::int64_t kMinCreditScore = 300;
inline constexpr std::int64_t kMaxCreditScore = 900;
inline constexpr std::int64_t kMinAnnualIncome = 0;
inline constexpr std::int64_t kMaxAnnualIncome = 100'000'000;  // 10 crore

// Each bound inclusive.
std::optional<std::string> validate_loan_amount(std::int64_t rupees);
std::optional<std::string> validate_loan_tenure(std::int64_t months);
std::optional<std::string> validate_credit_score(std::int64_t score);
std::optional<std::string> validate_annual_income(std::int64_t rupees);

// --- Person -----------------------------------------------------------------------------------

inline constexpr int kMinAge = 18;
inline constexpr int kMaxAge = 65;

// True for a real proleptic-Gregorian date (leap years: divisible by 4, except centuries not
// divisible by 400), year 1-9999.
bool is_real_date(int year, int month, int day);
// Exactly "YYYY-MM-DD" (no trimming, no time part) naming a real date.
std::optional<CivilDate> parse_iso_date(std::string_view text);
// Age in full years on `today`. A 29 February birthday is reached on 1 March in common years
// (the day on which the person has lived the full number of years).
int age_on(CivilDate dob, CivilDate today);
// Age must be kMinAge..kMaxAge full years inclusive: 18 from the 18th birthday, and still 65 on
// the day before the 66th.
std::optional<std::string> validate_age(CivilDate dob, CivilDate today);

// Case-insensitive "male" | "female" | "other" (trimmed) → "Male" | "Female" | "Other".
std::optional<std::string> normalize_gender(std::string_view input);

// Exactly six ASCII digits, the first 1-9 (no trimming). Existence is PincodeDirectory's job.
bool is_pincode_format(std::string_view text);

// --- Reading a JSON body field by field (parse_lead's conventions, shared with parse_flash) ---

namespace detail {

// Reads fields in schema order and records at most one error per field. Absent and JSON null are
// the same; strings are trimmed of ASCII whitespace; wrong types give "<field> must be a string" /
// "must be a number" / "must be an integer" / "must be a boolean"; a missing required field gives
// "<field> is required". Integers are read as parse_lead documents (whole doubles accepted,
// values beyond 64 bits saturate).
class FieldReader {
 public:
  explicit FieldReader(const boost::json::object& body) : body_(body) {}

  void fail(std::string_view field, std::string message);
  std::vector<FieldError>& errors() { return errors_; }

  // A required string, trimmed; nullopt (error recorded) when absent, null or not a string.
  std::optional<std::string_view> required_string(std::string_view field);
  // An optional string, trimmed; nullopt when absent, null, blank, or not a string (error
  // recorded).
  std::optional<std::string_view> optional_string(std::string_view field);
  // An optional string of at most `max_chars` characters (UTF-8 code points); `message` otherwise.
  std::optional<std::string> bounded_string(std::string_view field, std::size_t max_chars,
                                            std::string_view message);
  std::optional<std::int64_t> required_integer(std::string_view field);
  std::optional<std::int64_t> optional_integer(std::string_view field);
  // `fallback` when absent or null, and (error recorded) when not a boolean.
  bool boolean(std::string_view field, bool fallback);

 private:
  const boost::json::value* find(std::string_view field) const;
  std::optional<std::string_view> as_string(std::string_view field, const boost::json::value& v);
  std::optional<std::int64_t> as_integer(std::string_view field, const boost::json::value& v);

  const boost::json::object& body_;
  std::vector<FieldError> errors_;
};

}  // namespace detail

}  // namespace leadgate
