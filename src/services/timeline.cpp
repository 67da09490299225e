#include "services/timeline.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "domain/application_progress.h"

namespace leadgate {
namespace {

std::string purpose_words(const std::string& purpose) {
  if (purpose.empty()) return "notification";
  std::string out = purpose;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// Audit values of appointment events are JSON objects (services/appointments.cpp); anything else is
// shown as a summary.
boost::json::object value_details(const std::string& value) {
  boost::system::error_code ec;
  auto v = boost::json::parse(value, ec);
  if (!ec && v.is_object()) return v.as_object();
  return {{"summary", value}};
}

// Field-level entries of one request and operation become one event listing the fields.
void add_field_update(const AuditEntry& a,
                      std::map<std::pair<std::string, std::string>, std::size_t>& grouped,
                      std::vector<TimelineEvent>& out) {
  const std::string& op = a.operation;
  const auto key = std::make_pair(a.request_id, op == "created" ? op : std::string("updated"));
  auto it = grouped.find(key);
  if (it == grouped.end() || a.request_id.empty()) {
    TimelineEvent e;
    e.at = a.created_at;
    e.source = "audit";
    e.event = op == "created" ? "lead_created" : "details_updated";
    e.description = op == "created" ? "Application received" : "Application details updated";
    e.details["fields"] = boost::json::array{};
    grouped[key] = out.size();
    out.push_back(std::move(e));
    it = grouped.find(key);
  }
  out[it->second].details["fields"].as_array().emplace_back(a.field);
}

// A status change; false when another event already tells it.
bool describe_status_change(const AuditEntry& a, TimelineEvent& e) {
  const std::string& from = a.old_value;
  const std::string& to = a.new_value;
  // Covered by partner_submitted / lead_flash_completed, or the creation itself.
  if (to == "completed" || (from == "pending_los" && to == "created") ||
      (from.empty() && to == "pending_los")) {
    return false;
  }
  if (to == "los_failed") {
    e.event = "partner_submission_failed";
    e.description = "Submission to the loan system failed; it will be retried";
  } else if (to == "flash_pending") {
    e.event = "lead_flash_started";
    e.description = "Additional details received and sent for processing";
  } else if (to == "flash_failed") {
    e.event = "lead_flash_failed";
    e.description = "Processing the additional details failed; they are kept for a retry";
  } else {
    e.event = "status_changed";
    e.description = "Status changed from " + lead_status_text(from) + " to " + lead_status_text(to);
  }
  e.details = {{"from", from}, {"to", to}};
  return true;
}

void describe_appointment(const AuditEntry& a, TimelineEvent& e) {
  const std::string& op = a.operation;
  e.event = op;
  e.details = value_details(op == "appointment_booked" ? a.new_value : a.old_value);
  // A cancellation's audit keeps the appointment as it was (booked): show it as it is now.
  if (op == "appointment_cancelled") e.details["status"] = "cancelled";
  const auto* date = e.details.if_contains("date");
  const auto* time = e.details.if_contains("time");
  const auto* rm = e.details.if_contains("rm_name");
  std::string when;
  if (date && date->is_string() && time && time->is_string()) {
    when = " for " + std::string(date->get_string()) + " " + std::string(time->get_string());
  }
  if (rm && rm->is_string()) when += " with " + std::string(rm->get_string());
  e.description =
      std::string(op == "appointment_booked" ? "Appointment booked" : "Appointment cancelled") +
      when;
}

// Every other audit entry: one event each; false when it is not shown.
bool describe_audit(const AuditEntry& a, TimelineEvent& e) {
  const std::string& op = a.operation;
  e.at = a.created_at;
  e.source = "audit";
  if (op == "status_changed") return describe_status_change(a, e);
  if (op == "partner_submitted") {
    e.event = "partner_submitted";
    e.description = "Application registered with the loan system as " + a.new_value;
    e.details = {{"basic_application_id", a.new_value}};
  } else if (op == "flash_completed") {
    e.event = "lead_flash_completed";
    e.description = "Application completed with the additional details";
    e.details = {{"completion_reference", a.new_value}};
  } else if (op == "partner_status_changed") {
    e.event = "partner_status_changed";
    e.description = a.old_value.empty()
                        ? "Status: " + a.new_value
                        : "Status changed from " + a.old_value + " to " + a.new_value;
    e.details = {{"from", a.old_value}, {"to", a.new_value}};
  } else if (op == "appointment_booked" || op == "appointment_cancelled") {
    describe_appointment(a, e);
  } else {
    e.event = op;
    e.description = op;
    if (!a.field.empty()) e.details = {{"field", a.field}};
  }
  return true;
}

void add_audit_events(const std::vector<AuditEntry>& audit, std::vector<TimelineEvent>& out) {
  std::map<std::pair<std::string, std::string>, std::size_t> grouped;
  for (const auto& a : audit) {
    const std::string& op = a.operation;
    if (op == "created" || op == "updated" || op == "flash_updated") {
      add_field_update(a, grouped, out);
      continue;
    }
    TimelineEvent e;
    if (describe_audit(a, e)) out.push_back(std::move(e));
  }
}

void add_receipt_events(const std::vector<DeliveryReceipt>& receipts,
                        std::map<std::int64_t, std::string>& purposes,
                        std::vector<TimelineEvent>& out) {
  for (const auto& r : receipts) {
    if (r.status != "delivered" && r.status != "read" && r.status != "failed") continue;
    TimelineEvent e;
    e.at = r.at;
    e.source = "whatsapp";
    const std::string words = purpose_words(purposes[r.outbox_id]);
    if (r.status == "failed") {
      e.event = "whatsapp_delivery_failed";
      e.description = "WhatsApp message could not be delivered: " + words;
      e.details = {{"error_code", r.error_code}, {"error", r.error_message}};
    } else {
      e.event = "whatsapp_" + r.status;
      e.description = "WhatsApp message " + r.status + ": " + words;
    }
    e.details["message_id"] = r.outbox_id;
    e.details["purpose"] = purposes[r.outbox_id];
    out.push_back(std::move(e));
  }
}

void add_conversation_events(const std::vector<ConversationMessage>& conversation,
                             const std::map<std::int64_t, std::string>& purposes,
                             std::vector<TimelineEvent>& out) {
  for (const auto& c : conversation) {
    if (c.direction == "out" && purposes.contains(c.outbox_id)) continue;  // shown via outbox
    TimelineEvent e;
    e.at = c.created_at;
    e.source = "whatsapp";
    if (c.direction == "in") {
      e.event = "whatsapp_received";
      e.description = "WhatsApp message from the customer (" + c.classification + ")";
      e.details = {{"classification", c.classification}, {"type", c.msg_type}};
    } else {
      e.event = "whatsapp_reply";
      e.description = "Automatic WhatsApp reply: " + c.classification;
      e.details = {{"reply", c.classification}, {"message_id", c.outbox_id}};
    }
    if (!c.application_id.empty()) e.details["application_id"] = c.application_id;
    out.push_back(std::move(e));
  }
}

// One message's life in the outbox: queued, each attempt (sent, failed or suppressed), and dead
// when it gave up.
void add_message_events(const OutboxMessage& m, const std::string& purpose,
                        const std::vector<const OutboxAttempt*>& attempts,
                        std::vector<TimelineEvent>& out) {
  const std::string words = purpose_words(purpose);
  auto base = [&](std::int64_t at, const char* event, std::string description) {
    TimelineEvent e;
    e.at = at;
    e.source = "outbox";
    e.event = event;
    e.description = std::move(description);
    e.details = {{"purpose", purpose}, {"message_id", m.id}};
    return e;
  };
  out.push_back(base(m.created_at, "whatsapp_queued", "WhatsApp message queued: " + words));
  std::int64_t last = m.created_at;
  for (const auto* a : attempts) {
    last = a->started_at + a->duration_ms;
    if (a->outcome == "accepted") {
      auto e = base(last, "whatsapp_sent", "WhatsApp message sent: " + words);
      if (!a->provider_message_id.empty()) {
        e.details["provider_message_id"] = a->provider_message_id;
      }
      e.details["attempt"] = a->attempt;
      out.push_back(std::move(e));
    } else if (a->outcome == "suppressed") {
      // Never sent, on purpose: the customer opted out, or their daily message cap was reached.
      auto e = base(last, "whatsapp_suppressed", "WhatsApp message not sent: " + words);
      e.details["reason"] = a->error;
      out.push_back(std::move(e));
    } else {
      auto e =
          base(last, "whatsapp_attempt_failed", "WhatsApp message could not be sent yet: " + words);
      e.details["attempt"] = a->attempt;
      e.details["error"] = a->error;
      if (a->http_status) e.details["http_status"] = a->http_status;
      out.push_back(std::move(e));
    }
  }
  if (m.status == "dead") {
    auto e = base(last, "whatsapp_failed", "WhatsApp message failed: " + words);
    e.details["error"] = m.last_error;
    out.push_back(std::move(e));
  }
}

void add_outbox_events(const std::vector<OutboxMessage>& outbox,
                       const std::vector<OutboxAttempt>& attempts,
                       const std::function<std::string(const OutboxMessage&)>& purpose_of,
                       std::vector<TimelineEvent>& out) {
  std::map<std::int64_t, std::vector<const OutboxAttempt*>> by_message;
  for (const auto& a : attempts) by_message[a.outbox_id].push_back(&a);
  std::vector<const OutboxMessage*> messages;
  for (const auto& m : outbox) messages.push_back(&m);
  std::sort(messages.begin(), messages.end(),
            [](const auto* a, const auto* b) { return a->id < b->id; });
  for (const auto* m : messages) add_message_events(*m, purpose_of(*m), by_message[m->id], out);
}

}  // namespace

std::vector<TimelineEvent> build_timeline(
    const std::vector<AuditEntry>& audit, const std::vector<OutboxMessage>& outbox,
    const std::vector<OutboxAttempt>& attempts,
    const std::function<std::string(const OutboxMessage&)>& purpose_of,
    const std::vector<DeliveryReceipt>& receipts,
    const std::vector<ConversationMessage>& conversation) {
  std::vector<TimelineEvent> out;
  add_audit_events(audit, out);
  std::map<std::int64_t, std::string> purposes;
  for (const auto& m : outbox) purposes[m.id] = purpose_of(m);
  add_receipt_events(receipts, purposes, out);
  add_conversation_events(conversation, purposes, out);
  add_outbox_events(outbox, attempts, purpose_of, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const TimelineEvent& a, const TimelineEvent& b) { return a.at < b.at; });
  return out;
}

boost::json::array timeline_json(const std::vector<TimelineEvent>& events) {
  boost::json::array out;
  for (const auto& e : events) {
    out.push_back(boost::json::object{{"at", iso_utc(e.at)},
                                      {"event", e.event},
                                      {"source", e.source},
                                      {"description", e.description},
                                      {"details", e.details}});
  }
  return out;
}

}  // namespace leadgate
