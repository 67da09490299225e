#include "domain/lead_validation.h"

#include <cmath>
#include <limits>
#include <utility>

#include <boost/json/value.hpp>

#include "domain/environments.h"
#include "domain/mobile.h"
#include "domain/text.h"

namespace leadgate {

namespace {

// Messages as api-wireframes 1A gives them, or as agreed for the rules it leaves open (the ones
// lead_flash shares are in the header).
constexpr std::string_view kMsgEnvironment = "Environment must be orbit or homfinity";
constexpr std::string_view kMsgLoanAmount = "Loan amount must be between 1L-5Cr";
constexpr std::string_view kMsgLoanTenure = "Loan tenure must be between 12-360 months";
constexpr std::string_view kMsgCreditScore = "Credit score must be between 300-900";
constexpr std::string_view kMsgAnnualIncome = "Annual income must be between 0-10Cr";
constexpr std::string_view kMsgAge = "Age must be between 18-65 years";
constexpr std::string_view kMsgRemarks = "Remarks must be at most 500 characters";

constexpr std::size_t kMaxRemarksChars = 500;
constexpr std::size_t kMaxShortTextChars = 100;  // RM, customer id, QR short code

constexpr std::size_t kMaxEmailLength = 254;
constexpr std::size_t kMaxEmailLocalLength = 64;
constexpr std::size_t kMaxDomainLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

// Characters as a person counts them: UTF-8 code points (every byte that is not a continuation).
std::size_t char_count(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

std::optional<std::string> range_error(std::int64_t v, std::int64_t lo, std::int64_t hi,
                                       std::string_view message) {
  if (v < lo || v > hi) return std::string(message);
  return std::nullopt;
}

bool is_name_separator(char c) {
  return c == ' ' || c == '.' || c == '\'' || c == '-';
}

bool is_local_part_char(char c) {
  if (is_alnum(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~.-";
  return kSpecials.find(c) != std::string_view::npos;
}

bool is_valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > kMaxEmailLocalLength) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  for (char c : local) {
    if (!is_local_part_char(c)) return false;
  }
  return true;
}

bool is_valid_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomainLength) return false;
  std::size_t labels = 0;
  std::string_view last;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    last =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_valid_label(last)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2 || last.size() < 2) return false;
  for (char c : last) {
    if (!is_letter(c)) return false;
  }
  return true;
}

// ---- Reading the JSON body -------------------------------------------------------------------

namespace json = boost::json;

enum class NumberProblem { kNotNumber, kNotInteger };

// A JSON number as whole units. Values beyond 64 bits saturate, so the range checks reject them
// with the field's own message.
std::variant<std::int64_t, NumberProblem> whole_number(const json::value& v) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    const std::uint64_t u = v.get_uint64();
    return u > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(u);
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isnan(d)) return NumberProblem::kNotInteger;
    if (std::isinf(d)) return d > 0 ? kMax : kMin;
    if (std::trunc(d) != d) return NumberProblem::kNotInteger;
    constexpr double kTwoPow63 = 9223372036854775808.0;
    if (d >= kTwoPow63) return kMax;
    if (d < -kTwoPow63) return kMin;
    return static_cast<std::int64_t>(d);
  }
  return NumberProblem::kNotNumber;
}

}  // namespace

// ---- FieldReader (declared in the header; shared with the other request parsers) ----------

