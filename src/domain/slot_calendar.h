#pragma once
// The appointment calendar (issue 6, book_appointment): business hours, the slot grid, the
// past/future bounds, and the wire formats of dates and times. Pure: "now" is a parameter, as UTC
// unix milliseconds; every business rule is evaluated in India Standard Time (UTC+05:30, no DST).
//
// Decisions (pinned by tests/unit/slot_calendar_test.cpp):
//  - The grid is anchored at open_minute: slots start at open_minute + k * slot_minutes, and a
//    slot must end by close_minute (default: 10:00 ... 18:30 for 10:00-19:00).
//  - "In the past": the slot's start is at or before now (a slot that has just begun is gone).
//  - "Too far ahead": the slot's IST date is more than max_days_ahead days after today's IST date
//    (the time of day does not matter: with 30, every slot of today + 30 is bookable).
//  - check_slot reports the first problem in the order: not_on_grid, outside_hours, closed_day,
//    holiday, in_past, too_far_ahead (the calendar's own rules first, then the time bounds).
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/lead_validation.h"  // CivilDate, is_real_date

namespace leadgate {

inline constexpr int kIstOffsetMinutes = 5 * 60 + 30;
inline constexpr int kMinutesPerDay = 24 * 60;

struct BusinessHours {                                                          // per environment
  std::array<bool, 7> open_days = {true, true, true, true, true, true, false};  // 0 = Monday
  int open_minute = 10 * 60;   // minutes after IST midnight
  int close_minute = 19 * 60;  // the last slot ends here (starts 18:30 by default)
  int slot_minutes = 30;
  int max_days_ahead = 30;
  std::vector<CivilDate> holidays;
};

// For the configuration loader: the first problem of a BusinessHours, or nullopt when it is
// usable (1 <= slot_minutes, 0 <= open_minute, open_minute + slot_minutes <= close_minute <= 24h,
// max_days_ahead >= 0, at least one open day, holidays real dates). The other functions assume a
// valid BusinessHours; with slot_minutes <= 0 they find no slot rather than divide by zero.
std::optional<std::string> validate_business_hours(const BusinessHours& hours);

// --- Civil dates and IST ----------------------------------------------------------------------

// Days since 1970-01-01 (negative before it), proleptic Gregorian; and back.
std::int64_t days_since_epoch(CivilDate date);
CivilDate date_from_days(std::int64_t days);
CivilDate add_days(CivilDate date, std::int64_t days);
int weekday(CivilDate date);  // 0 = Monday ... 6 = Sunday

CivilDate ist_date(std::int64_t utc_ms);
int ist_minute_of_day(std::int64_t utc_ms);  // 0 ... 1439
// The IST wall-clock time `minute` after midnight of `date`, as UTC unix milliseconds.
std::int64_t slot_start_utc_ms(CivilDate date, int minute);

// --- Wire formats -----------------------------------------------------------------------------

// Exactly "DD-MM-YYYY" (two-digit day and month, no trimming) naming a real date.
std::optional<CivilDate> parse_dd_mm_yyyy(std::string_view text);
// Exactly "H:MM AM" / "HH:MM PM": hour 1-12 (a leading zero allowed, so "06:00 PM" is accepted),
// two-digit minutes 00-59, one space, upper-case AM or PM; no trimming. Minutes after midnight:
// "12:00 AM" = 0, "12:30 PM" = 750. Rejected: "6:00PM", "18:00", "6:0 PM", "13:00 PM", "0:30 AM",
// "6:00 pm".
std::optional<int> parse_clock_12h(std::string_view text);
std::string format_dd_mm_yyyy(CivilDate date);  // "05-03-2026"
std::string format_clock_12h(int minute);       // "6:00 PM", "12:00 AM"; taken modulo 24 hours
// An instant as IST wall-clock time for people: "05-03-2026 06:00 PM IST" (two-digit hour).
std::string format_ist_timestamp(std::int64_t utc_ms);

// --- Slots ------------------------------------------------------------------------------------

enum class SlotProblem {
  none,
  not_on_grid,
  outside_hours,
  closed_day,
  holiday,
  in_past,
  too_far_ahead
};

SlotProblem check_slot(CivilDate date, int minute, std::int64_t now_utc_ms,
                       const BusinessHours& hours);
// Customer/API-facing text for a problem ("" for none), describing the given hours, e.g.
// "Appointments are available Monday-Saturday 10:00 AM - 7:00 PM IST in 30-minute slots".
std::string slot_problem_message(SlotProblem problem, const BusinessHours& hours = {});
// "Monday-Saturday 10:00 AM - 7:00 PM IST": open days as runs (three or more consecutive days
// as "first-last", otherwise listed), then the hours.
std::string describe_business_hours(const BusinessHours& hours);

// The bookable slot start minutes of `date` (check_slot gives none), in order.
std::vector<int> slots_of_day(CivilDate date, std::int64_t now_utc_ms, const BusinessHours& hours);

// At most n bookable slots from (from_day, from_minute) on, that slot included, in time order,
// skipping those for which taken(date, minute) is true; the search ends with the last bookable
// day (today + max_days_ahead). A from_day before today starts today.
std::vector<std::pair<CivilDate, int>> next_free_slots(
    CivilDate from_day, int from_minute, std::int64_t now_utc_ms, const BusinessHours& hours,
    const std::function<bool(CivilDate, int)>& taken, std::size_t n);

// --- RFC 5545 (.ics) --------------------------------------------------------------------------

// A UTC DATE-TIME, "YYYYMMDDTHHMMSSZ" (milliseconds dropped, rounding toward the past).
std::string ics_utc(std::int64_t utc_ms);
// A TEXT value (RFC 5545 3.3.11): '\' ';' ',' escaped with a backslash, a line break (LF, CRLF
// or CR) as "\n"; other control characters except TAB are not allowed in TEXT and are dropped.
std::string ics_escape(std::string_view text);
// A content line folded to lines of at most 75 octets (RFC 5545 3.1), joined by CRLF + space,
// never splitting a UTF-8 sequence; no trailing CRLF.
std::string ics_fold(std::string_view content_line);

}  // namespace leadgate
