#pragma once
// The payload of a WhatsApp outbox row (sealed in outbox.payload_enc): written by the services
// that queue a message, read by the outbox dispatcher. Stored rows outlive releases: the JSON
// shape ({"destination", "template_id", "params", "customer_notification"} or {"destination",
// "text", "exempt_opt_out"}) only ever gains members.
#include <string>
#include <string_view>
#include <vector>

namespace leadgate {

struct OutboxPayload {
  std::string destination;  // "91" + the 10-digit mobile
  std::string template_id;  // whatsapp_template rows
  std::vector<std::string> params;
  std::string text;             // whatsapp_text rows
  bool exempt_opt_out = false;  // sent even to an opted-out number (text rows only)
  // A notification to the lead's customer (template rows): counted against, and suppressed
  // beyond, LEADGATE_CUSTOMER_MESSAGES_PER_DAY. False for messages to staff (the RM), for
  // session replies and for rows written before the member existed.
  bool customer_notification = false;
};

// Who a template message goes to: the lead's customer (a notification, under the per-customer
// daily cap) or a member of staff (the relationship manager; not capped).
enum class Recipient { customer, staff };

std::string outbox_template_payload(const std::string& destination, const std::string& template_id,
                                    const std::vector<std::string>& params, Recipient to);
// exempt_opt_out: the opt-out/opt-in confirmations and direct answers to the customer's own
// questions.
std::string outbox_text_payload(const std::string& destination, const std::string& text,
                                bool exempt_opt_out);
// The payload of a row of `kind` (whatsapp_template; anything else reads as a text row). Throws
// std::exception when the JSON or a required member is missing or of the wrong type.
OutboxPayload parse_outbox_payload(std::string_view kind, std::string_view json);

}  // namespace leadgate
