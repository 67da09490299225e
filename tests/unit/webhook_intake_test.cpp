// Pure parts of the webhook front door and the assistant's replies.
#include "services/webhook_intake.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "domain/assistant_replies.h"
#include "services/timeline.h"

namespace leadgate {
namespace {

TEST(WebhookChallenge, BothSpellingsConstantTimeToken) {
  EXPECT_EQ(webhook_challenge({{"hub.mode", "subscribe"},
                               {"hub.verify_token", "secret-token"},
                               {"hub.challenge", "1158201444"}},
                              "secret-token"),
            "1158201444");
  EXPECT_EQ(webhook_challenge({{"hub_mode", "subscribe"},
                               {"hub_verify_token", "secret-token"},
                               {"hub_challenge", "abc"}},
                              "secret-token"),
            "abc");
  EXPECT_FALSE(webhook_challenge(
      {{"hub.mode", "subscribe"}, {"hub.verify_token", "wrong"}, {"hub.challenge", "1"}},
      "secret-token"));
  EXPECT_FALSE(webhook_challenge(
      {{"hub.mode", "unsubscribe"}, {"hub.verify_token", "secret-token"}, {"hub.challenge", "1"}},
      "secret-token"));
  EXPECT_FALSE(webhook_challenge({{"hub.mode", "subscribe"}, {"hub.verify_token", "secret-token"}},
                                 "secret-token"));
  EXPECT_FALSE(webhook_challenge(
      {{"hub.mode", "subscribe"}, {"hub.verify_token", ""}, {"hub.challenge", "1"}}, ""));
}

TEST(MetaSignature, HmacOfTheRawBytes) {
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string good = "sha256=" + hex_encode(hmac_sha256("app-secret", body));
  EXPECT_TRUE(valid_meta_signature("app-secret", body, good));
  std::string upper = good;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  upper.replace(0, 7, "sha256=");
  EXPECT_TRUE(valid_meta_signature("app-secret", body, upper));  // hex case does not matter
  EXPECT_FALSE(valid_meta_signature("other-secret", body, good));
  EXPECT_FALSE(valid_meta_signature("app-secret", body + " ", good));      // bytes, not JSON
  EXPECT_FALSE(valid_meta_signature("app-secret", body, good.substr(7)));  // prefix required
  EXPECT_FALSE(valid_meta_signature("app-secret", body, ""));
  EXPECT_FALSE(valid_meta_signature("", body, "sha256=" + hex_encode(hmac_sha256("", body))));
}

TEST(IpAllowed, AddressesAndIpv4Cidr) {
  EXPECT_TRUE(ip_allowed("", "203.0.113.7"));
  EXPECT_TRUE(ip_allowed("203.0.113.7", "203.0.113.7"));
  EXPECT_FALSE(ip_allowed("203.0.113.7", "203.0.113.8"));
  EXPECT_TRUE(ip_allowed("10.0.0.1, 203.0.113.0/24", "203.0.113.200"));
  EXPECT_FALSE(ip_allowed("203.0.113.0/24", "203.0.114.1"));
  EXPECT_TRUE(ip_allowed("127.0.0.1", "::ffff:127.0.0.1"));  // v4-mapped
  EXPECT_TRUE(ip_allowed("::1", "::1"));
  EXPECT_FALSE(ip_allowed("127.0.0.1", "not-an-ip"));
}

TEST(EnvironmentFor, AppNameOrBusinessNumber) {
  Config c = load_config(
      std::map<std::string, std::string>{{"LEADGATE_ORBIT_GUPSHUP_APP_NAME", "OrbitLoans"},
                                         {"LEADGATE_HOMFINITY_GUPSHUP_SOURCE", "917834811114"}});
  EXPECT_EQ(environment_for(c, Provider::gupshup, "orbitloans"), "orbit");
  EXPECT_EQ(environment_for(c, Provider::gupshup, "SomeoneElse"), "");
  EXPECT_EQ(environment_for(c, Provider::meta, "+91 78348 11114"), "homfinity");
  EXPECT_EQ(environment_for(c, Provider::meta, "15550001111"), "");
  EXPECT_EQ(environment_for(c, Provider::meta, ""), "");
}

TEST(InboxEvents, OneSealedRowPerItem) {
  Config c = load_config(
      std::map<std::string, std::string>{{"LEADGATE_ORBIT_GUPSHUP_APP_NAME", "OrbitLoans"}});
  const PiiCipher cipher(std::string(32, 'k'));
  WebhookBatch b;
  InboundMessage m;
  m.provider_message_id = "gs-1";
  m.from = "9876543210";
  m.from_valid = true;
  m.to_business_number = "OrbitLoans";
  m.type = "text";
  m.text = "status";
  b.messages.push_back(m);
  StatusEvent s;
  s.provider_message_id = "out-1";
  s.status = "read";
  s.event_id = "gupshup:status:out-1:read";
  b.statuses.push_back(s);
  const auto rows = inbox_events(b, c, cipher, 1000);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].event_id, "gupshup:message:gs-1");
  EXPECT_EQ(rows[0].kind, "message");
  EXPECT_EQ(rows[0].environment, "orbit");
  EXPECT_EQ(rows[0].payload_enc.find("9876543210"), std::string::npos);  // sealed
  const auto item = boost::json::parse(cipher.open("inbox", rows[0].payload_enc));
  EXPECT_EQ(item.at("from"), "9876543210");
  EXPECT_EQ(item.at("text"), "status");
  EXPECT_EQ(rows[1].event_id, "gupshup:status:out-1:read");
  EXPECT_EQ(rows[1].kind, "status");
  EXPECT_EQ(rows[1].received_at, 1000);
}

