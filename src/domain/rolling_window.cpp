#include "domain/rolling_window.h"

#include <algorithm>

namespace leadgate {

WindowDecision check_rolling_window(std::vector<std::int64_t> times, std::int64_t now,
                                    std::int64_t window_ms, int max_events) {
  if (max_events <= 0 || window_ms <= 0) return {};
  std::erase_if(times, [&](std::int64_t at) { return at <= now - window_ms; });
  const auto n = static_cast<std::int64_t>(times.size());
  if (n < max_events) return {};
  std::sort(times.begin(), times.end());
  const std::int64_t leaves = times[static_cast<std::size_t>(n - max_events)] + window_ms;
  return {false, std::max<std::int64_t>(1, leaves - now)};
}

}  // namespace leadgate
