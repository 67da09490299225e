#pragma once
// Inbound WhatsApp webhook bodies (interfaces.md §4; samples in shared/samples/whatsapp): Gupshup
// version-2 callbacks and Meta Cloud API notifications, reduced to one provider-neutral batch of
// inbound messages, delivery statuses and user events. Pure: no I/O, never throws on any input;
// signature checks and de-duplication belong to the caller. Decisions (each pinned by
// tests/unit/webhook_payloads_test.cpp):
//  - The shape decides the provider: a top-level "object" is Meta ("whatsapp_business_account"
//    only), a top-level string "type" is Gupshup. Anything else — malformed JSON, a non-object,
//    an unknown Gupshup type, a missing required field — is a PayloadError naming the problem.
//  - Gupshup types "message", "message-event" and "user-event" carry data. The other types
//    Gupshup documents ("billing-event", "account-event", "template-event", "system-event") are
//    valid callbacks with nothing for us: an empty batch, so the caller can acknowledge them
//    instead of making Gupshup retry.
//  - Required: message id, sender and type for a message; the referenced message id and status
//    for a status; phone and kind for a user event. Everything else is optional (empty / 0).
//  - Phone numbers (InboundMessage::from, StatusEvent::recipient, UserEvent::phone) are reduced
//    with normalize_mobile to 10 digits; a number that is not an Indian mobile is kept as given
//    (and InboundMessage::from_valid is false).
//  - The status's provider_message_id is the id our send call got back. Gupshup: payload.gsId
//    when present (sent / delivered / read carry the WhatsApp id in payload.id), else payload.id
//    (enqueued / failed carry the Gupshup id there). Meta: statuses[].id, or "gs_id" when present
//    (Gupshup's Meta-format v3 callbacks).
//  - Statuses are normalised: enqueued|queued|submitted|accepted -> enqueued, sent, delivered,
//    read|seen -> read, failed|undelivered|rejected|error -> failed; any other status (Gupshup
//    "deleted", "mismatch"; Meta "warning") is passed through lower-cased, for the caller to
//    ignore.
//  - Times are unix ms. A number or digit string below 10^11 is taken as seconds (Meta's and
//    Gupshup's inner "ts" are seconds, Gupshup's top-level "timestamp" is ms). Gupshup messages
//    use the top-level timestamp; Gupshup statuses use payload.payload.ts when present (when
//    WhatsApp recorded the status), else the top-level timestamp.
//  - InboundMessage::type is the provider's type as given (Gupshup "button_reply", Meta
//    "interactive", ...). text is the text body, or the title of a button / list reply (Gupshup
//    button_reply / list_reply / quick_reply; Meta button / interactive); empty for media,
//    location, contacts and unknown types (media captions are not read as commands).
//  - to_business_number: Gupshup's top-level "app" (the app name: v2 callbacks do not carry the
//    business number); Meta's metadata.display_phone_number, else metadata.phone_number_id.
//  - Ids for de-duplication: every message has its provider_message_id; every status and user
//    event has an event_id; the batch's event_id identifies the whole callback:
//      Gupshup message        "gupshup:message:<payload.id>"
//      Gupshup message-event  "gupshup:status:<provider_message_id>:<status>" (= the status's)
//      Gupshup user-event     "gupshup:user-event:<phone>:<kind>:<timestamp_ms>" (= the event's)
//      Gupshup other types    "gupshup:<type>:<16 hex digits of FNV-1a 64 of the body>"
//      Meta, one item         "meta:message:<id>" or "meta:status:<provider_message_id>:<status>"
//      Meta, several items    "meta:batch:<16 hex digits of FNV-1a 64 of the sorted item keys>"
//      Meta, no items         "meta:empty:<16 hex digits of FNV-1a 64 of the body>"
//    A status's id includes the status because one message gets several (sent, delivered, ...).
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace leadgate {

enum class Provider { gupshup, meta };

std::string_view provider_name(Provider provider);  // "gupshup" | "meta"

struct InboundMessage {
  std::string provider_message_id;
  std::string from;  // 10-digit mobile, or as given when from_valid is false
  bool from_valid = false;
  std::string to_business_number;
  std::string type;  // as given: text, image, audio, location, button, interactive, ...
  std::string text;  // text body or button / list title; empty for media
  std::int64_t timestamp_ms = 0;
  std::string sender_name;

  bool operator==(const InboundMessage&) const = default;
};

struct StatusEvent {
  std::string provider_message_id;  // the outbound message this status is about
  std::string status;               // enqueued | sent | delivered | read | failed | other
  std::int64_t timestamp_ms = 0;
  std::string error_code;
  std::string error_message;
  std::string recipient;  // 10-digit mobile, or as given
  std::string event_id;   // "<provider>:status:<provider_message_id>:<status>"

  bool operator==(const StatusEvent&) const = default;
};

struct UserEvent {
  std::string kind;   // opted-out | opted-in | sandbox-start | ... (lower-cased)
  std::string phone;  // 10-digit mobile, or as given
  std::int64_t timestamp_ms = 0;
  std::string event_id;
  std::string to_business_number;  // Gupshup's top-level "app", as for messages

  bool operator==(const UserEvent&) const = default;
};

struct WebhookBatch {
  Provider provider = Provider::gupshup;
  std::vector<InboundMessage> messages;
  std::vector<StatusEvent> statuses;
  std::vector<UserEvent> user_events;
  std::string event_id;
};

struct PayloadError {
  std::string message;
};

std::variant<WebhookBatch, PayloadError> parse_webhook(std::string_view body);

// A provider's delivery status spelled our way (see above); "" for "".
std::string normalize_delivery_status(std::string_view provider_status);

// One item of a batch as the webhook inbox stores it (sealed), one row each, read back by the
// inbox processing. The JSON is the row's payload and rows outlive upgrades: its shape is fixed.
//   message     {"provider_message_id", "from", "from_valid", "to" (to_business_number), "type",
//                "text", "timestamp_ms", "sender_name"}
//   status      {"provider_message_id", "status", "timestamp_ms", "error_code", "error_message",
//                "recipient"}  (event_id is the row's, not stored again)
//   user_event  {"kind", "phone", "timestamp_ms"}  (event_id and to_business_number are the row's)
// Reading is lenient as the writers always were: an absent field, or one of another JSON type, is
// empty / 0 / false. Only a payload that is not a JSON object is refused.
using InboxItem = std::variant<InboundMessage, StatusEvent, UserEvent>;

std::string_view inbox_kind(const InboxItem& item);  // "message" | "status" | "user_event"
std::string to_json(const InboxItem& item);
// `kind` is the row's (inbox_kind of what was stored). Throws std::invalid_argument for an
// unknown kind or a payload that is not a JSON object.
InboxItem inbox_item_from_json(std::string_view kind, std::string_view json);

}  // namespace leadgate
