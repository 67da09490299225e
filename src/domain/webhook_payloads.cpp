#include "domain/webhook_payloads.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>

#include "domain/enum_table.h"
#include "domain/mobile.h"
#include "domain/text.h"

namespace leadgate {

namespace {

namespace json = boost::json;

constexpr std::int64_t kSecondsBelow = 100'000'000'000;  // 10^11: smaller times are seconds
constexpr std::size_t kMaxQuoted = 64;                   // of a value echoed in an error

// A value from the body, shortened for an error message.
std::string quoted(std::string_view s) {
  std::string out = "'";
  out += s.substr(0, kMaxQuoted);
  if (s.size() > kMaxQuoted) out += "...";
  out += "'";
  return out;
}

std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex16(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (std::size_t i = 16; i-- > 0;) {
    out[i] = kDigits[v & 0xf];
    v >>= 4;
  }
  return out;
}

const json::value* field(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const auto it = o->find(json::string_view(key.data(), key.size()));
  return it == o->end() ? nullptr : &it->value();
}

const json::object* object_field(const json::object* o, std::string_view key) {
  const json::value* v = field(o, key);
  return v == nullptr ? nullptr : v->if_object();
}

// A string as given, an integer in decimal; "" for anything else or absent.
std::string text_of(const json::value* v) {
  if (v == nullptr) return {};
  if (const auto* s = v->if_string()) return std::string(s->data(), s->size());
  if (const auto* i = v->if_int64()) return std::to_string(*i);
  if (const auto* u = v->if_uint64()) return std::to_string(*u);
  return {};
}

std::string text_field(const json::object* o, std::string_view key) {
  return text_of(field(o, key));
}

// Unix ms from a number or a digit string; below 10^11 it is seconds. nullopt when absent,
// negative, fractional strings, or out of range.
std::optional<std::int64_t> time_ms(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  std::int64_t n = -1;
  if (const auto* i = v->if_int64()) {
    n = *i;
  } else if (const auto* u = v->if_uint64()) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    n = static_cast<std::int64_t>(*u);
  } else if (const auto* d = v->if_double()) {
    if (!std::isfinite(*d) || *d < 0 || *d >= 9e15) return std::nullopt;
    n = static_cast<std::int64_t>(*d);
  } else if (const auto* s = v->if_string()) {
    if (s->empty() || s->size() > 15) return std::nullopt;
    n = 0;
    for (char c : *s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
  }
  if (n < 0 || n >= std::numeric_limits<std::int64_t>::max() / 1000) return std::nullopt;
  return n < kSecondsBelow ? n * 1000 : n;
}

// A phone reduced to 10 digits, or as given.
std::string phone_of(const std::string& raw, bool* valid = nullptr) {
  auto m = normalize_mobile(raw);
  if (valid != nullptr) *valid = m.has_value();
  return m ? *m : raw;
}

PayloadError missing(std::string_view where, std::string_view what) {
  return PayloadError{std::string(where) + ": missing " + std::string(what)};
}

constexpr auto kGupshupIgnoredTypes = std::to_array<std::string_view>(
    {"billing-event", "account-event", "template-event", "system-event"});

constexpr auto kGupshupTitledTypes =
    std::to_array<std::string_view>({"button_reply", "list_reply", "quick_reply"});

std::variant<WebhookBatch, PayloadError> parse_gupshup(const json::object& root,
                                                       std::string_view body) {
  WebhookBatch batch;
  batch.provider = Provider::gupshup;
  const std::string type = lower(text_field(&root, "type"));
  const std::string app = text_field(&root, "app");
  const std::int64_t callback_ms = time_ms(field(&root, "timestamp")).value_or(0);

  if (std::find(kGupshupIgnoredTypes.begin(), kGupshupIgnoredTypes.end(), type) !=
      kGupshupIgnoredTypes.end()) {
    batch.event_id = "gupshup:" + type + ":" + hex16(fnv1a64(body));
    return batch;
  }
  if (type != "message" && type != "message-event" && type != "user-event") {
    return PayloadError{"unsupported Gupshup callback type " + quoted(type)};
  }
  const std::string where = "gupshup " + type;
  const json::object* payload = object_field(&root, "payload");
  if (payload == nullptr) return missing(where, "payload");
  const json::object* inner = object_field(payload, "payload");

  if (type == "message") {
    const json::object* sender = object_field(payload, "sender");
    InboundMessage m;
    m.provider_message_id = text_field(payload, "id");
    if (m.provider_message_id.empty()) return missing(where, "payload.id");
    std::string from = text_field(payload, "source");
    if (from.empty()) from = text_field(sender, "phone");
    if (from.empty()) return missing(where, "payload.source");
    m.from = phone_of(from, &m.from_valid);
    m.type = lower(text_field(payload, "type"));
    if (m.type.empty()) return missing(where, "payload.type");
    if (m.type == "text") {
      m.text = text_field(inner, "text");
    } else if (std::find(kGupshupTitledTypes.begin(), kGupshupTitledTypes.end(), m.type) !=
               kGupshupTitledTypes.end()) {
      m.text = text_field(inner, "title");
      if (m.text.empty()) m.text = text_field(inner, "text");
    }
    m.to_business_number = app;
    m.timestamp_ms = callback_ms;
    m.sender_name = text_field(sender, "name");
    batch.event_id = "gupshup:message:" + m.provider_message_id;
    batch.messages.push_back(std::move(m));
    return batch;
  }

  if (type == "message-event") {
    StatusEvent s;
    s.provider_message_id = text_field(payload, "gsId");
    if (s.provider_message_id.empty()) s.provider_message_id = text_field(payload, "id");
    if (s.provider_message_id.empty()) return missing(where, "payload.id");
    s.status = normalize_delivery_status(text_field(payload, "type"));
    if (s.status.empty()) return missing(where, "payload.type");
    s.timestamp_ms = time_ms(field(inner, "ts")).value_or(callback_ms);
    s.error_code = text_field(inner, "code");
    s.error_message = text_field(inner, "reason");
    s.recipient = phone_of(text_field(payload, "destination"));
    s.event_id = "gupshup:status:" + s.provider_message_id + ":" + s.status;
    batch.event_id = s.event_id;
    batch.statuses.push_back(std::move(s));
    return batch;
  }

  UserEvent u;
  const std::string phone = text_field(payload, "phone");
  if (phone.empty()) return missing(where, "payload.phone");
  u.phone = phone_of(phone);
  u.kind = lower(text_field(payload, "type"));
  if (u.kind.empty()) return missing(where, "payload.type");
  u.timestamp_ms = callback_ms;
  u.to_business_number = app;
  u.event_id =
      "gupshup:user-event:" + u.phone + ":" + u.kind + ":" + std::to_string(u.timestamp_ms);
  batch.event_id = u.event_id;
  batch.user_events.push_back(std::move(u));
  return batch;
}

// The text a Meta message carries for the assistant: the body, or a button / list title.
std::string meta_text(const json::object& message, std::string_view type) {
  if (type == "text") return text_field(object_field(&message, "text"), "body");
  if (type == "button") return text_field(object_field(&message, "button"), "text");
  if (type == "interactive") {
    const json::object* interactive = object_field(&message, "interactive");
    for (std::string_view reply : {"button_reply", "list_reply"}) {
      std::string title = text_field(object_field(interactive, reply), "title");
      if (!title.empty()) return title;
    }
  }
  return {};
}

// The profile name of the contact with `wa_id`, or of the only contact.
std::string meta_sender_name(const json::array* contacts, std::string_view wa_id) {
  if (contacts == nullptr) return {};
  for (const json::value& c : *contacts) {
    const json::object* contact = c.if_object();
    if (contact != nullptr && text_field(contact, "wa_id") == wa_id) {
      return text_field(object_field(contact, "profile"), "name");
    }
  }
  if (contacts->size() == 1) {
    return text_field(object_field((*contacts)[0].if_object(), "profile"), "name");
  }
  return {};
}

// `key` of `o` must be an array when present; nullptr when absent.
std::variant<const json::array*, PayloadError> optional_array(const json::object& o,
                                                              std::string_view key,
                                                              const std::string& where) {
  const json::value* v = field(&o, key);
  if (v == nullptr || v->is_null()) return static_cast<const json::array*>(nullptr);
  if (const json::array* a = v->if_array()) return a;
  return PayloadError{where + "." + std::string(key) + " is not an array"};
}

std::optional<PayloadError> parse_meta_value(const json::object& value, const std::string& where,
                                             WebhookBatch& batch, std::vector<std::string>& keys) {
  const json::object* metadata = object_field(&value, "metadata");
  std::string business = text_field(metadata, "display_phone_number");
  if (business.empty()) business = text_field(metadata, "phone_number_id");

  // Contacts only supply names: a malformed list is ignored rather than refused.
  const json::value* contacts_value = field(&value, "contacts");
  const json::array* contacts = contacts_value == nullptr ? nullptr : contacts_value->if_array();
  auto messages = optional_array(value, "messages", where);
  if (auto* e = std::get_if<PayloadError>(&messages)) return std::move(*e);
  auto statuses = optional_array(value, "statuses", where);
  if (auto* e = std::get_if<PayloadError>(&statuses)) return std::move(*e);

  if (const json::array* list = std::get<const json::array*>(messages)) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string at = where + ".messages[" + std::to_string(i) + "]";
      const json::object* message = (*list)[i].if_object();
      if (message == nullptr) return PayloadError{at + " is not an object"};
      InboundMessage m;
      m.provider_message_id = text_field(message, "id");
      if (m.provider_message_id.empty()) return missing(at, "id");
      const std::string from = text_field(message, "from");
      if (from.empty()) return missing(at, "from");
      m.from = phone_of(from, &m.from_valid);
      m.type = lower(text_field(message, "type"));
      if (m.type.empty()) return missing(at, "type");
      m.text = meta_text(*message, m.type);
      m.to_business_number = business;
      m.timestamp_ms = time_ms(field(message, "timestamp")).value_or(0);
      m.sender_name = meta_sender_name(contacts, from);
      keys.push_back("message:" + m.provider_message_id);
      batch.messages.push_back(std::move(m));
    }
  }

