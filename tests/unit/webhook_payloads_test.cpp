#include "domain/webhook_payloads.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <variant>

#include "domain/whatsapp_classifier.h"

namespace leadgate {
namespace {

// The samples in shared/samples/whatsapp, copied verbatim so the test does not read outside the
// repository.
constexpr std::string_view kGupshupDelivered = R"({
  "app": "OrbitLoans",
  "timestamp": 1764000005000,
  "version": 2,
  "type": "message-event",
  "payload": {
    "id": "gBEGkZlgQyWAAglNMEFv1sCAxN8",
    "gsId": "9b71295f-f7af-4c1f-b2b4-31b4a4867bad",
    "type": "delivered",
    "destination": "919876543210",
    "payload": { "ts": 1764000004 }
  }
}
)";

constexpr std::string_view kGupshupFailed = R"({
  "app": "OrbitLoans",
  "timestamp": 1764000006000,
  "version": 2,
  "type": "message-event",
  "payload": {
    "id": "9b71295f-f7af-4c1f-b2b4-31b4a4867bad",
    "type": "failed",
    "destination": "919876543210",
    "payload": { "code": 1002, "reason": "Number does not exist on WhatsApp" }
  }
}
)";

constexpr std::string_view kGupshupText = R"({
  "app": "OrbitLoans",
  "timestamp": 1764000000000,
  "version": 2,
  "type": "message",
  "payload": {
    "id": "ABEGkZlgQyWAAgo-sDVSUOa9jH0z",
    "source": "919876543210",
    "type": "text",
    "payload": { "text": "What is my loan status?" },
    "sender": { "phone": "919876543210", "name": "John", "country_code": "91", "dial_code": "9876543210" }
  }
}
)";

constexpr std::string_view kGupshupOptedOut = R"({
  "app": "OrbitLoans",
  "timestamp": 1764000007000,
  "version": 2,
  "type": "user-event",
  "payload": { "phone": "919876543210", "type": "opted-out" }
}
)";

constexpr std::string_view kMetaText = R"({
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "917834811114", "phone_number_id": "106540352242922" },
            "contacts": [ { "profile": { "name": "John" }, "wa_id": "919876543210" } ],
            "messages": [
              {
                "from": "919876543210",
                "id": "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0VCMDRGNzQ5RjdBQjRGNzE5NjQA",
                "timestamp": "1764000000",
                "type": "text",
                "text": { "body": "status B002BJF" }
              }
            ]
          }
        }
      ]
    }
  ]
}
)";

constexpr std::string_view kMetaRead = R"({
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "917834811114", "phone_number_id": "106540352242922" },
            "statuses": [
              {
                "id": "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSRjQ2QkQ1NzZCMjE4OUM3QzM4AA==",
                "status": "read",
                "timestamp": "1764000100",
                "recipient_id": "919876543210"
              }
            ]
          }
        }
      ]
    }
  ]
}
)";

// Two entries (two business numbers), messages of several types and statuses.
constexpr std::string_view kMetaBatch = R"({
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "917834811114", "phone_number_id": "106540352242922" },
            "contacts": [
              { "profile": { "name": "Asha" }, "wa_id": "918888888888" },
              { "profile": { "name": "John" }, "wa_id": "919876543210" }
            ],
            "messages": [
              { "from": "919876543210", "id": "wamid.M1", "timestamp": "1764000200",
                "type": "text", "text": { "body": "help" } },
              { "from": "918888888888", "id": "wamid.M2", "timestamp": "1764000201",
                "type": "image",
                "image": { "caption": "STOP", "mime_type": "image/jpeg", "sha256": "x", "id": "1" } }
            ],
            "statuses": [
              { "id": "wamid.S1", "status": "delivered", "timestamp": "1764000202",
                "recipient_id": "919876543210" }
            ]
          }
        }
      ]
    },
    {
      "id": "102290129340399",
      "changes": [
        {
          "field": "messages",
          "value": {
            "messaging_product": "whatsapp",
            "metadata": { "phone_number_id": "106540352242999" },
            "statuses": [
              { "id": "wamid.S2", "status": "failed", "timestamp": "1764000203",
                "recipient_id": "917777777777",
                "errors": [ { "code": 131047, "title": "Re-engagement message",
                              "message": "Re-engagement message",
                              "error_data": { "details": "More than 24 hours have passed" } } ] }
            ]
          }
        }
      ]
    }
  ]
})";

WebhookBatch parsed(std::string_view body) {
  auto result = parse_webhook(body);
  if (const auto* e = std::get_if<PayloadError>(&result)) {
    ADD_FAILURE() << "unexpected PayloadError: " << e->message << "\nbody: " << body;
    return {};
  }
  return std::get<WebhookBatch>(std::move(result));
}

