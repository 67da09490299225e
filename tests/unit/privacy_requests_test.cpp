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
