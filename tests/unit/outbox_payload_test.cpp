#include "domain/outbox_payload.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace leadgate {
namespace {

TEST(OutboxPayload, TemplateRoundTrip) {
  const auto json = outbox_template_payload("919876543210", "lead_created", {"Asha", "B7Q2K9D"},
                                            Recipient::customer);
  EXPECT_EQ(json, R"({"destination":"919876543210","template_id":"lead_created",)"
                  R"("params":["Asha","B7Q2K9D"],"customer_notification":true})");
  const auto p = parse_outbox_payload("whatsapp_template", json);
  EXPECT_EQ(p.destination, "919876543210");
  EXPECT_EQ(p.template_id, "lead_created");
  EXPECT_EQ(p.params, (std::vector<std::string>{"Asha", "B7Q2K9D"}));
  EXPECT_FALSE(p.exempt_opt_out);
  EXPECT_TRUE(p.customer_notification);
}

TEST(OutboxPayload, StaffMessagesAndOlderRowsAreNotCustomerNotifications) {
  const auto staff =
      outbox_template_payload("919876543210", "rm_appointment", {}, Recipient::staff);
  EXPECT_FALSE(parse_outbox_payload("whatsapp_template", staff).customer_notification);
  EXPECT_FALSE(parse_outbox_payload("whatsapp_template",
                                    R"({"destination":"91","template_id":"t","params":[]})")
                   .customer_notification);
  EXPECT_FALSE(parse_outbox_payload("whatsapp_text", outbox_text_payload("91", "hi", true))
                   .customer_notification);
}

TEST(OutboxPayload, TextRoundTripKeepsTheExemption) {
  const auto exempt = parse_outbox_payload("whatsapp_text", outbox_text_payload("91", "hi", true));
  EXPECT_EQ(exempt.text, "hi");
  EXPECT_TRUE(exempt.exempt_opt_out);
  EXPECT_FALSE(
      parse_outbox_payload("whatsapp_text", outbox_text_payload("91", "hi", false)).exempt_opt_out);
}

TEST(OutboxPayload, RowsWrittenBeforeTheExemptionExistedReadAsNotExempt) {
  const auto p = parse_outbox_payload("whatsapp_text", R"({"destination":"91","text":"x"})");
  EXPECT_FALSE(p.exempt_opt_out);
  EXPECT_FALSE(
      parse_outbox_payload("whatsapp_text", R"({"destination":"91","text":"x","exempt_opt_out":1})")
          .exempt_opt_out);
}

TEST(OutboxPayload, AMissingOrMistypedMemberThrows) {
  EXPECT_ANY_THROW(parse_outbox_payload("whatsapp_text", R"({"destination":"91"})"));
  EXPECT_ANY_THROW(
      parse_outbox_payload("whatsapp_template", R"({"destination":"91","params":[]})"));
  EXPECT_ANY_THROW(parse_outbox_payload("whatsapp_template",
                                        R"({"destination":"91","template_id":"t","params":[1]})"));
  EXPECT_ANY_THROW(parse_outbox_payload("whatsapp_text", R"({"text":"x"})"));
  EXPECT_ANY_THROW(parse_outbox_payload("whatsapp_text", "not json"));
}

}  // namespace
}  // namespace leadgate