std::string error_of(std::string_view body) {
  auto result = parse_webhook(body);
  if (const auto* e = std::get_if<PayloadError>(&result)) {
    EXPECT_FALSE(e->message.empty());
    return e->message;
  }
  ADD_FAILURE() << "expected a PayloadError for: " << body;
  return {};
}

std::string gupshup_message(std::string_view payload) {
  return R"({"app":"OrbitLoans","timestamp":1764000000000,"version":2,"type":"message","payload":)" +
         std::string(payload) + "}";
}

std::string meta_value(std::string_view value) {
  return R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":)" +
         std::string(value) + "}]}]}";
}

// ---- The samples ----

TEST(GupshupSamples, TextMessage) {
  const WebhookBatch b = parsed(kGupshupText);
  EXPECT_EQ(b.provider, Provider::gupshup);
  ASSERT_EQ(b.messages.size(), 1u);
  EXPECT_TRUE(b.statuses.empty());
  EXPECT_TRUE(b.user_events.empty());
  const InboundMessage& m = b.messages[0];
  EXPECT_EQ(m.provider_message_id, "ABEGkZlgQyWAAgo-sDVSUOa9jH0z");
  EXPECT_EQ(m.from, "9876543210");
  EXPECT_TRUE(m.from_valid);
  EXPECT_EQ(m.to_business_number, "OrbitLoans");
  EXPECT_EQ(m.type, "text");
  EXPECT_EQ(m.text, "What is my loan status?");
  EXPECT_EQ(m.timestamp_ms, 1764000000000);
  EXPECT_EQ(m.sender_name, "John");
  EXPECT_EQ(b.event_id, "gupshup:message:ABEGkZlgQyWAAgo-sDVSUOa9jH0z");
  EXPECT_EQ(classify_message(m.text).intent, Intent::status);
}

TEST(GupshupSamples, DeliveredEventRefersToTheGupshupId) {
  const WebhookBatch b = parsed(kGupshupDelivered);
  EXPECT_EQ(b.provider, Provider::gupshup);
  EXPECT_TRUE(b.messages.empty());
  ASSERT_EQ(b.statuses.size(), 1u);
  const StatusEvent& s = b.statuses[0];
  // gsId is what our send call got back as messageId; payload.id is WhatsApp's id here.
  EXPECT_EQ(s.provider_message_id, "9b71295f-f7af-4c1f-b2b4-31b4a4867bad");
  EXPECT_EQ(s.status, "delivered");
  EXPECT_EQ(s.timestamp_ms, 1764000004000);  // payload.payload.ts, seconds
  EXPECT_EQ(s.recipient, "9876543210");
  EXPECT_EQ(s.error_code, "");
  EXPECT_EQ(s.error_message, "");
  EXPECT_EQ(s.event_id, "gupshup:status:9b71295f-f7af-4c1f-b2b4-31b4a4867bad:delivered");
  EXPECT_EQ(b.event_id, s.event_id);
}

TEST(GupshupSamples, FailedEventCarriesTheError) {
  const WebhookBatch b = parsed(kGupshupFailed);
  ASSERT_EQ(b.statuses.size(), 1u);
  const StatusEvent& s = b.statuses[0];
  // Without gsId, payload.id is the Gupshup id: the same message as the delivered sample.
  EXPECT_EQ(s.provider_message_id, "9b71295f-f7af-4c1f-b2b4-31b4a4867bad");
  EXPECT_EQ(s.status, "failed");
  EXPECT_EQ(s.timestamp_ms, 1764000006000);  // no ts: the callback's timestamp
  EXPECT_EQ(s.error_code, "1002");
  EXPECT_EQ(s.error_message, "Number does not exist on WhatsApp");
  EXPECT_EQ(s.recipient, "9876543210");
  EXPECT_EQ(b.event_id, "gupshup:status:9b71295f-f7af-4c1f-b2b4-31b4a4867bad:failed");
}

TEST(GupshupSamples, OptedOutUserEvent) {
  const WebhookBatch b = parsed(kGupshupOptedOut);
  EXPECT_TRUE(b.messages.empty());
  EXPECT_TRUE(b.statuses.empty());
  ASSERT_EQ(b.user_events.size(), 1u);
  const UserEvent& u = b.user_events[0];
  EXPECT_EQ(u.kind, "opted-out");
  EXPECT_EQ(u.phone, "9876543210");
  EXPECT_EQ(u.timestamp_ms, 1764000007000);
  EXPECT_EQ(u.event_id, "gupshup:user-event:9876543210:opted-out:1764000007000");
  EXPECT_EQ(b.event_id, u.event_id);
}

