#include "store/postgres/postgres_store.h"

#include <iterator>
#include <string_view>

namespace leadgate {

// Append-only: a released migration is never edited; a change is a new entry. Entry N has the same
// tables, columns and meaning as SQLite's entry N (sqlite_migrations.cpp), in PostgreSQL types:
// ids BIGSERIAL, unix-millisecond timestamps BIGINT, flags BOOLEAN. Every lookup the store makes
// has an index; the outbox's due-time index is partial, covering only rows still to deliver.
namespace {

// One entry per schema version, as data (the function below only copies it).
constexpr std::string_view kMigrationSql[] = {
    // 1: API keys, leads, audit trail, outbox, idempotency records.
    R"sql(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  environments TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE leads (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  reference_id TEXT NOT NULL,
  basic_application_id TEXT,
  application_id TEXT,
  status TEXT NOT NULL,
  first_name_enc TEXT NOT NULL,
  last_name_enc TEXT NOT NULL,
  mobile_enc TEXT NOT NULL,
  email_enc TEXT NOT NULL,
  pan_enc TEXT NOT NULL,
  dob_enc TEXT NOT NULL,
  mobile_bidx TEXT NOT NULL,
  pan_bidx TEXT NOT NULL,
  loan_type TEXT NOT NULL,
  loan_amount_req BIGINT NOT NULL,
  loan_tenure INTEGER NOT NULL,
  credit_score INTEGER NOT NULL,
  pincode TEXT NOT NULL,
  state TEXT,
  gender TEXT,
  application_assigned_to_rm TEXT,
  remarks TEXT,
  customer_id TEXT,
  qr_short_code TEXT,
  annual_income BIGINT,
  include_credit_score BOOLEAN NOT NULL,
  is_lead_prefilled BOOLEAN NOT NULL,
  los_error TEXT NOT NULL DEFAULT '',
  request_id TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX leads_reference_id ON leads (reference_id);
CREATE UNIQUE INDEX leads_customer_loan ON leads (environment, mobile_bidx, loan_type);
CREATE INDEX leads_pan ON leads (environment, pan_bidx);
CREATE INDEX leads_basic_application_id ON leads (environment, basic_application_id);
CREATE INDEX leads_application_id ON leads (environment, application_id);
CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_ref TEXT NOT NULL,
  operation TEXT NOT NULL,
  field TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  request_id TEXT NOT NULL,
  duration_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (environment, entity_ref, id);
CREATE TABLE outbox (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  lead_ref TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload_enc TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  provider_message_id TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_lead ON outbox (environment, lead_ref);
CREATE INDEX outbox_lease_owner ON outbox (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE TABLE outbox_attempts (
  id BIGSERIAL PRIMARY KEY,
  outbox_id BIGINT NOT NULL REFERENCES outbox (id),
  attempt INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL,
  outcome TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  error TEXT NOT NULL,
  provider_message_id TEXT NOT NULL
);
CREATE INDEX outbox_attempts_outbox ON outbox_attempts (outbox_id);
CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL,
  status INTEGER NOT NULL DEFAULT 0,
  body TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
)sql",
    // 2: lead flash details, completion reference, soft-rule warnings.
    R"sql(
ALTER TABLE leads ADD COLUMN flash_details_enc TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN completion_reference TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN flashed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN warnings_json TEXT NOT NULL DEFAULT '[]';
)sql",
    // 3: WhatsApp OTPs (one current code per phone and environment, hashed), rate-limit
    // events shared by all instances, consent requests and grants.
    R"sql(
CREATE TABLE otp_codes (
  environment TEXT NOT NULL,
  phone_bidx TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  PRIMARY KEY (environment, phone_bidx)
);
CREATE TABLE rate_events (
  id BIGSERIAL PRIMARY KEY,
  scope TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX rate_events_scope_at ON rate_events (scope, at);
CREATE INDEX rate_events_at ON rate_events (at);
CREATE TABLE consents (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  phone_bidx TEXT NOT NULL,
  phone_enc TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  requested_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  granted_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX consents_phone ON consents (environment, phone_bidx);
)sql",
    // 4: the LOS's view of a lead (partner status), relationship managers, appointments. A
    // booked slot of one RM and a lead's booked appointment are unique over booked rows only;
    // book_appointment tells the two apart by the index name a violation reports.
    R"sql(
ALTER TABLE leads ADD COLUMN partner_status TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN partner_stage TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN partner_updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN status_refreshed_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE rms (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  phone_enc TEXT NOT NULL,
  location TEXT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX rms_name_key ON rms (environment, name_key);
CREATE TABLE appointments (
  id TEXT PRIMARY KEY,
  environment TEXT NOT NULL,
  lead_ref TEXT NOT NULL,
  rm_id BIGINT NOT NULL REFERENCES rms (id),
  slot_start BIGINT NOT NULL,
  slot_minutes INTEGER NOT NULL,
  status TEXT NOT NULL,
  request_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  cancelled_at BIGINT NOT NULL DEFAULT 0,
  cancel_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX appointments_booked_rm_slot ON appointments (rm_id, slot_start)
  WHERE status = 'booked';
CREATE UNIQUE INDEX appointments_booked_lead ON appointments (environment, lead_ref)
  WHERE status = 'booked';
CREATE INDEX appointments_slot ON appointments (environment, slot_start);
CREATE INDEX appointments_lead ON appointments (environment, lead_ref, created_at);
)sql",
    // 5: the WhatsApp webhook inbox: callback items stored raw before the provider is answered,
    // processed in the background under leases like the outbox. (provider, event_id) is unique:
    // a redelivered item is skipped.
    R"sql(
CREATE TABLE whatsapp_inbox (
  id BIGSERIAL PRIMARY KEY,
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  environment TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload_enc TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  processed_at BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  lease_owner TEXT,
  lease_until BIGINT,
  UNIQUE (provider, event_id)
);
CREATE INDEX whatsapp_inbox_due ON whatsapp_inbox (state, next_attempt_at);
)sql",
    // 6: WhatsApp conversations, delivery receipts, opt-outs. The outbox keeps the latest
    // delivery state the provider reported (receipts find their row by provider_message_id);
    // every receipt is kept in delivery_receipts (outbox_id 0: no outbox row had that id). An
    // inbound message is stored once per environment and provider id (partial unique index).
    R"sql(
ALTER TABLE outbox ADD COLUMN delivery_status TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_status_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN delivery_error TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_provider_message_id ON outbox (provider_message_id);
CREATE TABLE whatsapp_conversation (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  phone_bidx TEXT NOT NULL,
  direction TEXT NOT NULL,
  provider_message_id TEXT NOT NULL DEFAULT '',
  outbox_id BIGINT NOT NULL DEFAULT 0,
  lead_ref TEXT NOT NULL DEFAULT '',
  application_id TEXT NOT NULL DEFAULT '',
  msg_type TEXT NOT NULL,
  text_enc TEXT NOT NULL,
  classification TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX whatsapp_conversation_phone ON whatsapp_conversation
  (environment, phone_bidx, created_at);
CREATE UNIQUE INDEX whatsapp_conversation_inbound ON whatsapp_conversation
  (environment, provider_message_id) WHERE direction = 'in' AND provider_message_id <> '';
CREATE TABLE delivery_receipts (
  id BIGSERIAL PRIMARY KEY,
  provider_message_id TEXT NOT NULL,
  status TEXT NOT NULL,
  at BIGINT NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  outbox_id BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX delivery_receipts_provider_message_id ON delivery_receipts (provider_message_id);
CREATE INDEX delivery_receipts_outbox ON delivery_receipts (outbox_id);
CREATE TABLE whatsapp_opt_outs (
  environment TEXT NOT NULL,
  phone_bidx TEXT NOT NULL,
  opted_out BOOLEAN NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (environment, phone_bidx)
);
)sql",
    // 7: monitoring (issue 8): one row per instance and minute holding the deltas of its metrics
    // registry during that minute, as JSON. The instance re-writes its current minute as it
    // goes (upsert on the primary key), which also serves range reads and purges by minute.
    R"sql(
CREATE TABLE metric_minutes (
  minute BIGINT NOT NULL,
  instance TEXT NOT NULL,
  payload TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (minute, instance)
);
)sql",
    // 8: monitoring rollups: besides the per-minute rows (resolution 1), each instance keeps
    // 15-minute and hourly rows (resolution 15, 60; minute = the period's first minute), so a
    // day or week view reads 96 or 168 rows per instance instead of thousands.
    R"sql(
ALTER TABLE metric_minutes ADD COLUMN resolution INTEGER NOT NULL DEFAULT 1;
ALTER TABLE metric_minutes DROP CONSTRAINT metric_minutes_pkey,
  ADD CONSTRAINT metric_minutes_pkey PRIMARY KEY (minute, resolution, instance);
)sql",
    // 9: an inbox processor releases the events of a claim it did not process (more than it
    // takes per claim, or shutting down) by its owner id; without an index that was a scan of
    // the whole inbox. Only leased rows are indexed, as for the outbox.
    R"sql(
CREATE INDEX whatsapp_inbox_lease_owner ON whatsapp_inbox (lease_owner)
  WHERE lease_owner IS NOT NULL;
)sql",
    // 10: lead_status notify (issue 20): when the lead's last status message was queued, so that
    // one conditional UPDATE lets at most one through per LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS.
    R"sql(
ALTER TABLE leads ADD COLUMN last_status_notified_at BIGINT NOT NULL DEFAULT 0;
)sql",
    // 11: the LOS recovery job (issue 20) finds leads left pending_los without a scan.
    R"sql(
CREATE INDEX leads_pending_los ON leads (updated_at) WHERE status = 'pending_los';
)sql",
    // 12 (issue 20): API key kinds (existing keys stay "server", today's contract) and when a key
    // was last used; customer tokens, stored by hash with the phone's blind index.
    R"sql(
