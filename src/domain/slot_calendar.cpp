#include "domain/slot_calendar.h"
#include "domain/text.h"

#include <algorithm>
#include <cstdio>

namespace leadgate {

namespace {

constexpr std::int64_t kMsPerMinute = 60'000;
constexpr std::int64_t kMsPerDay = std::int64_t{kMinutesPerDay} * kMsPerMinute;
constexpr std::int64_t kIstOffsetMs = std::int64_t{kIstOffsetMinutes} * kMsPerMinute;
// A sanity bound for configuration; it also bounds next_free_slots' search.
constexpr int kMaxDaysAheadLimit = 366;

constexpr std::array<std::string_view, 7> kDayNames = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// Division and remainder rounding toward negative infinity, so that instants before 1970 map to
// the right day.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  return a - floor_div(a, b) * b;
}

int digit(char c) {
  return c - '0';
}

bool is_holiday(CivilDate date, const BusinessHours& hours) {
  return std::find(hours.holidays.begin(), hours.holidays.end(), date) != hours.holidays.end();
}

std::string two_digits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

}  // namespace

std::optional<std::string> validate_business_hours(const BusinessHours& hours) {
  if (hours.slot_minutes < 1) return "slot_minutes must be at least 1";
  if (hours.open_minute < 0 || hours.open_minute >= kMinutesPerDay) {
    return "open_minute must be within the day";
  }
  if (hours.close_minute > kMinutesPerDay) return "close_minute must be within the day";
  if (hours.close_minute - hours.open_minute < hours.slot_minutes) {
    return "opening hours must hold at least one slot";
  }
  if (hours.max_days_ahead < 0 || hours.max_days_ahead > kMaxDaysAheadLimit) {
    return "max_days_ahead must be 0-" + std::to_string(kMaxDaysAheadLimit);
  }
  if (std::none_of(hours.open_days.begin(), hours.open_days.end(), [](bool b) { return b; })) {
    return "at least one day must be open";
  }
  for (const CivilDate& d : hours.holidays) {
    if (!is_real_date(d.year, d.month, d.day)) return "holidays must be real dates";
  }
  return std::nullopt;
}

// --- Civil dates and IST (H. Hinnant's days_from_civil / civil_from_days) ---------------------

std::int64_t days_since_epoch(CivilDate date) {
  const std::int64_t y = std::int64_t{date.year} - (date.month <= 2 ? 1 : 0);
  const std::int64_t m = date.month;
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;                                           // [0, 399]
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;  // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                   // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate date_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return CivilDate{static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

CivilDate add_days(CivilDate date, std::int64_t days) {
  return date_from_days(days_since_epoch(date) + days);
}

int weekday(CivilDate date) {
  return static_cast<int>(floor_mod(days_since_epoch(date) + 3, 7));  // 1970-01-01: Thursday
}

CivilDate ist_date(std::int64_t utc_ms) {
  return date_from_days(floor_div(utc_ms + kIstOffsetMs, kMsPerDay));
}

int ist_minute_of_day(std::int64_t utc_ms) {
  return static_cast<int>(floor_mod(utc_ms + kIstOffsetMs, kMsPerDay) / kMsPerMinute);
}

std::int64_t slot_start_utc_ms(CivilDate date, int minute) {
  return days_since_epoch(date) * kMsPerDay + minute * kMsPerMinute - kIstOffsetMs;
}

// --- Wire formats -----------------------------------------------------------------------------

std::optional<CivilDate> parse_dd_mm_yyyy(std::string_view text) {
  if (text.size() != 10 || text[2] != '-' || text[5] != '-') return std::nullopt;
  for (std::size_t i : {0u, 1u, 3u, 4u, 6u, 7u, 8u, 9u}) {
    if (!is_digit(text[i])) return std::nullopt;
  }
  const int day = digit(text[0]) * 10 + digit(text[1]);
  const int month = digit(text[3]) * 10 + digit(text[4]);
  const int year =
      digit(text[6]) * 1000 + digit(text[7]) * 100 + digit(text[8]) * 10 + digit(text[9]);
  if (!is_real_date(year, month, day)) return std::nullopt;
  return CivilDate{year, month, day};
}

std::optional<int> parse_clock_12h(std::string_view text) {
  if (text.size() != 7 && text.size() != 8) return std::nullopt;
  const std::size_t h_len = text.size() - 6;  // "H" or "HH", then ":MM AM"
  int hour = 0;
  for (std::size_t i = 0; i < h_len; ++i) {
    if (!is_digit(text[i])) return std::nullopt;
    hour = hour * 10 + digit(text[i]);
  }
  const std::string_view rest = text.substr(h_len);  // ":MM AM"
  if (rest[0] != ':' || !is_digit(rest[1]) || !is_digit(rest[2]) || rest[3] != ' ') {
    return std::nullopt;
  }
  const int minute = digit(rest[1]) * 10 + digit(rest[2]);
  const std::string_view half = rest.substr(4);
  if (hour < 1 || hour > 12 || minute > 59 || (half != "AM" && half != "PM")) return std::nullopt;
  return (hour % 12) * 60 + minute + (half == "PM" ? 12 * 60 : 0);
}

std::string format_dd_mm_yyyy(CivilDate date) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d-%02d-%04d", date.day, date.month, date.year);
  return buf;
}