TEST(MetaSamples, TextMessage) {
  const WebhookBatch b = parsed(kMetaText);
  EXPECT_EQ(b.provider, Provider::meta);
  ASSERT_EQ(b.messages.size(), 1u);
  EXPECT_TRUE(b.statuses.empty());
  const InboundMessage& m = b.messages[0];
  EXPECT_EQ(m.provider_message_id,
            "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0VCMDRGNzQ5RjdBQjRGNzE5NjQA");
  EXPECT_EQ(m.from, "9876543210");
  EXPECT_TRUE(m.from_valid);
  EXPECT_EQ(m.to_business_number, "917834811114");
  EXPECT_EQ(m.type, "text");
  EXPECT_EQ(m.text, "status B002BJF");
  EXPECT_EQ(m.timestamp_ms, 1764000000000);
  EXPECT_EQ(m.sender_name, "John");
  EXPECT_EQ(b.event_id,
            "meta:message:wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0VCMDRGNzQ5RjdBQjRGNzE5NjQA");
  const Classification c = classify_message(m.text);
  EXPECT_EQ(c.intent, Intent::application_id);
  EXPECT_EQ(c.application_id, "B002BJF");
}

TEST(MetaSamples, ReadStatus) {
  const WebhookBatch b = parsed(kMetaRead);
  EXPECT_EQ(b.provider, Provider::meta);
  EXPECT_TRUE(b.messages.empty());
  ASSERT_EQ(b.statuses.size(), 1u);
  const StatusEvent& s = b.statuses[0];
  EXPECT_EQ(s.provider_message_id,
            "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSRjQ2QkQ1NzZCMjE4OUM3QzM4AA==");
  EXPECT_EQ(s.status, "read");
  EXPECT_EQ(s.timestamp_ms, 1764000100000);
  EXPECT_EQ(s.recipient, "9876543210");
  EXPECT_EQ(s.event_id,
            "meta:status:wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSRjQ2QkQ1NzZCMjE4OUM3QzM4AA==:read");
  EXPECT_EQ(b.event_id, s.event_id);
}

TEST(ParseWebhook, SameBodySameIds) {
  for (std::string_view body : {kGupshupDelivered, kGupshupFailed, kGupshupText, kGupshupOptedOut,
                                kMetaText, kMetaRead, kMetaBatch}) {
    EXPECT_EQ(parsed(body).event_id, parsed(body).event_id);
    EXPECT_FALSE(parsed(body).event_id.empty());
  }
  // Different callbacks about the same message differ.
  EXPECT_NE(parsed(kGupshupDelivered).event_id, parsed(kGupshupFailed).event_id);
}

// ---- Meta batches ----

TEST(MetaBatch, TwoEntriesWithMessagesAndStatuses) {
  const WebhookBatch b = parsed(kMetaBatch);
  EXPECT_EQ(b.provider, Provider::meta);
  ASSERT_EQ(b.messages.size(), 2u);
  ASSERT_EQ(b.statuses.size(), 2u);
  EXPECT_TRUE(b.user_events.empty());

  EXPECT_EQ(b.messages[0].provider_message_id, "wamid.M1");
  EXPECT_EQ(b.messages[0].from, "9876543210");
  EXPECT_EQ(b.messages[0].sender_name, "John");  // matched by wa_id, not position
  EXPECT_EQ(b.messages[0].text, "help");
  EXPECT_EQ(b.messages[0].timestamp_ms, 1764000200000);
  EXPECT_EQ(b.messages[0].to_business_number, "917834811114");

  EXPECT_EQ(b.messages[1].provider_message_id, "wamid.M2");
  EXPECT_EQ(b.messages[1].from, "8888888888");
  EXPECT_EQ(b.messages[1].sender_name, "Asha");
  EXPECT_EQ(b.messages[1].type, "image");
  EXPECT_EQ(b.messages[1].text, "");  // a caption is not a command

  EXPECT_EQ(b.statuses[0].provider_message_id, "wamid.S1");
  EXPECT_EQ(b.statuses[0].status, "delivered");
  EXPECT_EQ(b.statuses[0].timestamp_ms, 1764000202000);
  EXPECT_EQ(b.statuses[0].event_id, "meta:status:wamid.S1:delivered");

  EXPECT_EQ(b.statuses[1].provider_message_id, "wamid.S2");
  EXPECT_EQ(b.statuses[1].status, "failed");
  EXPECT_EQ(b.statuses[1].recipient, "7777777777");
  EXPECT_EQ(b.statuses[1].error_code, "131047");
  EXPECT_EQ(b.statuses[1].error_message, "More than 24 hours have passed");

  EXPECT_EQ(b.event_id.rfind("meta:batch:", 0), 0u) << b.event_id;
  EXPECT_EQ(b.event_id.size(), std::string("meta:batch:").size() + 16);
}

