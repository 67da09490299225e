// domain/privacy_requests.h: the data-protection requests and the consent state per purpose.
#include "domain/privacy_requests.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

boost::json::object body(std::string_view json) {
  return boost::json::parse(json).as_object();
}

std::vector<FieldError> errors_of(std::string_view json, bool with_purpose) {
  auto r = parse_privacy_request(body(json), with_purpose);
  if (auto* e = std::get_if<std::vector<FieldError>>(&r)) return *e;
  return {};
}

TEST(PrivacyRequest, NormalisesTheMobile) {
  auto r = parse_privacy_request(body(R"({"mobile_number":"+91 98765 43210"})"), false);
  ASSERT_TRUE(std::holds_alternative<PrivacyRequest>(r));
  EXPECT_EQ(std::get<PrivacyRequest>(r).mobile, "9876543210");
  EXPECT_EQ(std::get<PrivacyRequest>(r).purpose, "");
}

TEST(PrivacyRequest, NamesEveryBadField) {
  EXPECT_EQ(errors_of("{}", true),
            (std::vector<FieldError>{{"mobile_number", "mobile_number is required"},
                                     {"purpose", "purpose is required"}}));
  EXPECT_EQ(
      errors_of(R"({"mobile_number":"12345","purpose":"marketing"})", true),
      (std::vector<FieldError>{
          {"mobile_number", "Invalid mobile number format"},
          {"purpose", "purpose must be one of whatsapp_otp, whatsapp_updates, loan_processing"}}));
  EXPECT_EQ(errors_of(R"({"mobile_number":"  "})", false),
            (std::vector<FieldError>{{"mobile_number", "mobile_number is required"}}));
  EXPECT_EQ(errors_of(R"({"mobile_number":9876543210})", false).size(), 1u);  // not a string
  EXPECT_TRUE(errors_of(R"({"mobile_number":"9876543210","purpose":"x"})", false).empty())
      << "purpose is read only for withdrawals";
}

TEST(PrivacyRequest, AcceptsEachPurpose) {
  for (const auto purpose : kConsentPurposes) {
    const std::string json =
        R"({"mobile_number":"9876543210","purpose":")" + std::string(purpose) + R"("})";
    auto r = parse_privacy_request(body(json), true);
    ASSERT_TRUE(std::holds_alternative<PrivacyRequest>(r)) << purpose;
    EXPECT_EQ(std::get<PrivacyRequest>(r).purpose, purpose);
  }
}

TEST(PrivacyRequest, ErasureNeedsAReasonOfAtMost500Characters) {
  const auto parse = [](const std::string& json) {
    return parse_privacy_request(body(json), false, true);
  };
  auto ok = parse(R"({"mobile_number":"9876543210","reason":"  customer asked by e-mail  "})");
  ASSERT_TRUE(std::holds_alternative<PrivacyRequest>(ok));
  EXPECT_EQ(std::get<PrivacyRequest>(ok).reason, "customer asked by e-mail");
  const auto field_error = [&](const std::string& json) {
    auto r = parse(json);
    if (!std::holds_alternative<std::vector<FieldError>>(r)) return std::string("accepted");
    const auto& errors = std::get<std::vector<FieldError>>(r);
    return errors.size() == 1 ? errors[0].field + ": " + errors[0].message : std::string("many");
  };
  EXPECT_EQ(field_error(R"({"mobile_number":"9876543210"})"), "reason: reason is required");
  EXPECT_EQ(field_error(R"({"mobile_number":"9876543210","reason":"   "})"),
            "reason: reason is required");
  const std::string at_limit(500, 'r');
  const std::string over(501, 'r');
  EXPECT_EQ(field_error(R"({"mobile_number":"9876543210","reason":")" + at_limit + R"("})"),
            "accepted");
  EXPECT_EQ(field_error(R"({"mobile_number":"9876543210","reason":")" + over + R"("})"),
            "reason: reason must be at most 500 characters");
}

TEST(SweepDuration, AWholeNumberAndAUnit) {
  EXPECT_EQ(parse_duration_ms("0s"), 0);
  EXPECT_EQ(parse_duration_ms("45s"), 45'000);
  EXPECT_EQ(parse_duration_ms("90m"), 5'400'000);
  EXPECT_EQ(parse_duration_ms("12h"), 43'200'000);
  EXPECT_EQ(parse_duration_ms("30d"), 2'592'000'000);
  for (const char* bad : {"", "s", "30", "30w", "-1d", "1.5d", "d30", "30 d", "99999999999999d"}) {
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
  }
}

TEST(ConsentStates, NoneUntilAnEventThenTheLatest) {
  EXPECT_EQ(consent_states({}), (std::map<std::string, std::string>{{"whatsapp_otp", "none"},
                                                                    {"whatsapp_updates", "none"},
                                                                    {"loan_processing", "none"}}));
  EXPECT_EQ(consent_states({{"whatsapp_updates", "granted"},
                            {"loan_processing", "granted"},
                            {"whatsapp_updates", "withdrawn"},
                            {"marketing", "granted"},         // not a purpose: ignored
                            {"whatsapp_otp", "forgotten"}}),  // not an action: ignored
            (std::map<std::string, std::string>{{"whatsapp_otp", "none"},
                                                {"whatsapp_updates", "withdrawn"},
                                                {"loan_processing", "granted"}}));
}

}  // namespace
}  // namespace leadgate