  if (const json::array* list = std::get<const json::array*>(statuses)) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string at = where + ".statuses[" + std::to_string(i) + "]";
      const json::object* status = (*list)[i].if_object();
      if (status == nullptr) return PayloadError{at + " is not an object"};
      StatusEvent s;
      s.provider_message_id = text_field(status, "gs_id");
      if (s.provider_message_id.empty()) s.provider_message_id = text_field(status, "id");
      if (s.provider_message_id.empty()) return missing(at, "id");
      s.status = normalize_delivery_status(text_field(status, "status"));
      if (s.status.empty()) return missing(at, "status");
      s.timestamp_ms = time_ms(field(status, "timestamp")).value_or(0);
      s.recipient = phone_of(text_field(status, "recipient_id"));
      const json::value* errors = field(status, "errors");
      if (errors != nullptr && errors->is_array() && !errors->get_array().empty()) {
        const json::object* error = errors->get_array()[0].if_object();
        s.error_code = text_field(error, "code");
        s.error_message = text_field(object_field(error, "error_data"), "details");
        if (s.error_message.empty()) s.error_message = text_field(error, "message");
        if (s.error_message.empty()) s.error_message = text_field(error, "title");
      }
      s.event_id = "meta:status:" + s.provider_message_id + ":" + s.status;
      keys.push_back("status:" + s.provider_message_id + ":" + s.status);
      batch.statuses.push_back(std::move(s));
    }
  }
  return std::nullopt;
}

