#include "services/privacy_export.h"

#include <set>

#include "domain/application_progress.h"
#include "services/customer_tokens.h"
#include "services/lead_records.h"
#include "services/privacy.h"
#include "services/tracking.h"

namespace leadgate {
namespace {

constexpr int kConversationLimit = 10000;

// A sealed JSON text opened and parsed; null when absent or unreadable.
boost::json::value open_json(const PiiCipher& cipher, const std::string& purpose,
                             const std::string& sealed) {
  if (sealed.empty()) return nullptr;
  try {
    return boost::json::parse(cipher.open(purpose, sealed));
  } catch (const std::exception&) {
    return nullptr;
  }
}

boost::json::object message_sent(const OutboxMessage& m, const PiiCipher& cipher,
                                 const Config& config) {
  boost::json::object out{{"status", m.status},
                          {"created_at", iso_or_null(m.created_at)},
                          {"delivery_status", m.delivery_status},
                          {"delivery_status_at", iso_or_null(m.delivery_status_at)}};
  const auto payload = open_json(cipher, "outbox", m.payload_enc);
  if (const auto* p = payload.if_object()) {
    if (const auto* text = p->if_contains("text")) {
      out["purpose"] = "assistant_reply";
      out["text"] = *text;
    } else if (const auto* id = p->if_contains("template_id"); id && id->is_string()) {
      out["purpose"] = template_purpose(config, m.environment, std::string(id->get_string()));
      out["template"] = *id;
      out["params"] = p->contains("params") ? p->at("params") : boost::json::array();
    }
  }
  return out;
}

boost::json::object lead_export(Store& store, const PiiCipher& cipher, const Config& config,
                                const LeadRow& row, std::set<std::int64_t>& outbox_ids) {
  boost::json::object fields;
  for (const auto& v : lead_field_values(open_lead(row, cipher))) fields[v.field] = v.value;
  boost::json::array appointments;
  for (const auto& a : store.appointments_for_lead(row.environment, row.reference_id)) {
    appointments.push_back({{"appointment_id", a.id},
                            {"slot_start", iso_utc(a.slot_start)},
                            {"slot_minutes", a.slot_minutes},
                            {"status", a.status},
                            {"booked_at", iso_or_null(a.created_at)},
                            {"cancelled_at", iso_or_null(a.cancelled_at)},
                            {"cancel_reason", a.cancel_reason}});
  }
  boost::json::array sent;
  for (const auto& m : store.outbox_for(row.environment, row.reference_id)) {
    outbox_ids.insert(m.id);
    sent.push_back(message_sent(m, cipher, config));
  }
  boost::json::array audit;
  for (const auto& e : store.audit_for(row.environment, row.reference_id)) {
    audit.push_back({{"operation", e.operation},
                     {"field", e.field},
                     {"at", iso_or_null(e.created_at)},
                     {"request_id", e.request_id}});
  }
  return {{"reference_id", row.reference_id},
          {"basic_application_id", row.basic_application_id},
          {"application_id", row.application_id},
          {"status", row.status},
          {"partner_status", row.partner_status},
          {"created_at", iso_or_null(row.created_at)},
          {"updated_at", iso_or_null(row.updated_at)},
          {"fields", std::move(fields)},
          {"flash_details", open_json(cipher, "flash_details", row.flash_details_enc)},
          {"flashed_at", iso_or_null(row.flashed_at)},
          {"appointments", std::move(appointments)},
          {"messages_sent", std::move(sent)},
          {"audit", std::move(audit)}};
}

}  // namespace

boost::json::object export_personal_data(Store& store, const PiiCipher& cipher,
                                         const Config& config, const std::string& environment,
                                         const std::string& mobile) {
  const std::string bidx = mobile_blind_index(cipher, mobile);
  std::set<std::int64_t> outbox_ids;
  boost::json::array leads;
  for (const auto& row : store.find_leads_by_mobile(environment, bidx)) {
    leads.push_back(lead_export(store, cipher, config, row, outbox_ids));
  }
  boost::json::array consents;
  for (const auto& e : store.consent_events(environment, bidx)) {
    consents.push_back(consent_event_json(e));
  }
  boost::json::array received;
  boost::json::array replies;
  for (const auto& m : store.conversation(environment, bidx, kConversationLimit)) {
    std::string text;
    if (!m.text_enc.empty()) text = cipher.open("conversation", m.text_enc);
    boost::json::object item{{"at", iso_or_null(m.created_at)},
                             {"type", m.msg_type},
                             {"text", text},
                             {"application_id", m.application_id}};
    if (m.direction == "in") {
      received.push_back(std::move(item));
    } else if (!outbox_ids.contains(m.outbox_id)) {
      replies.push_back(std::move(item));
    }
  }
  boost::json::array otp;
  if (const auto code = store.find_otp(environment, bidx)) {
    otp.push_back({{"sent_at", iso_or_null(code->created_at)},
                   {"expires_at", iso_or_null(code->expires_at)},
                   {"state", code->state},
                   {"failed_attempts", code->attempts}});
  }
  boost::json::array requests;
  for (const auto& c : store.consents_for(environment, bidx)) {
    requests.push_back({{"requested_at", iso_or_null(c.requested_at)},
                        {"expires_at", iso_or_null(c.expires_at)},
                        {"granted_at", iso_or_null(c.granted_at)}});
  }
  return {{"environment", environment},
          {"mobile_number", mobile},
          {"leads", std::move(leads)},
          {"consents", std::move(consents)},
          {"messages_received", std::move(received)},
          {"messages_sent_outside_leads", std::move(replies)},
          {"otp", std::move(otp)},
          {"consent_requests", std::move(requests)}};
}

boost::asio::awaitable<boost::json::object> PersonalDataExport::export_data(
    const std::string& environment, const PrivacyRequest& request, const CustomerAccess& access) {
  require_customer(access, environment, mobile_blind_index(deps_.cipher, request.mobile));
  boost::json::object data = co_await deps_.pool.run([&] {
    return export_personal_data(store_, deps_.cipher, deps_.config, environment, request.mobile);
  });
  deps_.metrics.count("leadgate_privacy_requests_total",
                      {{"environment", environment}, {"kind", "export"}});
  co_return data;
}

}  // namespace leadgate
