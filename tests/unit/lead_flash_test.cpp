#include "services/lead_flash.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "partners/basic_app.h"

namespace leadgate {
namespace {

ProfessionCatalogue catalogue() {
  return ProfessionCatalogue::from_rows(
      {{1, "Software Engineer", EmploymentType::salaried, {"SDE"}},
       {20, "Doctor", EmploymentType::self_employed_professional, {}}});
}

TEST(MergeCoreFields, OnlyPresentFieldsReplaceTheStoredOnes) {
  LeadInput lead;
  lead.first_name = "Asha";
  lead.email = "asha@example.com";
  lead.loan_amount_req = 2'500'000;
  lead.gender = "Female";
  FlashInput flash;
  flash.email = "asha.v@example.com";
  flash.loan_tenure = 120;
  merge_core_fields(flash, lead);
  EXPECT_EQ(lead.first_name, "Asha");
  EXPECT_EQ(lead.email, "asha.v@example.com");
  EXPECT_EQ(lead.loan_amount_req, 2'500'000);
  EXPECT_EQ(lead.loan_tenure, 120);
  EXPECT_EQ(lead.gender, "Female");
}

TEST(FlashDetailsJson, CarriesTheDetailsAndTheEmploymentType) {
  FlashInput flash;
  flash.profession_id = 20;
  flash.profession_name = "Doctor";
  flash.property_identified = true;
  flash.property_value = 5'000'000;
  flash.property_type = "Apartment";
  const auto details = flash_details_json(flash, catalogue());
  EXPECT_EQ(details.at("professionId").as_int64(), 20);
  EXPECT_EQ(details.at("employmentType").as_string(), "self_employed_professional");
  EXPECT_EQ(details.at("propertyValue").as_int64(), 5'000'000);
  EXPECT_TRUE(details.at("propertyIdentified").as_bool());
  EXPECT_FALSE(details.contains("companyName"));  // absent stays absent
}

TEST(ParseSelfFulfilmentAnswer, AcceptsCompletedWithReference) {
  const auto done = parse_self_fulfilment_answer(
      R"({"success": true, "data": {"status": "completed", "reference": "SF-1"}})");
  EXPECT_EQ(done.status, "completed");
  EXPECT_EQ(done.reference, "SF-1");
}

TEST(ParseSelfFulfilmentAnswer, FailuresAreNotRetried) {
  for (const char* body :
       {"<html>", R"({"success": false, "message": "bad property"})",
        R"({"success": true, "data": {"status": "pending", "reference": "SF-1"}})",
        R"({"success": true, "data": {"status": "completed"}})"}) {
    try {
      parse_self_fulfilment_answer(body);
      FAIL() << body;
    } catch (const PartnerError& e) {
      EXPECT_FALSE(e.retryable) << body;
    }
  }
  try {
    parse_self_fulfilment_answer(R"({"success": false, "message": "bad property"})");
  } catch (const PartnerError& e) {
    EXPECT_EQ(e.partner_message, "bad property");
    EXPECT_EQ(e.outcome, "rejected");
  }
}

}  // namespace
}  // namespace leadgate
