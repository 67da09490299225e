// The WhatsApp webhook body parser (domain/webhook_payloads.h parse_webhook: Gupshup v2 and Meta
// Cloud API) on any bytes. It must never throw; every item it returns has its de-duplication id
// and survives the webhook inbox's round trip (to_json, then inbox_item_from_json, which throws
// on a payload it cannot read back).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "domain/mobile.h"
#include "domain/webhook_payloads.h"
#include "fuzz_support.h"

namespace leadgate {
namespace {

// What the inbox row gives back: the item without the parts the row keeps outside its payload.
InboxItem stored_part(InboxItem item) {
  if (auto* status = std::get_if<StatusEvent>(&item)) status->event_id.clear();
  if (auto* event = std::get_if<UserEvent>(&item)) {
    event->event_id.clear();
    event->to_business_number.clear();
  }
  return item;
}

void check_round_trip(const InboxItem& item) {
  const InboxItem back = inbox_item_from_json(inbox_kind(item), to_json(item));
  fuzz::check(back == stored_part(item), "inbox item changed in its round trip");
}

void check_batch(const WebhookBatch& batch) {
  fuzz::check(!batch.event_id.empty(), "batch without event id");
  for (const auto& m : batch.messages) {
    fuzz::check(!m.provider_message_id.empty() && !m.type.empty(), "message without id or type");
    if (m.from_valid) fuzz::check(normalize_mobile(m.from) == m.from, "from not a mobile");
    check_round_trip(m);
  }
  for (const auto& s : batch.statuses) {
    fuzz::check(!s.provider_message_id.empty() && !s.event_id.empty(), "status without ids");
    fuzz::check(normalize_delivery_status(s.status) == s.status, "status not normalised");
    check_round_trip(s);
  }
  for (const auto& e : batch.user_events) {
    fuzz::check(!e.kind.empty() && !e.phone.empty() && !e.event_id.empty(), "user event ids");
    check_round_trip(e);
  }
}

}  // namespace
}  // namespace leadgate

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadgate;
  const auto parsed = parse_webhook(fuzz::text_of(data, size));
  if (const auto* error = std::get_if<PayloadError>(&parsed)) {
    fuzz::check(!error->message.empty(), "an error without a message");
  } else {
    check_batch(std::get<WebhookBatch>(parsed));
  }
  return 0;
}