TEST(AssistantReplies, WireframeStatusText) {
  const auto texts = default_assistant_texts();
  const std::string reply =
      fill_placeholders(texts.at("status"), {{"name", "John"},
                                             {"product", product_phrase("HL")},
                                             {"id", "B002BJF"},
                                             {"status", status_phrase("Under Review")},
                                             {"expected", expected_sentence(Stage::under_review)},
                                             {"others", ""}});
  EXPECT_EQ(reply,
            "Hi John! Your home loan application B002BJF is currently under review. Expected "
            "completion: 3-5 business days. Need help? Reply 'help'");
}

TEST(AssistantReplies, PlaceholdersPhrasesAndChecks) {
  EXPECT_EQ(fill_placeholders("{a} and {b} and {unknown}", {{"a", "1"}, {"b", "{a}"}}),
            "1 and {a} and {unknown}");  // values are not expanded again
  EXPECT_EQ(fill_placeholders("{", {}), "{");
  EXPECT_EQ(status_phrase("Documents Pending"), "documents pending");
  EXPECT_EQ(status_phrase("KYC Pending"), "KYC Pending");
  EXPECT_EQ(status_phrase("Stage-2 review"), "Stage-2 review");
  EXPECT_EQ(product_phrase("LAP"), "loan against property");
  EXPECT_EQ(product_phrase("??"), "loan");
  EXPECT_EQ(expected_sentence(Stage::approved), "Next: Review and sign the sanction letter.");
  EXPECT_FALSE(check_assistant_text("status", "{id} is {status}"));
  EXPECT_TRUE(check_assistant_text("status", "Your application is fine"));
  EXPECT_TRUE(check_assistant_text("greeting", "hi"));
  EXPECT_TRUE(check_assistant_text("help", ""));
  EXPECT_FALSE(check_assistant_text("help", "Call {support_phone}"));
}

TEST(Timeline, ReceiptsAndConversationJoin) {
  OutboxMessage m;
  m.id = 3;
  m.created_at = 10;
  DeliveryReceipt delivered{"p1", "delivered", 50, "", "", 51, 3};
  DeliveryReceipt sent{"p1", "sent", 40, "", "", 41, 3};
  DeliveryReceipt failed{"p2", "failed", 60, "131026", "Message undeliverable", 61, 3};
  ConversationMessage in;
  in.direction = "in";
  in.classification = "status";
  in.msg_type = "text";
  in.created_at = 70;
  in.application_id = "B002BJF";
  ConversationMessage reply_in_outbox;
  reply_in_outbox.direction = "out";
  reply_in_outbox.outbox_id = 3;
  reply_in_outbox.created_at = 71;
  ConversationMessage other_reply;
  other_reply.direction = "out";
  other_reply.outbox_id = 9;
  other_reply.classification = "help";
  other_reply.created_at = 72;
  const auto events =
      build_timeline({}, {m}, {}, [](const OutboxMessage&) { return std::string("status_update"); },
                     {sent, delivered, failed}, {in, reply_in_outbox, other_reply});
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.event);
  EXPECT_EQ(names, (std::vector<std::string>{"whatsapp_queued", "whatsapp_delivered",
                                             "whatsapp_delivery_failed", "whatsapp_received",
                                             "whatsapp_reply"}));
  EXPECT_EQ(events[2].details.at("error_code"), "131026");
  EXPECT_EQ(events[3].details.at("application_id"), "B002BJF");
}

}  // namespace
}  // namespace leadgate
