#include "services/lead_records.h"

#include <charconv>
#include <stdexcept>

#include "domain/outbox_payload.h"
#include "partners/partner_call.h"

namespace leadgate {
namespace {
std::optional<std::string> opt_open(const PiiCipher& c, const char* purpose,
                                    const std::string& sealed) {
  return sealed.empty() ? std::nullopt : std::optional<std::string>(c.open(purpose, sealed));
}

// What a schema-13 column holds, as plaintext: sealed values are opened; a value written before
// schema 13 is plaintext until the backfill seals it. A pre-13 remark that happens to begin like
// a sealed value ("v1:") is read as it is.
std::string open_or_legacy(const PiiCipher& c, std::string_view purpose, const std::string& v,
                           bool free_text) {
  if (!is_sealed(v)) return v;
  if (!free_text) return c.open(purpose, v);
  try {
    return c.open(purpose, v);
  } catch (const std::runtime_error&) {
    return v;
  }
}

std::optional<std::string> opt_open_or_legacy(const PiiCipher& c, std::string_view purpose,
                                              const std::optional<std::string>& v,
                                              bool free_text = false) {
  if (!v) return std::nullopt;
  return open_or_legacy(c, purpose, *v, free_text);
}

std::int64_t whole_number(const std::string& text, const char* what) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::runtime_error(std::string("stored ") + what + " is not a whole number");
  }
  return v;
}

constexpr std::string_view kCreditScore = "credit_score";
constexpr std::string_view kAnnualIncome = "annual_income";
constexpr std::string_view kRemarks = "remarks";
}  // namespace

SealedLeadFields seal_plaintext_fields(const PiiCipher& c, SealedLeadFields stored) {
  if (!is_sealed(stored.credit_score))
    stored.credit_score = c.seal(kCreditScore, stored.credit_score);
  if (stored.annual_income && !is_sealed(*stored.annual_income)) {
    stored.annual_income = c.seal(kAnnualIncome, *stored.annual_income);
  }
  if (stored.remarks && !is_sealed(*stored.remarks))
    stored.remarks = c.seal(kRemarks, *stored.remarks);
  return stored;
}

std::vector<AuditEntry> stamp_audit(std::vector<AuditEntry> audit, const Trace& trace,
                                    const std::string& entity_ref) {
  const auto now = now_ms();
  const auto duration = trace.elapsed_ms();
  for (auto& a : audit) {
    a.entity_ref = entity_ref;
    a.request_id = trace.request_id;
    a.duration_ms = duration;
    a.created_at = now;
  }
  return audit;
}

AuditEntry status_audit(const std::string& environment, const std::string& from,
                        const std::string& to) {
  AuditEntry a;
  a.environment = environment;
  a.operation = "status_changed";
  a.field = "status";
  a.old_value = from;
  a.new_value = to;
  return a;
}

OutboxMessage whatsapp_template_message(const Sealer& cipher, const std::string& environment,
                                        const std::string& lead_ref, const std::string& mobile,
                                        const std::string& template_id,
                                        const std::vector<std::string>& params, std::int64_t now,
                                        Recipient to) {
  OutboxMessage m;
  m.environment = environment;
  m.lead_ref = lead_ref;
  m.kind = "whatsapp_template";
  m.payload_enc =
      cipher.seal("outbox", outbox_template_payload("91" + mobile, template_id, params, to));
  m.created_at = now;
  m.next_attempt_at = now;
  return m;
}

void throw_partner_failure(const PartnerError& failure, const std::string& reference_id,
                           const std::string& next) {
  ApiError e(400, "BASIC_APP_API_ERROR",
             "Basic Application API failed" +
                 (failure.partner_message.empty() ? std::string(": ") + failure.what()
                                                  : ": " + failure.partner_message) +
                 ". " + next);
  e.extra = {{"reference_id", reference_id}};
  throw e;
}

void throw_field_errors(const std::vector<FieldError>& errors) {
  std::vector<FieldProblem> problems;
  for (const auto& e : errors) problems.push_back({e.field, e.message});
  const std::string detail = errors.size() == 1
                                 ? errors.front().message
                                 : std::to_string(errors.size()) + " fields are invalid";
  throw ApiError(422, "VALIDATION_ERROR", detail, std::move(problems));
}

std::string mobile_blind_index(const PiiCipher& cipher, const std::string& mobile) {
  return cipher.blind_index("mobile", mobile);
}

void seal_lead_fields(const LeadInput& in, const PiiCipher& c, LeadRow& r) {
  seal_lead_fields(in, c, c, r);
}

