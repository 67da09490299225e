#include "jobs/inbox_processor.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/log.h"
#include "domain/assistant_replies.h"
#include "domain/mobile.h"
#include "domain/whatsapp_classifier.h"
#include "http/types.h"
#include "services/lead_records.h"

namespace leadgate {
namespace {

// A claim takes up to kClaim due events. Its delivery receipts are applied together (a few
// statements whatever their number); of the other events, which may each need a live status
// lookup, at most kEventsPerClaim are processed and the rest released at once for the next claim
// (this instance's or another's), so a lease never holds more of them than it was sized for.
constexpr int kClaim = 64;
constexpr int kEventsPerClaim = 8;
constexpr std::int64_t kReceiptsLeaseMs = 30 * 1000;
constexpr std::int64_t kReplyWindowMs = 10 * 60 * 1000;
constexpr std::int64_t kContextMs = 24 * 60 * 60 * 1000;  // how far back "that application" reaches
constexpr int kContextMessages = 10;
constexpr int kMaxAttempts = 5;
constexpr int kUnmatchedReceiptRetries = 2;

std::string text_of(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t int_of(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

// The receipt of a status event, to be applied together with the end of the event. A receipt
// can overtake the record of the send it is about (the provider answered, the outbox has not
// stored the message id yet): unmatched, it is looked at again shortly, and kept unmatched only
// after the last look.
DeliveryReceipt receipt_of(const InboxEvent& event, const boost::json::object& item) {
  DeliveryReceipt r;
  r.provider_message_id = text_of(item, "provider_message_id");
  r.status = text_of(item, "status");
  r.at = int_of(item, "timestamp_ms");
  if (r.at == 0) r.at = event.received_at;
  r.error_code = text_of(item, "error_code");
  r.error_message = scrub_pii(text_of(item, "error_message")).substr(0, 300);
  r.received_at = event.received_at;
  r.inbox_id = event.id;
  r.processed_at = now_ms();
  if (event.attempts < kUnmatchedReceiptRetries) r.retry_unmatched_at = r.processed_at + 2000;
  return r;
}

}  // namespace

std::string outbox_text_payload(const std::string& destination, const std::string& text,
                                bool exempt_opt_out) {
  return boost::json::serialize(boost::json::object{
      {"destination", destination}, {"text", text}, {"exempt_opt_out", exempt_opt_out}});
}

InboxProcessor::InboxProcessor(boost::asio::any_io_executor executor, Store& store,
                               BlockingPool& pool, ApplicationTracker& tracker,
                               OutboxDispatcher& outbox, const PiiCipher& cipher,
                               const Config& config, Metrics& metrics)
    : strand_(boost::asio::make_strand(executor)),
      timer_(strand_),
      store_(store),
      pool_(pool),
      tracker_(tracker),
      outbox_(outbox),
      cipher_(cipher),
      config_(config),
      metrics_(metrics),
      owner_("inbox-" + std::to_string(getpid()) + "-" + random_token(8)) {
  metrics_.describe("leadgate_whatsapp_inbound_total", "counter",
                    "Inbound WhatsApp messages processed, by environment, type and classification");
  metrics_.describe("leadgate_whatsapp_replies_total", "counter",
                    "Automatic WhatsApp replies queued, by environment and kind");
  metrics_.describe("leadgate_whatsapp_receipts_total", "counter",
                    "Delivery receipts processed, by status and whether a message matched");
  metrics_.describe("leadgate_inbox_processing_seconds", "histogram",
                    "Time from webhook receipt to the end of processing, by kind");
}

void InboxProcessor::start() {
  boost::asio::co_spawn(strand_, run(), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_error("inbox_processor_crashed", {{"error", ex.what()}});
      }
    }
    stopped_ = true;
  });
}

void InboxProcessor::notify() {
  boost::asio::post(strand_, [this] { timer_.cancel(); });
}

void InboxProcessor::stop() {
  stopping_ = true;
  notify();
}