TEST(MetaBatch, BatchIdDependsOnTheItemsNotTheirOrderOrLayout) {
  const std::string a =
      meta_value(R"({"statuses":[{"id":"w1","status":"sent"},{"id":"w2","status":"sent"}]})");
  const std::string reordered = meta_value(
      R"({ "statuses" : [ {"status":"sent","id":"w2"}, {"id":"w1","status":"sent"} ] })");
  const std::string other =
      meta_value(R"({"statuses":[{"id":"w1","status":"sent"},{"id":"w2","status":"delivered"}]})");
  EXPECT_EQ(parsed(a).event_id, parsed(reordered).event_id);
  EXPECT_NE(parsed(a).event_id, parsed(other).event_id);
}

TEST(MetaBatch, SeveralChangesInOneEntry) {
  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
        {"field":"messages","value":{"metadata":{"display_phone_number":"911111111111"},
          "messages":[{"from":"919876543210","id":"a","type":"text","text":{"body":"hi"}}]}},
        {"field":"messages","value":{"metadata":{"display_phone_number":"912222222222"},
          "messages":[{"from":"919876543210","id":"b","type":"text","text":{"body":"yo"}}]}}]}]})";
  const WebhookBatch b = parsed(body);
  ASSERT_EQ(b.messages.size(), 2u);
  EXPECT_EQ(b.messages[0].to_business_number, "911111111111");
  EXPECT_EQ(b.messages[1].to_business_number, "912222222222");
}