ALTER TABLE api_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'server';
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE customer_tokens (
  token_hash TEXT PRIMARY KEY,
  environment TEXT NOT NULL,
  phone_bidx TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX customer_tokens_expiry ON customer_tokens (expires_at);
)sql",
    // 13 (issue 20): the credit score, yearly income and remarks of a lead and the stored
    // Idempotency-Key responses are sealed (PiiCipher's "v1:" format). What older versions wrote
    // in plaintext is sealed after migrating by services/pii_backfill.h, which finds it through
    // the partial indexes below (empty once done). Dashboard sessions live here so that logout
    // ends them on every instance.
    R"sql(
ALTER TABLE leads ALTER COLUMN credit_score TYPE TEXT USING credit_score::text,
  ALTER COLUMN annual_income TYPE TEXT USING annual_income::text;
CREATE INDEX leads_plaintext ON leads (id)
  WHERE credit_score NOT LIKE 'v1:%' OR annual_income NOT LIKE 'v1:%' OR remarks NOT LIKE 'v1:%';
CREATE INDEX idempotency_keys_plaintext ON idempotency_keys (scope, key)
  WHERE state = 'done' AND body NOT LIKE 'v1:%';
CREATE TABLE ops_sessions (
  token_hash TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX ops_sessions_expiry ON ops_sessions (expires_at);
)sql",
    // 14 (issue 21): the consent ledger, one row per consent event of a person (found by the
    // mobile's blind index; the mobile sealed when known) and purpose. What was recorded before is
    // carried over as notice version "before-ledger": granted consent links (whatsapp_otp), the
    // WhatsApp opt-out state (whatsapp_updates) and, for every person with a lead, the first
    // lead's submission (loan_processing).
    R"sql(
