#pragma once
// Row mapping shared by the SQLite and PostgreSQL stores, written once as templates:
//   - read_*(const Row& r): one row, in the column order of statements.h's lists and SELECTs.
//     Row is the driver's column reader: text(col), opt_text(col) (nullopt for NULL), i64(col),
//     opt_i64(col), boolean(col) (SQLite: an integer, PostgreSQL: a boolean).
//   - bind_*(Binder& b, ...): the parameters of one statement, in placeholder order. Binder has
//     bind(v) for std::string, std::int64_t, int, bool and their std::optional (NULL), chaining.
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "store/sql/statements.h"
#include "store/store.h"

namespace leadgate::sql {

// API keys' environments are stored comma-separated.
inline std::string join_list(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}
inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// ---- readers ----

template <class Row>
LeadRow read_lead(const Row& r) {
  LeadRow l;
  int c = 0;
  l.id = r.i64(c++);
  l.environment = r.text(c++);
  l.reference_id = r.text(c++);
  l.basic_application_id = r.text(c++);
  l.application_id = r.text(c++);
  l.status = r.text(c++);
  l.first_name_enc = r.text(c++);
  l.last_name_enc = r.text(c++);
  l.mobile_enc = r.text(c++);
  l.email_enc = r.text(c++);
  l.pan_enc = r.text(c++);
  l.dob_enc = r.text(c++);
  l.mobile_bidx = r.text(c++);
  l.pan_bidx = r.text(c++);
  l.loan_type = r.text(c++);
  l.loan_amount_req = r.i64(c++);
  l.loan_tenure = static_cast<int>(r.i64(c++));
  l.credit_score_enc = r.text(c++);
  l.pincode = r.text(c++);
  l.state = r.opt_text(c++);
  l.gender = r.opt_text(c++);
  l.application_assigned_to_rm = r.opt_text(c++);
  l.remarks_enc = r.opt_text(c++);
  l.customer_id = r.opt_text(c++);
  l.qr_short_code = r.opt_text(c++);
  l.annual_income_enc = r.opt_text(c++);
  l.include_credit_score = r.boolean(c++);
  l.is_lead_prefilled = r.boolean(c++);
  l.los_error = r.text(c++);
  l.request_id = r.text(c++);
  l.user_agent = r.text(c++);
  l.created_at = r.i64(c++);
  l.updated_at = r.i64(c++);
  l.flash_details_enc = r.text(c++);
  l.completion_reference = r.text(c++);
  l.flashed_at = r.i64(c++);
  l.warnings_json = r.text(c++);
  l.partner_status = r.text(c++);
  l.partner_stage = r.text(c++);
  l.partner_updated_at = r.i64(c++);
  l.status_refreshed_at = r.i64(c++);
  return l;
}

// A row whose columns are read from `by` on: a reader of one table over a join's later columns.
template <class Row>
struct ShiftedRow {
  const Row& r;
  int by;
  std::string text(int c) const { return r.text(c + by); }
  std::optional<std::string> opt_text(int c) const { return r.opt_text(c + by); }
  std::int64_t i64(int c) const { return r.i64(c + by); }
  std::optional<std::int64_t> opt_i64(int c) const { return r.opt_i64(c + by); }
  bool boolean(int c) const { return r.boolean(c + by); }
};

inline constexpr int kLeadColumnCount = 41;
inline constexpr int kAppointmentColumnCount = 11;

template <class Row>
AppointmentRow read_appointment(const Row& r);
template <class Row>
RmRow read_rm(const Row& r);

// A row of select_leads_with_appointment.
template <class Row>
LeadWithAppointment read_lead_with_appointment(const Row& r) {
  LeadWithAppointment out{read_lead(r), std::nullopt, std::nullopt};
  if (r.opt_text(kLeadColumnCount)) {
    out.appointment = read_appointment(ShiftedRow<Row>{r, kLeadColumnCount});
    out.rm = read_rm(ShiftedRow<Row>{r, kLeadColumnCount + kAppointmentColumnCount});
  }
  return out;
}

template <class Row>
AuditEntry read_audit(const Row& r) {
  AuditEntry a;
  a.environment = r.text(0);
  a.entity = r.text(1);
  a.entity_ref = r.text(2);
  a.operation = r.text(3);
  a.field = r.text(4);
  a.old_value = r.text(5);
  a.new_value = r.text(6);
  a.request_id = r.text(7);
  a.duration_ms = r.i64(8);
  a.created_at = r.i64(9);
  return a;
}

template <class Row>
OutboxMessage read_outbox(const Row& r) {
  OutboxMessage m;
  m.id = r.i64(0);
  m.environment = r.text(1);
  m.lead_ref = r.text(2);
  m.kind = r.text(3);
  m.payload_enc = r.text(4);
  m.status = r.text(5);
  m.attempts = static_cast<int>(r.i64(6));
  m.next_attempt_at = r.i64(7);
  m.provider_message_id = r.text(8);
  m.last_error = r.text(9);
  m.created_at = r.i64(10);
  m.delivery_status = r.text(11);
  m.delivery_status_at = r.i64(12);
  m.delivery_error = r.text(13);
  return m;
}

template <class Row>
OutboxAttempt read_outbox_attempt(const Row& r) {
  OutboxAttempt a;
  a.outbox_id = r.i64(0);
  a.attempt = static_cast<int>(r.i64(1));
  a.started_at = r.i64(2);
  a.duration_ms = r.i64(3);
  a.outcome = r.text(4);
  a.http_status = static_cast<int>(r.i64(5));
  a.error = r.text(6);
  a.provider_message_id = r.text(7);
  return a;
}

template <class Row>
RmRow read_rm(const Row& r) {
  RmRow m;
  m.id = r.i64(0);
  m.environment = r.text(1);
  m.name = r.text(2);
  m.name_key = r.text(3);
  m.phone_enc = r.text(4);
  m.location = r.text(5);
  m.active = r.boolean(6);
  m.created_at = r.i64(7);
  return m;
}

template <class Row>
AppointmentRow read_appointment(const Row& r) {
  AppointmentRow a;
  a.id = r.text(0);
  a.environment = r.text(1);
  a.lead_ref = r.text(2);
  a.rm_id = r.i64(3);
  a.slot_start = r.i64(4);
  a.slot_minutes = static_cast<int>(r.i64(5));
  a.status = r.text(6);
  a.request_id = r.text(7);
  a.created_at = r.i64(8);
  a.cancelled_at = r.i64(9);
  a.cancel_reason = r.text(10);
  return a;
}

template <class Row>
InboxEvent read_inbox(const Row& r) {
  InboxEvent e;
  e.id = r.i64(0);
  e.provider = r.text(1);
  e.event_id = r.text(2);
  e.environment = r.text(3);
  e.kind = r.text(4);
  e.payload_enc = r.text(5);
  e.received_at = r.i64(6);
  e.state = r.text(7);
  e.attempts = static_cast<int>(r.i64(8));
  e.next_attempt_at = r.i64(9);
  e.processed_at = r.i64(10);
  e.last_error = r.text(11);
  return e;
}

template <class Row>
ConversationMessage read_conversation(const Row& r) {
  ConversationMessage m;
  m.id = r.i64(0);
  m.environment = r.text(1);
  m.phone_bidx = r.text(2);
  m.direction = r.text(3);
  m.provider_message_id = r.text(4);
  m.outbox_id = r.i64(5);
  m.lead_ref = r.text(6);
  m.application_id = r.text(7);
  m.msg_type = r.text(8);
  m.text_enc = r.text(9);
  m.classification = r.text(10);
  m.created_at = r.i64(11);
  return m;
}

// A row of kSelectReceiptsForLead.
template <class Row>
DeliveryReceipt read_receipt(const Row& r) {
  DeliveryReceipt d;
  d.provider_message_id = r.text(0);
  d.status = r.text(1);
  d.at = r.i64(2);
  d.error_code = r.text(3);
  d.error_message = r.text(4);
  d.received_at = r.i64(5);
  d.outbox_id = r.i64(6);
  return d;
}

// A row of kSelectMetricMinutes (which selects one resolution).
template <class Row>
MetricMinute read_metric_minute(const Row& r, int resolution) {
  MetricMinute m;
  m.minute = r.i64(0);
  m.resolution = resolution;
  m.instance = r.text(1);
  m.payload_json = r.text(2);
  m.updated_at = r.i64(3);
  return m;
}

template <class Row>
OtpCode read_otp(const Row& r) {
  OtpCode o;
  o.environment = r.text(0);
  o.phone_bidx = r.text(1);
  o.code_hash = r.text(2);
  o.created_at = r.i64(3);
  o.expires_at = r.i64(4);
  o.attempts = static_cast<int>(r.i64(5));
  o.state = r.text(6);
  return o;
}

template <class Row>
ConsentRecord read_consent(const Row& r) {
  ConsentRecord c;
  c.environment = r.text(0);
  c.phone_bidx = r.text(1);
  c.phone_enc = r.text(2);
  c.token_hash = r.text(3);
  c.requested_at = r.i64(4);
  c.expires_at = r.i64(5);
  c.granted_at = r.i64(6);
  return c;
}

template <class Row>
ApiKeyRow read_api_key(const Row& r) {
  ApiKeyRow k;
  k.id = r.text(0);
  k.name = r.text(1);
  k.key_hash = r.text(2);
  k.environments = split_list(r.text(3));
  k.created_at = r.i64(4);
  k.revoked = r.boolean(5);
  k.kind = r.text(6);
  k.last_used_at = r.i64(7);
  return k;
}

template <class Row>
CustomerTokenRow read_customer_token(const Row& r) {
  return {r.text(0), r.text(1), r.text(2), r.i64(3), r.i64(4)};
}

// A stored Idempotency-Key record (a row of kSelectIdempotency) met by a new request: its answer
// (mismatch, replay, in_progress), or nullopt when the first attempt's holder died mid-request
// (updated_at < stale_before) and the key is to be taken over.
template <class Row>
std::optional<IdempotencyRecord> idempotent_answer(const Row& r, const std::string& fingerprint,
                                                   std::int64_t stale_before) {
  IdempotencyRecord rec;
  if (r.text(0) != fingerprint) {
    rec.state = IdempotencyRecord::State::mismatch;
    return rec;
  }
  if (r.text(1) == "done") {
    rec.state = IdempotencyRecord::State::replay;
    rec.status = static_cast<int>(r.i64(2));
    rec.body = r.text(3);
    rec.content_type = r.text(4);
    return rec;
  }
  if (r.i64(5) >= stale_before) {
    rec.state = IdempotencyRecord::State::in_progress;
    return rec;
  }
  return std::nullopt;
}

// ---- binders ----

// The columns update_lead writes ($1..$36): every column after id up to warnings_json. Empty LOS
// ids are stored as NULL, so the partial lookups never match an empty string.
template <class Binder>
void bind_lead(Binder& b, const LeadRow& r) {
  auto opt = [](const std::string& v) {
    return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v);
  };
  b.bind(r.environment)
      .bind(r.reference_id)
      .bind(opt(r.basic_application_id))
      .bind(opt(r.application_id))
      .bind(r.status)
      .bind(r.first_name_enc)
      .bind(r.last_name_enc)
      .bind(r.mobile_enc)
      .bind(r.email_enc)
      .bind(r.pan_enc)
      .bind(r.dob_enc)
      .bind(r.mobile_bidx)
      .bind(r.pan_bidx)
      .bind(r.loan_type)
      .bind(r.loan_amount_req)
      .bind(r.loan_tenure)
      .bind(r.credit_score_enc)
      .bind(r.pincode)
      .bind(r.state)
      .bind(r.gender)
      .bind(r.application_assigned_to_rm)
      .bind(r.remarks_enc)
      .bind(r.customer_id)
      .bind(r.qr_short_code)
      .bind(r.annual_income_enc)
      .bind(r.include_credit_score)
      .bind(r.is_lead_prefilled)
      .bind(r.los_error)
      .bind(r.request_id)
      .bind(r.user_agent)
      .bind(r.created_at)
      .bind(r.updated_at)
      .bind(r.flash_details_enc)
      .bind(r.completion_reference)
      .bind(r.flashed_at)
      .bind(r.warnings_json);
}