TEST(MetaBatch, NoItemsIsAnEmptyBatch) {
  // Other subscribed fields (template status, account updates) carry nothing for us.
  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
        {"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]})";
  const WebhookBatch b = parsed(body);
  EXPECT_TRUE(b.messages.empty());
  EXPECT_TRUE(b.statuses.empty());
  EXPECT_EQ(b.event_id.rfind("meta:empty:", 0), 0u) << b.event_id;
  EXPECT_EQ(parsed(R"({"object":"whatsapp_business_account","entry":[]})").messages.size(), 0u);
}

// ---- Message types ----

TEST(MessageTypes, GupshupMediaAndLocationHaveEmptyText) {
  const WebhookBatch image = parsed(gupshup_message(
      R"({"id":"g1","source":"919876543210","type":"image",
          "payload":{"caption":"B002BJF","url":"https://x/y.jpg","contentType":"image/jpeg"},
          "sender":{"phone":"919876543210","name":"John"}})"));
  ASSERT_EQ(image.messages.size(), 1u);
  EXPECT_EQ(image.messages[0].type, "image");
  EXPECT_EQ(image.messages[0].text, "");
  EXPECT_EQ(image.messages[0].sender_name, "John");

  const WebhookBatch location = parsed(gupshup_message(
      R"({"id":"g2","source":"919876543210","type":"location",
          "payload":{"longitude":"77.5","latitude":"12.9"}})"));
  ASSERT_EQ(location.messages.size(), 1u);
  EXPECT_EQ(location.messages[0].type, "location");
  EXPECT_EQ(location.messages[0].text, "");
  EXPECT_EQ(location.messages[0].sender_name, "");

  const WebhookBatch audio =
      parsed(gupshup_message(R"({"id":"g3","source":"919876543210","type":"audio"})"));
  ASSERT_EQ(audio.messages.size(), 1u);
  EXPECT_EQ(audio.messages[0].type, "audio");
  EXPECT_EQ(audio.messages[0].text, "");
}

TEST(MessageTypes, GupshupRepliesUseTheirTitle) {
  const WebhookBatch button = parsed(gupshup_message(
      R"({"id":"g1","source":"919876543210","type":"button_reply",
          "payload":{"title":"Check status","id":"1","reply":"Check status 1"}})"));
  EXPECT_EQ(button.messages.at(0).type, "button_reply");
  EXPECT_EQ(button.messages.at(0).text, "Check status");
  const WebhookBatch list = parsed(gupshup_message(
      R"({"id":"g2","source":"919876543210","type":"list_reply",
          "payload":{"title":"Talk to support","id":"2","postbackText":"x"}})"));
  EXPECT_EQ(list.messages.at(0).text, "Talk to support");
  const WebhookBatch quick = parsed(gupshup_message(
      R"({"id":"g3","source":"919876543210","type":"quick_reply","payload":{"text":"STOP"}})"));
  EXPECT_EQ(quick.messages.at(0).text, "STOP");
}

TEST(MessageTypes, MetaMediaLocationButtonsAndInteractive) {
  const WebhookBatch b = parsed(meta_value(R"({
    "metadata":{"display_phone_number":"917834811114"},
    "messages":[
      {"from":"919876543210","id":"i","timestamp":"1764000000","type":"image",
       "image":{"caption":"status","id":"m"}},
      {"from":"919876543210","id":"l","timestamp":"1764000000","type":"location",
       "location":{"latitude":12.9,"longitude":77.5}},
      {"from":"919876543210","id":"b","timestamp":"1764000000","type":"button",
       "button":{"text":"Track application","payload":"TRACK"}},
      {"from":"919876543210","id":"ib","timestamp":"1764000000","type":"interactive",
       "interactive":{"type":"button_reply","button_reply":{"id":"x","title":"Help"}}},
      {"from":"919876543210","id":"il","timestamp":"1764000000","type":"interactive",
       "interactive":{"type":"list_reply","list_reply":{"id":"y","title":"Status","description":"d"}}},
      {"from":"919876543210","id":"u","timestamp":"1764000000","type":"unsupported",
       "errors":[{"code":131051,"title":"Message type unknown"}]}
    ]})"));
  ASSERT_EQ(b.messages.size(), 6u);
  EXPECT_EQ(b.messages[0].type, "image");
  EXPECT_EQ(b.messages[0].text, "");
  EXPECT_EQ(b.messages[1].type, "location");
  EXPECT_EQ(b.messages[1].text, "");
  EXPECT_EQ(b.messages[2].type, "button");
  EXPECT_EQ(b.messages[2].text, "Track application");
  EXPECT_EQ(b.messages[3].type, "interactive");
  EXPECT_EQ(b.messages[3].text, "Help");
  EXPECT_EQ(b.messages[4].text, "Status");
  EXPECT_EQ(b.messages[5].type, "unsupported");
  EXPECT_EQ(b.messages[5].text, "");
}

// ---- Fields ----

TEST(Fields, ANonIndianSenderIsKeptAsGiven) {
  const WebhookBatch g = parsed(gupshup_message(
      R"({"id":"g1","source":"14155550123","type":"text","payload":{"text":"hi"}})"));
  EXPECT_EQ(g.messages.at(0).from, "14155550123");
  EXPECT_FALSE(g.messages.at(0).from_valid);
  const WebhookBatch m = parsed(meta_value(
      R"({"messages":[{"from":"447911123456","id":"x","type":"text","text":{"body":"hi"}}]})"));
  EXPECT_EQ(m.messages.at(0).from, "447911123456");
  EXPECT_FALSE(m.messages.at(0).from_valid);
}

TEST(Fields, GupshupSenderFallsBackToSenderPhone) {
  const WebhookBatch b = parsed(gupshup_message(
      R"({"id":"g1","type":"text","payload":{"text":"hi"},"sender":{"phone":"919876543210"}})"));
  EXPECT_EQ(b.messages.at(0).from, "9876543210");
  EXPECT_TRUE(b.messages.at(0).from_valid);
}

TEST(Fields, OptionalFieldsMayBeMissing) {
  const WebhookBatch g =
      parsed(R"({"type":"message","payload":{"id":"g1","source":"919876543210","type":"text"}})");
  ASSERT_EQ(g.messages.size(), 1u);
  EXPECT_EQ(g.messages[0].text, "");
  EXPECT_EQ(g.messages[0].timestamp_ms, 0);
  EXPECT_EQ(g.messages[0].to_business_number, "");
  EXPECT_EQ(g.messages[0].sender_name, "");

  const WebhookBatch m =
      parsed(meta_value(R"({"messages":[{"from":"919876543210","id":"x","type":"text"}]})"));
  ASSERT_EQ(m.messages.size(), 1u);
  EXPECT_EQ(m.messages[0].text, "");
  EXPECT_EQ(m.messages[0].timestamp_ms, 0);
  EXPECT_EQ(m.messages[0].to_business_number, "");
  EXPECT_EQ(m.messages[0].sender_name, "");
}

TEST(Fields, MetaBusinessNumberFallsBackToPhoneNumberId) {
  const WebhookBatch b = parsed(meta_value(
      R"({"metadata":{"phone_number_id":"106540352242922"},
          "messages":[{"from":"919876543210","id":"x","type":"text","text":{"body":"hi"}}]})"));
  EXPECT_EQ(b.messages.at(0).to_business_number, "106540352242922");
}

TEST(Fields, TimestampsInSecondsOrMillisecondsNumbersOrStrings) {
  auto gupshup_at = [](std::string_view ts) {
    return parsed(R"({"type":"user-event","timestamp":)" + std::string(ts) +
                  R"(,"payload":{"phone":"919876543210","type":"opted-in"}})")
        .user_events.at(0)
        .timestamp_ms;
  };
  EXPECT_EQ(gupshup_at("1764000007000"), 1764000007000);
  EXPECT_EQ(gupshup_at("\"1764000007000\""), 1764000007000);
  EXPECT_EQ(gupshup_at("1764000007"), 1764000007000);
  EXPECT_EQ(gupshup_at("1764000007.0"), 1764000007000);
  EXPECT_EQ(gupshup_at("\"soon\""), 0);
  EXPECT_EQ(gupshup_at("-5"), 0);
  EXPECT_EQ(gupshup_at("null"), 0);
  EXPECT_EQ(gupshup_at("18446744073709551615"), 0);
  EXPECT_EQ(gupshup_at("1e300"), 0);
}

TEST(Fields, UserEventKindsAreLowerCased) {
  const WebhookBatch b = parsed(
      R"({"type":"user-event","timestamp":1,"payload":{"phone":"919876543210","type":"Opted-In"}})");
  EXPECT_EQ(b.user_events.at(0).kind, "opted-in");
}

TEST(Fields, GupshupEnqueuedEventUsesPayloadId) {
  const WebhookBatch b = parsed(R"({"app":"OrbitLoans","timestamp":1764000001000,"version":2,
    "type":"message-event","payload":{"id":"ee4a68a0-1203-4c85-8dc3-49d0b3226a35",
    "type":"enqueued","destination":"919876543210",
    "payload":{"whatsappMessageId":"gBEGkYaYVSEEAgnZxQ3JmKK6Wvg","type":"session"}}})");
  ASSERT_EQ(b.statuses.size(), 1u);
  EXPECT_EQ(b.statuses[0].provider_message_id, "ee4a68a0-1203-4c85-8dc3-49d0b3226a35");
  EXPECT_EQ(b.statuses[0].status, "enqueued");
  EXPECT_EQ(b.statuses[0].timestamp_ms, 1764000001000);
}