CREATE TABLE consent_ledger (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  phone_bidx TEXT NOT NULL,
  phone_enc TEXT,
  purpose TEXT NOT NULL,
  action TEXT NOT NULL,
  notice_version TEXT NOT NULL,
  source TEXT NOT NULL,
  at BIGINT NOT NULL,
  request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consent_ledger_person ON consent_ledger (environment, phone_bidx, purpose, id);
INSERT INTO consent_ledger (environment, phone_bidx, phone_enc, purpose, action, notice_version,
                            source, at)
  SELECT environment, phone_bidx, phone_enc, 'whatsapp_otp', 'granted', 'before-ledger',
         'consent_link', granted_at FROM consents WHERE granted_at > 0 ORDER BY granted_at, id;
INSERT INTO consent_ledger (environment, phone_bidx, purpose, action, notice_version, source, at)
  SELECT environment, phone_bidx, 'whatsapp_updates',
         CASE WHEN opted_out THEN 'withdrawn' ELSE 'granted' END, 'before-ledger',
         CASE WHEN opted_out THEN 'whatsapp_stop' ELSE 'whatsapp_start' END, updated_at
  FROM whatsapp_opt_outs ORDER BY updated_at;
INSERT INTO consent_ledger (environment, phone_bidx, phone_enc, purpose, action, notice_version,
                            source, at)
  SELECT environment, mobile_bidx, MIN(mobile_enc), 'loan_processing', 'granted', 'before-ledger',
         'api', MIN(created_at) FROM leads GROUP BY environment, mobile_bidx ORDER BY MIN(created_at);
)sql",
    // 15 (issue 19): a rate-limit row counts the events of one scope in one second (n; `at` is
    // the newest of them), so a scope reserved thousands of times a minute sums at most one row a
    // second of its window instead of counting every event; rows written before have no bucket
    // and count 1 each. reserve_rate_event() is the whole reservation in one round trip: the
    // scope's lock, the window and cooldown checks and the upsert; its commit need not be
    // durable (see PostgresStore::reserve_rate_event).
    R"sql(
