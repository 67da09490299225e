#include "domain/flash_validation.h"

#include <array>
#include <limits>
#include <utility>

#include <boost/json/value.hpp>

#include "domain/mobile.h"
#include "domain/text.h"

namespace leadgate {

namespace {

using detail::FieldReader;

// Comparison key for list values: lower-cased ASCII, runs of whitespace as one space (the input is
// already trimmed).
std::string list_key(std::string_view s) {
  std::string key;
  key.reserve(s.size());
  for (char c : s) {
    if (is_space(c)) {
      if (!key.empty() && key.back() != ' ') key.push_back(' ');
    } else {
      key.push_back(to_lower(c));
    }
  }
  if (!key.empty() && key.back() == ' ') key.pop_back();
  return key;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string join(const std::vector<IdName>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += std::to_string(item.id) + " (" + item.name + ")";
  }
  return out;
}

const std::string* find_in_list(const std::vector<std::string>& list, std::string_view value) {
  const std::string key = list_key(value);
  for (const auto& item : list) {
    if (list_key(item) == key) return &item;
  }
  return nullptr;
}

// Present in the body and not null (FieldReader treats null as absent).
bool present(const boost::json::object& body, std::string_view field) {
  const boost::json::value* v = body.if_contains(field);
  return v != nullptr && !v->is_null();
}

const IdName* find_id(const std::vector<IdName>& list, std::int64_t id) {
  for (const auto& item : list) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

const IdName* find_name(const std::vector<IdName>& list, std::string_view name) {
  const std::string key = list_key(name);
  for (const auto& item : list) {
    if (list_key(item.name) == key) return &item;
  }
  return nullptr;
}

// ---- States ----------------------------------------------------------------------------------

}  // namespace

// ---- Lists -----------------------------------------------------------------------------------

const std::vector<std::string>& property_types() {
  static const std::vector<std::string> kList = {"Apartment", "Independent House", "Villa",
                                                 "Plot",      "Builder Floor",     "Commercial"};
  return kList;
}

const std::vector<std::string>& agreement_types() {
  static const std::vector<std::string> kList = {"Sale Deed", "Agreement to Sale",
                                                 "Allotment Letter", "Gift Deed", "Lease Deed"};
  return kList;
}

const std::vector<std::string>& usage_types() {
  static const std::vector<std::string> kList = {"residential", "commercial"};
  return kList;
}

const std::vector<IdName>& salary_credit_modes() {
  static const std::vector<IdName> kList = {{1, "Bank Transfer"}, {2, "Cheque"}, {3, "Cash"}};
  return kList;
}

const std::vector<IdName>& self_company_types() {
  static const std::vector<IdName> kList = {
      {1, "Proprietorship"},  {2, "Partnership"},    {3, "LLP"},
      {4, "Private Limited"}, {5, "Public Limited"}, {6, "HUF"}};
  return kList;
}

// ---- Location ----------------------------------------------------------------------------------

std::optional<std::string> check_location_state(std::string_view location, std::string_view pincode,
                                                const PincodeDirectory& pins) {
  const std::optional<std::string_view> expected = pins.state_of(pincode);
  if (!expected) return std::nullopt;

  bool named = false;
  auto consider = [&](std::string_view part) {  // true when `part` is the pincode's state
    if (!pins.names_a_state(part)) return false;
    named = true;
    return pins.state_matches(pincode, part);
  };
  if (consider(location)) return std::nullopt;
  std::size_t start = 0;
  while (start <= location.size()) {
    const std::size_t end = location.find_first_of(",;\n", start);
    const std::string_view part = location.substr(
        start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (consider(part)) return std::nullopt;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (!named) return std::nullopt;
  return "Location does not match pincode state (expected " + std::string(*expected) + ")";
}

// ---- The request -------------------------------------------------------------------------------

namespace {

// applicationId, and professionId/professionName, which must name the same profession.
void read_application(FieldReader& r, const boost::json::object& body,
                      const ProfessionCatalogue& professions, FlashInput& in) {
  if (auto s = r.required_string("applicationId")) {
    if (s->empty()) {
      r.fail("applicationId", "applicationId is required");
    } else if (auto id = normalize_uuid(*s)) {
      in.application_id = std::move(*id);
    } else {
      r.fail("applicationId", "applicationId must be a UUID");
    }
  }

  const Profession* profession = nullptr;
  if (auto n = r.required_integer("professionId")) {
    if (*n >= std::numeric_limits<int>::min() && *n <= std::numeric_limits<int>::max()) {
      profession = professions.find(static_cast<int>(*n));
    }
    if (profession == nullptr) r.fail("professionId", "Unknown professionId");
  }
  // professionName's errors go after professionId's, which a mismatch also produces: read it
  // with its own reader and append.
  FieldReader name_reader(body);
  if (auto s = name_reader.required_string("professionName")) {
    if (s->empty()) {
      name_reader.fail("professionName", "professionName is required");
    } else if (profession != nullptr) {
      if (professions.name_matches(profession->id, *s)) {
        in.profession_id = profession->id;
        in.profession_name = profession->name;
      } else {
        const std::string id = std::to_string(profession->id);
        r.fail("professionId", "professionId " + id + " does not match professionName");
        name_reader.fail("professionName", "professionName does not match professionId " + id +
                                               " (" + profession->name + ")");
      }
    }
  }
  for (auto& e : name_reader.errors()) r.fail(e.field, std::move(e.message));
}

// Core personal data: optional, create_lead's rules.
void read_personal(FieldReader& r, const PincodeDirectory& pins, CivilDate today, FlashInput& in) {
  auto name = [&r](std::string_view field, std::string_view label,
                   std::optional<std::string>& out) {
    if (auto s = r.optional_string(field)) {
      if (auto error = validate_name(*s, label)) {
        r.fail(field, std::move(*error));
      } else {
        out = std::string(*s);
      }
    }
  };
  name("firstName", "First name", in.first_name);
  name("lastName", "Last name", in.last_name);

  auto normalised = [&r](std::string_view field, std::optional<std::string>& out,
                         std::string_view message, auto normalize) {
    if (auto s = r.optional_string(field)) {
      if (auto v = normalize(*s)) {
        out = std::move(*v);
      } else {
        r.fail(field, std::string(message));
      }
    }
  };
  normalised("mobile", in.mobile, kMsgMobile, normalize_mobile);
  normalised("email", in.email, kMsgEmail, normalize_email);
  normalised("pan", in.pan, kMsgPan, normalize_pan);
  normalised("loanType", in.loan_type, kMsgLoanType, normalize_loan_type);

  // Each bound checked before narrowing (the ranges fit in int).
  auto ranged = [&r](std::string_view field, auto validate) -> std::optional<std::int64_t> {
    auto n = r.optional_integer(field);
    if (!n) return std::nullopt;
    if (auto error = validate(*n)) {
      r.fail(field, std::move(*error));
      return std::nullopt;
    }
    return n;
  };
  in.loan_amount_req = ranged("loanAmountReq", validate_loan_amount);
  if (auto n = ranged("loanTenure", validate_loan_tenure)) in.loan_tenure = static_cast<int>(*n);
  if (auto n = ranged("creditScore", validate_credit_score)) in.credit_score = static_cast<int>(*n);

  if (auto s = r.optional_string("pincode")) {
    if (!is_pincode_format(*s)) {
      r.fail("pincode", std::string(kMsgPincodeFormat));
    } else if (!pins.state_of(*s)) {
      r.fail("pincode", std::string(kMsgPincodeUnknown));
    } else {
      in.pincode = std::string(*s);
    }
  }

  if (auto s = r.optional_string("dateOfBirth")) {
    if (const auto dob = parse_iso_date(*s); !dob) {
      r.fail("dateOfBirth", std::string(kMsgDateOfBirth));
    } else if (auto error = validate_age(*dob, today)) {
      r.fail("dateOfBirth", std::move(*error));
    } else {
      in.date_of_birth = std::string(*s);
    }
  }

  normalised("gender", in.gender, kMsgGender, normalize_gender);
}

void read_property(FieldReader& r, const boost::json::object& body, const PincodeDirectory& pins,
                   FlashInput& in) {
  in.property_identified = r.boolean("propertyIdentified", false);

  auto from_list = [&r](std::string_view field, const std::vector<std::string>& list,
                        std::optional<std::string>& out) {
    if (auto s = r.optional_string(field)) {
      if (const std::string* item = find_in_list(list, *s)) {
        out = *item;
      } else {
        r.fail(field, std::string(field) + " must be one of " + join(list));
      }
    }
  };

  in.property_name = r.bounded_string("propertyName", kMaxPropertyTextChars,
                                      "propertyName must be at most 200 characters");
  from_list("propertyType", property_types(), in.property_type);
  from_list("agreementType", agreement_types(), in.agreement_type);
  in.location = r.bounded_string("location", kMaxPropertyTextChars,
                                 "location must be at most 200 characters");
  if (in.location && in.pincode) {
    if (auto error = check_location_state(*in.location, *in.pincode, pins)) {
      r.fail("location", std::move(*error));
    }
  }
  from_list("usageType", usage_types(), in.usage_type);

  if (auto n = r.optional_integer("propertyValue")) {
    if (*n < 0 || *n > kMaxPropertyValue) {
      r.fail("propertyValue", "propertyValue must be between 0-1000Cr");
    } else {
      in.property_value = *n;
    }
  } else if (in.property_identified && !present(body, "propertyValue")) {
    r.fail("propertyValue", "propertyValue is required when propertyIdentified is true");
  }
}

// The salary credit mode, by id or name (both must agree when both are given).
void read_salary_credit_mode(FieldReader& r, const boost::json::object& body, FlashInput& in) {
  const IdName* mode = nullptr;
  const bool mode_id_given = present(body, "salaryCreditModeId");
  if (auto n = r.optional_integer("salaryCreditModeId")) {
    mode = find_id(salary_credit_modes(), *n);
    if (mode == nullptr) {
      r.fail("salaryCreditModeId",
             "salaryCreditModeId must be one of " + join(salary_credit_modes()));
    }
  }
  if (auto s = r.optional_string("salaryCreditModeName")) {
    if (mode != nullptr) {
      if (list_key(*s) != list_key(mode->name)) {
        r.fail("salaryCreditModeName", "salaryCreditModeName does not match salaryCreditModeId " +
                                           std::to_string(mode->id) + " (" + mode->name + ")");
        mode = nullptr;
      }
    } else if (!mode_id_given) {
      mode = find_name(salary_credit_modes(), *s);
      if (mode == nullptr) {
        std::vector<std::string> names;
        for (const auto& m : salary_credit_modes()) names.push_back(m.name);
        r.fail("salaryCreditModeName", "salaryCreditModeName must be one of " + join(names));
      }
    }
  }
  if (mode != nullptr) {
    in.salary_credit_mode_id = mode->id;
    in.salary_credit_mode_name = mode->name;
  }
}

void read_employment(FieldReader& r, const boost::json::object& body, FlashInput& in) {
  read_salary_credit_mode(r, body, in);
  if (auto n = r.optional_integer("selfCompanyTypeId")) {
    if (const IdName* type = find_id(self_company_types(), *n)) {
      in.self_company_type_id = type->id;
    } else {
      r.fail("selfCompanyTypeId", "selfCompanyTypeId must be one of " + join(self_company_types()));
    }
  }

  in.company_name = r.bounded_string("companyName", kMaxCompanyNameChars,
                                     "companyName must be at most 100 characters");

  if (auto n = r.optional_integer("coBorrowerIncome")) {
    if (*n < 0 || *n > kMaxCoBorrowerIncome) {
      r.fail("coBorrowerIncome", "coBorrowerIncome must be between 0-10Cr");
    } else {
      in.co_borrower_income = *n;
    }
  }
}

}  // namespace

std::variant<FlashInput, std::vector<FieldError>> parse_flash(
    const boost::json::object& body, const ProfessionCatalogue& professions,
    const PincodeDirectory& pins, CivilDate today) {
  FieldReader r(body);
  FlashInput in;
  read_application(r, body, professions, in);
  read_personal(r, pins, today, in);
  read_property(r, body, pins, in);
  read_employment(r, body, in);
  if (!r.errors().empty()) return std::move(r.errors());
  return in;
}

}  // namespace leadgate