TEST(Fields, GupshupErrorCodeAsString) {
  const WebhookBatch b = parsed(R"({"type":"message-event","payload":{"id":"x","type":"FAILED",
    "payload":{"code":"470","reason":"Outside the 24h window"}}})");
  EXPECT_EQ(b.statuses.at(0).status, "failed");
  EXPECT_EQ(b.statuses.at(0).error_code, "470");
  EXPECT_EQ(b.statuses.at(0).error_message, "Outside the 24h window");
}

TEST(Fields, MetaStatusPrefersGupshupIdInMetaFormat) {
  // Gupshup's v3 callbacks use Meta's format and add gs_id, the id its send API returned.
  const WebhookBatch b = parsed(meta_value(R"({"statuses":[{"gs_id":"ee4a68a0-gs",
    "id":"wamid.X","status":"sent","timestamp":"1764000000","recipient_id":"919876543210"}]})"));
  EXPECT_EQ(b.statuses.at(0).provider_message_id, "ee4a68a0-gs");
}

TEST(Fields, MetaErrorMessageFallsBackToMessageThenTitle) {
  const WebhookBatch b = parsed(meta_value(R"({"statuses":[
    {"id":"a","status":"failed","errors":[{"code":1,"title":"T","message":"M"}]},
    {"id":"b","status":"failed","errors":[{"code":2,"title":"T"}]},
    {"id":"c","status":"failed","errors":[]},
    {"id":"d","status":"failed","errors":"oops"}]})"));
  ASSERT_EQ(b.statuses.size(), 4u);
  EXPECT_EQ(b.statuses[0].error_message, "M");
  EXPECT_EQ(b.statuses[1].error_code, "2");
  EXPECT_EQ(b.statuses[1].error_message, "T");
  EXPECT_EQ(b.statuses[2].error_code, "");
  EXPECT_EQ(b.statuses[3].error_message, "");
}

TEST(NormalizeDeliveryStatus, ProviderSpellings) {
  EXPECT_EQ(normalize_delivery_status("enqueued"), "enqueued");
  EXPECT_EQ(normalize_delivery_status("QUEUED"), "enqueued");
  EXPECT_EQ(normalize_delivery_status("submitted"), "enqueued");
  EXPECT_EQ(normalize_delivery_status("accepted"), "enqueued");
  EXPECT_EQ(normalize_delivery_status("Sent"), "sent");
  EXPECT_EQ(normalize_delivery_status("delivered"), "delivered");
  EXPECT_EQ(normalize_delivery_status("read"), "read");
  EXPECT_EQ(normalize_delivery_status("seen"), "read");
  EXPECT_EQ(normalize_delivery_status("failed"), "failed");
  EXPECT_EQ(normalize_delivery_status("undelivered"), "failed");
  EXPECT_EQ(normalize_delivery_status("rejected"), "failed");
  EXPECT_EQ(normalize_delivery_status("error"), "failed");
  EXPECT_EQ(normalize_delivery_status("Deleted"), "deleted");
  EXPECT_EQ(normalize_delivery_status("warning"), "warning");
  EXPECT_EQ(normalize_delivery_status(""), "");
}

