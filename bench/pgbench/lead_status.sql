-- pgbench: the SQL leadgate sends to PostgreSQL for one lead_status of an existing customer
-- whose LOS status has not changed since the last refresh (the steady state; captured with
-- log_statement = all; src/services/tracking.cpp lead_status/refresh, PostgresStore::
-- find_leads_by_mobile / find_lead_by_basic_id, appointments_for_lead, record_status_refresh):
-- the lookup (half by mobile blind index, half by basic_application_id, as in wrk/lead_status.lua)
-- and the appointments lookup, then (after the LOS call) the refresh time in one autocommit
-- statement committed with synchronous_commit off. Leads are picked at random among the first
-- :leads rows (the customers the benchmark queries); their keys come from a primary-key subquery
-- in the same statement (pgbench has no string lists), a small extra cost on the ceiling's side.
-- Run: pgbench -n -M extended -c 64 -j 2 -T 20 -D leads=N -f bench/pgbench/lead_status.sql URL
\set id random(1, :leads)
\set by_mobile random(0, 1)
\set now 1795629693514
\if :by_mobile
SELECT id, environment, reference_id, basic_application_id, application_id, status, first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, mobile_bidx, pan_bidx, loan_type, loan_amount_req, loan_tenure, credit_score, pincode, state, gender, application_assigned_to_rm, remarks, customer_id, qr_short_code, annual_income, include_credit_score, is_lead_prefilled, los_error, request_id, user_agent, created_at, updated_at, flash_details_enc, completion_reference, flashed_at, warnings_json, partner_status, partner_stage, partner_updated_at, status_refreshed_at FROM leads WHERE environment = 'orbit' AND mobile_bidx = (SELECT mobile_bidx FROM leads WHERE id = :id) ORDER BY created_at DESC, id DESC;
\else
SELECT id, environment, reference_id, basic_application_id, application_id, status, first_name_enc, last_name_enc, mobile_enc, email_enc, pan_enc, dob_enc, mobile_bidx, pan_bidx, loan_type, loan_amount_req, loan_tenure, credit_score, pincode, state, gender, application_assigned_to_rm, remarks, customer_id, qr_short_code, annual_income, include_credit_score, is_lead_prefilled, los_error, request_id, user_agent, created_at, updated_at, flash_details_enc, completion_reference, flashed_at, warnings_json, partner_status, partner_stage, partner_updated_at, status_refreshed_at FROM leads WHERE environment = 'orbit' AND basic_application_id = (SELECT basic_application_id FROM leads WHERE id = :id);
\endif
SELECT id, environment, lead_ref, rm_id, slot_start, slot_minutes, status, request_id, created_at, cancelled_at, cancel_reason FROM appointments WHERE environment = 'orbit' AND lead_ref = (SELECT reference_id FROM leads WHERE id = :id) ORDER BY created_at, id;
WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) UPDATE leads SET status_refreshed_at = :now FROM async WHERE id = :id AND status_refreshed_at < :now;