// The partner columns, last in kLeadColumns ($37..$40 of kInsertLead): written by insert_lead (as
// given) and record_partner_status only, never by update_lead.
template <class Binder>
void bind_lead_partner(Binder& b, const LeadRow& r) {
  b.bind(r.partner_status).bind(r.partner_stage).bind(r.partner_updated_at);
  b.bind(r.status_refreshed_at);
}

template <class Binder>
void bind_audit(Binder& b, const AuditEntry& a) {
  b.bind(a.environment).bind(a.entity).bind(a.entity_ref).bind(a.operation).bind(a.field);
  b.bind(a.old_value).bind(a.new_value).bind(a.request_id).bind(a.duration_ms);
  b.bind(a.created_at);
}

// kInsertOutbox's parameters.
template <class Binder>
void bind_new_outbox(Binder& b, const OutboxMessage& m) {
  b.bind(m.environment).bind(m.lead_ref).bind(m.kind).bind(m.payload_enc);
  b.bind(m.next_attempt_at).bind(m.created_at);
}

template <class Binder>
void bind_outbox_attempt(Binder& b, const OutboxAttempt& a) {
  b.bind(a.outbox_id).bind(a.attempt).bind(a.started_at).bind(a.duration_ms).bind(a.outcome);
  b.bind(a.http_status).bind(a.error).bind(a.provider_message_id);
}

