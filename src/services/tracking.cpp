#include "services/tracking.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include "core/log.h"
#include "http/problem.h"
#include "services/appointments.h"
#include "services/customer_tokens.h"
#include "services/lead_records.h"
#include "services/person_keys.h"
#include "services/timeline.h"

namespace leadgate {
namespace {

constexpr int kConversationLimit = 200;

// Values the LOS has not given yet are null, not "".
boost::json::value text_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return boost::json::value(text);
}

[[noreturn]] void not_found(const std::string& environment) {
  throw ApiError(404, "NOT_FOUND", "No matching application in " + environment);
}

// Which purpose (lead_confirmation, ...) a message's template serves, from the environment's
// template map.
std::string purpose_of(const OutboxMessage& m, const PiiCipher& cipher, const Config& config) {
  const auto env = config.envs.find(m.environment);
  if (env == config.envs.end()) return "";
  try {
    const auto payload = boost::json::parse(cipher.open("outbox", m.payload_enc));
    if (payload.as_object().contains("text")) return "assistant_reply";  // a session message
    const auto* id = payload.as_object().if_contains("template_id");
    if (!id || !id->is_string()) return "";
    return template_purpose(config, m.environment, std::string(id->get_string()));
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

std::string template_purpose(const Config& config, const std::string& environment,
                             const std::string& template_id) {
  const auto env = config.envs.find(environment);
  if (env == config.envs.end()) return "";
  for (const auto& [purpose, id] : env->second.templates) {
    if (id == template_id) return purpose;
  }
  return "";
}

boost::json::value iso_or_null(std::int64_t ms) {
  if (ms <= 0) return nullptr;
  return boost::json::value(iso_utc(ms));
}

StatusView stored_status_view(const LeadRow& row) {
  StatusView v;
  v.status = row.partner_status.empty() ? lead_status_text(row.status) : row.partner_status;
  v.source = row.basic_application_id.empty() ? "local" : "cached";
  v.stage = derive_stage(row.status, row.partner_status);
  v.refreshed_at = row.status_refreshed_at;
  return v;
}

boost::asio::awaitable<StatusView> ApplicationTracker::current_status(LeadRow& row,
                                                                      const Trace& trace) {
  const std::int64_t ttl = deps_.config.status_ttl.count();
  if (row.basic_application_id.empty()) co_return stored_status_view(row);
  if (ttl == 0 || row.status_refreshed_at <= 0) co_return co_await refresh(row, trace);
  const std::int64_t now = now_ms();
  // The stored refresh time, or this instance's later confirmation of the stored status.
  const std::int64_t refreshed_at = std::max(row.status_refreshed_at, gate_->confirmed(row.id));
  if (now - refreshed_at >= ttl && gate_->try_begin(row.id, now, ttl)) {
    const auto executor = co_await boost::asio::this_coro::executor;
    // The request's trace, so the refresh's log lines carry its request id.
    boost::asio::co_spawn(executor, revalidate(gate_, row, trace), boost::asio::detached);
  }
  StatusView v = stored_status_view(row);
  v.refreshed_at = refreshed_at;
  co_return v;
}

boost::asio::awaitable<void> ApplicationTracker::revalidate(std::shared_ptr<RefreshGate> gate,
                                                            LeadRow row, Trace trace) {
  struct Finish {
    RefreshGate& gate;
    std::int64_t id;
    ~Finish() { gate.finish(id); }
  } finish{*gate, row.id};
  try {
    co_await refresh(row, trace);
  } catch (const std::exception& e) {
    log_warn("status_refresh_failed", {{"request_id", trace.request_id},
                                       {"environment", row.environment},
                                       {"reference_id", row.reference_id},
                                       {"error", e.what()}});
  }
}

boost::asio::awaitable<StatusView> ApplicationTracker::refresh(LeadRow& row, const Trace& trace) {
  if (row.basic_application_id.empty()) co_return stored_status_view(row);
  const auto& env = deps_.config.env(row.environment);
  std::optional<PartnerStatusReport> report;
  try {
    report = co_await los_.application_status(env, row.basic_application_id, trace.request_id);
  } catch (const PartnerError& e) {
    log_warn("status_fallback_to_cached", {{"request_id", trace.request_id},
                                           {"environment", row.environment},
                                           {"reference_id", row.reference_id},
                                           {"error", e.what()}});
  }
  if (!report) co_return stored_status_view(row);

  const StoredPartnerStatus stored{row.partner_status, row.partner_stage, row.partner_updated_at};
  const bool changed = partner_status_changed(stored, *report);
  const std::int64_t refreshed_at = now_ms();
  if (!changed && row.status_refreshed_at <= 0) {
    // The first fetch: the refresh time marks the status as fetched (one statement).
    co_await deps_.pool.run([&] { leads_.record_status_refresh(row.id, refreshed_at); });
  } else if (!changed) {
    // The usual poll: unchanged, so nothing is written (issue 19: a read writes only a change);
    // this instance remembers the confirmation until the TTL.
    gate_->confirm(row.id, refreshed_at);
  } else {
    co_await record_change(row, *report, refreshed_at, trace);
  }
  row.status_refreshed_at = std::max(row.status_refreshed_at, refreshed_at);
  StatusView v;
  // The status shown is what the LOS says now, even when an out-of-order older answer was not
  // stored; only then does it differ from the stored one.
  v.status = changed ? report->status : row.partner_status;
  v.source = "live";
  v.stage = derive_stage(row.status, v.status);
  v.refreshed_at = refreshed_at;
  if (changed) {
    row.partner_status = report->status;
    row.partner_stage = report->stage;
    row.partner_updated_at = report->updated_at;
  }
  co_return v;
}

// A changed status: compare-and-set against the status this request read, with its audit row.
boost::asio::awaitable<void> ApplicationTracker::record_change(const LeadRow& row,
                                                               const PartnerStatusReport& report,
                                                               std::int64_t refreshed_at,
                                                               const Trace& trace) {
  PartnerStatusWrite w;
  w.lead_id = row.id;
  w.expected_status = row.partner_status;
  w.status = report.status;
  w.stage = report.stage;
  w.partner_updated_at = report.updated_at;
  w.refreshed_at = refreshed_at;
  if (report.status != row.partner_status) {
    AuditEntry a = status_audit(row.environment, row.partner_status, report.status);
    a.operation = "partner_status_changed";
    a.field = "partner_status";
    w.audit = stamp_audit({a}, trace, row.reference_id);
  }
  co_await deps_.pool.run([&] { return leads_.record_partner_status(w); });
}

boost::json::object ApplicationTracker::application_summary(const LeadRow& row,
                                                            const StatusView& view) const {
  return {{"basic_application_id", text_or_null(row.basic_application_id)},
          {"reference_id", row.reference_id},
          {"loan_type", row.loan_type},
          {"status", view.status},
          {"status_source", view.source},
          {"created_at", iso_utc(row.created_at)}};
}

boost::asio::awaitable<boost::json::object> ApplicationTracker::lead_status(
    const LeadStatusRequest& req, const std::string& environment, const CustomerAccess& access,
    const Trace& trace) {
  LeadLookup by;
  if (req.mobile) {
    by.mobile_bidx = mobile_blind_index(deps_.cipher, *req.mobile);
    require_customer(access, environment, by.mobile_bidx);
  }
  if (req.basic_application_id) by.basic_application_id = *req.basic_application_id;
  // The customer's applications and the first one's appointment: one statement.
  std::vector<LeadWithAppointment> found = co_await deps_.pool.run([&] {
    auto rows = leads_.find_leads_with_appointment(environment, by);
    for (const auto& row : rows) load_lead_key(deps_.cipher, row.lead);  // no I/O thread waits
    return rows;
  });
  if (req.basic_application_id && req.mobile && !found.empty() &&
      found.front().lead.mobile_bidx != by.mobile_bidx) {
    found.clear();  // both identifiers given, and they name different customers
  }
  if (found.empty()) not_found(environment);
  LeadRow& lead = found.front().lead;
  require_customer(access, environment, lead.mobile_bidx);  // found by application id
  const StatusView view = co_await current_status(lead, trace);
  std::optional<ActiveAppointment> appointment;
  if (found.front().appointment && found.front().rm) {
    appointment = ActiveAppointment{*found.front().appointment, *found.front().rm};
  }
  // Decrypted only when the answer uses it: the mobile when the caller did not give it, the
  // names for a notification.
  const std::string mobile =
      req.mobile && !req.notify ? *req.mobile : deps_.cipher.open("mobile", lead.mobile_enc);

  boost::json::object details{
      {"reference_id", lead.reference_id},
      {"application_id", text_or_null(lead.application_id)},
      {"loan_type", lead.loan_type},
      {"loan_product", loan_type_name(lead.loan_type) ? loan_type_name(lead.loan_type) : ""},
      {"loan_amount", lead.loan_amount_req},
      {"loan_tenure", lead.loan_tenure},
      {"stage", text_or_null(lead.partner_stage)},
      {"lead_status", lead.status},
      {"partner_updated_at", iso_or_null(lead.partner_updated_at)},
      {"created_at", iso_utc(lead.created_at)},
      {"updated_at", iso_utc(lead.updated_at)},
      {"appointment", appointment ? boost::json::value(appointment_details(appointment->appointment,
                                                                           appointment->rm))
                                  : boost::json::value(nullptr)}};
  if (req.notify) {
    const auto& env = deps_.config.env(environment);
    const std::vector<OutboxMessage> messages{whatsapp_template_message(
        deps_.cipher, environment, lead.reference_id, mobile, env.templates.at("status_update"),
        {deps_.cipher.open("first_name", lead.first_name_enc) + " " +
             deps_.cipher.open("last_name", lead.last_name_enc),
         lead.basic_application_id.empty() ? lead.reference_id : lead.basic_application_id,
         view.status},
        now_ms())};
    // At most one status message per lead per interval, whichever instance answers: the store
    // queues it only if it takes the lead's notification turn (one conditional UPDATE).
    const std::int64_t now = messages.front().created_at;
    const std::int64_t interval_ms = 1000LL * deps_.config.status_notify_interval_seconds;
    const bool queued = co_await deps_.pool.run(
        [&] { return leads_.append_status_notification(lead.id, now, interval_ms, messages); });
    if (queued && wake_outbox_) wake_outbox_();
    details["notification"] = queued ? "queued" : "suppressed";
  }
  boost::json::array applications;
  applications.push_back(application_summary(lead, view));
  for (std::size_t i = 1; i < found.size(); ++i) {
    applications.push_back(application_summary(found[i].lead, stored_status_view(found[i].lead)));
  }
  boost::json::object data{{"basic_application_id", text_or_null(lead.basic_application_id)},
                           {"status", view.status},
                           {"mobile_number", req.mobile ? *req.mobile : mask_mobile(mobile)},
                           {"status_source", view.source},
                           {"status_refreshed_at", iso_or_null(view.refreshed_at)},
                           {"additional_details", std::move(details)},
                           {"applications", std::move(applications)}};
  boost::json::object body{{"success", true},
                           {"message", "Lead status retrieved successfully"},
                           {"data", std::move(data)}};
  co_return body;
}

boost::asio::awaitable<boost::json::object> ApplicationTracker::track(
    const TrackRequest& req, const std::string& environment, const CustomerAccess& access,
    const Trace& trace) {
  const std::string mobile_bidx = mobile_blind_index(deps_.cipher, req.mobile);
  require_customer(access, environment, mobile_bidx);
  std::vector<LeadRow> leads = co_await deps_.pool.run([&] {
    auto rows = leads_.find_leads_by_mobile(environment, mobile_bidx);
    load_lead_keys(deps_.cipher, rows);
    return rows;
  });
  std::size_t chosen = 0;
  if (req.application_id) {
    chosen = leads.size();
    for (std::size_t i = 0; i < leads.size(); ++i) {
      if (leads[i].basic_application_id == *req.application_id ||
          leads[i].application_id == *req.application_id) {
        chosen = i;
        break;
      }
    }
  }
  if (chosen >= leads.size()) not_found(environment);
  LeadRow& lead = leads[chosen];
  const StatusView view = co_await current_status(lead, trace);

  struct History {
    std::vector<AuditEntry> audit;
    std::vector<OutboxMessage> outbox;
    std::vector<OutboxAttempt> attempts;
    std::vector<DeliveryReceipt> receipts;
    std::vector<ConversationMessage> conversation;
    std::optional<ActiveAppointment> appointment;
  };
  auto history = co_await deps_.pool.run([&] {
    History h;
    h.audit = leads_.audit_for(environment, lead.reference_id);
    h.outbox = outbox_.outbox_for(environment, lead.reference_id);
    h.attempts = outbox_.outbox_attempts_for(environment, lead.reference_id);
    h.receipts = chats_.receipts_for(environment, lead.reference_id);
    // The customer's conversation in this environment: messages about this application, or
    // about none in particular.
    for (auto& c : chats_.conversation(environment, lead.mobile_bidx, kConversationLimit)) {
      if (c.lead_ref.empty() || c.lead_ref == lead.reference_id) {
        h.conversation.push_back(std::move(c));
      }
    }
    h.appointment = active_appointment(appointments_, environment, lead.reference_id);
    return h;
  });
  const auto events = build_timeline(
      history.audit, history.outbox, history.attempts,
      [this](const OutboxMessage& m) { return purpose_of(m, deps_.cipher, deps_.config); },
      history.receipts, history.conversation);

  boost::json::array steps;
  for (const auto& s : next_steps(view.stage)) steps.emplace_back(s);
  const auto& env = deps_.config.env(environment);
  boost::json::value rm = nullptr;
  if (history.appointment) {
    const auto& r = history.appointment->rm;
    rm = boost::json::object{{"name", r.name},
                             {"phone", deps_.cipher.open("rm_phone", r.phone_enc)},
                             {"location", r.location}};
  } else if (lead.application_assigned_to_rm && !lead.application_assigned_to_rm->empty()) {
    rm = boost::json::object{{"name", *lead.application_assigned_to_rm}};
  }
  boost::json::object contact{{"brand", env.brand_name},
                              {"support_phone", env.support_phone},
                              {"support_email", env.support_email},
                              {"support_hours", env.support_hours},
                              {"relationship_manager", rm}};
  boost::json::object current{{"status", view.status},
                              {"stage", stage_name(view.stage)},
                              {"stage_description", stage_description(view.stage)},
                              {"partner_status", text_or_null(lead.partner_status)},
                              {"partner_stage", text_or_null(lead.partner_stage)},
                              {"lead_status", lead.status},
                              {"status_source", view.source},
                              {"status_refreshed_at", iso_or_null(view.refreshed_at)}};
  boost::json::array applications;
  for (std::size_t i = 0; i < leads.size(); ++i) {
    applications.push_back(
        application_summary(leads[i], i == chosen ? view : stored_status_view(leads[i])));
  }
  boost::json::object data{
      {"basic_application_id", text_or_null(lead.basic_application_id)},
      {"reference_id", lead.reference_id},
      {"application_id", text_or_null(lead.application_id)},
      {"mobile_number", req.mobile},
      {"current_status", std::move(current)},
      {"next_steps", std::move(steps)},
      {"application_timeline", timeline_json(events)},
      {"contact_information", std::move(contact)},
      {"appointment", history.appointment
                          ? boost::json::value(appointment_details(history.appointment->appointment,
                                                                   history.appointment->rm))
                          : boost::json::value(nullptr)},
      {"applications", std::move(applications)}};
  boost::json::object body{{"success", true},
                           {"message", "Application tracking retrieved successfully"},
                           {"data", std::move(data)}};
  co_return body;
}

}  // namespace leadgate