TEST(ParseWebhook, OtherGupshupTypesAreEmptyBatches) {
  const WebhookBatch b = parsed(R"({"app":"OrbitLoans","timestamp":1739354482884,"version":2,
    "type":"billing-event","payload":{"deductions":{"type":"regular","model":"PMP",
    "source":"whatsapp","billable":true,"category":"utility"},
    "references":{"id":"d04cc3a7","gsId":"7bf06899","destination":"919876543210"}}})");
  EXPECT_EQ(b.provider, Provider::gupshup);
  EXPECT_TRUE(b.messages.empty());
  EXPECT_TRUE(b.statuses.empty());
  EXPECT_TRUE(b.user_events.empty());
  EXPECT_EQ(b.event_id.rfind("gupshup:billing-event:", 0), 0u) << b.event_id;
  EXPECT_TRUE(parsed(R"({"type":"template-event","payload":{}})").messages.empty());
  EXPECT_TRUE(parsed(R"({"type":"account-event"})").messages.empty());
  EXPECT_TRUE(parsed(R"({"type":"system-event"})").messages.empty());
}

TEST(ProviderName, BothProviders) {
  EXPECT_EQ(provider_name(Provider::gupshup), "gupshup");
  EXPECT_EQ(provider_name(Provider::meta), "meta");
}

// ---- Errors ----

TEST(PayloadErrors, MalformedJson) {
  EXPECT_NE(error_of("").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of("{").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"message",})").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of("type=message&payload=x").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of(std::string(kGupshupText) + "garbage").find("malformed JSON"),
            std::string::npos);
  // Deep nesting is refused by the parser, not a crash.
  EXPECT_NE(error_of(std::string(100'000, '[')).find("malformed JSON"), std::string::npos);
}

TEST(PayloadErrors, NotAnObject) {
  EXPECT_NE(error_of("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(std::string("[") + std::string(kGupshupText) + "]").find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(error_of("\"message\"").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of("42").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of("null").find("not a JSON object"), std::string::npos);
}

TEST(PayloadErrors, UnknownShapeOrType) {
  EXPECT_NE(error_of("{}").find("unknown callback shape"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":42,"payload":{}})").find("unknown callback shape"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"message-status","payload":{}})").find("'message-status'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"","payload":{}})").find("unsupported Gupshup"), std::string::npos);
  EXPECT_NE(error_of(R"({"object":"page","entry":[]})").find("'page'"), std::string::npos);
  EXPECT_NE(error_of(R"({"object":null,"entry":[]})").find("unsupported Meta"), std::string::npos);
  // A long unknown type is not echoed in full.
  const std::string long_type(10'000, 'x');
  EXPECT_LT(error_of(R"({"type":")" + long_type + R"("})").size(), 200u);
}

TEST(PayloadErrors, GupshupMissingRequiredFields) {
  EXPECT_NE(error_of(R"({"type":"message"})").find("missing payload"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"message","payload":[]})").find("missing payload"),
            std::string::npos);
  EXPECT_NE(error_of(gupshup_message(R"({"source":"919876543210","type":"text"})"))
                .find("missing payload.id"),
            std::string::npos);
  EXPECT_NE(error_of(gupshup_message(R"({"id":"","source":"919876543210","type":"text"})"))
                .find("missing payload.id"),
            std::string::npos);
  EXPECT_NE(
      error_of(gupshup_message(R"({"id":"g1","type":"text"})")).find("missing payload.source"),
      std::string::npos);
  EXPECT_NE(error_of(gupshup_message(R"({"id":"g1","source":"919876543210"})"))
                .find("missing payload.type"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"message-event","payload":{"type":"sent","destination":"91"}})")
                .find("missing payload.id"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"type":"message-event","payload":{"id":"x"}})").find("missing payload.type"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"type":"user-event","payload":{"type":"opted-out"}})")
                .find("missing payload.phone"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"user-event","payload":{"phone":"919876543210"}})")
                .find("missing payload.type"),
            std::string::npos);
}

TEST(PayloadErrors, MetaMissingRequiredFields) {
  EXPECT_NE(error_of(R"({"object":"whatsapp_business_account"})").find("missing entry"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"object":"whatsapp_business_account","entry":{}})").find("missing entry"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"object":"whatsapp_business_account","entry":[1]})")
                .find("entry[0] is not an object"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"object":"whatsapp_business_account","entry":[{"id":"1"}]})")
                .find("entry[0]: missing changes"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"object":"whatsapp_business_account","entry":[{"changes":[{}]}]})")
                .find("entry[0].changes[0]: missing value"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"messages":{}})")).find("messages is not an array"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"messages":["x"]})")).find("messages[0] is not an object"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"messages":[{"from":"919876543210","type":"text"}]})"))
                .find("entry[0].changes[0].value.messages[0]: missing id"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"messages":[{"id":"x","type":"text"}]})")).find("missing from"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"messages":[{"id":"x","from":"919876543210"}]})"))
                .find("missing type"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"statuses":[{"status":"read"}]})"))
                .find("value.statuses[0]: missing id"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"statuses":[{"id":"w"}]})")).find("missing status"),
            std::string::npos);
  EXPECT_NE(error_of(meta_value(R"({"statuses":7})")).find("statuses is not an array"),
            std::string::npos);
  // The second item is the bad one: the path says so, and nothing is half-returned.
  EXPECT_NE(error_of(meta_value(R"({"messages":[
      {"from":"919876543210","id":"a","type":"text"},{"from":"919876543210","type":"text"}]})"))
                .find("messages[1]: missing id"),
            std::string::npos);
}

