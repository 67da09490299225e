#include "services/lead_intake.h"

#include "core/log.h"
#include "domain/lead_upsert.h"
#include "services/customer_tokens.h"
#include "services/lead_records.h"
#include "services/person_keys.h"
#include "services/privacy.h"

namespace leadgate {
namespace {

LeadSubmitted submitted(const LeadRow& row, bool updated) {
  return {row.basic_application_id, row.application_id, row.reference_id, updated};
}

}  // namespace

CivilDate today_ist() {
  return ist_date(now_ms());
}

boost::asio::awaitable<LeadSubmitted> LeadIntake::submit(const LeadInput& in,
                                                         const CustomerAccess& access,
                                                         const Trace& trace,
                                                         const std::string& user_agent) {
  const std::string bidx = mobile_blind_index(deps_.cipher, in.mobile);
  require_customer(access, in.environment, bidx);
  // Two rounds at most: a concurrent insert of the same customer's lead sends us to the update
  // path.
  for (int round = 0; round < 3; ++round) {
    auto existing = co_await deps_.pool.run([&] {
      auto row = store_.find_lead_for_customer(in.environment, bidx, in.loan_type);
      if (row) load_lead_key(deps_.cipher, *row);
      return row;
    });
    std::optional<StoredLeadState> state;
    if (existing) state = StoredLeadState{existing->status, existing->updated_at};
    std::optional<LeadSubmitted> done;
    switch (decide_lead_upsert(state, now_ms(), deps_.config.max_los_exchange().count())) {
      case LeadUpsert::insert:
        done = co_await insert_new(in, trace, user_agent);
        break;
      case LeadUpsert::in_progress:
        throw ApiError(409, "LEAD_IN_PROGRESS",
                       "A lead for this customer and loan type is being submitted right now");
      case LeadUpsert::duplicate: {
        ApiError e(409, "DUPLICATE_LEAD",
                   "This customer already has a " + std::string(loan_type_name(in.loan_type)) +
                       " application in status '" + existing->status + "'");
        e.extra = {{"basic_application_id", existing->basic_application_id},
                   {"reference_id", existing->reference_id}};
        throw e;
      }
      case LeadUpsert::update_fields:
      case LeadUpsert::retry_los:
      case LeadUpsert::take_over:
        done = co_await update_existing(std::move(*existing), in, trace);
        break;
    }
    if (done) co_return std::move(*done);
  }
  throw ApiError(409, "LEAD_IN_PROGRESS",
                 "A lead for this customer and loan type is being changed concurrently; retry");
}

boost::asio::awaitable<std::optional<LeadSubmitted>> LeadIntake::insert_new(
    const LeadInput& in, const Trace& trace, const std::string& user_agent) {
  const auto now = now_ms();
  LeadWrite w;
  w.lead.reference_id = uuid_v4();
  w.lead.status = "pending_los";
  w.lead.mobile_bidx = mobile_blind_index(deps_.cipher, in.mobile);
  w.lead.request_id = trace.request_id;
  w.lead.user_agent = user_agent.substr(0, 300);
  w.lead.created_at = now;
  w.lead.updated_at = now;
  w.audit = stamp_audit(diff_audit(nullptr, in, "created"), trace, w.lead.reference_id);
  w.durable = false;  // a claim: call_los's final write makes it durable
  bool conflict = false;
  try {
    w.lead.id = co_await deps_.pool.run([&] {
      // The person's PII under their own data key (issue 21 §3), found or made on the way.
      const DataKey key = person_key(people_, deps_.cipher, in.environment, w.lead.mobile_bidx);
      seal_lead_fields(in, deps_.cipher, key, w.lead);
      return store_.insert_lead(w);
    });
  } catch (const StoreConflict&) {
    conflict = true;
  }
  if (conflict) co_return std::nullopt;
  co_return co_await call_los(std::move(w.lead), in, trace, false);
}

// created: the fields change (audited). los_failed or abandoned pending_los: claimed for this
// request, then the partner call is retried.
boost::asio::awaitable<std::optional<LeadSubmitted>> LeadIntake::update_existing(
    LeadRow row, const LeadInput& in, const Trace& trace) {
  const LeadInput before = open_lead(row, deps_.cipher);
  LeadWrite w;
  w.expected_status = row.status;
  w.expected_request_id = row.request_id;
  w.audit = stamp_audit(diff_audit(&before, in, "updated"), trace, row.reference_id);
  // A lead sealed before schema 18 moves under the person's data key with its first update.
  const DataKey key = co_await deps_.pool.run(
      [&] { return person_key(people_, deps_.cipher, in.environment, row.mobile_bidx); });
  seal_lead_fields(in, deps_.cipher, key, row);
  row.updated_at = now_ms();
  if (row.status == "created") {
    w.lead = row;
    w.consent =
        consent_event(deps_, in.environment, in.mobile, "loan_processing", "granted", "api", trace);
    if (!w.audit.empty() && !co_await deps_.pool.run([&] { return store_.update_lead(w); })) {
      co_return std::nullopt;
    }
    co_return submitted(row, true);
  }
  w.audit.push_back(stamp_audit({status_audit(in.environment, row.status, "pending_los")}, trace,
                                row.reference_id)[0]);
  row.status = "pending_los";
  row.request_id = trace.request_id;
  w.lead = row;
  w.durable = false;  // a claim: call_los's final write makes it durable
  if (!co_await deps_.pool.run([&] { return store_.update_lead(w); })) co_return std::nullopt;
  co_return co_await call_los(std::move(row), in, trace, true);
}

boost::asio::awaitable<bool> LeadIntake::recover_stale() {
  constexpr int kBatch = 16;
  // Never a lead whose request may still be waiting for the LOS.
  const std::int64_t age = std::max<std::int64_t>(deps_.config.los_recovery_after.count(),
                                                  deps_.config.max_los_exchange().count());
  const std::int64_t before = now_ms() - age;
  auto stale =
      co_await deps_.pool.run([&] { return store_.find_stale_pending_leads(before, kBatch); });
  for (auto& row : stale) {
    Trace trace;
    trace.request_id = "los-recovery-" + uuid_v4();
    trace.environment = row.environment;
    const LeadInput in = open_lead(row, deps_.cipher);
    LeadWrite claim;
    claim.expected_status = "pending_los";
    claim.expected_request_id = row.request_id;  // still the crashed request's: nobody took it
    AuditEntry a = status_audit(row.environment, "pending_los", "pending_los");
    a.operation = "los_recovery";
    claim.audit = stamp_audit({a}, trace, row.reference_id);
    row.request_id = trace.request_id;
    row.updated_at = now_ms();
    claim.lead = row;
    claim.durable = false;  // a claim: call_los's final write makes it durable
    if (!co_await deps_.pool.run([&] { return store_.update_lead(claim); })) continue;
    log_warn("los_recovery_started", {{"request_id", trace.request_id},
                                      {"environment", row.environment},
                                      {"reference_id", row.reference_id}});
    std::optional<std::string> failed;
    try {
      co_await call_los(std::move(row), in, trace, true);
    } catch (const std::exception& e) {
      failed = e.what();  // los_failed now: the customer's next submission retries it
    }
    if (failed) {
      log_warn("los_recovery_failed", {{"request_id", trace.request_id}, {"error", *failed}});
    }
  }
  co_return static_cast<int>(stale.size()) == kBatch;
}

boost::asio::awaitable<LeadSubmitted> LeadIntake::call_los(LeadRow row, const LeadInput& in,
                                                           const Trace& trace, bool retry) {
  const auto& env = deps_.config.env(in.environment);
  std::optional<FbbCreated> created;
  std::optional<PartnerError> failure;
  try {
    auto payload = fbb_payload(in, row.reference_id);
    created = co_await los_.create_fbb(env, std::move(payload), trace.request_id);
  } catch (const PartnerError& e) {
    failure = e;
  }
  LeadWrite w;
  w.expected_status = "pending_los";
  w.expected_request_id = trace.request_id;  // still ours: nobody took the lead over meanwhile
  row.updated_at = now_ms();
  if (failure) {
    row.status = "los_failed";
    row.los_error = failure->what();
    w.audit = stamp_audit({status_audit(in.environment, "pending_los", "los_failed")}, trace,
                          row.reference_id);
    w.lead = row;
    co_await deps_.pool.run([&] { return store_.update_lead(w); });
    throw_partner_failure(*failure, row.reference_id,
                          "The lead is saved and will be resubmitted on the next request.");
  }
  row.status = "created";
  row.los_error.clear();
  row.basic_application_id = created->basic_application_id;
  row.application_id = created->application_id;
  std::vector<AuditEntry> audit{status_audit(in.environment, "pending_los", "created")};
  AuditEntry ids = status_audit(in.environment, "", created->basic_application_id);
  ids.operation = "partner_submitted";
  ids.field = "basic_application_id";
  audit.push_back(ids);
  w.audit = stamp_audit(std::move(audit), trace, row.reference_id);
  const std::optional<DataKey> key = deps_.cipher.key_of(row.mobile_enc);
  const Sealer& sealer = key ? static_cast<const Sealer&>(*key) : deps_.cipher;
  w.outbox.push_back(whatsapp_template_message(
      sealer, in.environment, row.reference_id, in.mobile, env.templates.at("lead_confirmation"),
      {in.first_name + " " + in.last_name, created->basic_application_id,
       loan_type_name(in.loan_type)},
      row.updated_at));
  w.lead = row;
  // Submitting the application is consent to its processing (the consent ledger, issue 21).
  w.consent =
      consent_event(deps_, in.environment, in.mobile, "loan_processing", "granted", "api", trace);
  if (!co_await deps_.pool.run([&] { return store_.update_lead(w); })) {
    throw ApiError(409, "LEAD_IN_PROGRESS", "The lead was changed concurrently; retry");
  }
  notify_outbox_();
  deps_.metrics.count("leadgate_leads_created_total", {{"environment", in.environment}});
  log_info("lead_created", {{"request_id", trace.request_id},
                            {"environment", in.environment},
                            {"reference_id", row.reference_id},
                            {"basic_application_id", row.basic_application_id},
                            {"mobile", mask_mobile(in.mobile)},
                            {"resubmitted", retry}});
  co_return submitted(row, false);
}

}  // namespace leadgate
