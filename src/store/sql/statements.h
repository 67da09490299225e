#pragma once
// SQL that the SQLite and PostgreSQL stores share: the tables' column lists and the statements that
// are the same on both databases. Written once, with PostgreSQL's numbered placeholders ($1, $2,
// ...; a number may repeat). The SQLite store renders $N as ?N (sqlite_db.h's Stmt), which SQLite
// binds to the N-th parameter, so both stores bind the same values in the same order. Statements
// that differ (locking, upserts, casts, RETURNING, multi-row writes) stay with their store. Column
// lists are in the order of the row readers (rows.h).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"

namespace leadgate::sql {

// ---- column lists ----

inline const std::string kLeadColumns =
    "id, environment, reference_id, basic_application_id, application_id, status, "
    "first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, mobile_bidx, "
    "pan_bidx, loan_type, loan_amount_req, loan_tenure, credit_score, pincode, state, gender, "
    "application_assigned_to_rm, remarks, customer_id, qr_short_code, annual_income, "
    "include_credit_score, is_lead_prefilled, los_error, request_id, user_agent, created_at, "
    "updated_at, flash_details_enc, completion_reference, flashed_at, warnings_json, "
    "partner_status, partner_stage, partner_updated_at, status_refreshed_at";
inline const std::string kOutboxColumns =
    "id, environment, lead_ref, kind, payload_enc, status, attempts, next_attempt_at, "
    "provider_message_id, last_error, created_at, delivery_status, delivery_status_at, "
    "delivery_error";
inline const std::string kRmColumns =
    "id, environment, name, name_key, phone_enc, location, active, created_at";
inline const std::string kAppointmentColumns =
    "id, environment, lead_ref, rm_id, slot_start, slot_minutes, status, request_id, created_at, "
    "cancelled_at, cancel_reason";
inline const std::string kInboxColumns =
    "id, provider, event_id, environment, kind, payload_enc, received_at, state, attempts, "
    "next_attempt_at, processed_at, last_error";
inline const std::string kConversationColumns =
    "id, environment, phone_bidx, direction, provider_message_id, outbox_id, lead_ref, "
    "application_id, msg_type, text_enc, classification, created_at";
inline const std::string kOtpColumns =
    "environment, phone_bidx, code_hash, created_at, expires_at, attempts, state";
inline const std::string kConsentColumns =
    "environment, phone_bidx, phone_enc, token_hash, requested_at, expires_at, granted_at";

// "($1, $2, ...), ($k, ...)": `rows` groups of `types.size()` numbered parameters, each cast to its
// type (PostgreSQL only; an empty type: no cast). Multi-row INSERTs need no casts; a VALUES list
// joined in an UPDATE does (its columns would otherwise be text).
std::string values_groups(std::size_t rows, const std::vector<std::string_view>& types);
std::string values_groups(std::size_t rows, int columns);
// `sql` with every parameter reference $N renumbered $N+offset, so that a second statement's
// parameters follow the first's when both are sent as one (WITH a AS (first) second).
std::string shift_params(std::string_view sql, int offset);
// `columns` (comma-separated) with each name prefixed by `alias.`.
std::string qualified(std::string_view alias, std::string_view columns);

// ---- leads ----

inline const std::string kSelectLeadForCustomer =
    "SELECT " + kLeadColumns +
    " FROM leads WHERE environment = $1 AND mobile_bidx = $2 AND loan_type = $3";
inline const std::string kSelectLeadByReference =
    "SELECT " + kLeadColumns +
    " FROM leads WHERE environment = $1 AND reference_id = $2 AND erased_at = 0";
inline const std::string kSelectLeadByApplicationId =
    "SELECT " + kLeadColumns +
    " FROM leads WHERE environment = $1 AND application_id = $2 AND erased_at = 0";
inline const std::string kSelectLeadByBasicId =
    "SELECT " + kLeadColumns +
    " FROM leads WHERE environment = $1 AND basic_application_id = $2 AND erased_at = 0";
inline const std::string kSelectLeadsByMobile =
    "SELECT " + kLeadColumns +
    " FROM leads WHERE environment = $1 AND mobile_bidx = $2 ORDER BY created_at DESC, id DESC";
// lead_status's one read: leads with their booked appointment and its RM (LEFT JOINs: those
// columns are NULL without one; a lead has at most one booked appointment). $1 environment, $2 the
// mobile's blind index (newest lead first) or, by_basic_id, the basic_application_id.
std::string select_leads_with_appointment(bool by_basic_id);
// Leads left pending_los since before $1 (updated_at), oldest first, at most $2.
inline const std::string kSelectStalePendingLeads =
    "SELECT " + kLeadColumns +
    " FROM leads WHERE status = 'pending_los' AND updated_at < $1 AND erased_at = 0 ORDER BY "
    "updated_at LIMIT $2";
inline const std::string kCountLeads = "SELECT COUNT(*) FROM leads WHERE environment = $1";
// lead_status notify: takes the lead's notification turn ($1 now, $2 id, $3 now - interval).
inline const std::string kClaimStatusNotification =
    "UPDATE leads SET last_status_notified_at = $1 WHERE id = $2 AND "
    "last_status_notified_at <= $3";
// Erased leads (schema 18) are tombstones: the readers by reference, application id and basic
// application id skip them (those by mobile cannot find them: their blind index is replaced).
// Every column but id ($1..$40, bind_lead then bind_lead_partner); the id is the database's.
inline const std::string kInsertLead =
    "INSERT INTO leads (" + kLeadColumns.substr(4) + ") VALUES " + values_groups(1, 40);
// Every column after id up to warnings_json ($1..$36, bind_lead), WHERE id = $37, and, when asked,
// AND status = $38 and AND request_id = the next number (the compare-and-set).
std::string update_lead(bool expected_status, bool expected_request_id);
// Raises the refresh time only: $1 refreshed_at, $2 lead id.
inline const std::string kRaiseStatusRefreshedAt =
    "UPDATE leads SET status_refreshed_at = $1 WHERE id = $2 AND status_refreshed_at < $1";

inline const std::string kSelectAudit =
    "SELECT environment, entity, entity_ref, operation, field, old_value, new_value, request_id, "
    "duration_ms, created_at FROM audit_log WHERE environment = $1 AND entity_ref = $2 ORDER BY id";
// `rows` audit entries in one INSERT (bind_audit for each).
std::string insert_audit(std::size_t rows);

// ---- outbox ----

// One new outbox message (bind_new_outbox): pending, no attempts, no delivery state yet.
inline const std::string kInsertOutbox =
    "INSERT INTO outbox (environment, lead_ref, kind, payload_enc, status, attempts, "
    "next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $6)";
inline const std::string kInsertOutboxAttempt =
    "INSERT INTO outbox_attempts (outbox_id, attempt, started_at, duration_ms, outcome, "
    "http_status, error, provider_message_id) VALUES " +
    values_groups(1, 8);
inline const std::string kReleaseOutboxLeases =
    "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1";
inline const std::string kSelectOutboxForLead =
    "SELECT " + kOutboxColumns +
    " FROM outbox WHERE environment = $1 AND lead_ref = $2 ORDER BY id";
inline const std::string kSelectOutboxAttemptsForLead =
    "SELECT a.outbox_id, a.attempt, a.started_at, a.duration_ms, a.outcome, a.http_status, "
    "a.error, a.provider_message_id FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id "
    "WHERE o.environment = $1 AND o.lead_ref = $2 ORDER BY a.started_at, a.attempt, a.id";
inline const std::string kListOutbox =
    "SELECT " + kOutboxColumns + " FROM outbox WHERE status = $1 ORDER BY id LIMIT $2";
inline const std::string kCountOutboxByStatus =
    "SELECT status, COUNT(*) FROM outbox GROUP BY status";

// ---- relationship managers, appointments ----

inline const std::string kInsertRm =
    "INSERT INTO rms (environment, name, name_key, phone_enc, location, active, created_at) "
    "VALUES " +
    values_groups(1, 7);
inline const std::string kSelectRm = "SELECT " + kRmColumns + " FROM rms WHERE id = $1";
// A new appointment is always booked, whatever status the caller put in it.
inline const std::string kInsertAppointment =
    "INSERT INTO appointments (id, environment, lead_ref, rm_id, slot_start, slot_minutes, "
    "status, request_id, created_at, cancelled_at, cancel_reason) VALUES ($1, $2, $3, $4, $5, "
    "$6, 'booked', $7, $8, 0, '')";
inline const std::string kSelectAppointment =
    "SELECT " + kAppointmentColumns + " FROM appointments WHERE id = $1";
inline const std::string kSelectBookedAppointments =
    "SELECT " + kAppointmentColumns +
    " FROM appointments WHERE environment = $1 AND slot_start >= $2 AND slot_start < $3 AND "
    "status = 'booked' ORDER BY slot_start, rm_id";
inline const std::string kSelectAppointmentsForLead =
    "SELECT " + kAppointmentColumns +
    " FROM appointments WHERE environment = $1 AND lead_ref = $2 ORDER BY created_at, id";
inline const std::string kCancelAppointment =
    "UPDATE appointments SET status = 'cancelled', cancelled_at = $1, cancel_reason = $2 WHERE "
    "id = $3 AND status = 'booked'";

// ---- WhatsApp: inbox, conversations, receipts, opt-outs ----

inline const std::string kReleaseInboxLeases =
    "UPDATE whatsapp_inbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1";
inline const std::string kSelectInbox =
    "SELECT " + kInboxColumns + " FROM whatsapp_inbox WHERE provider = $1 AND event_id = $2";
inline const std::string kCountInboxByState =
    "SELECT state, COUNT(*) FROM whatsapp_inbox GROUP BY state";
inline const std::string kInsertConversation = "INSERT INTO whatsapp_conversation (" +
                                               kConversationColumns.substr(4) + ") VALUES " +
                                               values_groups(1, 11);
// The last $3 messages of one phone, oldest first.
inline const std::string kSelectConversation =
    "SELECT " + kConversationColumns + " FROM (SELECT " + kConversationColumns +
    " FROM whatsapp_conversation WHERE environment = $1 AND phone_bidx = $2 ORDER BY created_at "
    "DESC, id DESC LIMIT $3) last ORDER BY created_at, id";
// The latest change wins; on equal times the new value wins.
inline const std::string kUpsertOptOut =
    "INSERT INTO whatsapp_opt_outs (environment, phone_bidx, opted_out, updated_at) VALUES ($1, "
    "$2, $3, $4) ON CONFLICT (environment, phone_bidx) DO UPDATE SET opted_out = "
    "EXCLUDED.opted_out, updated_at = EXCLUDED.updated_at WHERE EXCLUDED.updated_at >= "
    "whatsapp_opt_outs.updated_at";
inline const std::string kSelectOptOut =
    "SELECT opted_out FROM whatsapp_opt_outs WHERE environment = $1 AND phone_bidx = $2";
// `rows` receipts in one INSERT (bind_receipt for each).
std::string insert_receipts(std::size_t rows);
inline const std::string kSelectReceiptsForLead =
    "SELECT d.provider_message_id, d.status, d.at, d.error_code, d.error_message, d.received_at, "
    "o.id FROM delivery_receipts d JOIN outbox o ON o.id = d.outbox_id WHERE o.environment = $1 "
    "AND o.lead_ref = $2 ORDER BY d.at, d.id";
// A delivery status's rank (see WhatsAppStore::record_deliveries); unknown statuses rank 0 and are
// never applied. `expr` is an SQL expression of type text.
std::string delivery_rank(std::string_view expr);

// ---- verification: OTPs, rate limits, consents ----

inline const std::string kSelectOtp =
    "SELECT " + kOtpColumns + " FROM otp_codes WHERE environment = $1 AND phone_bidx = $2";
// Inserts the phone's code or replaces every column of the existing one (bind_otp).
inline const std::string kUpsertOtp =
    "INSERT INTO otp_codes (" + kOtpColumns + ") VALUES " + values_groups(1, 7) +
    " ON CONFLICT (environment, phone_bidx) DO UPDATE SET code_hash = EXCLUDED.code_hash, "
    "created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, attempts = "
    "EXCLUDED.attempts, state = EXCLUDED.state";
// Releasing an event: its row goes with its second's last event, else the row counts one less.
inline const std::string kDeleteLastRateEvent = "DELETE FROM rate_events WHERE id = $1 AND n <= 1";
inline const std::string kReleaseRateEvent = "UPDATE rate_events SET n = n - 1 WHERE id = $1";
inline const std::string kPurgeRateEvents = "DELETE FROM rate_events WHERE at < $1";
inline const std::string kInsertConsent =
    "INSERT INTO consents (" + kConsentColumns + ") VALUES " + values_groups(1, 7);
// $1 token hash, $2 now: a link works once, before it expires.
inline const std::string kGrantConsent =
    "UPDATE consents SET granted_at = $2 WHERE token_hash = $1 AND granted_at = 0 AND expires_at "
    "> $2 RETURNING " +
    kConsentColumns;
inline const std::string kSelectConsent =
    "SELECT " + kConsentColumns + " FROM consents WHERE token_hash = $1";
inline const std::string kCustomerTokenColumns =
    "token_hash, environment, phone_bidx, created_at, expires_at";
inline const std::string kInsertCustomerToken =
    "INSERT INTO customer_tokens (" + kCustomerTokenColumns + ") VALUES " + values_groups(1, 5);
inline const std::string kSelectCustomerToken =
    "SELECT " + kCustomerTokenColumns + " FROM customer_tokens WHERE token_hash = $1";
inline const std::string kPurgeCustomerTokens = "DELETE FROM customer_tokens WHERE expires_at < $1";
inline const std::string kSelectConsentsForPhone =
    "SELECT " + kConsentColumns +
    " FROM consents WHERE environment = $1 AND phone_bidx = $2 ORDER BY requested_at, id";

// ---- access: API keys, idempotency ----

inline const std::string kApiKeyColumns =
    "id, name, key_hash, environments, created_at, revoked, kind, last_used_at";
inline const std::string kInsertApiKey =
    "INSERT INTO api_keys (" + kApiKeyColumns + ") VALUES " + values_groups(1, 8);
inline const std::string kSelectApiKey =
    "SELECT " + kApiKeyColumns + " FROM api_keys WHERE key_hash = $1";
inline const std::string kCountApiKeys = "SELECT COUNT(*) FROM api_keys";
inline const std::string kListApiKeys =
    "SELECT " + kApiKeyColumns + " FROM api_keys ORDER BY created_at, id";
// $1 id, $2 true, $3 false (bound, so one text serves SQLite's integers and PostgreSQL's booleans).
inline const std::string kRevokeApiKey =
    "UPDATE api_keys SET revoked = $2 WHERE id = $1 AND revoked = $3";
inline const std::string kTouchApiKey =
    "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2";
inline const std::string kSelectIdempotency =
    "SELECT fingerprint, state, status, body, content_type, updated_at FROM idempotency_keys "
    "WHERE scope = $1 AND key = $2";
// The first attempt's holder died mid-request: $1 now, $2 scope, $3 key.
inline const std::string kTakeOverIdempotency =
    "UPDATE idempotency_keys SET updated_at = $1 WHERE scope = $2 AND key = $3";
inline const std::string kCompleteIdempotency =
    "UPDATE idempotency_keys SET state = 'done', status = $1, body = $2, content_type = $3, "
    "updated_at = $4 WHERE scope = $5 AND key = $6";
inline const std::string kAbandonIdempotency =
    "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'running'";
inline const std::string kPurgeIdempotency = "DELETE FROM idempotency_keys WHERE created_at < $1";

// The consent ledger (schema 14). $10 = 1: only when the person's latest event for the purpose
// has another action (or there is none).
inline const std::string kConsentEventColumns =
    "id, environment, phone_bidx, phone_enc, purpose, action, notice_version, source, at, "
    "request_id";
inline const std::string kInsertConsentEvent =
    "INSERT INTO consent_ledger (environment, phone_bidx, phone_enc, purpose, action, "
    "notice_version, source, at, request_id) SELECT $1, $2, $3, $4, $5, $6, $7, CAST($8 AS "
    "BIGINT), $9 WHERE CAST($10 AS INTEGER) = 0 OR COALESCE((SELECT action FROM consent_ledger "
    "WHERE environment = $1 AND phone_bidx = $2 AND purpose = $4 ORDER BY id DESC LIMIT 1), '') "
    "<> $5";
// Retention (PrivacyStore::purge_transient): $1 the cutoff.
inline const std::string kPurgeExpiredOtps = "DELETE FROM otp_codes WHERE expires_at < $1";
inline const std::string kPurgeConsentRequests =
    "DELETE FROM consents WHERE granted_at = 0 AND expires_at < $1";
inline const std::string kPurgeProcessedInbox =
    "DELETE FROM whatsapp_inbox WHERE state = 'done' AND processed_at < $1";
inline const std::string kSelectConsentEvents = "SELECT " + kConsentEventColumns +
                                                " FROM consent_ledger WHERE environment = $1 AND "
                                                "phone_bidx = $2 ORDER BY id";

// Per-person data keys (schema 18): the live key of one person; a new one when there is none.
inline const std::string kSelectPersonKey =
    "SELECT id, wrapped_key FROM person_keys WHERE environment = $1 AND phone_bidx = $2";
inline const std::string kInsertPersonKey =
    "INSERT INTO person_keys (environment, phone_bidx, wrapped_key, created_at) VALUES ($1, $2, "
    "$3, $4) ON CONFLICT (environment, phone_bidx) DO NOTHING RETURNING id, wrapped_key";
inline const std::string kSelectWrappedKey =
    "SELECT wrapped_key FROM person_keys WHERE id = $1 AND erased_at = 0";

// Erasure (PrivacyStore::erase_person), in this order, one transaction: $1 environment, $2 the
// person's mobile blind index, $3 the tombstone that replaces it, $4 the time. The person's
// leads are found by $2 until the last statements replace it.
inline const std::string kPersonLeadRefs =
    "SELECT reference_id FROM leads WHERE environment = $1 AND mobile_bidx = $2";
// Field values in the audit trail (masked, still partial PII) are blanked; statuses are kept.
inline const std::string kEraseAuditValues =
    "UPDATE audit_log SET old_value = '', new_value = '' WHERE environment = $1 AND operation <> "
    "'status_changed' AND entity_ref IN (" +
    kPersonLeadRefs + ")";
// Messages of their leads and replies to them: those still queued cancelled, every payload
// blanked.
inline const std::string kPersonOutboxWhere =
    " WHERE environment = $1 AND (lead_ref IN (" + kPersonLeadRefs +
    ") OR id IN (SELECT outbox_id FROM whatsapp_conversation WHERE environment = $1 AND "
    "phone_bidx = $2 AND outbox_id > 0))";
inline const std::string kCancelPersonOutbox =
    "UPDATE outbox SET status = 'cancelled', last_error = 'erased'" + kPersonOutboxWhere +
    " AND status = 'pending'";
inline const std::string kBlankPersonOutbox =
    "UPDATE outbox SET payload_enc = ''" + kPersonOutboxWhere + " AND payload_enc <> ''";
inline const std::string kEraseAppointments =
    "UPDATE appointments SET status = 'cancelled', cancelled_at = CAST($3 AS BIGINT), "
    "cancel_reason = 'erased' WHERE environment = $1 AND status = 'booked' AND lead_ref IN (" +
    kPersonLeadRefs + ")";
inline const std::string kEraseConversation =
    "UPDATE whatsapp_conversation SET text_enc = '', phone_bidx = $3 WHERE environment = $1 AND "
    "phone_bidx = $2";
inline const std::string kEraseLeads =
    "UPDATE leads SET first_name_enc = '', last_name_enc = '', mobile_enc = '', email_enc = '', "
    "pan_enc = '', dob_enc = '', mobile_bidx = $3, pan_bidx = '', credit_score = '', "
    "annual_income = NULL, remarks = NULL, flash_details_enc = '', state = NULL, gender = NULL, "
    "pincode = '', user_agent = '', erased_at = CAST($4 AS BIGINT) WHERE environment = $1 AND "
    "mobile_bidx = $2";
inline const std::string kEraseConsentLedger =
    "UPDATE consent_ledger SET phone_enc = NULL, phone_bidx = $3 WHERE environment = $1 AND "
    "phone_bidx = $2";
inline const std::string kEraseConsentRequests =
    "DELETE FROM consents WHERE environment = $1 AND phone_bidx = $2";
inline const std::string kEraseOtp =
    "DELETE FROM otp_codes WHERE environment = $1 AND phone_bidx = $2";
inline const std::string kEraseCustomerTokens =
    "DELETE FROM customer_tokens WHERE environment = $1 AND phone_bidx = $2";
inline const std::string kEraseOptOut =
    "DELETE FROM whatsapp_opt_outs WHERE environment = $1 AND phone_bidx = $2";
inline const std::string kEraseDataKey =
    "UPDATE person_keys SET wrapped_key = '', phone_bidx = $3, erased_at = CAST($4 AS BIGINT) "
    "WHERE environment = $1 AND phone_bidx = $2 AND erased_at = 0";

// The keyring (schema 19).
inline const std::string kSelectKeyringKey = "SELECT wrapped_key FROM keyring WHERE name = $1";
inline const std::string kInsertKeyringKey =
    "INSERT INTO keyring (name, wrapped_key, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) "
    "DO NOTHING";
inline const std::string kReplaceKeyringKey =
    "UPDATE keyring SET wrapped_key = $2, updated_at = $3 WHERE name = $1 AND wrapped_key = $4";
// Re-sealing one column (KeyringStore::reseal_page): the page after $1, at most $2 rows; a
// value written back only if unchanged ($3).
std::string select_sealed_page(const SealedColumn& c);
std::string update_sealed_value(const SealedColumn& c);

// The retention sweep's candidates: people (environment, mobile blind index) whose latest
// activity (a lead's change, a WhatsApp message, a consent event, their data key's creation) is
// before $1, after ($2, $3) in (environment, phone_bidx) order, at most $4.
inline const std::string kSelectInactivePeople =
    "SELECT environment, phone_bidx, MAX(last_at) FROM ("
    "SELECT environment, mobile_bidx AS phone_bidx, MAX(updated_at) AS last_at FROM leads WHERE "
    "erased_at = 0 GROUP BY environment, mobile_bidx "
    "UNION ALL SELECT environment, phone_bidx, MAX(created_at) FROM whatsapp_conversation WHERE "
    "phone_bidx NOT LIKE 'erased:%' GROUP BY environment, phone_bidx "
    "UNION ALL SELECT environment, phone_bidx, MAX(at) FROM consent_ledger WHERE phone_bidx NOT "
    "LIKE 'erased:%' GROUP BY environment, phone_bidx "
    "UNION ALL SELECT environment, phone_bidx, created_at FROM person_keys WHERE erased_at = 0"
    ") people WHERE environment > $2 OR (environment = $2 AND phone_bidx > $3) "
    "GROUP BY environment, phone_bidx HAVING MAX(last_at) < $1 ORDER BY environment, phone_bidx "
    "LIMIT $4";

// Dashboard sessions (schema 13).
inline const std::string kPurgeOpsSessions = "DELETE FROM ops_sessions WHERE expires_at <= $1";
inline const std::string kInsertOpsSession =
    "INSERT INTO ops_sessions (token_hash, key_hash, created_at, expires_at) VALUES ($1, $2, $3, "
    "$4)";
inline const std::string kSelectOpsSession =
    "SELECT key_hash FROM ops_sessions WHERE token_hash = $1 AND expires_at > $2";
inline const std::string kDeleteOpsSession = "DELETE FROM ops_sessions WHERE token_hash = $1";

// Schema 13's backfill: rows still holding plaintext, found through partial indexes on the same
// predicates (so that once sealed, finding none costs nothing).
inline const std::string kSelectPlaintextLeads =
    "SELECT id, credit_score, annual_income, remarks FROM leads WHERE (credit_score NOT LIKE "
    "'v1:%' OR annual_income NOT LIKE 'v1:%' OR remarks NOT LIKE 'v1:%') AND erased_at = 0 ORDER "
    "BY id LIMIT $1";
inline const std::string kSealLeadFields =
    "UPDATE leads SET credit_score = $2, annual_income = $3, remarks = $4 WHERE id = $1";
inline const std::string kSelectPlaintextIdempotency =
    "SELECT scope, key, body FROM idempotency_keys WHERE state = 'done' AND body NOT LIKE 'v1:%' "
    "LIMIT $1";
inline const std::string kSealIdempotencyBody =
    "UPDATE idempotency_keys SET body = $3 WHERE scope = $1 AND key = $2";

// ---- operations: schema, monitoring ----

inline const std::string kSelectMigration = "SELECT 1 FROM schema_migrations WHERE version = $1";
inline const std::string kInsertMigration =
    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)";
// Upserts by (minute, resolution, instance): the last payload wins.
inline const std::string kUpsertMetricMinute =
    "INSERT INTO metric_minutes (minute, resolution, instance, payload, updated_at) VALUES " +
    values_groups(1, 5) +
    " ON CONFLICT (minute, resolution, instance) DO UPDATE SET payload = EXCLUDED.payload, "
    "updated_at = EXCLUDED.updated_at";
inline const std::string kSelectMetricMinutes =
    "SELECT minute, instance, payload, updated_at FROM metric_minutes WHERE minute >= $1 AND "
    "minute < $2 AND resolution = $3 ORDER BY minute, instance";
inline const std::string kPurgeMetricMinutes = "DELETE FROM metric_minutes WHERE minute < $1";

}  // namespace leadgate::sql
