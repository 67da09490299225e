#include "services/lead_intake.h"

#include <ctime>

#include "core/log.h"
#include "http/problem.h"
#include "http/types.h"
#include "services/lead_records.h"

namespace leadgate {
namespace {

boost::json::object success_body(const LeadRow& row, const char* message) {
  return {{"success", true},
          {"basic_application_id", row.basic_application_id},
          {"applicationId", row.application_id},
          {"reference_id", row.reference_id},
          {"message", message}};
}

}  // namespace

CivilDate today_ist() {
  const std::time_t now = std::time(nullptr) + 5 * 3600 + 30 * 60;  // UTC+05:30, no DST
  std::tm tm{};
  gmtime_r(&now, &tm);
  return CivilDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

boost::asio::awaitable<boost::json::object> LeadIntake::submit(const LeadInput& in,
                                                               RequestContext& ctx,
                                                               const std::string& user_agent) {
  const std::string bidx = mobile_blind_index(cipher_, in.mobile);
  // Two rounds at most: a concurrent insert of the same customer's lead sends us to the update
  // path.
  for (int round = 0; round < 3; ++round) {
    auto existing = co_await pool_.run(
        [&] { return store_.find_lead_for_customer(in.environment, bidx, in.loan_type); });
    const auto now = now_ms();
    if (!existing) {
      LeadWrite w;
      w.lead.reference_id = uuid_v4();
      w.lead.status = "pending_los";
      seal_lead_fields(in, cipher_, w.lead);
      w.lead.request_id = ctx.request_id;
      w.lead.user_agent = user_agent.substr(0, 300);
      w.lead.created_at = now;
      w.lead.updated_at = now;
      w.audit = stamp_audit(diff_audit(nullptr, in, "created"), ctx, w.lead.reference_id);
      try {
        w.lead.id = co_await pool_.run([&] { return store_.insert_lead(w); });
      } catch (const StoreConflict&) {
        continue;
      }
      co_return co_await call_los(std::move(w.lead), in, ctx, false);
    }
    LeadRow row = std::move(*existing);
    const bool stale_pending =
        row.status == "pending_los" && now - row.updated_at > config_.max_los_exchange().count();
    if (row.status == "pending_los" && !stale_pending) {
      throw ApiError(409, "LEAD_IN_PROGRESS",
                     "A lead for this customer and loan type is being submitted right now");
    }
    if (row.status != "created" && row.status != "los_failed" && !stale_pending) {
      ApiError e(409, "DUPLICATE_LEAD",
                 "This customer already has a " + std::string(loan_type_name(in.loan_type)) +
                     " application in status '" + row.status + "'");
      e.extra = {{"basic_application_id", row.basic_application_id},
                 {"reference_id", row.reference_id}};
      throw e;
    }
    const LeadInput before = open_lead(row, cipher_);
    LeadWrite w;
    w.expected_status = row.status;
    w.expected_request_id = row.request_id;
    w.audit = stamp_audit(diff_audit(&before, in, "updated"), ctx, row.reference_id);
    seal_lead_fields(in, cipher_, row);
    row.updated_at = now;
    if (row.status == "created") {
      w.lead = row;
      if (!w.audit.empty() && !co_await pool_.run([&] { return store_.update_lead(w); })) continue;
      co_return success_body(row, "Lead updated successfully");
    }
    // los_failed or abandoned: claim it for this request, then retry the partner call.
    w.audit.push_back(stamp_audit({status_audit(in.environment, row.status, "pending_los")}, ctx,
                                  row.reference_id)[0]);
    row.status = "pending_los";
    row.request_id = ctx.request_id;
    w.lead = row;
    if (!co_await pool_.run([&] { return store_.update_lead(w); })) continue;
    co_return co_await call_los(std::move(row), in, ctx, true);
  }
  throw ApiError(409, "LEAD_IN_PROGRESS",
                 "A lead for this customer and loan type is being changed concurrently; retry");
}

boost::asio::awaitable<boost::json::object> LeadIntake::call_los(LeadRow row, const LeadInput& in,
                                                                 RequestContext& ctx, bool retry) {
  const auto& env = config_.env(in.environment);
  std::optional<FbbCreated> created;
  std::optional<PartnerError> failure;
  try {
    auto payload = fbb_payload(in, row.reference_id);
    created = co_await los_.create_fbb(env, std::move(payload), ctx.request_id);
  } catch (const PartnerError& e) {
    failure = e;
  }
  LeadWrite w;
  w.expected_status = "pending_los";
  w.expected_request_id = ctx.request_id;  // still ours: nobody took the lead over meanwhile
  row.updated_at = now_ms();
  if (failure) {
    row.status = "los_failed";
    row.los_error = failure->what();
    w.audit = stamp_audit({status_audit(in.environment, "pending_los", "los_failed")}, ctx,
                          row.reference_id);
    w.lead = row;
    co_await pool_.run([&] { return store_.update_lead(w); });
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
  w.audit = stamp_audit(std::move(audit), ctx, row.reference_id);
  w.outbox.push_back(whatsapp_template_message(
      cipher_, in.environment, row.reference_id, in.mobile, env.templates.at("lead_confirmation"),
      {in.first_name + " " + in.last_name, created->basic_application_id,
       loan_type_name(in.loan_type)},
      row.updated_at));
  w.lead = row;
  if (!co_await pool_.run([&] { return store_.update_lead(w); })) {
    throw ApiError(409, "LEAD_IN_PROGRESS", "The lead was changed concurrently; retry");
  }
  outbox_.notify();
  metrics_.count("leadgate_leads_created_total", {{"environment", in.environment}});
  log_info("lead_created", {{"request_id", ctx.request_id},
                            {"environment", in.environment},
                            {"reference_id", row.reference_id},
                            {"basic_application_id", row.basic_application_id},
                            {"mobile", mask_mobile(in.mobile)},
                            {"resubmitted", retry}});
  co_return success_body(row, "Lead created successfully");
}

}  // namespace leadgate