std::variant<WebhookBatch, PayloadError> parse_meta(const json::object& root,
                                                    std::string_view body) {
  const std::string object = text_field(&root, "object");
  if (object != "whatsapp_business_account") {
    return PayloadError{"unsupported Meta notification object " + quoted(object)};
  }
  const json::value* entry = field(&root, "entry");
  if (entry == nullptr || !entry->is_array()) return missing("meta", "entry");

  WebhookBatch batch;
  batch.provider = Provider::meta;
  std::vector<std::string> keys;
  const json::array& entries = entry->get_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string at = "entry[" + std::to_string(i) + "]";
    const json::object* e = entries[i].if_object();
    if (e == nullptr) return PayloadError{at + " is not an object"};
    const json::value* changes = field(e, "changes");
    if (changes == nullptr || !changes->is_array()) return missing(at, "changes");
    const json::array& list = changes->get_array();
    for (std::size_t j = 0; j < list.size(); ++j) {
      const std::string change_at = at + ".changes[" + std::to_string(j) + "]";
      const json::object* value = object_field(list[j].if_object(), "value");
      if (value == nullptr) return missing(change_at, "value");
      if (auto error = parse_meta_value(*value, change_at + ".value", batch, keys)) {
        return std::move(*error);
      }
    }
  }

  if (keys.empty()) {
    batch.event_id = "meta:empty:" + hex16(fnv1a64(body));
  } else if (keys.size() == 1) {
    batch.event_id = "meta:" + keys.front();
  } else {
    std::sort(keys.begin(), keys.end());
    std::string joined;
    for (const std::string& k : keys) {
      joined += k;
      joined.push_back('\n');
    }
    batch.event_id = "meta:batch:" + hex16(fnv1a64(joined));
  }
  return batch;
}

// Inbox items: one list of (JSON key, member) per item type serves writing and reading, in the
// stored order.
template <class T>
struct ItemField {
  std::string_view key;
  std::variant<std::string T::*, std::int64_t T::*, bool T::*> member;
};

