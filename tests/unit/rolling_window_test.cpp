#include "domain/rolling_window.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

constexpr std::int64_t kDay = 86'400'000;

TEST(RollingWindow, AllowsBelowTheMaximumAndRefusesAtIt) {
  const std::int64_t now = 10 * kDay;
  std::vector<std::int64_t> times;
  for (int i = 0; i < 4; ++i) {
    times.push_back(now - 1000 * (i + 1));
    EXPECT_TRUE(check_rolling_window(times, now, kDay, 5).allowed) << i;
  }
  times.push_back(now - 60'000);
  const auto refused = check_rolling_window(times, now, kDay, 5);
  EXPECT_FALSE(refused.allowed);
  // The oldest counted (now - 60 s) leaves the window in a day less 60 s.
  EXPECT_EQ(refused.retry_after_ms, kDay - 60'000);
}

TEST(RollingWindow, EventsOutsideTheWindowDoNotCountAndTheBoundaryIsExcluded) {
  const std::int64_t now = 10 * kDay;
  // Exactly one window old: out (at > now - window counts).
  EXPECT_TRUE(check_rolling_window({now - kDay, now - kDay - 5}, now, kDay, 1).allowed);
  const auto refused = check_rolling_window({now - kDay + 1}, now, kDay, 1);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ms, 1);
}

TEST(RollingWindow, OverTheMaximumWaitsForEnoughOfTheOldestToLeave) {
  const std::int64_t now = 10 * kDay;
  // Three counted with a maximum of two (a lowered setting): the 2nd oldest must leave.
  const auto d = check_rolling_window({now - 100, now - 300, now - 200}, now, kDay, 2);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, kDay - 200);
}

TEST(RollingWindow, FutureDatedEventsCountAndRetryIsAtLeastOneMs) {
  const std::int64_t now = 10 * kDay;
  const auto d = check_rolling_window({now + 5000}, now, kDay, 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, kDay + 5000);
}

TEST(RollingWindow, ZeroMaximumOrWindowDisablesTheRule) {
  EXPECT_TRUE(check_rolling_window({1, 2, 3}, 10, kDay, 0).allowed);
  EXPECT_TRUE(check_rolling_window({1, 2, 3}, 10, 0, 1).allowed);
  EXPECT_TRUE(check_rolling_window({}, 10, kDay, 1).allowed);
}

}  // namespace
}  // namespace leadgate