namespace detail {

namespace json = boost::json;

void FieldReader::fail(std::string_view field, std::string message) {
  errors_.push_back(FieldError{std::string(field), std::move(message)});
}

std::optional<std::string_view> FieldReader::required_string(std::string_view field) {
  const json::value* v = find(field);
  if (v == nullptr) {
    fail(field, std::string(field) + " is required");
    return std::nullopt;
  }
  return as_string(field, *v);
}

std::optional<std::string_view> FieldReader::optional_string(std::string_view field) {
  const json::value* v = find(field);
  if (v == nullptr) return std::nullopt;
  auto s = as_string(field, *v);
  if (s && s->empty()) return std::nullopt;
  return s;
}

std::optional<std::string> FieldReader::bounded_string(std::string_view field,
                                                       std::size_t max_chars,
                                                       std::string_view message) {
  auto s = optional_string(field);
  if (!s) return std::nullopt;
  if (char_count(*s) > max_chars) {
    fail(field, std::string(message));
    return std::nullopt;
  }
  return std::string(*s);
}

std::optional<std::int64_t> FieldReader::required_integer(std::string_view field) {
  const json::value* v = find(field);
  if (v == nullptr) {
    fail(field, std::string(field) + " is required");
    return std::nullopt;
  }
  return as_integer(field, *v);
}

std::optional<std::int64_t> FieldReader::optional_integer(std::string_view field) {
  const json::value* v = find(field);
  if (v == nullptr) return std::nullopt;
  return as_integer(field, *v);
}

bool FieldReader::boolean(std::string_view field, bool fallback) {
  const json::value* v = find(field);
  if (v == nullptr) return fallback;
  if (!v->is_bool()) {
    fail(field, std::string(field) + " must be a boolean");
    return fallback;
  }
  return v->get_bool();
}

const json::value* FieldReader::find(std::string_view field) const {
  const json::value* v = body_.if_contains(field);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<std::string_view> FieldReader::as_string(std::string_view field,
                                                       const json::value& v) {
  if (!v.is_string()) {
    fail(field, std::string(field) + " must be a string");
    return std::nullopt;
  }
  const json::string& s = v.get_string();
  return trim(std::string_view(s.data(), s.size()));
}

std::optional<std::int64_t> FieldReader::as_integer(std::string_view field, const json::value& v) {
  const auto n = whole_number(v);
  if (const auto* problem = std::get_if<NumberProblem>(&n)) {
    fail(field,
         std::string(field) +
             (*problem == NumberProblem::kNotNumber ? " must be a number" : " must be an integer"));
    return std::nullopt;
  }
  return std::get<std::int64_t>(n);
}

}  // namespace detail

using detail::FieldReader;

// ---- Building blocks -------------------------------------------------------------------------

std::optional<std::string> validate_name(std::string_view name, std::string_view label) {
  const std::size_t n = char_count(name);
  if (n < kNameMinChars || n > kNameMaxChars) {
    return std::string(label) + " must be 2-50 characters";
  }
  auto bad_chars = [&] {
    return std::string(label) + " may contain only letters, spaces, '.', ''' and '-'";
  };
  if (!is_letter(name.front()) || !is_letter(name.back())) return bad_chars();
  for (std::size_t i = 1; i < name.size(); ++i) {
    const char c = name[i];
    if (is_letter(c)) continue;
    if (!is_name_separator(c)) return bad_chars();
    const char prev = name[i - 1];
    if (is_name_separator(prev) && !(prev == '.' && c == ' ')) return bad_chars();
  }
  return std::nullopt;
}

std::optional<std::string> normalize_email(std::string_view input) {
  const std::string_view email = trim(input);
  if (email.size() > kMaxEmailLength) return std::nullopt;
  const std::size_t at = email.find('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);  // a second '@' fails the label check
  if (!is_valid_local_part(local) || !is_valid_domain(domain)) return std::nullopt;
  std::string out(email);
  for (std::size_t i = at + 1; i < out.size(); ++i) out[i] = to_lower(out[i]);
  return out;
}

std::optional<std::string> normalize_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return std::nullopt;
    if (c >= 'A' && c <= 'F') out[i] = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> normalize_pan(std::string_view input) {
  std::string pan = upper(trim(input));
  if (pan.size() != 10) return std::nullopt;
  for (std::size_t i = 0; i < 10; ++i) {
    const bool want_digit = i >= 5 && i <= 8;
    if (want_digit ? !is_digit(pan[i]) : !is_upper(pan[i])) return std::nullopt;
  }
  constexpr std::string_view kHolderTypes = "PCHFATBLJG";
  if (kHolderTypes.find(pan[3]) == std::string_view::npos) return std::nullopt;
  return pan;
}

std::optional<std::string> normalize_loan_type(std::string_view input) {
  std::string code = upper(trim(input));
  for (std::string_view known : kLoanTypes) {
    if (code == known) return code;
  }
  return std::nullopt;
}

const char* loan_type_name(std::string_view code) {
  if (code == "HL") return "Home Loan";
  if (code == "LAP") return "Loan Against Property";
  if (code == "PL") return "Personal Loan";
  if (code == "BL") return "Business Loan";
  if (code == "CL") return "Car Loan";
  if (code == "EL") return "Education Loan";
  return nullptr;
}

std::optional<std::string> validate_loan_amount(std::int64_t rupees) {
  return range_error(rupees, kMinLoanAmount, kMaxLoanAmount, kMsgLoanAmount);
}
std::optional<std::string> validate_loan_tenure(std::int64_t months) {
  return range_error(months, kMinLoanTenure, kMaxLoanTenure, kMsgLoanTenure);
}
std::optional<std::string> validate_credit_score(std::int64_t score) {
  return range_error(score, kMinCreditScore, kMaxCreditScore, kMsgCreditScore);
}
std::optional<std::string> validate_annual_income(std::int64_t rupees) {
  return range_error(rupees, kMinAnnualIncome, kMaxAnnualIncome, kMsgAnnualIncome);
}

bool is_real_date(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int last = month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
  return day <= last;
}

std::optional<CivilDate> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (!is_digit(text[i])) return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto y = number(0, 4);
  const auto m = number(5, 2);
  const auto d = number(8, 2);
  if (!y || !m || !d || !is_real_date(*y, *m, *d)) return std::nullopt;
  return CivilDate{*y, *m, *d};
}

int age_on(CivilDate dob, CivilDate today) {
  int age = today.year - dob.year;
  // Birthday not yet reached this year. For 29 Feb in a common year, (2, 28) < (2, 29) keeps the
  // person a year younger until 1 March.
  if (today.month < dob.month || (today.month == dob.month && today.day < dob.day)) --age;
  return age;
}

std::optional<std::string> validate_age(CivilDate dob, CivilDate today) {
  const int age = age_on(dob, today);
  if (age < kMinAge || age > kMaxAge) return std::string(kMsgAge);
  return std::nullopt;
}

std::optional<std::string> normalize_gender(std::string_view input) {
  const std::string g = upper(trim(input));
  if (g == "MALE") return "Male";
  if (g == "FEMALE") return "Female";
  if (g == "OTHER") return "Other";
  return std::nullopt;
}

bool is_pincode_format(std::string_view text) {
  if (text.size() != 6 || text.front() == '0') return false;
  for (char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// ---- The request -----------------------------------------------------------------------------

namespace {

void read_environment_and_names(FieldReader& r, LeadInput& lead) {
  if (auto s = r.required_string("environment")) {
    if (is_environment(*s)) {
      lead.environment = std::string(*s);
    } else {
      r.fail("environment", std::string(kMsgEnvironment));
    }
  }

  if (auto s = r.required_string("firstName")) {
    if (auto error = validate_name(*s, "First name")) {
      r.fail("firstName", std::move(*error));
    } else {
      lead.first_name = std::string(*s);
    }
  }
  if (auto s = r.required_string("lastName")) {
    if (auto error = validate_name(*s, "Last name")) {
      r.fail("lastName", std::move(*error));
    } else {
      lead.last_name = std::string(*s);
    }
  }
}

// The contact, identity and loan fields.
void read_contact_and_loan(FieldReader& r, LeadInput& lead) {
  // The normalisers below report failure without a message; the field's message is fixed.
  auto normalised = [&r](std::string_view field, std::string& out, std::string_view message,
                         auto normalize) {
    if (auto s = r.required_string(field)) {
      if (auto v = normalize(*s)) {
        out = std::move(*v);
      } else {
        r.fail(field, std::string(message));
      }
    }
  };
  normalised("mobile", lead.mobile, kMsgMobile, normalize_mobile);
  normalised("email", lead.email, kMsgEmail, normalize_email);
  normalised("pan", lead.pan, kMsgPan, normalize_pan);
  normalised("loanType", lead.loan_type, kMsgLoanType, normalize_loan_type);

  // Ranges fit in int once checked.
  auto ranged = [&r](std::string_view field, auto validate) -> std::optional<std::int64_t> {
    auto n = r.required_integer(field);
    if (!n) return std::nullopt;
    if (auto error = validate(*n)) {
      r.fail(field, std::move(*error));
      return std::nullopt;
    }
    return n;
  };
  if (auto n = ranged("loanAmountReq", validate_loan_amount)) lead.loan_amount_req = *n;
  if (auto n = ranged("loanTenure", validate_loan_tenure)) lead.loan_tenure = static_cast<int>(*n);
  if (auto n = ranged("creditScore", validate_credit_score)) {
    lead.credit_score = static_cast<int>(*n);
  }
}

// pincode and dateOfBirth; true when the pincode is known (state is checked against it).
bool read_pincode_and_age(FieldReader& r, const PincodeDirectory& pins, CivilDate today,
                          LeadInput& lead) {
  bool pincode_known = false;
  if (auto s = r.required_string("pincode")) {
    if (!is_pincode_format(*s)) {
      r.fail("pincode", std::string(kMsgPincodeFormat));
    } else if (!pins.state_of(*s)) {
      r.fail("pincode", std::string(kMsgPincodeUnknown));
    } else {
      lead.pincode = std::string(*s);
      pincode_known = true;
    }
  }

  if (auto s = r.required_string("dateOfBirth")) {
    if (const auto dob = parse_iso_date(*s); !dob) {
      r.fail("dateOfBirth", std::string(kMsgDateOfBirth));
    } else if (auto error = validate_age(*dob, today)) {
      r.fail("dateOfBirth", std::move(*error));
    } else {
      lead.date_of_birth = std::string(*s);
    }
  }
  return pincode_known;
}

void read_optional(FieldReader& r, const PincodeDirectory& pins, bool pincode_known,
                   LeadInput& lead) {
  if (auto s = r.optional_string("gender")) {
    if (auto g = normalize_gender(*s)) {
      lead.gender = std::move(*g);
    } else {
      r.fail("gender", std::string(kMsgGender));
    }
  }

  if (auto n = r.optional_integer("annualIncome")) {
    if (auto error = validate_annual_income(*n)) {
      r.fail("annualIncome", std::move(*error));
    } else {
      lead.annual_income = *n;
    }
  }

  lead.application_assigned_to_rm =
      r.bounded_string("applicationAssignedToRm", kMaxShortTextChars,
                       "applicationAssignedToRm must be at most 100 characters");
  lead.remarks = r.bounded_string("remarks", kMaxRemarksChars, kMsgRemarks);

  if (auto s = r.optional_string("state"); s && pincode_known) {
    if (pins.state_matches(lead.pincode, *s)) {
      lead.state = std::string(pins.state_of(lead.pincode).value_or(*s));
    } else {
      r.fail("state", "State does not match pincode (expected " +
                          std::string(pins.state_of(lead.pincode).value_or("")) + ")");
    }
  }

  lead.customer_id = r.bounded_string("customerId", kMaxShortTextChars,
                                      "customerId must be at most 100 characters");
  lead.qr_short_code = r.bounded_string("qrShortCode", kMaxShortTextChars,
                                        "qrShortCode must be at most 100 characters");

  lead.include_credit_score = r.boolean("includeCreditScore", true);
  lead.is_lead_prefilled = r.boolean("isLeadPrefilled", false);
}

}  // namespace

std::variant<LeadInput, std::vector<FieldError>> parse_lead(const boost::json::object& body,
                                                            const PincodeDirectory& pins,
                                                            CivilDate today) {
  FieldReader r(body);
  LeadInput lead;
  read_environment_and_names(r, lead);
  read_contact_and_loan(r, lead);
  const bool pincode_known = read_pincode_and_age(r, pins, today, lead);
  read_optional(r, pins, pincode_known, lead);
  if (!r.errors().empty()) return std::move(r.errors());
  return lead;
}

}  // namespace leadgate
