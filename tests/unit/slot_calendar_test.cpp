#include "domain/slot_calendar.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace leadgate {
namespace {

// Dates are compared as "DD-MM-YYYY" strings so that failures print readably (and without a
// second PrintTo(CivilDate) next to lead_validation_test.cpp's in the same test binary).
std::string text(CivilDate d) {
  return format_dd_mm_yyyy(d);
}
std::vector<std::string> text(const std::vector<std::pair<CivilDate, int>>& slots) {
  std::vector<std::string> out;
  for (const auto& [d, m] : slots) out.push_back(format_dd_mm_yyyy(d) + ' ' + format_clock_12h(m));
  return out;
}

constexpr int kMinute = 60'000;
constexpr int k930 = 9 * 60 + 30;
constexpr int k1000 = 10 * 60;
constexpr int k1015 = 10 * 60 + 15;
constexpr int k1030 = 10 * 60 + 30;
constexpr int k1830 = 18 * 60 + 30;
constexpr int k1900 = 19 * 60;

// A week in March 2026: Monday 2 ... Saturday 7, Sunday 8.
constexpr CivilDate kMon{2026, 3, 2};
constexpr CivilDate kTue{2026, 3, 3};
constexpr CivilDate kSat{2026, 3, 7};
constexpr CivilDate kSun{2026, 3, 8};
constexpr CivilDate kNextMon{2026, 3, 9};

// Monday 2 March 2026, 10:00 IST = 04:30 UTC (checked independently of the code under test).
constexpr std::int64_t kMon1000Utc = 1'772'425'800'000;

// ---- Civil dates and IST ---------------------------------------------------------------------

TEST(CivilDays, KnownDays) {
  EXPECT_EQ(days_since_epoch({1970, 1, 1}), 0);
  EXPECT_EQ(days_since_epoch({1969, 12, 31}), -1);
  EXPECT_EQ(days_since_epoch({2000, 3, 1}), 11017);
  EXPECT_EQ(days_since_epoch(kMon), 20514);
  EXPECT_EQ(text(date_from_days(-1)), "31-12-1969");
  EXPECT_EQ(text(date_from_days(11017)), "01-03-2000");
  EXPECT_EQ(text(add_days({2024, 2, 28}, 1)), "29-02-2024");
  EXPECT_EQ(text(add_days({2025, 2, 28}, 1)), "01-03-2025");
  EXPECT_EQ(text(add_days({2026, 12, 31}, 1)), "01-01-2027");
  EXPECT_EQ(text(add_days(kMon, 30)), "01-04-2026");
  EXPECT_EQ(text(add_days(kMon, -2)), "28-02-2026");
}

TEST(CivilDays, RoundTripOverFourCenturies) {
  const std::int64_t from = days_since_epoch({1900, 1, 1});
  const std::int64_t to = days_since_epoch({2300, 12, 31});
  CivilDate expected{1900, 1, 1};
  for (std::int64_t d = from; d <= to; ++d) {
    const CivilDate date = date_from_days(d);
    ASSERT_EQ(date, expected) << d;
    ASSERT_TRUE(is_real_date(date.year, date.month, date.day)) << d;
    ASSERT_EQ(days_since_epoch(date), d);
    // The next real date by hand.
    expected.day += 1;
    if (!is_real_date(expected.year, expected.month, expected.day)) {
      expected.day = 1;
      if (++expected.month > 12) {
        expected.month = 1;
        ++expected.year;
      }
    }
  }
}

TEST(CivilDays, Weekday) {
  EXPECT_EQ(weekday({1970, 1, 1}), 3);  // Thursday
  EXPECT_EQ(weekday({1969, 12, 29}), 0);
  EXPECT_EQ(weekday(kMon), 0);
  EXPECT_EQ(weekday(kTue), 1);
  EXPECT_EQ(weekday(kSat), 5);
  EXPECT_EQ(weekday(kSun), 6);
  EXPECT_EQ(weekday({2024, 2, 29}), 3);
  EXPECT_EQ(weekday({2000, 1, 1}), 5);
}

TEST(Ist, SlotStartIsFiveThirtyBehind) {
  EXPECT_EQ(slot_start_utc_ms(kMon, k1000), kMon1000Utc);
  EXPECT_EQ(slot_start_utc_ms(kMon, k1030), kMon1000Utc + 30 * kMinute);
  EXPECT_EQ(slot_start_utc_ms({1970, 1, 1}, 0), -19'800'000);
  EXPECT_EQ(slot_start_utc_ms({1970, 1, 1}, kIstOffsetMinutes), 0);
  EXPECT_EQ(text(ist_date(kMon1000Utc)), "02-03-2026");
  EXPECT_EQ(ist_minute_of_day(kMon1000Utc), k1000);
}

TEST(Ist, DateRollsOverAtUtc1830) {
  const std::int64_t utc_1829 = 1'772'389'740'000;  // 2026-03-01T18:29:00Z
  const std::int64_t utc_1830 = 1'772'389'800'000;  // 2026-03-01T18:30:00Z
  EXPECT_EQ(text(ist_date(utc_1829)), "01-03-2026");
  EXPECT_EQ(ist_minute_of_day(utc_1829), 23 * 60 + 59);
  EXPECT_EQ(text(ist_date(utc_1830)), "02-03-2026");
  EXPECT_EQ(ist_minute_of_day(utc_1830), 0);
  EXPECT_EQ(text(ist_date(utc_1830 - 1)), "01-03-2026");
  EXPECT_EQ(ist_minute_of_day(utc_1830 - 1), 23 * 60 + 59);
}

TEST(Ist, BeforeTheEpochRoundsTowardThePast) {
  EXPECT_EQ(text(ist_date(-19'800'000)), "01-01-1970");
  EXPECT_EQ(ist_minute_of_day(-19'800'000), 0);
  EXPECT_EQ(text(ist_date(-19'800'001)), "31-12-1969");
  EXPECT_EQ(ist_minute_of_day(-19'800'001), 23 * 60 + 59);
  EXPECT_EQ(text(ist_date(-1)), "01-01-1970");
  EXPECT_EQ(ist_minute_of_day(-1), 5 * 60 + 29);
}

// ---- Wire formats ----------------------------------------------------------------------------

TEST(ParseClock, Accepted) {
  EXPECT_EQ(parse_clock_12h("6:00 PM"), 18 * 60);
  EXPECT_EQ(parse_clock_12h("06:00 PM"), 18 * 60);  // decided: a leading zero is fine
  EXPECT_EQ(parse_clock_12h("10:00 AM"), k1000);
  EXPECT_EQ(parse_clock_12h("9:30 AM"), k930);
  EXPECT_EQ(parse_clock_12h("12:00 AM"), 0);
  EXPECT_EQ(parse_clock_12h("12:59 AM"), 59);
  EXPECT_EQ(parse_clock_12h("1:00 AM"), 60);
  EXPECT_EQ(parse_clock_12h("11:59 AM"), 719);
  EXPECT_EQ(parse_clock_12h("12:00 PM"), 720);
  EXPECT_EQ(parse_clock_12h("12:30 PM"), 750);
  EXPECT_EQ(parse_clock_12h("11:59 PM"), 1439);
}

TEST(ParseClock, Rejected) {
  for (const char* bad : {"6:00PM",  "18:00",   "6:0 PM",    "13:00 PM", "0:30 AM",  "00:30 AM",
                          "6:60 PM", "6:00 pm", "6:00 Pm",   "6:00  PM", " 6:00 PM", "6:00 PM ",
                          "6.00 PM", "6:00 XM", "006:00 PM", "6:000 PM", "+6:00 PM", "6:-0 PM",
                          "",        "6:00",    "12:00 AMX", "a:00 PM",  "1a:00 PM"}) {
    EXPECT_EQ(parse_clock_12h(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(ParseDate, Accepted) {
  EXPECT_EQ(parse_dd_mm_yyyy("30-11-2026"), (CivilDate{2026, 11, 30}));
  EXPECT_EQ(parse_dd_mm_yyyy("01-01-2027"), (CivilDate{2027, 1, 1}));
  EXPECT_EQ(parse_dd_mm_yyyy("29-02-2028"), (CivilDate{2028, 2, 29}));  // leap day
  EXPECT_EQ(parse_dd_mm_yyyy("29-02-2000"), (CivilDate{2000, 2, 29}));
}

TEST(ParseDate, Rejected) {
  for (const char* bad :
       {"31-02-2026", "29-02-2026", "29-02-2100", "2026-11-30", "30/11/2026", "30-11-26",
        "3-11-2026", "30-1-2026", "00-11-2026", "30-13-2026", "30-00-2026", "31-04-2026",
        "30-11-0000", " 30-11-2026", "30-11-2026 ", "", "3O-11-2026", "+1-11-2026"}) {
    EXPECT_EQ(parse_dd_mm_yyyy(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(Format, Clock) {
  EXPECT_EQ(format_clock_12h(0), "12:00 AM");
  EXPECT_EQ(format_clock_12h(59), "12:59 AM");
  EXPECT_EQ(format_clock_12h(k930), "9:30 AM");
  EXPECT_EQ(format_clock_12h(720), "12:00 PM");
  EXPECT_EQ(format_clock_12h(750), "12:30 PM");
  EXPECT_EQ(format_clock_12h(18 * 60), "6:00 PM");
  EXPECT_EQ(format_clock_12h(1439), "11:59 PM");
  EXPECT_EQ(format_clock_12h(1440), "12:00 AM");  // modulo a day
  EXPECT_EQ(format_clock_12h(-30), "11:30 PM");
}

TEST(Format, ClockRoundTripsEveryMinute) {
  for (int m = 0; m < kMinutesPerDay; ++m) {
    ASSERT_EQ(parse_clock_12h(format_clock_12h(m)), m) << m;
  }
  EXPECT_EQ(format_clock_12h(*parse_clock_12h("06:05 PM")), "6:05 PM");  // canonical form
}

TEST(Format, DateRoundTrips) {
  EXPECT_EQ(format_dd_mm_yyyy({2026, 3, 5}), "05-03-2026");
  EXPECT_EQ(format_dd_mm_yyyy({987, 12, 25}), "25-12-0987");
  for (std::int64_t d = days_since_epoch({2023, 1, 1}); d <= days_since_epoch({2030, 12, 31});
       ++d) {
    const CivilDate date = date_from_days(d);
    ASSERT_EQ(parse_dd_mm_yyyy(format_dd_mm_yyyy(date)), date) << d;
  }
  for (const char* s : {"29-02-2028", "31-12-2026", "01-01-2026"}) {
    EXPECT_EQ(format_dd_mm_yyyy(*parse_dd_mm_yyyy(s)), s);
  }
}

// ---- check_slot ------------------------------------------------------------------------------

// "now" well before the slots under test: the Sunday before kMon, noon IST.
const std::int64_t kSundayBefore = slot_start_utc_ms({2026, 3, 1}, 12 * 60);

TEST(CheckSlot, OpeningHoursBoundaries) {
  const BusinessHours h;
  EXPECT_EQ(check_slot(kMon, k930, kSundayBefore, h), SlotProblem::outside_hours);
  EXPECT_EQ(check_slot(kMon, k1000, kSundayBefore, h), SlotProblem::none);
  EXPECT_EQ(check_slot(kMon, k1830, kSundayBefore, h), SlotProblem::none);
  EXPECT_EQ(check_slot(kMon, k1900, kSundayBefore, h), SlotProblem::outside_hours);
  EXPECT_EQ(check_slot(kMon, 0, kSundayBefore, h), SlotProblem::outside_hours);
  EXPECT_EQ(check_slot(kMon, 23 * 60 + 30, kSundayBefore, h), SlotProblem::outside_hours);
  EXPECT_EQ(check_slot(kMon, 24 * 60, kSundayBefore, h), SlotProblem::outside_hours);
  EXPECT_EQ(check_slot(kMon, -30, kSundayBefore, h), SlotProblem::outside_hours);
}

TEST(CheckSlot, Grid) {
  const BusinessHours h;
  EXPECT_EQ(check_slot(kMon, k1015, kSundayBefore, h), SlotProblem::not_on_grid);
  EXPECT_EQ(check_slot(kMon, k1000 + 1, kSundayBefore, h), SlotProblem::not_on_grid);
  EXPECT_EQ(check_slot(kMon, k1030 - 1, kSundayBefore, h), SlotProblem::not_on_grid);
  EXPECT_EQ(check_slot(kMon, 9 * 60 + 15, kSundayBefore, h), SlotProblem::not_on_grid);
  // The grid is anchored at the opening time.
  BusinessHours quarter_past;
  quarter_past.open_minute = k1015;
  EXPECT_EQ(check_slot(kMon, k1015, kSundayBefore, quarter_past), SlotProblem::none);
  EXPECT_EQ(check_slot(kMon, k1000, kSundayBefore, quarter_past), SlotProblem::not_on_grid);
  EXPECT_EQ(check_slot(kMon, k1830 + 15, kSundayBefore, quarter_past), SlotProblem::outside_hours);
}

TEST(CheckSlot, ClosedDaysAndHolidays) {
  BusinessHours h;
  EXPECT_EQ(check_slot(kSun, k1000, kSundayBefore, h), SlotProblem::closed_day);
  EXPECT_EQ(check_slot(kSat, k1000, kSundayBefore, h), SlotProblem::none);
  h.holidays = {kTue};
  EXPECT_EQ(check_slot(kTue, k1000, kSundayBefore, h), SlotProblem::holiday);
  EXPECT_EQ(check_slot(kMon, k1000, kSundayBefore, h), SlotProblem::none);
  // Configurable days: Sunday open, Saturday closed.
  h.open_days = {true, true, true, true, true, false, true};
  EXPECT_EQ(check_slot(kSun, k1000, kSundayBefore, h), SlotProblem::none);
  EXPECT_EQ(check_slot(kSat, k1000, kSundayBefore, h), SlotProblem::closed_day);
}

TEST(CheckSlot, PastMeansAtOrBeforeNow) {
  const BusinessHours h;
  const std::int64_t start = slot_start_utc_ms(kMon, k1000);
  EXPECT_EQ(check_slot(kMon, k1000, start - 1, h), SlotProblem::none);
  EXPECT_EQ(check_slot(kMon, k1000, start, h), SlotProblem::in_past);
  // One minute into the 10:00 slot: it is gone, the next one is bookable.
  EXPECT_EQ(check_slot(kMon, k1000, start + kMinute, h), SlotProblem::in_past);
  EXPECT_EQ(check_slot(kMon, k1030, start + kMinute, h), SlotProblem::none);
  // Yesterday at any hour.
  EXPECT_EQ(check_slot(kMon, k1830, slot_start_utc_ms(kTue, k930), h), SlotProblem::in_past);
}

TEST(CheckSlot, AtMostMaxDaysAheadOfTodayInIst) {
  const BusinessHours h;
  // Today (IST) is Monday 2 March; 30 days ahead is Wednesday 1 April, 31 is Thursday 2 April.
  const std::int64_t now = slot_start_utc_ms(kMon, 23 * 60 + 59);
  EXPECT_EQ(check_slot({2026, 4, 1}, k1000, now, h), SlotProblem::none);
  EXPECT_EQ(check_slot({2026, 4, 1}, k1830, now, h), SlotProblem::none);
  EXPECT_EQ(check_slot({2026, 4, 2}, k1000, now, h), SlotProblem::too_far_ahead);
  // One minute later it is Tuesday in IST (though still Monday 18:30 UTC): 2 April is in range.
  EXPECT_EQ(check_slot({2026, 4, 2}, k1000, now + kMinute, h), SlotProblem::none);
  EXPECT_EQ(check_slot({2026, 4, 3}, k1000, now + kMinute, h), SlotProblem::too_far_ahead);

  BusinessHours same_day;
  same_day.max_days_ahead = 0;
  EXPECT_EQ(check_slot(kMon, k1830, kMon1000Utc, same_day), SlotProblem::none);
  EXPECT_EQ(check_slot(kTue, k1000, kMon1000Utc, same_day), SlotProblem::too_far_ahead);
}

TEST(CheckSlot, FirstProblemWins) {
  BusinessHours h;
  h.holidays = {kSun};
  const std::int64_t later = slot_start_utc_ms({2026, 6, 1}, k1000);
  EXPECT_EQ(check_slot(kSun, k1015, later, h), SlotProblem::not_on_grid);
  EXPECT_EQ(check_slot(kSun, k1900, later, h), SlotProblem::outside_hours);
  EXPECT_EQ(check_slot(kSun, k1000, later, h), SlotProblem::closed_day);
  h.open_days[6] = true;
  EXPECT_EQ(check_slot(kSun, k1000, later, h), SlotProblem::holiday);
  EXPECT_EQ(check_slot(kSat, k1000, later, h), SlotProblem::in_past);
}

// ---- Messages --------------------------------------------------------------------------------

TEST(SlotMessages, DefaultHours) {
  EXPECT_EQ(slot_problem_message(SlotProblem::none), "");
  EXPECT_EQ(slot_problem_message(SlotProblem::outside_hours),
            "Appointments are available Monday-Saturday 10:00 AM - 7:00 PM IST in 30-minute slots");
  EXPECT_EQ(slot_problem_message(SlotProblem::not_on_grid),
            "Appointment time must be the start of a 30-minute slot, e.g. 10:00 AM or 10:30 AM");
  EXPECT_EQ(slot_problem_message(SlotProblem::closed_day),
            "Appointments are not available on that day; they are available Monday-Saturday "
            "10:00 AM - 7:00 PM IST");
  EXPECT_EQ(slot_problem_message(SlotProblem::holiday),
            "Appointments are not available on that date (holiday); please choose another day");
  EXPECT_EQ(slot_problem_message(SlotProblem::in_past), "Appointment time must be in the future");
  EXPECT_EQ(slot_problem_message(SlotProblem::too_far_ahead),
            "Appointments can be booked at most 30 days ahead");
}

TEST(SlotMessages, DescribeConfiguredHours) {
  BusinessHours h;
  h.open_days = {true, true, true, false, true, false, false};
  h.open_minute = k930;
  h.close_minute = 17 * 60 + 30;
  h.slot_minutes = 45;
  h.max_days_ahead = 14;
  EXPECT_EQ(describe_business_hours(h), "Monday-Wednesday, Friday 9:30 AM - 5:30 PM IST");
  EXPECT_EQ(slot_problem_message(SlotProblem::outside_hours, h),
            "Appointments are available Monday-Wednesday, Friday 9:30 AM - 5:30 PM IST in "
            "45-minute slots");
  EXPECT_EQ(slot_problem_message(SlotProblem::not_on_grid, h),
            "Appointment time must be the start of a 45-minute slot, e.g. 9:30 AM or 10:15 AM");
  EXPECT_EQ(slot_problem_message(SlotProblem::too_far_ahead, h),
            "Appointments can be booked at most 14 days ahead");

  h.open_days = {false, false, false, false, false, true, true};
  EXPECT_EQ(describe_business_hours(h), "Saturday, Sunday 9:30 AM - 5:30 PM IST");
  h.open_days = {true, true, true, true, true, true, true};
  h.open_minute = 0;
  h.close_minute = kMinutesPerDay;
  EXPECT_EQ(describe_business_hours(h), "Monday-Sunday 12:00 AM - 12:00 AM IST");
}

// ---- slots_of_day ----------------------------------------------------------------------------

std::vector<int> grid_from(int first, int last) {
  std::vector<int> v;
  for (int m = first; m <= last; m += 30) v.push_back(m);
  return v;
}

TEST(SlotsOfDay, WholeDayAheadOfNow) {
  const auto slots = slots_of_day(kMon, kSundayBefore, BusinessHours{});
  EXPECT_EQ(slots, grid_from(k1000, k1830));
  EXPECT_EQ(slots.size(), 18u);
}

TEST(SlotsOfDay, TodayKeepsOnlyFutureSlots) {
  const BusinessHours h;
  EXPECT_EQ(slots_of_day(kMon, slot_start_utc_ms(kMon, 14 * 60 + 10), h),
            grid_from(14 * 60 + 30, k1830));
  EXPECT_EQ(slots_of_day(kMon, slot_start_utc_ms(kMon, 14 * 60), h),
            grid_from(14 * 60 + 30, k1830));
  EXPECT_EQ(slots_of_day(kMon, slot_start_utc_ms(kMon, k1830), h), std::vector<int>{});
  EXPECT_EQ(slots_of_day(kMon, slot_start_utc_ms(kMon, k1830) - 1, h), std::vector<int>{k1830});
}

TEST(SlotsOfDay, NoneOnClosedDaysHolidaysOrBeyondTheWindow) {
  BusinessHours h;
  h.holidays = {kTue};
  EXPECT_TRUE(slots_of_day(kSun, kSundayBefore, h).empty());
  EXPECT_TRUE(slots_of_day(kTue, kSundayBefore, h).empty());
  EXPECT_EQ(slots_of_day({2026, 4, 1}, kMon1000Utc, h).size(), 18u);
  EXPECT_TRUE(slots_of_day({2026, 4, 2}, kMon1000Utc, h).empty());
  EXPECT_TRUE(slots_of_day({2026, 3, 1}, kMon1000Utc, h).empty());
}

TEST(SlotsOfDay, LastSlotMustEndByClosing) {
  BusinessHours h;
  h.slot_minutes = 45;  // 10:00, 10:45, ... 18:15 (ends 19:00)
  const auto slots = slots_of_day(kMon, kSundayBefore, h);
  ASSERT_FALSE(slots.empty());
  EXPECT_EQ(slots.front(), k1000);
  EXPECT_EQ(slots.back(), 18 * 60 + 15);
  EXPECT_EQ(slots.size(), 12u);
  h.close_minute = 19 * 60 - 1;  // 18:15 would end at 19:00
  EXPECT_EQ(slots_of_day(kMon, kSundayBefore, h).back(), 17 * 60 + 30);
}

// ---- next_free_slots -------------------------------------------------------------------------

const std::function<bool(CivilDate, int)> kNoneTaken = [](CivilDate, int) { return false; };

TEST(NextFreeSlots, FromTheGivenSlotInclusive) {
  EXPECT_EQ(text(next_free_slots(kMon, k1000, kSundayBefore, {}, kNoneTaken, 3)),
            (std::vector<std::string>{"02-03-2026 10:00 AM", "02-03-2026 10:30 AM",
                                      "02-03-2026 11:00 AM"}));
  // Off the grid: the next grid slot.
  EXPECT_EQ(text(next_free_slots(kMon, k1015, kSundayBefore, {}, kNoneTaken, 1)),
            (std::vector<std::string>{"02-03-2026 10:30 AM"}));
}

TEST(NextFreeSlots, SkipsTakenSlotsAndCrossesSundayToMonday) {
  const auto taken = [](CivilDate d, int m) { return d == kSat && m == k1830; };
  EXPECT_EQ(text(next_free_slots(kSat, 18 * 60, kSundayBefore, {}, taken, 3)),
            (std::vector<std::string>{"07-03-2026 6:00 PM", "09-03-2026 10:00 AM",
                                      "09-03-2026 10:30 AM"}));
}

TEST(NextFreeSlots, SkipsHolidays) {
  BusinessHours h;
  h.holidays = {kNextMon};
  EXPECT_EQ(text(next_free_slots(kSat, k1830, kSundayBefore, h, kNoneTaken, 2)),
            (std::vector<std::string>{"07-03-2026 6:30 PM", "10-03-2026 10:00 AM"}));
  const auto all_saturday_taken = [](CivilDate d, int) { return d == kSat; };
  EXPECT_EQ(text(next_free_slots(kSat, k1000, kSundayBefore, h, all_saturday_taken, 1)),
            (std::vector<std::string>{"10-03-2026 10:00 AM"}));
}

TEST(NextFreeSlots, SkipsThePastAndStartsTodayForAnEarlierDay) {
  const BusinessHours h;
  const std::int64_t now = slot_start_utc_ms(kTue, 18 * 60 + 5);
  EXPECT_EQ(text(next_free_slots(kTue, k1000, now, h, kNoneTaken, 2)),
            (std::vector<std::string>{"03-03-2026 6:30 PM", "04-03-2026 10:00 AM"}));
  // A from_day in the past starts at today's first free slot, whatever from_minute says.
  EXPECT_EQ(text(next_free_slots({2020, 1, 1}, k1900, now, h, kNoneTaken, 1)),
            (std::vector<std::string>{"03-03-2026 6:30 PM"}));
}

TEST(NextFreeSlots, StopsAtTheWindowEnd) {
  BusinessHours h;
  h.max_days_ahead = 2;  // Monday (today) to Wednesday
  const auto n = next_free_slots(kMon, k1000, kMon1000Utc - 1, h, kNoneTaken, 1000);
  EXPECT_EQ(n.size(), 3u * 18u);
  EXPECT_EQ(text(n.back().first), "04-03-2026");
  EXPECT_EQ(n.back().second, k1830);
  // All taken: nothing, and the search ends.
  const auto everything = [](CivilDate, int) { return true; };
  EXPECT_TRUE(next_free_slots(kMon, k1000, kMon1000Utc, {}, everything, 5).empty());
  // Beyond the window: nothing.
  EXPECT_TRUE(next_free_slots({2026, 4, 2}, k1000, kMon1000Utc, {}, kNoneTaken, 5).empty());
  EXPECT_TRUE(next_free_slots(kMon, k1000, kSundayBefore, {}, kNoneTaken, 0).empty());
}

TEST(NextFreeSlots, AskedOnlyAboutBookableSlots) {
  std::vector<std::string> asked;
  BusinessHours h;
  h.holidays = {kNextMon};
  const auto record = [&](CivilDate d, int m) {
    asked.push_back(format_dd_mm_yyyy(d) + ' ' + format_clock_12h(m));
    return false;
  };
  next_free_slots(kSat, k1830, kSundayBefore, h, record, 2);
  EXPECT_EQ(asked, (std::vector<std::string>{"07-03-2026 6:30 PM", "10-03-2026 10:00 AM"}));
}

// ---- validate_business_hours -----------------------------------------------------------------

TEST(ValidateBusinessHours, DefaultsAreValid) {
  EXPECT_EQ(validate_business_hours(BusinessHours{}), std::nullopt);
}

TEST(ValidateBusinessHours, Problems) {
  const auto with = [](auto change) {
    BusinessHours h;
    change(h);
    return validate_business_hours(h).has_value();
  };
  EXPECT_TRUE(with([](BusinessHours& h) { h.slot_minutes = 0; }));
  EXPECT_TRUE(with([](BusinessHours& h) { h.open_minute = -1; }));
  EXPECT_TRUE(with([](BusinessHours& h) { h.close_minute = kMinutesPerDay + 1; }));
  EXPECT_TRUE(with([](BusinessHours& h) { h.close_minute = h.open_minute + 29; }));
  EXPECT_FALSE(with([](BusinessHours& h) { h.close_minute = h.open_minute + 30; }));
  EXPECT_TRUE(with([](BusinessHours& h) { h.max_days_ahead = -1; }));
  EXPECT_TRUE(with([](BusinessHours& h) { h.max_days_ahead = 367; }));
  EXPECT_TRUE(with([](BusinessHours& h) { h.open_days.fill(false); }));
  EXPECT_TRUE(with([](BusinessHours& h) { h.holidays = {{2026, 2, 30}}; }));
  EXPECT_FALSE(with([](BusinessHours& h) { h.holidays = {{2026, 1, 26}, {2026, 8, 15}}; }));
}

TEST(ValidateBusinessHours, InvalidSlotLengthFindsNoSlot) {
  BusinessHours h;
  h.slot_minutes = 0;
  EXPECT_EQ(check_slot(kMon, k1000, kSundayBefore, h), SlotProblem::outside_hours);
  EXPECT_TRUE(slots_of_day(kMon, kSundayBefore, h).empty());
  EXPECT_TRUE(next_free_slots(kMon, k1000, kSundayBefore, h, kNoneTaken, 3).empty());
}

// ---- RFC 5545 --------------------------------------------------------------------------------

TEST(Ics, UtcTimestamp) {
  EXPECT_EQ(ics_utc(kMon1000Utc), "20260302T043000Z");
  EXPECT_EQ(ics_utc(slot_start_utc_ms(kMon, k1830)), "20260302T130000Z");
  EXPECT_EQ(ics_utc(0), "19700101T000000Z");
  EXPECT_EQ(ics_utc(999), "19700101T000000Z");
  EXPECT_EQ(ics_utc(-1), "19691231T235959Z");
  EXPECT_EQ(ics_utc(1'772'389'799'999), "20260301T182959Z");
}

TEST(Ics, EscapeText) {
  EXPECT_EQ(ics_escape("plain text: ok"), "plain text: ok");
  EXPECT_EQ(ics_escape("a\\b;c,d"), "a\\\\b\\;c\\,d");
  EXPECT_EQ(ics_escape("line1\nline2"), "line1\\nline2");
  EXPECT_EQ(ics_escape("line1\r\nline2\rline3"), "line1\\nline2\\nline3");
  EXPECT_EQ(ics_escape("tab\there"), "tab\there");
  EXPECT_EQ(ics_escape(std::string("nul\0bell\a del\x7f", 14)), "nulbell del");
  EXPECT_EQ(
      ics_escape(
          "Andheri (W), Mumbai; \xE0\xA4\xAE\xE0\xA5\x81\xE0\xA4\x82\xE0\xA4\xAC\xE0\xA4\x88"),
      "Andheri (W)\\, Mumbai\\; \xE0\xA4\xAE\xE0\xA5\x81\xE0\xA4\x82\xE0\xA4\xAC\xE0\xA4\x88");
  EXPECT_EQ(ics_escape("\"quoted\""), "\"quoted\"");
  EXPECT_EQ(ics_escape(""), "");
}

TEST(Ics, FoldLongLines) {
  EXPECT_EQ(ics_fold("SUMMARY:short"), "SUMMARY:short");
  const std::string exactly75(75, 'a');
  EXPECT_EQ(ics_fold(exactly75), exactly75);
  const std::string long_line(75 + 74 + 10, 'b');
  EXPECT_EQ(ics_fold(long_line),
            std::string(75, 'b') + "\r\n " + std::string(74, 'b') + "\r\n " + std::string(10, 'b'));
  // A 3-byte UTF-8 character straddling octet 75 moves whole to the next line.
  const std::string deva = "\xE0\xA4\xAE";
  const std::string utf8 = std::string(74, 'c') + deva + "dd";
  EXPECT_EQ(ics_fold(utf8), std::string(74, 'c') + "\r\n " + deva + "dd");
  // Every physical line is at most 75 octets.
  std::string many;
  for (int i = 0; i < 100; ++i) many += deva;
  const std::string folded = ics_fold(many);
  std::size_t start = 0;
  while (true) {
    const std::size_t end = folded.find("\r\n", start);
    const std::size_t len = (end == std::string::npos ? folded.size() : end) - start;
    EXPECT_LE(len, 75u);
    if (end == std::string::npos) break;
    start = end + 2;
  }
  std::string unfolded;
  for (std::size_t i = 0; i < folded.size(); ++i) {
    if (folded.compare(i, 3, "\r\n ") == 0) {
      i += 2;
      continue;
    }
    unfolded += folded[i];
  }
  EXPECT_EQ(unfolded, many);
}

TEST(IstTimestamp, WallClockWithATwoDigitHour) {
  EXPECT_EQ(format_ist_timestamp(1772713800000), "05-03-2026 06:00 PM IST");  // 12:30 UTC
  EXPECT_EQ(format_ist_timestamp(1772649000000), "05-03-2026 12:00 AM IST");  // IST midnight
  EXPECT_EQ(format_ist_timestamp(1772692500000), "05-03-2026 12:05 PM IST");  // IST noon + 5
  EXPECT_EQ(format_ist_timestamp(1798741740000), "31-12-2026 11:59 PM IST");  // year's last
}

}  // namespace
}  // namespace leadgate