template <class Binder>
void bind_rm(Binder& b, const RmRow& rm) {
  b.bind(rm.environment).bind(rm.name).bind(rm.name_key).bind(rm.phone_enc).bind(rm.location);
  b.bind(rm.active).bind(rm.created_at);
}

template <class Binder>
void bind_appointment(Binder& b, const AppointmentRow& a) {
  b.bind(a.id).bind(a.environment).bind(a.lead_ref).bind(a.rm_id).bind(a.slot_start);
  b.bind(a.slot_minutes).bind(a.request_id).bind(a.created_at);
}

template <class Binder>
void bind_conversation(Binder& b, const ConversationMessage& m) {
  b.bind(m.environment).bind(m.phone_bidx).bind(m.direction).bind(m.provider_message_id);
  b.bind(m.outbox_id).bind(m.lead_ref).bind(m.application_id).bind(m.msg_type).bind(m.text_enc);
  b.bind(m.classification).bind(m.created_at);
}

// One row of insert_receipts, for the outbox row `outbox_id` (0: none).
template <class Binder>
void bind_receipt(Binder& b, const DeliveryReceipt& r, std::int64_t outbox_id) {
  b.bind(r.provider_message_id).bind(r.status).bind(r.at).bind(r.error_code);
  b.bind(r.error_message).bind(r.received_at).bind(outbox_id);
}