const auto kMessageFields = std::to_array<ItemField<InboundMessage>>({
    {"provider_message_id", &InboundMessage::provider_message_id},
    {"from", &InboundMessage::from},
    {"from_valid", &InboundMessage::from_valid},
    {"to", &InboundMessage::to_business_number},
    {"type", &InboundMessage::type},
    {"text", &InboundMessage::text},
    {"timestamp_ms", &InboundMessage::timestamp_ms},
    {"sender_name", &InboundMessage::sender_name},
});

const auto kStatusFields = std::to_array<ItemField<StatusEvent>>({
    {"provider_message_id", &StatusEvent::provider_message_id},
    {"status", &StatusEvent::status},
    {"timestamp_ms", &StatusEvent::timestamp_ms},
    {"error_code", &StatusEvent::error_code},
    {"error_message", &StatusEvent::error_message},
    {"recipient", &StatusEvent::recipient},
});

const auto kUserEventFields = std::to_array<ItemField<UserEvent>>({
    {"kind", &UserEvent::kind},
    {"phone", &UserEvent::phone},
    {"timestamp_ms", &UserEvent::timestamp_ms},
});

const auto& fields_of(const InboundMessage&) {
  return kMessageFields;
}
const auto& fields_of(const StatusEvent&) {
  return kStatusFields;
}
const auto& fields_of(const UserEvent&) {
  return kUserEventFields;
}

// A stored field as the writer put it; absent or of another JSON type, it stays empty / 0 / false.
void read_into(const json::value* v, std::string& out) {
  if (v != nullptr && v->is_string()) out = v->get_string();
}
void read_into(const json::value* v, std::int64_t& out) {
  if (v != nullptr && v->is_int64()) out = v->get_int64();
}
void read_into(const json::value* v, bool& out) {
  if (v != nullptr && v->is_bool()) out = v->get_bool();
}

template <class T>
json::object item_object(const T& item) {
  json::object o;
  for (const auto& f : fields_of(item)) {
    std::visit([&](auto member) { o[f.key] = item.*member; }, f.member);
  }
  return o;
}

template <class T>
T item_of(const json::object& o) {
  T item;
  for (const auto& f : fields_of(item)) {
    std::visit([&](auto member) { read_into(field(&o, f.key), item.*member); }, f.member);
  }
  return item;
}

}  // namespace

std::string_view inbox_kind(const InboxItem& item) {
  constexpr std::array<std::string_view, 3> kKinds{"message", "status", "user_event"};
  return kKinds.at(item.index());
}

std::string to_json(const InboxItem& item) {
  return json::serialize(std::visit([](const auto& i) { return item_object(i); }, item));
}

InboxItem inbox_item_from_json(std::string_view kind, std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
  const json::object* o = ec ? nullptr : root.if_object();
  if (o == nullptr) throw std::invalid_argument("inbox item is not a JSON object");
  if (kind == "message") return item_of<InboundMessage>(*o);
  if (kind == "status") return item_of<StatusEvent>(*o);
  if (kind == "user_event") return item_of<UserEvent>(*o);
  throw std::invalid_argument("unknown inbox item kind " + quoted(kind));
}

constexpr auto kProviderNames = std::to_array<std::string_view>({"gupshup", "meta"});

std::string_view provider_name(Provider provider) {
  return enum_entry<Provider::meta>(kProviderNames, provider, "gupshup");
}

std::string normalize_delivery_status(std::string_view provider_status) {
  std::string s = lower(provider_status);
  if (s == "enqueued" || s == "queued" || s == "submitted" || s == "accepted") return "enqueued";
  if (s == "seen") return "read";
  if (s == "undelivered" || s == "rejected" || s == "error") return "failed";
  return s;  // sent, delivered, read, failed, and anything else as given (lower-cased)
}

std::variant<WebhookBatch, PayloadError> parse_webhook(std::string_view body) {
  try {
    boost::system::error_code ec;
    const json::value root = json::parse(json::string_view(body.data(), body.size()), ec);
    if (ec) return PayloadError{"malformed JSON: " + ec.message()};
    const json::object* o = root.if_object();
    if (o == nullptr) return PayloadError{"the body is not a JSON object"};
    if (o->contains("object")) return parse_meta(*o, body);
    if (const json::value* type = field(o, "type"); type != nullptr && type->is_string()) {
      return parse_gupshup(*o, body);
    }
    return PayloadError{"unknown callback shape: neither Meta \"object\" nor Gupshup \"type\""};
  } catch (const std::exception& e) {
    return PayloadError{std::string("unreadable body: ") + e.what()};
  }
}

}  // namespace leadgate
