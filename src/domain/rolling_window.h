#pragma once
// A count limit over a rolling window, decided from the stored times of the events it counts
// (a lead's bookings, its cancellations): pure, so the limit holds across instances and restarts
// exactly as the stored rows do.
#include <cstdint>
#include <vector>

namespace leadgate {

struct WindowDecision {
  bool allowed = true;
  std::int64_t retry_after_ms = 0;  // when refused: until one more is allowed (>= 1)
};

// `times`: when each event happened, in any order. The events with at > now - window_ms count
// (so do events dated after `now`: another instance's clock ahead). When `max_events` or more
// count, one more is refused until enough of the oldest of them leave the window: retry_after is
// the (n - max_events + 1)-th oldest's at + window_ms - now, at least 1 (with n == max_events: the
// oldest). max_events <= 0 or window_ms <= 0 disables the rule.
WindowDecision check_rolling_window(std::vector<std::int64_t> times, std::int64_t now,
                                    std::int64_t window_ms, int max_events);

}  // namespace leadgate