template <class Binder>
void bind_otp(Binder& b, const OtpCode& o) {
  b.bind(o.environment).bind(o.phone_bidx).bind(o.code_hash).bind(o.created_at);
  b.bind(o.expires_at).bind(o.attempts).bind(o.state);
}

template <class Binder>
void bind_consent(Binder& b, const ConsentRecord& c) {
  b.bind(c.environment).bind(c.phone_bidx).bind(c.phone_enc).bind(c.token_hash);
  b.bind(c.requested_at).bind(c.expires_at).bind(c.granted_at);
}

template <class Binder>
void bind_api_key(Binder& b, const ApiKeyRow& row) {
  b.bind(row.id).bind(row.name).bind(row.key_hash).bind(join_list(row.environments));
  b.bind(row.created_at).bind(row.revoked).bind(row.kind).bind(row.last_used_at);
}

template <class Row>
ConsentEvent read_consent_event(const Row& r) {
  ConsentEvent e;
  e.id = r.i64(0);
  e.environment = r.text(1);
  e.phone_bidx = r.text(2);
  e.phone_enc = r.opt_text(3);
  e.purpose = r.text(4);
  e.action = r.text(5);
  e.notice_version = r.text(6);
  e.source = r.text(7);
  e.at = r.i64(8);
  e.request_id = r.text(9);
  return e;
}