void seal_lead_fields(const LeadInput& in, const PiiCipher& index, const Sealer& c, LeadRow& r) {
  r.environment = in.environment;
  r.first_name_enc = c.seal("first_name", in.first_name);
  r.last_name_enc = c.seal("last_name", in.last_name);
  r.mobile_enc = c.seal("mobile", in.mobile);
  r.email_enc = c.seal("email", in.email);
  r.pan_enc = c.seal("pan", in.pan);
  r.dob_enc = c.seal("date_of_birth", in.date_of_birth);
  r.mobile_bidx = mobile_blind_index(index, in.mobile);
  r.pan_bidx = index.blind_index("pan", in.pan);
  r.loan_type = in.loan_type;
  r.loan_amount_req = in.loan_amount_req;
  r.loan_tenure = in.loan_tenure;
  r.credit_score_enc = c.seal(kCreditScore, std::to_string(in.credit_score));
  r.pincode = in.pincode;
  r.state = in.state;
  r.gender = in.gender;
  r.application_assigned_to_rm = in.application_assigned_to_rm;
  r.remarks_enc = in.remarks ? std::optional(c.seal(kRemarks, *in.remarks)) : std::nullopt;
  r.customer_id = in.customer_id;
  r.qr_short_code = in.qr_short_code;
  r.annual_income_enc =
      in.annual_income ? std::optional(c.seal(kAnnualIncome, std::to_string(*in.annual_income)))
                       : std::nullopt;
  r.include_credit_score = in.include_credit_score;
  r.is_lead_prefilled = in.is_lead_prefilled;
}

LeadInput open_lead(const LeadRow& r, const PiiCipher& c) {
  LeadInput in;
  in.environment = r.environment;
  in.first_name = c.open("first_name", r.first_name_enc);
  in.last_name = c.open("last_name", r.last_name_enc);
  in.mobile = c.open("mobile", r.mobile_enc);
  in.email = c.open("email", r.email_enc);
  in.pan = c.open("pan", r.pan_enc);
  in.date_of_birth = opt_open(c, "date_of_birth", r.dob_enc).value_or("");
  in.loan_type = r.loan_type;
  in.loan_amount_req = r.loan_amount_req;
  in.loan_tenure = r.loan_tenure;
  in.credit_score = static_cast<int>(
      whole_number(open_or_legacy(c, kCreditScore, r.credit_score_enc, false), "credit score"));
  in.pincode = r.pincode;
  in.state = r.state;
  in.gender = r.gender;
  in.application_assigned_to_rm = r.application_assigned_to_rm;
  in.remarks = opt_open_or_legacy(c, kRemarks, r.remarks_enc, true);
  in.customer_id = r.customer_id;
  in.qr_short_code = r.qr_short_code;
  if (const auto income = opt_open_or_legacy(c, kAnnualIncome, r.annual_income_enc)) {
    in.annual_income = whole_number(*income, "annual income");
  }
  in.include_credit_score = r.include_credit_score;
  in.is_lead_prefilled = r.is_lead_prefilled;
  return in;
}

std::vector<FieldValue> lead_field_values(const LeadInput& in) {
  auto same = [](const std::string& v) { return FieldValue{"", v, v}; };
  auto named = [](const char* name, FieldValue f) {
    f.field = name;
    return f;
  };
  auto opt = [&](const std::optional<std::string>& v) { return same(v.value_or("")); };
  const std::string income = in.annual_income ? std::to_string(*in.annual_income) : "";
  return {
      named("firstName", {"", in.first_name, mask_generic(in.first_name)}),
      named("lastName", {"", in.last_name, mask_generic(in.last_name)}),
      named("mobile", {"", in.mobile, mask_mobile(in.mobile)}),
      named("email", {"", in.email, mask_email(in.email)}),
      named("pan", {"", in.pan, mask_pan(in.pan)}),
      named("loanType", same(in.loan_type)),
      named("loanAmountReq", same(std::to_string(in.loan_amount_req))),
      named("loanTenure", same(std::to_string(in.loan_tenure))),
      named("creditScore", {"", std::to_string(in.credit_score), "***"}),
      named("pincode", same(in.pincode)),
      named("dateOfBirth", {"", in.date_of_birth, "XXXX-XX-XX"}),
      named("gender", opt(in.gender)),
      named("annualIncome", {"", income, income.empty() ? "" : "***"}),
      named("applicationAssignedToRm", opt(in.application_assigned_to_rm)),
      named("remarks", {"", in.remarks.value_or(""), mask_generic(in.remarks.value_or(""))}),
      named("state", opt(in.state)),
      named("customerId", opt(in.customer_id)),
      named("qrShortCode", opt(in.qr_short_code)),
      named("includeCreditScore", same(in.include_credit_score ? "true" : "false")),
      named("isLeadPrefilled", same(in.is_lead_prefilled ? "true" : "false")),
  };
}

std::vector<AuditEntry> diff_audit(const LeadInput* before, const LeadInput& after,
                                   const std::string& operation) {
  const auto now_values = lead_field_values(after);
  std::vector<FieldValue> old_values;
  if (before) old_values = lead_field_values(*before);
  std::vector<AuditEntry> out;
  for (std::size_t i = 0; i < now_values.size(); ++i) {
    const auto& n = now_values[i];
    if (before && old_values[i].value == n.value) continue;
    if (!before && n.value.empty()) continue;
    AuditEntry a;
    a.environment = after.environment;
    a.operation = operation;
    a.field = n.field;
    a.old_value = before ? old_values[i].masked : "";
    a.new_value = n.masked;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace leadgate