std::string format_clock_12h(int minute) {
  const auto m = static_cast<int>(floor_mod(minute, kMinutesPerDay));
  const int h = m / 60 % 12;
  return std::to_string(h == 0 ? 12 : h) + ':' + two_digits(m % 60) + (m < 12 * 60 ? " AM" : " PM");
}

std::string format_ist_timestamp(std::int64_t utc_ms) {
  const int m = ist_minute_of_day(utc_ms);
  const int h = m / 60 % 12;
  return format_dd_mm_yyyy(ist_date(utc_ms)) + ' ' + two_digits(h == 0 ? 12 : h) + ':' +
         two_digits(m % 60) + (m < 12 * 60 ? " AM" : " PM") + " IST";
}

// --- Slots ------------------------------------------------------------------------------------

SlotProblem check_slot(CivilDate date, int minute, std::int64_t now_utc_ms,
                       const BusinessHours& hours) {
  if (hours.slot_minutes <= 0) return SlotProblem::outside_hours;
  const std::int64_t m = minute;
  if ((m - hours.open_minute) % hours.slot_minutes != 0) return SlotProblem::not_on_grid;
  if (m < hours.open_minute || m + hours.slot_minutes > hours.close_minute) {
    return SlotProblem::outside_hours;
  }
  if (!hours.open_days[static_cast<std::size_t>(weekday(date))]) return SlotProblem::closed_day;
  if (is_holiday(date, hours)) return SlotProblem::holiday;
  if (slot_start_utc_ms(date, minute) <= now_utc_ms) return SlotProblem::in_past;
  if (days_since_epoch(date) - days_since_epoch(ist_date(now_utc_ms)) > hours.max_days_ahead) {
    return SlotProblem::too_far_ahead;
  }
  return SlotProblem::none;
}

std::string describe_business_hours(const BusinessHours& hours) {
  std::string days;
  for (std::size_t i = 0; i < hours.open_days.size();) {
    if (!hours.open_days[i]) {
      ++i;
      continue;
    }
    std::size_t end = i;  // the last day of this run of open days
    while (end + 1 < hours.open_days.size() && hours.open_days[end + 1]) ++end;
    if (!days.empty()) days += ", ";
    if (end - i >= 2) {
      days.append(kDayNames[i]).append("-").append(kDayNames[end]);
    } else {
      for (std::size_t d = i; d <= end; ++d) {
        if (d > i) days += ", ";
        days += kDayNames[d];
      }
    }
    i = end + 1;
  }
  return days + ' ' + format_clock_12h(hours.open_minute) + " - " +
         format_clock_12h(hours.close_minute) + " IST";
}

