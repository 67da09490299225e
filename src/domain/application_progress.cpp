#include "domain/application_progress.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "domain/enum_table.h"
#include "domain/slot_calendar.h"
#include "domain/text.h"

namespace leadgate {
namespace {

bool has_any(const std::string& text, std::initializer_list<std::string_view> words) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

}  // namespace

std::string lead_status_text(std::string_view s) {
  if (s == "pending_los") return "Submission Pending";
  if (s == "los_failed") return "Submission Failed";
  if (s == "created") return "Application Created";
  if (s == "flash_pending") return "Processing Details";
  if (s == "flash_failed") return "Details Pending";
  if (s == "completed") return "Application Completed";
  return std::string(s);
}

constexpr auto kStageNames = std::to_array<std::string_view>(
    {"submission_pending", "submission_failed", "details_pending", "processing", "completed",
     "documents_pending", "valuation", "under_review", "approved", "disbursed", "rejected",
     "on_hold"});

std::string_view stage_name(Stage stage) {
  return enum_entry<Stage::on_hold>(kStageNames, stage, "processing");
}

constexpr auto kStageDescriptions = std::to_array<std::string_view>(
    {"Your application is being submitted to our loan system",
     "Your application could not be submitted to our loan system yet",
     "Your application is registered; a few more details are needed",
     "We are processing the details you sent",
     "Your application is complete and waiting for verification",
     "Your documents are needed or being verified",
     "The property is being valued and its papers checked",
     "Your application is being reviewed by our credit team", "Your loan is approved",
     "Your loan has been disbursed", "Your application could not be approved",
     "Your application is on hold pending a query"});

std::string stage_description(Stage stage) {
  return std::string(enum_entry<Stage::on_hold>(kStageDescriptions, stage, ""));
}

std::vector<std::string> next_steps(Stage stage) {
  switch (stage) {
    case Stage::submission_pending:
      return {"No action needed: check again in a few minutes"};
    case Stage::submission_failed:
      return {"Submit the application again, or contact support if this persists"};
    case Stage::details_pending:
      return {"Complete your application details (lead flash) in the app",
              "Keep your PAN, income and property documents ready"};
    case Stage::processing:
      return {"No action needed: we are processing your details"};
    case Stage::completed:
      return {"Document verification", "Property valuation", "Final approval"};
    case Stage::documents_pending:
      return {"Upload or hand over the requested documents",
              "Book an appointment with your relationship manager if you need help"};
    case Stage::valuation:
      return {"Keep the property accessible for the valuer's visit",
              "Keep the property papers ready for the legal check", "Final approval"};
    case Stage::under_review:
      return {"No action needed: the review usually takes 3-5 business days",
              "Reply to any query from our team quickly to avoid delays"};
    case Stage::approved:
      return {"Review and sign the sanction letter", "Complete the disbursement formalities"};
    case Stage::disbursed:
      return {"Check your loan account details and EMI schedule"};
    case Stage::rejected:
      return {"Contact support or your relationship manager to understand the decision"};
    case Stage::on_hold:
      return {"Answer the open query from our team",
              "Contact your relationship manager if you are unsure what is needed"};
  }
  return {};
}

Stage derive_stage(std::string_view lead_status, std::string_view partner_status) {
  if (lead_status == "pending_los") return Stage::submission_pending;
  if (lead_status == "los_failed") return Stage::submission_failed;
  const std::string p = lower(partner_status);
  if (!p.empty()) {
    if (has_any(p, {"reject", "declin"})) return Stage::rejected;
    if (has_any(p, {"disburs"})) return Stage::disbursed;
    if (has_any(p, {"approv", "sanction"})) return Stage::approved;
    if (has_any(p, {"hold", "query"})) return Stage::on_hold;
    if (has_any(p, {"document", "kyc"})) return Stage::documents_pending;
    if (has_any(p, {"valuation", "technical", "legal", "property"})) return Stage::valuation;
    if (has_any(p, {"review", "assess", "underwrit", "credit", "process"})) {
      return Stage::under_review;
    }
  }
  if (lead_status == "flash_pending") return Stage::processing;
  if (lead_status == "completed") return Stage::completed;
  return Stage::details_pending;  // created, flash_failed
}

bool partner_status_changed(const StoredPartnerStatus& stored, const PartnerStatusReport& report) {
  if (report.status == stored.status && report.stage == stored.stage) return false;
  if (report.updated_at > 0 && stored.updated_at > 0 && report.updated_at < stored.updated_at) {
    return false;
  }
  return true;
}

std::string iso_utc(std::int64_t utc_ms) {
  std::int64_t days = utc_ms / 86'400'000;
  std::int64_t rest = utc_ms % 86'400'000;
  if (rest < 0) {
    rest += 86'400'000;
    --days;
  }
  const CivilDate d = date_from_days(days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", d.year, d.month, d.day,
                static_cast<int>(rest / 3'600'000), static_cast<int>(rest / 60'000 % 60),
                static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
  return buf;
}

std::optional<std::int64_t> parse_iso_utc(std::string_view t) {
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > t.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2),
             mi = digits(14, 2), s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  const CivilDate date{*y, *mo, *d};
  if (!is_real_date(date.year, date.month, date.day) || *h > 23 || *mi > 59 || *s > 60)
    return std::nullopt;
  std::size_t pos = 19;
  int millis = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int scale = 100;
    const std::size_t start = pos;
    while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
      millis += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < t.size()) {
    if (t[pos] == 'Z' || t[pos] == 'z') {
      ++pos;
    } else if (t[pos] == '+' || t[pos] == '-') {
      const int sign = t[pos] == '+' ? 1 : -1;
      const auto oh = digits(pos + 1, 2);
      const auto om = digits(pos + 4, 2);
      if (!oh || !om || pos + 3 >= t.size() || t[pos + 3] != ':' || *oh > 23 || *om > 59) {
        return std::nullopt;
      }
      offset_minutes = sign * (*oh * 60 + *om);
      pos += 6;
    }
  }
  if (pos != t.size()) return std::nullopt;
  const std::int64_t seconds = days_since_epoch(date) * 86'400 + *h * 3600 + *mi * 60 +
                               std::min(*s, 59) - static_cast<std::int64_t>(offset_minutes) * 60;
  return seconds * 1000 + millis;
}

}  // namespace leadgate
