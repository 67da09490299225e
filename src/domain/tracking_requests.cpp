#include "domain/tracking_requests.h"

#include "domain/mobile.h"
#include "domain/text.h"

namespace leadgate {
namespace {

using detail::FieldReader;

std::optional<std::string> read_mobile(FieldReader& r, bool required) {
  const auto s = required ? r.required_string("mobile_number") : r.optional_string("mobile_number");
  if (!s) return std::nullopt;
  if (s->empty()) {
    r.fail("mobile_number", "mobile_number is required");
    return std::nullopt;
  }
  auto m = normalize_mobile(*s);
  if (!m) r.fail("mobile_number", "Invalid mobile number format");
  return m;
}

}  // namespace

bool is_basic_application_id(std::string_view text) {
  if (text.empty() || text.size() > 40) return false;
  for (char c : text) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

std::variant<LeadStatusRequest, std::vector<FieldError>> parse_lead_status_request(
    const boost::json::object& body) {
  FieldReader r(body);
  LeadStatusRequest out;
  const std::size_t before = r.errors().size();
  out.mobile = read_mobile(r, false);
  if (auto id = r.optional_string("basic_application_id")) {
    if (is_basic_application_id(*id)) {
      out.basic_application_id = std::string(*id);
    } else {
      r.fail("basic_application_id", "basic_application_id must be 1-40 letters and digits");
    }
  }
  out.notify = r.boolean("notify", false);
  if (r.errors().size() == before && !out.mobile && !out.basic_application_id) {
    r.fail("mobile_number", "mobile_number or basic_application_id is required");
  }
  if (!r.errors().empty()) return std::move(r.errors());
  return out;
}

std::variant<TrackRequest, std::vector<FieldError>> parse_track_request(
    const boost::json::object& body) {
  FieldReader r(body);
  TrackRequest out;
  if (auto m = read_mobile(r, true)) out.mobile = *m;
  if (auto id = r.optional_string("application_id")) {
    if (auto uuid = normalize_uuid(*id)) {
      out.application_id = *uuid;
    } else if (is_basic_application_id(*id)) {
      out.application_id = std::string(*id);
    } else {
      r.fail("application_id",
             "application_id must be a basic_application_id (letters and digits) or a UUID");
    }
  }
  if (!r.errors().empty()) return std::move(r.errors());
  return out;
}

std::optional<RmName> normalize_rm_name(std::string_view text) {
  RmName out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.display.empty();
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    if (space) out.display.push_back(' ');
    space = false;
    out.display.push_back(c);
  }
  std::size_t chars = 0;
  for (char c : out.display) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (out.display.empty() || chars > kMaxRmNameChars) return std::nullopt;
  out.key = out.display;
  for (auto& c : out.key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::variant<BookingRequest, std::vector<FieldError>> parse_booking_request(
    const boost::json::object& body, std::int64_t now_utc_ms, const BusinessHours& hours) {
  FieldReader r(body);
  BookingRequest out;
  if (auto s = r.required_string("reference_id")) {
    if (s->empty()) {
      r.fail("reference_id", "reference_id is required");
    } else if (auto id = normalize_uuid(*s)) {
      out.reference_id = *id;
    } else {
      r.fail("reference_id", "reference_id must be the lead's reference_id (a UUID)");
    }
  }
  std::optional<CivilDate> date;
  std::optional<int> minute;
  if (auto s = r.required_string("date")) {
    date = parse_dd_mm_yyyy(*s);
    if (!date) r.fail("date", "date must be a real date in the format DD-MM-YYYY");
  }
  if (auto s = r.required_string("time")) {
    minute = parse_clock_12h(*s);
    if (!minute) r.fail("time", "time must be in the format H:MM AM/PM, e.g. 6:00 PM");
  }
  if (auto s = r.optional_string("rm_name")) {
    out.rm = normalize_rm_name(*s);
    if (!out.rm) {
      r.fail("rm_name",
             "rm_name must be at most " + std::to_string(kMaxRmNameChars) + " characters of text");
    }
  }
  if (date && minute) {
    out.date = *date;
    out.minute = *minute;
    const SlotProblem problem = check_slot(*date, *minute, now_utc_ms, hours);
    const bool today = *date == ist_date(now_utc_ms);
    switch (problem) {
      case SlotProblem::none:
        break;
      case SlotProblem::not_on_grid:
      case SlotProblem::outside_hours:
        r.fail("time", slot_problem_message(problem, hours));
        break;
      case SlotProblem::in_past:
        r.fail(today ? "time" : "date", slot_problem_message(problem, hours));
        break;
      default:
        r.fail("date", slot_problem_message(problem, hours));
        break;
    }
  }
  if (!r.errors().empty()) return std::move(r.errors());
  return out;
}

std::variant<CancelRequest, std::vector<FieldError>> parse_cancel_request(
    const boost::json::object& body) {
  FieldReader r(body);
  CancelRequest out;
  if (auto s = r.required_string("appointment_id")) {
    if (auto id = normalize_uuid(*s)) {
      out.appointment_id = *id;
    } else {
      r.fail("appointment_id", "appointment_id must be the appointment's id (a UUID)");
    }
  }
  out.reason = r.bounded_string(
      "reason", kMaxCancelReasonChars,
      "reason must be at most " + std::to_string(kMaxCancelReasonChars) + " characters");
  if (!r.errors().empty()) return std::move(r.errors());
  return out;
}

}  // namespace leadgate
