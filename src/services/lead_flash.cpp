#include "services/lead_flash.h"

#include <boost/json.hpp>

#include "core/log.h"
#include "domain/lead_upsert.h"
#include "services/customer_tokens.h"
#include "services/lead_intake.h"
#include "services/lead_records.h"
#include "services/person_keys.h"

namespace leadgate {
namespace {

template <class T>
void put(boost::json::object& o, const char* key, const std::optional<T>& v) {
  if (v) o[key] = *v;
}

// Masked field-by-field view of the flash details for the audit trail: free text is masked,
// money (what the person earns or owns) is replaced, the rest is kept.
std::vector<FieldValue> flash_field_values(const boost::json::object& details) {
  std::vector<FieldValue> out;
  for (const auto& kv : details) {
    std::string value = kv.value().is_string() ? std::string(kv.value().get_string())
                                               : boost::json::serialize(kv.value());
    const bool free_text =
        kv.key() == "companyName" || kv.key() == "propertyName" || kv.key() == "location";
    const bool money = kv.key() == "coBorrowerIncome" || kv.key() == "propertyValue";
    std::string masked = free_text ? mask_generic(value) : money ? std::string("***") : value;
    out.push_back({std::string(kv.key()), value, std::move(masked)});
  }
  return out;
}

std::vector<AuditEntry> diff_details(const boost::json::object& before,
                                     const boost::json::object& after, const std::string& env) {
  std::vector<AuditEntry> out;
  const auto old_values = flash_field_values(before);
  for (const auto& n : flash_field_values(after)) {
    std::string old_plain, old_masked;
    for (const auto& o : old_values) {
      if (o.field == n.field) {
        old_plain = o.value;
        old_masked = o.masked;
      }
    }
    if (old_plain == n.value) continue;
    AuditEntry a;
    a.environment = env;
    a.operation = "flash_updated";
    a.field = n.field;
    a.old_value = old_masked;
    a.new_value = n.masked;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

boost::json::object flash_details_json(const FlashInput& in, const ProfessionCatalogue& catalogue) {
  boost::json::object o{{"professionId", in.profession_id},
                        {"professionName", in.profession_name},
                        {"propertyIdentified", in.property_identified}};
  if (const auto* p = catalogue.find(in.profession_id)) {
    o["employmentType"] = std::string(employment_type_name(p->type));
  }
  put(o, "propertyName", in.property_name);
  put(o, "propertyType", in.property_type);
  put(o, "agreementType", in.agreement_type);
  put(o, "location", in.location);
  put(o, "usageType", in.usage_type);
  put(o, "propertyValue", in.property_value);
  put(o, "salaryCreditModeId", in.salary_credit_mode_id);
  put(o, "salaryCreditModeName", in.salary_credit_mode_name);
  put(o, "selfCompanyTypeId", in.self_company_type_id);
  put(o, "companyName", in.company_name);
  put(o, "coBorrowerIncome", in.co_borrower_income);
  return o;
}

void merge_core_fields(const FlashInput& f, LeadInput& l) {
  auto take = [](auto& dst, const auto& src) {
    if (src) dst = *src;
  };
  take(l.first_name, f.first_name);
  take(l.last_name, f.last_name);
  take(l.mobile, f.mobile);
  take(l.email, f.email);
  take(l.pan, f.pan);
  take(l.loan_type, f.loan_type);
  take(l.pincode, f.pincode);
  take(l.date_of_birth, f.date_of_birth);
  if (f.gender) l.gender = f.gender;
  take(l.loan_amount_req, f.loan_amount_req);
  take(l.loan_tenure, f.loan_tenure);
  take(l.credit_score, f.credit_score);
}

boost::json::array warnings_json(const std::vector<RuleWarning>& warnings) {
  boost::json::array out;
  for (const auto& w : warnings) out.push_back({{"code", w.code}, {"message", w.message}});
  return out;
}

struct LeadFlash::Merged {
  LeadInput before;
  LeadInput lead;
  boost::json::object old_details;
  boost::json::object details;
  std::vector<RuleWarning> warnings;
};

boost::asio::awaitable<FlashCompleted> LeadFlash::submit(const FlashInput& flash,
                                                         const std::string& environment,
                                                         const CustomerAccess& access,
                                                         const Trace& trace) {
  auto found = co_await deps_.pool.run([&] {
    auto row = store_.find_lead_by_application_id(environment, flash.application_id);
    if (row) load_lead_key(deps_.cipher, *row);
    return row;
  });
  if (!found) {
    throw ApiError(404, "NOT_FOUND",
                   "No application " + flash.application_id + " in " + environment);
  }
  LeadRow row = std::move(*found);
  require_customer(access, environment, row.mobile_bidx);
  if (access.required && flash.mobile &&
      mobile_blind_index(deps_.cipher, *flash.mobile) != row.mobile_bidx) {
    throw ApiError(403, "CUSTOMER_MISMATCH",
                   "An app key cannot change the lead's mobile: the customer token proves the "
                   "current number only. Change it through the brand's server key.");
  }
  const FlashStart start = decide_flash_start({row.status, row.updated_at}, now_ms(),
                                              deps_.config.max_flash_exchange().count());
  if (start == FlashStart::in_progress || start == FlashStart::invalid_state) {
    ApiError e(409, "INVALID_STATE",
               start == FlashStart::in_progress
                   ? "A lead flash for this application is being processed right now"
                   : "The application is in status '" + row.status +
                         "'; lead flash needs status 'created'");
    e.extra = {{"application_status", row.status},
               {"basic_application_id", row.basic_application_id}};
    throw e;
  }
  const Merged merged = merge(row, flash, environment);
  co_await claim(row, merged, environment, trace);
  co_await complete(row, merged, environment, trace);
  co_return FlashCompleted{row.basic_application_id, row.reference_id, merged.warnings};
}

LeadFlash::Merged LeadFlash::merge(const LeadRow& row, const FlashInput& flash,
                                   const std::string& environment) const {
  Merged m;
  m.before = open_lead(row, deps_.cipher);
  m.lead = m.before;
  LeadInput& merged = m.lead;
  merge_core_fields(flash, merged);
  std::vector<FieldError> errors;
  if (flash.pincode && merged.state && !pincodes_.state_matches(merged.pincode, *merged.state)) {
    errors.push_back({"pincode", "Pincode is not in the lead's state " + *merged.state});
  }
  if (flash.location && !flash.pincode) {
    if (auto problem = check_location_state(*flash.location, merged.pincode, pincodes_)) {
      errors.push_back({"location", *problem});
    }
  }
  // A retry after a failed flash keeps what was typed before: the new details go over the stored
  // ones, field by field.
  if (!row.flash_details_enc.empty()) {
    m.old_details =
        boost::json::parse(deps_.cipher.open("flash_details", row.flash_details_enc)).as_object();
  }
  m.details = m.old_details;
  for (const auto& kv : flash_details_json(flash, professions_)) m.details[kv.key()] = kv.value();
  const auto dob = parse_iso_date(merged.date_of_birth);
  FinancialFacts facts;
  facts.loan_type = merged.loan_type;
  facts.loan_amount = merged.loan_amount_req;
  facts.tenure_months = merged.loan_tenure;
  facts.credit_score = merged.credit_score;
  if (const auto* v = m.details.if_contains("propertyValue");
      v && v->is_int64() && v->get_int64() > 0) {
    facts.property_value = v->get_int64();
  }
  facts.annual_income = merged.annual_income;
  if (const auto* v = m.details.if_contains("coBorrowerIncome"); v && v->is_int64()) {
    facts.co_borrower_income = v->get_int64();
  }
  facts.age_years_today = dob ? age_on(*dob, today_ist()) : 0;
  const auto& policy = deps_.config.env(environment).loan_policy;
  for (const auto& v : hard_rules(facts, policy)) errors.push_back({v.field, v.message});
  if (!errors.empty()) throw_field_errors(errors);
  m.warnings = soft_rules(facts, policy);
  return m;
}

boost::asio::awaitable<void> LeadFlash::claim(LeadRow& row, const Merged& m,
                                              const std::string& environment, const Trace& trace) {
  // Claim the application for this request and keep what was typed, whatever the LOS says.
  LeadWrite claim;
  claim.expected_status = row.status;
  claim.expected_request_id = row.request_id;
  auto audit = diff_audit(&m.before, m.lead, "updated");
  for (auto& a : diff_details(m.old_details, m.details, environment)) audit.push_back(std::move(a));
  audit.push_back(status_audit(environment, row.status, "flash_pending"));
  claim.audit = stamp_audit(std::move(audit), trace, row.reference_id);
  // Under the person's data key when the lead has one (issue 21 §3).
  const std::optional<DataKey> key = deps_.cipher.key_of(row.mobile_enc);
  const Sealer& sealer = key ? static_cast<const Sealer&>(*key) : deps_.cipher;
  seal_lead_fields(m.lead, deps_.cipher, sealer, row);
  row.flash_details_enc = sealer.seal("flash_details", boost::json::serialize(m.details));
  row.warnings_json = boost::json::serialize(warnings_json(m.warnings));
  row.status = "flash_pending";
  row.request_id = trace.request_id;
  row.updated_at = now_ms();
  claim.lead = row;
  bool claimed = false;
  bool duplicate = false;
  try {
    claimed = co_await deps_.pool.run([&] { return store_.update_lead(claim); });
  } catch (const StoreConflict&) {
    duplicate = true;  // the new mobile / loan type is another application's
  }
  if (duplicate) {
    throw ApiError(409, "DUPLICATE_LEAD",
                   "This customer already has another " +
                       std::string(loan_type_name(m.lead.loan_type)) +
                       " application with this mobile number");
  }
  if (!claimed) {
    throw ApiError(409, "INVALID_STATE", "The application changed while this request ran; retry");
  }
}

boost::asio::awaitable<void> LeadFlash::complete(LeadRow& row, const Merged& m,
                                                 const std::string& environment,
                                                 const Trace& trace) {
  const auto& env = deps_.config.env(environment);
  boost::json::object payload = fbb_payload(m.lead, row.reference_id);
  payload["applicationId"] = row.application_id;
  payload["basic_application_id"] = row.basic_application_id;
  for (const auto& kv : m.details) payload[kv.key()] = kv.value();
  std::optional<SelfFulfilment> done;
  std::optional<PartnerError> failure;
  try {
    done = co_await los_.create_self_fulfilment(env, std::move(payload), trace.request_id);
  } catch (const PartnerError& e) {
    failure = e;
  }

  LeadWrite finish;
  finish.expected_status = "flash_pending";
  finish.expected_request_id = trace.request_id;
  row.updated_at = now_ms();
  if (failure) {
    row.status = "flash_failed";
    row.los_error = failure->what();
    finish.audit = stamp_audit({status_audit(environment, "flash_pending", "flash_failed")}, trace,
                               row.reference_id);
    finish.lead = row;
    co_await deps_.pool.run([&] { return store_.update_lead(finish); });
    throw_partner_failure(*failure, row.reference_id,
                          "The flash details are saved; send lead_flash again to retry.");
  }
  row.status = "completed";
  row.los_error.clear();
  row.completion_reference = done->reference;
  row.flashed_at = row.updated_at;
  AuditEntry reference = status_audit(environment, "", done->reference);
  reference.operation = "flash_completed";
  reference.field = "completion_reference";
  finish.audit = stamp_audit({status_audit(environment, "flash_pending", "completed"), reference},
                             trace, row.reference_id);
  finish.outbox.push_back(whatsapp_template_message(
      deps_.cipher, environment, row.reference_id, m.lead.mobile, env.templates.at("status_update"),
      {m.lead.first_name + " " + m.lead.last_name, row.basic_application_id, "completed"},
      row.updated_at));
  finish.lead = row;
  if (!co_await deps_.pool.run([&] { return store_.update_lead(finish); })) {
    throw ApiError(409, "INVALID_STATE", "The application changed while this request ran; retry");
  }
  notify_outbox_();
  deps_.metrics.count("leadgate_leads_completed_total", {{"environment", environment}});
  deps_.metrics.observe("leadgate_lead_processing_seconds", {{"environment", environment}},
                        static_cast<double>(row.updated_at - row.created_at) / 1000.0);
  log_info("lead_flash_completed", {{"request_id", trace.request_id},
                                    {"environment", environment},
                                    {"reference_id", row.reference_id},
                                    {"basic_application_id", row.basic_application_id},
                                    {"warnings", m.warnings.size()}});
}

}  // namespace leadgate