ALTER TABLE rate_events ADD COLUMN n INTEGER NOT NULL DEFAULT 1;
ALTER TABLE rate_events ADD COLUMN bucket BIGINT;
CREATE UNIQUE INDEX rate_events_scope_bucket ON rate_events (scope, bucket);
CREATE FUNCTION reserve_rate_event(p_scope TEXT, p_now BIGINT, p_window BIGINT, p_max INTEGER,
                                   p_cooldown BIGINT, OUT r_allowed BOOLEAN, OUT r_event_id BIGINT,
                                   OUT r_retry_after_ms BIGINT)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_total BIGINT;
  v_at BIGINT;
  v_wait BIGINT := 0;
  v_refused BOOLEAN := false;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  -- One holder per scope on every connection and instance; each statement below takes a new
  -- snapshot (READ COMMITTED), so it sees what the previous holder committed.
  PERFORM pg_advisory_xact_lock(hashtextextended(p_scope, 0));
  IF p_window > 0 AND p_max > 0 THEN
    SELECT COALESCE(SUM(e.n), 0) INTO v_total FROM rate_events e
      WHERE e.scope = p_scope AND e.at > p_now - p_window;
    IF v_total >= p_max THEN
      -- Room again once the (total - max + 1)-th oldest event leaves the window.
      SELECT s.at INTO v_at FROM (
        SELECT e.at, e.id, SUM(e.n) OVER (ORDER BY e.at, e.id) AS upto FROM rate_events e
          WHERE e.scope = p_scope AND e.at > p_now - p_window) s
        WHERE s.upto > v_total - p_max ORDER BY s.at, s.id LIMIT 1;
      IF v_at IS NOT NULL THEN
        v_refused := true;
        v_wait := GREATEST(v_wait, v_at + p_window - p_now);
      END IF;
    END IF;
  END IF;
  IF p_cooldown > 0 THEN
    SELECT MAX(e.at) INTO v_at FROM rate_events e
      WHERE e.scope = p_scope AND e.at > p_now - p_cooldown;
    IF v_at IS NOT NULL THEN
      v_refused := true;
      v_wait := GREATEST(v_wait, v_at + p_cooldown - p_now);
    END IF;
  END IF;
  IF v_refused THEN
    r_allowed := false;
    r_event_id := 0;
    r_retry_after_ms := GREATEST(1, v_wait);
    RETURN;
  END IF;
  INSERT INTO rate_events AS e (scope, at, bucket, n) VALUES (p_scope, p_now, p_now / 1000, 1)
    ON CONFLICT (scope, bucket) DO UPDATE SET n = e.n + 1, at = GREATEST(e.at, EXCLUDED.at)
    RETURNING e.id INTO r_event_id;
  r_allowed := true;
  r_retry_after_ms := 0;
END
$fn$;
)sql",
    // 16 (issue 19): reserve_rate_events() reserves several scopes in one statement (an OTP
    // send: its API key's and its phone's), all or none: it locks them in scope order, checks the
    // rules in their order (the first that refuses ends it, nothing recorded) and records an event
    // in each. It replaces the one-scope function of 15, which no release used.
    R"sql(
DROP FUNCTION reserve_rate_event(TEXT, BIGINT, BIGINT, INTEGER, BIGINT);
CREATE FUNCTION reserve_rate_events(p_scopes TEXT[], p_windows BIGINT[], p_maxes INTEGER[],
                                    p_cooldowns BIGINT[], p_now BIGINT, OUT r_allowed BOOLEAN,
                                    OUT r_refused INTEGER, OUT r_retry_after_ms BIGINT,
                                    OUT r_event_ids BIGINT[])