std::string slot_problem_message(SlotProblem problem, const BusinessHours& hours) {
  const std::string slot = std::to_string(hours.slot_minutes) + "-minute";
  switch (problem) {
    case SlotProblem::none:
      return "";
    case SlotProblem::not_on_grid: {
      std::string example = format_clock_12h(hours.open_minute);
      if (hours.open_minute + 2 * hours.slot_minutes <= hours.close_minute) {
        example += " or " + format_clock_12h(hours.open_minute + hours.slot_minutes);
      }
      return "Appointment time must be the start of a " + slot + " slot, e.g. " + example;
    }
    case SlotProblem::outside_hours:
      return "Appointments are available " + describe_business_hours(hours) + " in " + slot +
             " slots";
    case SlotProblem::closed_day:
      return "Appointments are not available on that day; they are available " +
             describe_business_hours(hours);
    case SlotProblem::holiday:
      return "Appointments are not available on that date (holiday); please choose another day";
    case SlotProblem::in_past:
      return "Appointment time must be in the future";
    case SlotProblem::too_far_ahead:
      return "Appointments can be booked at most " + std::to_string(hours.max_days_ahead) +
             " days ahead";
  }
  return "";
}

std::vector<int> slots_of_day(CivilDate date, std::int64_t now_utc_ms, const BusinessHours& hours) {
  std::vector<int> slots;
  if (hours.slot_minutes <= 0) return slots;
  for (int m = hours.open_minute; m + hours.slot_minutes <= hours.close_minute;
       m += hours.slot_minutes) {
    if (check_slot(date, m, now_utc_ms, hours) == SlotProblem::none) slots.push_back(m);
  }
  return slots;
}

std::vector<std::pair<CivilDate, int>> next_free_slots(
    CivilDate from_day, int from_minute, std::int64_t now_utc_ms, const BusinessHours& hours,
    const std::function<bool(CivilDate, int)>& taken, std::size_t n) {
  std::vector<std::pair<CivilDate, int>> found;
  if (n == 0) return found;
  const std::int64_t today = days_since_epoch(ist_date(now_utc_ms));
  const std::int64_t from = days_since_epoch(from_day);
  // Bounded by the configuration check too, so a bad max_days_ahead cannot make this spin long.
  const std::int64_t last = today + std::min(hours.max_days_ahead, kMaxDaysAheadLimit);
  for (std::int64_t d = std::max(from, today); d <= last; ++d) {
    const CivilDate date = date_from_days(d);
    for (int m : slots_of_day(date, now_utc_ms, hours)) {
      if (d == from && m < from_minute) continue;
      if (taken && taken(date, m)) continue;
      found.emplace_back(date, m);
      if (found.size() == n) return found;
    }
  }
  return found;
}

// --- RFC 5545 ---------------------------------------------------------------------------------

std::string ics_utc(std::int64_t utc_ms) {
  const std::int64_t secs = floor_div(utc_ms, 1000);
  const CivilDate date = date_from_days(floor_div(secs, 86'400));
  const auto sod = static_cast<int>(floor_mod(secs, 86'400));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", date.year, date.month, date.day,
                sod / 3600, sod / 60 % 60, sod % 60);
  return buf;
}

std::string ics_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\':
      case ';':
      case ',':
        out += '\\';
        out += c;
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;  // CRLF is one line break
        out += "\\n";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += c;
        break;
      default:
        // Other CONTROL characters (RFC 5545 3.3.11 TSAFE-CHAR excludes them) are dropped.
        if (static_cast<unsigned char>(c) >= 0x20 && c != '\x7f') out += c;
    }
  }
  return out;
}

std::string ics_fold(std::string_view line) {
  constexpr std::size_t kMaxOctets = 75;
  std::string out;
  std::size_t pos = 0;
  bool first = true;
  while (true) {
    // A continuation line's leading space counts toward its 75 octets.
    const std::size_t room = first ? kMaxOctets : kMaxOctets - 1;
    if (line.size() - pos <= room) {
      out.append(line.substr(pos));
      return out;
    }
    std::size_t cut = pos + room;
    // Back up to the start of a UTF-8 sequence (never past the line's start: invalid input is cut
    // where it must be).
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    if (cut == pos) cut = pos + room;
    out.append(line.substr(pos, cut - pos)).append("\r\n ");
    pos = cut;
    first = false;
  }
}

}  // namespace leadgate