TEST(PayloadErrors, NeverThrowsOnOddInput) {
  const std::string bodies[] = {
      std::string("\0\0\0", 3),
      "\xff\xfe{}",
      R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"contacts":5,
          "messages":[{"from":1,"id":2,"type":"text","text":"not an object"}]}}]}]})",
      R"({"type":"message","payload":{"id":{"a":1},"source":[1],"type":true}})",
      R"({"type":"message-event","payload":{"id":"x","type":"sent","payload":"ts"}})",
      R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{
          "messages":[{"from":"919876543210","id":"x","type":"interactive","interactive":7}]}}]}]})",
  };
  for (const std::string& body : bodies) {
    EXPECT_NO_THROW(parse_webhook(body)) << body;
  }
  // Numbers where strings are expected are read as their decimal text.
  const WebhookBatch b = parsed(bodies[2]);
  EXPECT_EQ(b.messages.at(0).provider_message_id, "2");
  EXPECT_EQ(b.messages.at(0).from, "1");
  EXPECT_FALSE(b.messages.at(0).from_valid);
  EXPECT_EQ(b.messages.at(0).text, "");
  EXPECT_NE(error_of(bodies[3]).find("missing payload.id"), std::string::npos);
  EXPECT_EQ(parsed(bodies[4]).statuses.at(0).timestamp_ms, 0);
  EXPECT_EQ(parsed(bodies[5]).messages.at(0).text, "");
}

// Inbox rows written by earlier versions (before to_json existed) hold exactly these payloads;
// they must still read back, and to_json writes them so.
constexpr std::string_view kStoredMessage =
    R"({"provider_message_id":"gs-1","from":"9876543210","from_valid":true,"to":"OrbitLoans",)"
    R"("type":"button_reply","text":"Check status","timestamp_ms":1764000000000,)"
    R"("sender_name":"Asha"})";
constexpr std::string_view kStoredStatus =
    R"({"provider_message_id":"out-1","status":"failed","timestamp_ms":5,"error_code":"1002",)"
    R"("error_message":"Number does not exist","recipient":"9876543210"})";
constexpr std::string_view kStoredUserEvent =
    R"({"kind":"opted-out","phone":"9876543210","timestamp_ms":7})";

TEST(InboxItem, TheStoredShapeBothWays) {
  const InboundMessage message{"gs-1",         "9876543210",   true,          "OrbitLoans",
                               "button_reply", "Check status", 1764000000000, "Asha"};
  // The row keeps the event id (and a user event's business number): not in the payload.
  const StatusEvent status{"out-1", "failed", 5, "1002", "Number does not exist", "9876543210", ""};
  const UserEvent user{"opted-out", "9876543210", 7, "", ""};
  EXPECT_TRUE(std::get<InboundMessage>(inbox_item_from_json("message", kStoredMessage)) == message);
  EXPECT_TRUE(std::get<StatusEvent>(inbox_item_from_json("status", kStoredStatus)) == status);
  EXPECT_TRUE(std::get<UserEvent>(inbox_item_from_json("user_event", kStoredUserEvent)) == user);
  EXPECT_EQ(to_json(message), kStoredMessage);
  EXPECT_EQ(to_json(status), kStoredStatus);
  EXPECT_EQ(to_json(user), kStoredUserEvent);
  EXPECT_EQ(inbox_kind(message), "message");
  EXPECT_EQ(inbox_kind(status), "status");
  EXPECT_EQ(inbox_kind(user), "user_event");
}

TEST(InboxItem, LenientFieldsStrictShape) {
  // Absent fields and fields of another type read as empty / 0 / false.
  const auto m = std::get<InboundMessage>(
      inbox_item_from_json("message", R"({"from":5,"from_valid":"yes","timestamp_ms":"7"})"));
  EXPECT_TRUE(m == InboundMessage{});
  // Not an object, not JSON, or a kind nobody writes: refused.
  EXPECT_THROW(inbox_item_from_json("message", "[1]"), std::invalid_argument);
  EXPECT_THROW(inbox_item_from_json("status", "{"), std::invalid_argument);
  EXPECT_THROW(inbox_item_from_json("reaction", "{}"), std::invalid_argument);
}

}  // namespace
}  // namespace leadgate