boost::asio::awaitable<void> InboxProcessor::run() {
  log_info("inbox_processor_started", {{"owner", owner_}});
  while (!stopping_) {
    std::vector<InboxEvent> batch;
    // Long enough to apply the receipts and for a live status lookup per other event; an event is
    // only started while its worst case still fits, so a lease never expires under work in
    // progress (and if it did, the unique inbound message id still prevents a second answer).
    const auto per_event =
        (config_.status_timeout + config_.status_retry_delay).count() * config_.status_attempts +
        2000;
    const auto lease_until = now_ms() + kReceiptsLeaseMs + kEventsPerClaim * per_event;
    try {
      const auto now = now_ms();
      batch =
          co_await pool_.run([&] { return store_.claim_inbox(now, kClaim, owner_, lease_until); });
    } catch (const std::exception& e) {
      log_warn("inbox_claim_failed", {{"error", e.what()}});
    }
    std::vector<const InboxEvent*> rest;
    co_await process_receipts(batch, rest);
    std::size_t processed = batch.size() - rest.size();
    for (std::size_t i = 0; i < rest.size() && static_cast<int>(i) < kEventsPerClaim; ++i) {
      // Unprocessed claims are released (or taken again when their lease expires).
      if (stopping_ || now_ms() + per_event > lease_until) break;
      co_await process(*rest[i]);
      ++processed;
    }
    if (processed < batch.size()) {
      try {
        co_await pool_.run([&] { store_.release_inbox_leases(owner_); });
      } catch (const std::exception& e) {
        log_warn("inbox_release_failed", {{"error", e.what()}});
      }
    }
    if (stopping_) break;
    if (static_cast<int>(batch.size()) == kClaim || rest.size() > kEventsPerClaim) continue;
    timer_.expires_after(config_.inbox_poll);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  log_info("inbox_processor_stopped", {{"owner", owner_}});
}

boost::asio::awaitable<void> InboxProcessor::process(const InboxEvent& event) {
  std::string error;
  try {
    const auto item = open_item(event);
    if (event.kind == "message") {
      co_await process_message(event, item);  // marks the event done itself
    } else if (event.kind == "status") {
      const DeliveryReceipt r = receipt_of(event, item);
      const auto matched = co_await pool_.run([&] { return store_.record_delivery(r); });
      receipt_finished(event, r, matched);
      co_return;
    } else {
      if (event.kind == "user_event") {
        const std::string kind = text_of(item, "kind");
        const auto mobile = normalize_mobile(text_of(item, "phone"));
        if ((kind == "opted-out" || kind == "opted-in") && mobile && !event.environment.empty()) {
          const std::string bidx = mobile_blind_index(cipher_, *mobile);
          const bool out = kind == "opted-out";
          const auto at =
              int_of(item, "timestamp_ms") ? int_of(item, "timestamp_ms") : event.received_at;
          co_await pool_.run([&] { store_.set_opt_out(event.environment, bidx, out, at); });
        }
      }
      const auto now = now_ms();
      co_await pool_.run([&] { store_.finish_inbox(event.id, "done", now, 0, ""); });
    }
    metrics_.observe("leadgate_inbox_processing_seconds", {{"kind", event.kind}},
                     static_cast<double>(now_ms() - event.received_at) / 1000.0);
    co_return;
  } catch (const std::exception& e) {
    error = scrub_pii(e.what());
  }
  // A failure (database down, ...) is retried with backoff; after kMaxAttempts the event is kept
  // as failed for an operator.
  const int attempt = event.attempts + 1;
  const std::string state = attempt >= kMaxAttempts ? "failed" : "pending";
  const auto now = now_ms();
  const auto next = now + 1000LL * (1LL << std::min(attempt, 10));
  log_warn("inbox_event_failed", {{"inbox_id", event.id},
                                  {"kind", event.kind},
                                  {"attempt", attempt},
                                  {"state", state},
                                  {"error", error}});
  try {
    co_await pool_.run([&] { store_.finish_inbox(event.id, state, now, next, error); });
  } catch (const std::exception& e) {
    log_warn("inbox_finish_failed", {{"inbox_id", event.id}, {"error", e.what()}});
  }
}

boost::json::object InboxProcessor::open_item(const InboxEvent& event) const {
  return boost::json::parse(cipher_.open("inbox", event.payload_enc)).as_object();
}

boost::asio::awaitable<void> InboxProcessor::process_receipts(
    const std::vector<InboxEvent>& batch, std::vector<const InboxEvent*>& rest) {
  std::vector<const InboxEvent*> events;
  std::vector<DeliveryReceipt> receipts;
  for (const auto& event : batch) {
    if (event.kind == "status") {
      try {
        receipts.push_back(receipt_of(event, open_item(event)));
        events.push_back(&event);
        continue;
      } catch (const std::exception&) {
        // process() records why, with its retries.
      }
    }
    rest.push_back(&event);
  }
  if (receipts.empty()) co_return;
  std::vector<std::int64_t> matched;
  try {
    matched = co_await pool_.run([&] { return store_.record_deliveries(receipts); });
  } catch (const std::exception& e) {
    // Nothing of the batch was stored: each receipt is tried on its own, with its own retries.
    log_warn("inbox_receipts_batch_failed",
             {{"receipts", receipts.size()}, {"error", scrub_pii(e.what())}});
    rest.insert(rest.begin(), events.begin(), events.end());
    co_return;
  }
  for (std::size_t i = 0; i < receipts.size(); ++i)
    receipt_finished(*events[i], receipts[i], matched[i]);
}

void InboxProcessor::receipt_finished(const InboxEvent& event, const DeliveryReceipt& r,
                                      std::int64_t matched) {
  if (!matched && r.retry_unmatched_at != 0) return;
  metrics_.count("leadgate_whatsapp_receipts_total",
                 {{"status", r.status}, {"matched", matched ? "true" : "false"}});
  metrics_.observe("leadgate_inbox_processing_seconds", {{"kind", event.kind}},
                   static_cast<double>(now_ms() - event.received_at) / 1000.0);
}

boost::asio::awaitable<void> InboxProcessor::process_message(const InboxEvent& event,
                                                             const boost::json::object& item) {
  const auto now = now_ms();
  const std::string& environment = event.environment;
  const std::string from = text_of(item, "from");
  const bool from_valid = item.if_contains("from_valid") && item.at("from_valid").is_bool() &&
                          item.at("from_valid").get_bool();
  const std::string type = text_of(item, "type");
  const std::string text = text_of(item, "text");
  if (environment.empty() || !from_valid || !config_.envs.contains(environment)) {
    // Not for one of our business numbers, or not from an Indian mobile: kept, not answered.
    log_warn("inbound_not_answered", {{"inbox_id", event.id},
                                      {"reason", environment.empty() ? "unknown business number"
                                                                     : "sender is not an Indian "
                                                                       "mobile"}});
    co_await pool_.run([&] { store_.finish_inbox(event.id, "done", now, 0, "not answered"); });
    co_return;
  }
  const auto& env = config_.env(environment);
  const std::string bidx = mobile_blind_index(cipher_, from);

  ConversationWrite w;
  w.inbox_id = event.id;
  w.now = now;
  auto& in = w.inbound;
  in.environment = environment;
  in.phone_bidx = bidx;
  in.direction = "in";
  in.provider_message_id = text_of(item, "provider_message_id");
  in.msg_type = type;
  if (!text.empty()) in.text_enc = cipher_.seal("conversation", text);
  in.created_at = int_of(item, "timestamp_ms") ? int_of(item, "timestamp_ms") : now;

  const bool textual = !text.empty();
  const Classification cls = textual ? classify_message(text) : Classification{};
  in.classification = textual ? std::string(intent_name(cls.intent)) : "unsupported";

  std::map<std::string, std::string> values{{"brand", env.brand_name},
                                            {"support_phone", env.support_phone},
                                            {"support_email", env.support_email},
                                            {"support_hours", env.support_hours}};
  std::string reply_kind;
  bool throttled = false;
  if (textual && cls.intent == Intent::opt_out) {
    w.opted_out = true;
    reply_kind = "opt_out";
  } else if (textual && cls.intent == Intent::opt_in) {
    w.opted_out = false;
    reply_kind = "opt_in";
  } else {
    const std::string scope = "wa_reply:" + environment + ":" + bidx;
    const int max_replies = config_.assistant_max_replies;
    const auto decision = co_await pool_.run(
        [&] { return store_.reserve_rate_event(scope, now, kReplyWindowMs, max_replies, 0); });
    throttled = !decision.allowed;
  }

  if (throttled) {
    in.classification = "throttled:" + in.classification;
  } else if (reply_kind.empty()) {
    if (!textual) {
      reply_kind = "unsupported";
    } else if (cls.intent == Intent::help) {
      reply_kind = "help";
    } else if (cls.intent == Intent::fallback) {
      reply_kind = "fallback";
    } else {
      // status / application_id: the sender's applications in this environment only.
      struct Found {
        std::vector<LeadRow> leads;
        std::vector<ConversationMessage> recent;
      };
      auto found = co_await pool_.run([&] {
        Found f;
        f.leads = store_.find_leads_by_mobile(environment, bidx);
        f.recent = store_.conversation(environment, bidx, kContextMessages);
        return f;
      });
      std::string wanted = cls.application_id.value_or("");
      if (wanted.empty()) {
        // "status" right after asking about one application means that application.
        for (auto it = found.recent.rbegin(); it != found.recent.rend(); ++it) {
          if (now - it->created_at > kContextMs) break;
          if (!it->application_id.empty()) {
            wanted = it->application_id;
            break;
          }
        }
      }
      LeadRow* lead = nullptr;
      for (auto& l : found.leads) {
        if (wanted.empty() || l.basic_application_id == wanted || l.application_id == wanted) {
          lead = &l;
          break;
        }
      }
      if (!lead && !cls.application_id && !found.leads.empty()) lead = &found.leads.front();
      if (!lead) {
        reply_kind = "error";
        if (cls.application_id) in.application_id = *cls.application_id;
      } else {
        RequestContext ctx;
        ctx.request_id = "inbox-" + std::to_string(event.id);
        ctx.environment = environment;
        const StatusView view = co_await tracker_.refresh(*lead, ctx);
        const LeadInput customer = open_lead(*lead, cipher_);
        const std::string id =
            lead->basic_application_id.empty() ? lead->reference_id : lead->basic_application_id;
        values["name"] = customer.first_name;
        values["product"] = product_phrase(lead->loan_type);
        values["id"] = id;
        values["status"] = status_phrase(view.status);
        values["expected"] = expected_sentence(view.stage);
        values["others"] =
            found.leads.size() > 1
                ? " You have " + std::to_string(found.leads.size()) +
                      " applications: reply with an application ID to hear about another."
                : "";
        reply_kind = "status";
        in.lead_ref = lead->reference_id;
        in.application_id = id;
      }
    }
  }

  if (!reply_kind.empty()) {
    const std::string reply_text = fill_placeholders(env.assistant_texts.at(reply_kind), values);
    OutboxMessage m;
    m.environment = environment;
    m.lead_ref = in.lead_ref;
    m.kind = "whatsapp_text";
    m.payload_enc =
        cipher_.seal("outbox", outbox_text_payload("91" + from, reply_text, /*exempt=*/true));
    m.created_at = now;
    m.next_attempt_at = now;
    w.reply_outbox = m;
    ConversationMessage reply;
    reply.environment = environment;
    reply.phone_bidx = bidx;
    reply.direction = "out";
    reply.lead_ref = in.lead_ref;
    reply.application_id = in.application_id;
    reply.msg_type = "text";
    reply.text_enc = cipher_.seal("conversation", reply_text);
    reply.classification = reply_kind;
    reply.created_at = now;
    w.reply = reply;
  }
  bool duplicate = false;
  try {
    co_await pool_.run([&] { store_.record_conversation(w); });
  } catch (const StoreConflict&) {
    duplicate = true;  // the same message stored under another event id: answered already
  }
  if (duplicate) {
    co_await pool_.run([&] { store_.finish_inbox(event.id, "done", now, 0, "duplicate message"); });
    co_return;
  }
  metrics_.count("leadgate_whatsapp_inbound_total", {{"environment", environment},
                                                     {"type", type.empty() ? "unknown" : type},
                                                     {"classification", in.classification}});
  if (!reply_kind.empty()) {
    metrics_.count("leadgate_whatsapp_replies_total",
                   {{"environment", environment}, {"kind", reply_kind}});
    outbox_.notify();
  }
  log_info("inbound_processed", {{"inbox_id", event.id},
                                 {"environment", environment},
                                 {"classification", in.classification},
                                 {"reply", reply_kind},
                                 {"application_id", in.application_id}});
}

}  // namespace leadgate
