#include "services/whatsapp_assistant.h"

#include <boost/json.hpp>
#include <map>
#include <utility>

#include "core/errors.h"
#include "core/log.h"
#include "core/trace.h"
#include "domain/assistant_choice.h"
#include "domain/assistant_replies.h"
#include "domain/mobile.h"
#include "domain/outbox_payload.h"
#include "services/lead_records.h"
#include "services/person_keys.h"
#include "services/privacy.h"

namespace leadgate {

namespace {

// What the consent ledger records as the request of an event that came in over WhatsApp.
Trace inbound_trace(std::string request_id, const std::string& environment) {
  Trace t;
  t.request_id = std::move(request_id);
  t.environment = environment;
  return t;
}

constexpr std::int64_t kReplyWindowMs = 10 * 60 * 1000;
constexpr int kUnmatchedReceiptRetries = 2;

// The event's item: its sealed payload opened and read (throws when unreadable).
InboxItem open_item(const InboxEvent& event, const PiiCipher& cipher) {
  return inbox_item_from_json(event.kind, cipher.open("inbox", event.payload_enc));
}

// The receipt of a status event, to be applied together with the end of the event. A receipt
// can overtake the record of the send it is about (the provider answered, the outbox has not
// stored the message id yet): unmatched, it is looked at again shortly, and kept unmatched only
// after the last look.
DeliveryReceipt receipt_of(const InboxEvent& event, const StatusEvent& s) {
  DeliveryReceipt r;
  r.provider_message_id = s.provider_message_id;
  r.status = s.status;
  r.at = s.timestamp_ms != 0 ? s.timestamp_ms : event.received_at;
  r.error_code = s.error_code;
  r.error_message = scrub_pii(s.error_message).substr(0, 300);
  r.received_at = event.received_at;
  r.inbox_id = event.id;
  r.processed_at = now_ms();
  if (event.attempts < kUnmatchedReceiptRetries) r.retry_unmatched_at = r.processed_at + 2000;
  return r;
}

}  // namespace

// A status question's answer once the sender's applications were looked up.
struct WhatsAppAssistant::StatusAnswer {
  std::string reply_kind;  // status | error
  std::map<std::string, std::string> values;
  std::string lead_ref;
  std::string application_id;
};

WhatsAppAssistant::WhatsAppAssistant(WhatsAppStore& chats, LeadStore& leads,
                                     VerificationStore& limits, PrivacyStore& consents,
                                     const ServiceDeps& deps, ApplicationTracker& tracker,
                                     std::function<void()> wake_outbox)
    : consents_(consents),
      chats_(chats),
      leads_(leads),
      limits_(limits),
      deps_(deps),
      tracker_(tracker),
      wake_outbox_(std::move(wake_outbox)) {
  deps_.metrics.describe({
      {"leadgate_whatsapp_inbound_total", "counter",
       "Inbound WhatsApp messages processed, by environment, type and classification"},
      {"leadgate_whatsapp_replies_total", "counter",
       "Automatic WhatsApp replies queued, by environment and kind"},
      {"leadgate_whatsapp_receipts_total", "counter",
       "Delivery receipts processed, by status and whether a message matched"},
      {"leadgate_inbox_processing_seconds", "histogram",
       "Time from webhook receipt to the end of processing, by kind"},
  });
}

boost::asio::awaitable<void> WhatsAppAssistant::handle(const InboxEvent& event) {
  if (event.kind != "message" && event.kind != "status" && event.kind != "user_event") {
    // A kind this version does not know has nothing for it to do.
    const auto now = now_ms();
    co_await deps_.pool.run([&] { chats_.finish_inbox(event.id, "done", now, 0, ""); });
    finished(event);
    co_return;
  }
  const InboxItem item = open_item(event, deps_.cipher);
  if (const auto* s = std::get_if<StatusEvent>(&item)) {
    const DeliveryReceipt r = receipt_of(event, *s);
    const auto matched = co_await deps_.pool.run([&] { return chats_.record_delivery(r); });
    receipt_finished(event, r, matched);
    co_return;
  }
  if (const auto* m = std::get_if<InboundMessage>(&item)) {
    co_await answer(event, *m);  // finishes the event itself
  } else {
    co_await record_user_event(event, std::get<UserEvent>(item));
  }
  finished(event);
}

boost::asio::awaitable<std::vector<const InboxEvent*>> WhatsAppAssistant::apply_receipts(
    const std::vector<InboxEvent>& batch) {
  std::vector<const InboxEvent*> rest;
  std::vector<const InboxEvent*> events;
  std::vector<DeliveryReceipt> receipts;
  for (const auto& event : batch) {
    if (event.kind == "status") {
      try {
        receipts.push_back(
            receipt_of(event, std::get<StatusEvent>(open_item(event, deps_.cipher))));
        events.push_back(&event);
        continue;
      } catch (const std::exception&) {
        // handle() records why, with its retries.
      }
    }
    rest.push_back(&event);
  }
  if (receipts.empty()) co_return rest;
  std::vector<std::int64_t> matched;
  try {
    matched = co_await deps_.pool.run([&] { return chats_.record_deliveries(receipts); });
  } catch (const std::exception& e) {
    // Nothing of the batch was stored: each receipt is tried on its own, with its own retries.
    log_warn("inbox_receipts_batch_failed",
             {{"receipts", receipts.size()}, {"error", scrub_pii(e.what())}});
    rest.insert(rest.begin(), events.begin(), events.end());
    co_return rest;
  }
  for (std::size_t i = 0; i < receipts.size(); ++i) {
    receipt_finished(*events[i], receipts[i], matched[i]);
  }
  co_return rest;
}

void WhatsAppAssistant::receipt_finished(const InboxEvent& event, const DeliveryReceipt& r,
                                         std::int64_t matched) {
  if (!matched && r.retry_unmatched_at != 0) return;
  deps_.metrics.count("leadgate_whatsapp_receipts_total",
                      {{"status", r.status}, {"matched", matched ? "true" : "false"}});
  finished(event);
}

void WhatsAppAssistant::finished(const InboxEvent& event) {
  deps_.metrics.observe("leadgate_inbox_processing_seconds", {{"kind", event.kind}},
                        static_cast<double>(now_ms() - event.received_at) / 1000.0);
}

boost::asio::awaitable<void> WhatsAppAssistant::record_user_event(const InboxEvent& event,
                                                                  const UserEvent& u) {
  const auto mobile = normalize_mobile(u.phone);
  if ((u.kind == "opted-out" || u.kind == "opted-in") && mobile && !event.environment.empty()) {
    // The consent ledger's whatsapp_updates event sets the opt-out with it (one transaction).
    const bool out = u.kind == "opted-out";
    ConsentEvent e = consent_event(
        deps_, event.environment, *mobile, "whatsapp_updates", out ? "withdrawn" : "granted",
        out ? "whatsapp_stop" : "whatsapp_start",
        inbound_trace("whatsapp-event:" + std::to_string(event.id), event.environment));
    if (u.timestamp_ms != 0) e.at = u.timestamp_ms;
    co_await deps_.pool.run([&] { return consents_.record_consent(e, true); });
  }
  const auto now = now_ms();
  co_await deps_.pool.run([&] { chats_.finish_inbox(event.id, "done", now, 0, ""); });
}

boost::asio::awaitable<bool> WhatsAppAssistant::throttled(const std::string& environment,
                                                          const std::string& bidx,
                                                          std::int64_t now) {
  const std::string scope = "wa_reply:" + environment + ":" + bidx;
  const int max_replies = deps_.config.assistant_max_replies;
  const auto decision = co_await deps_.pool.run(
      [&] { return limits_.reserve_rate_event(scope, now, kReplyWindowMs, max_replies, 0); });
  co_return !decision.allowed;
}

boost::asio::awaitable<WhatsAppAssistant::StatusAnswer> WhatsAppAssistant::status_answer(
    const InboxEvent& event, const std::optional<std::string>& named, const std::string& bidx,
    std::int64_t now) {
  // The sender's applications in this environment only.
  const std::string& environment = event.environment;
  struct Found {
    std::vector<LeadRow> leads;
    std::vector<ConversationMessage> recent;
  };
  auto found = co_await deps_.pool.run([&] {
    Found f;
    f.leads = leads_.find_leads_by_mobile(environment, bidx);
    load_lead_keys(deps_.cipher, f.leads);
    f.recent = chats_.conversation(environment, bidx, kAssistantContextMessages);
    return f;
  });
  std::vector<ApplicationRef> applications;
  for (const auto& l : found.leads) {
    applications.push_back({l.reference_id, l.basic_application_id, l.application_id});
  }
  std::vector<ConversationMention> recent;
  for (const auto& c : found.recent) recent.push_back({c.created_at, c.application_id});
  const ApplicationChoice choice = choose_application(named, applications, recent, now);
  StatusAnswer answer{choice.reply_kind, {}, "", choice.application_id};
  if (!choice.application) co_return answer;

  LeadRow& lead = found.leads[*choice.application];
  Trace trace;
  trace.request_id = "inbox-" + std::to_string(event.id);
  trace.environment = environment;
  const StatusView view = co_await tracker_.current_status(lead, trace);
  const LeadInput customer = open_lead(lead, deps_.cipher);
  answer.values = status_values({customer.first_name, lead.loan_type, choice.application_id,
                                 view.status, view.stage, found.leads.size()});
  answer.lead_ref = lead.reference_id;
  co_return answer;
}

void WhatsAppAssistant::add_reply(ConversationWrite& w, const std::string& kind,
                                  const std::string& text, const std::string& mobile) const {
  const ConversationMessage& in = w.inbound;
  OutboxMessage m;
  m.environment = in.environment;
  m.lead_ref = in.lead_ref;
  m.kind = "whatsapp_text";
  m.payload_enc =
      deps_.cipher.seal("outbox", outbox_text_payload("91" + mobile, text, /*exempt=*/true));
  m.created_at = w.now;
  m.next_attempt_at = w.now;
  w.reply_outbox = m;
  ConversationMessage reply;
  reply.environment = in.environment;
  reply.phone_bidx = in.phone_bidx;
  reply.direction = "out";
  reply.lead_ref = in.lead_ref;
  reply.application_id = in.application_id;
  reply.msg_type = "text";
  reply.text_enc = deps_.cipher.seal("conversation", text);
  reply.classification = kind;
  reply.created_at = w.now;
  w.reply = reply;
}

boost::asio::awaitable<void> WhatsAppAssistant::answer(const InboxEvent& event,
                                                       const InboundMessage& message) {
  const auto now = now_ms();
  const std::string& environment = event.environment;
  if (environment.empty() || !message.from_valid || !deps_.config.envs.contains(environment)) {
    // Not for one of our business numbers, or not from an Indian mobile: kept, not answered.
    log_warn("inbound_not_answered", {{"inbox_id", event.id},
                                      {"reason", environment.empty() ? "unknown business number"
                                                                     : "sender is not an Indian "
                                                                       "mobile"}});
    co_await deps_.pool.run([&] { chats_.finish_inbox(event.id, "done", now, 0, "not answered"); });
    co_return;
  }
  const auto& env = deps_.config.env(environment);
  const std::string bidx = mobile_blind_index(deps_.cipher, message.from);

  ConversationWrite w;
  w.inbox_id = event.id;
  w.now = now;
  auto& in = w.inbound;
  in.environment = environment;
  in.phone_bidx = bidx;
  in.direction = "in";
  in.provider_message_id = message.provider_message_id;
  in.msg_type = message.type;
  if (!message.text.empty()) in.text_enc = deps_.cipher.seal("conversation", message.text);
  in.created_at = message.timestamp_ms != 0 ? message.timestamp_ms : now;

  const AssistantQuestion question = assistant_question(message.text);
  bool limited = false;
  if (counts_against_reply_limit(question)) limited = co_await throttled(environment, bidx, now);
  const AssistantPlan plan = plan_reply(question, limited);
  in.classification = plan.classification;
  w.opted_out = plan.opted_out;
  if (plan.opted_out) {
    w.consent =
        consent_event(deps_, environment, message.from, "whatsapp_updates",
                      *plan.opted_out ? "withdrawn" : "granted",
                      *plan.opted_out ? "whatsapp_stop" : "whatsapp_start",
                      inbound_trace("whatsapp:" + message.provider_message_id, environment));
  }
  std::string reply_kind = plan.reply_kind;
  std::map<std::string, std::string> values{{"brand", env.brand_name},
                                            {"support_phone", env.support_phone},
                                            {"support_email", env.support_email},
                                            {"support_hours", env.support_hours}};
  if (plan.needs_applications) {
    StatusAnswer found =
        co_await status_answer(event, question.classification.application_id, bidx, now);
    reply_kind = found.reply_kind;
    values.insert(found.values.begin(), found.values.end());
    in.lead_ref = found.lead_ref;
    in.application_id = found.application_id;
  }
  if (!reply_kind.empty()) {
    add_reply(w, reply_kind, fill_placeholders(env.assistant_texts.at(reply_kind), values),
              message.from);
  }
  bool duplicate = false;
  try {
    co_await deps_.pool.run([&] { chats_.record_conversation(w); });
  } catch (const StoreConflict&) {
    duplicate = true;  // the same message stored under another event id: answered already
  }
  if (duplicate) {
    co_await deps_.pool.run(
        [&] { chats_.finish_inbox(event.id, "done", now, 0, "duplicate message"); });
    co_return;
  }
  const std::string& type = message.type;
  deps_.metrics.count("leadgate_whatsapp_inbound_total", {{"environment", environment},
                                                          {"type", type.empty() ? "unknown" : type},
                                                          {"classification", in.classification}});
  if (!reply_kind.empty()) {
    deps_.metrics.count("leadgate_whatsapp_replies_total",
                        {{"environment", environment}, {"kind", reply_kind}});
    if (wake_outbox_) wake_outbox_();
  }
  log_info("inbound_processed", {{"inbox_id", event.id},
                                 {"environment", environment},
                                 {"classification", in.classification},
                                 {"reply", reply_kind},
                                 {"application_id", in.application_id}});
}

}  // namespace leadgate