// A consent-link grant's ledger event: `e` with the granted request's person, at `now`.
inline ConsentEvent granted_event(ConsentEvent e, const ConsentRecord& granted, std::int64_t now) {
  e.environment = granted.environment;
  e.phone_bidx = granted.phone_bidx;
  e.phone_enc = granted.phone_enc;
  e.at = now;
  return e;
}

// kInsertConsentEvent's parameters.
template <class Binder>
void bind_consent_event(Binder& b, const ConsentEvent& e, bool only_if_changed) {
  b.bind(e.environment).bind(e.phone_bidx).bind(e.phone_enc).bind(e.purpose).bind(e.action);
  b.bind(e.notice_version).bind(e.source).bind(e.at).bind(e.request_id);
  b.bind(static_cast<std::int64_t>(only_if_changed ? 1 : 0));
}

template <class Binder>
void bind_customer_token(Binder& b, const CustomerTokenRow& t) {
  b.bind(t.token_hash).bind(t.environment).bind(t.phone_bidx).bind(t.created_at).bind(t.expires_at);
}

template <class Binder>
void bind_metric_minute(Binder& b, const MetricMinute& m) {
  b.bind(m.minute).bind(static_cast<std::int64_t>(m.resolution)).bind(m.instance);
  b.bind(m.payload_json).bind(m.updated_at);
}

// PrivacyStore::erase_person's statements on either store, inside the caller's transaction:
// `run(sql, args...)` runs one statement and answers how many rows it touched. The statements
// that find the person's leads by their blind index run before the one that replaces it.
template <class Run>
ErasureCounts erase_person(Run run, const PersonErasure& e) {
  const std::string& env = e.environment;
  const std::string& bidx = e.phone_bidx;
  ErasureCounts n;
  run(kEraseAuditValues, env, bidx);
  n.messages_cancelled = run(kCancelPersonOutbox, env, bidx);
  n.messages_blanked = run(kBlankPersonOutbox, env, bidx);
  n.appointments_cancelled = run(kEraseAppointments, env, bidx, e.at);
  n.conversation_texts = run(kEraseConversation, env, bidx, e.tombstone);
  n.leads = run(kEraseLeads, env, bidx, e.tombstone, e.at);
  n.consent_events = run(kEraseConsentLedger, env, bidx, e.tombstone);
  run(kEraseConsentRequests, env, bidx);
  run(kEraseOtp, env, bidx);
  run(kEraseCustomerTokens, env, bidx);
  run(kEraseOptOut, env, bidx);
  n.data_keys = run(kEraseDataKey, env, bidx, e.tombstone, e.at);
  return n;
}

// KeyringStore::reseal_page's middle on either store: the page's (key, value) rows that `reseal`
// changes, as (key, new value, value read) for the compare-and-set writes.
struct ResealChange {
  std::string key, sealed, read;
};
template <class Reseal>
std::vector<ResealChange> reseal_changes(
    const std::vector<std::pair<std::string, std::string>>& rows, const Reseal& reseal) {
  std::vector<ResealChange> out;
  for (const auto& [key, value] : rows) {
    if (auto sealed = reseal(value)) out.push_back({key, std::move(*sealed), value});
  }
  return out;
}

template <class Row>
std::pair<std::string, std::string> read_sealed_row(const Row& r) {
  return {r.text(0), r.text(1)};
}

template <class Row>
PersonRef read_person_ref(const Row& r) {
  return PersonRef{r.text(0), r.text(1), r.i64(2)};
}

template <class Row>
DataKeyRow read_data_key(const Row& r) {
  return DataKeyRow{r.i64(0), r.text(1)};
}

// PrivacyStore::purge_transient on either store: `run(sql, cutoff)` runs one statement and
// answers how many rows it touched.
template <class Run>
RetentionCounts purge_transient(Run run, const RetentionCutoffs& cutoffs) {
  RetentionCounts n;
  n.otps = run(kPurgeExpiredOtps, cutoffs.otps_expired_before);
  n.consent_requests = run(kPurgeConsentRequests, cutoffs.consent_requests_expired_before);
  n.inbox_events = run(kPurgeProcessedInbox, cutoffs.inbox_processed_before);
  return n;
}

}  // namespace leadgate::sql