LANGUAGE plpgsql AS $fn$
DECLARE
  v_scope TEXT;
  v_total BIGINT;
  v_at BIGINT;
  v_wait BIGINT;
  v_id BIGINT;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  -- One holder per scope on every connection and instance, taken in one order; each statement
  -- below takes a new snapshot (READ COMMITTED), so it sees what earlier holders committed.
  FOR v_scope IN SELECT DISTINCT s FROM unnest(p_scopes) AS s ORDER BY s LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(v_scope, 0));
  END LOOP;
  r_allowed := false;
  r_event_ids := '{}';
  FOR i IN 1 .. COALESCE(array_length(p_scopes, 1), 0) LOOP
    v_wait := 0;
    IF p_windows[i] > 0 AND p_maxes[i] > 0 THEN
      SELECT COALESCE(SUM(e.n), 0) INTO v_total FROM rate_events e
        WHERE e.scope = p_scopes[i] AND e.at > p_now - p_windows[i];
      IF v_total >= p_maxes[i] THEN
        -- Room again once the (total - max + 1)-th oldest event leaves the window.
        SELECT s.at INTO v_at FROM (
          SELECT e.at, e.id, SUM(e.n) OVER (ORDER BY e.at, e.id) AS upto FROM rate_events e
            WHERE e.scope = p_scopes[i] AND e.at > p_now - p_windows[i]) s
          WHERE s.upto > v_total - p_maxes[i] ORDER BY s.at, s.id LIMIT 1;
        IF v_at IS NOT NULL THEN
          v_wait := GREATEST(v_wait, v_at + p_windows[i] - p_now);
        END IF;
      END IF;
    END IF;
    IF p_cooldowns[i] > 0 THEN
      SELECT MAX(e.at) INTO v_at FROM rate_events e
        WHERE e.scope = p_scopes[i] AND e.at > p_now - p_cooldowns[i];
      IF v_at IS NOT NULL THEN
        v_wait := GREATEST(v_wait, v_at + p_cooldowns[i] - p_now, 1);
      END IF;
    END IF;
    IF v_wait > 0 THEN
      r_refused := i - 1;
      r_retry_after_ms := v_wait;
      RETURN;
    END IF;
  END LOOP;
  FOR i IN 1 .. COALESCE(array_length(p_scopes, 1), 0) LOOP
    INSERT INTO rate_events AS e (scope, at, bucket, n)
      VALUES (p_scopes[i], p_now, p_now / 1000, 1)
      ON CONFLICT (scope, bucket) DO UPDATE SET n = e.n + 1, at = GREATEST(e.at, EXCLUDED.at)
      RETURNING e.id INTO v_id;
    r_event_ids := r_event_ids || v_id;
  END LOOP;
  r_allowed := true;
  r_refused := 0;
  r_retry_after_ms := 0;
END
$fn$;
)sql",
    // 17 (issue 21): retention of transient rows (PrivacyStore::purge_transient) by index.
    R"sql(
CREATE INDEX otp_codes_expiry ON otp_codes (expires_at);
CREATE INDEX consents_unused_expiry ON consents (expires_at) WHERE granted_at = 0;
CREATE INDEX whatsapp_inbox_processed ON whatsapp_inbox (processed_at) WHERE state = 'done';
)sql",
    // 18 (issue 21 §3): per-person data keys, stored only wrapped by the master key (a person's
    // PII is sealed under theirs; erasure destroys it), and the erasure tombstones of leads.
    R"sql(
CREATE TABLE person_keys (
  id BIGSERIAL PRIMARY KEY,
  environment TEXT NOT NULL,
  phone_bidx TEXT NOT NULL,
  wrapped_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  erased_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX person_keys_person ON person_keys (environment, phone_bidx);
ALTER TABLE leads ADD COLUMN erased_at BIGINT NOT NULL DEFAULT 0;
)sql",
    // 19 (issue 21 §5): keys kept wrapped by the master key, so that rotating it re-wraps them:
    // the blind indexes' key ("blind-index").
    R"sql(
CREATE TABLE keyring (
  name TEXT PRIMARY KEY,
  wrapped_key TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql",
};

}  // namespace

const std::vector<std::string>& postgres_migrations() {
  static const std::vector<std::string> kMigrations(std::begin(kMigrationSql),
                                                    std::end(kMigrationSql));
  return kMigrations;
}

}  // namespace leadgate
