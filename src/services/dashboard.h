#pragma once
// The monitoring dashboard's numbers (docs/dashboard.md): the rows every instance writes into
// metric_minutes (services/monitoring.h) summed over the instances and the selected window.
// Pure functions.
#include <array>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"
#include "store/store.h"

namespace leadgate {

// Prometheus' histogram_quantile over cumulative bucket counts with Metrics::kBuckets as upper
// bounds: linear interpolation inside the bucket holding the rank; a rank beyond the last finite
// bound answers that bound. nullopt when count is 0.
std::optional<double> histogram_quantile(double q,
                                         const std::array<double, Metrics::kBuckets.size()>& cum,
                                         double count);

enum class DashboardRange { hour, day, week };
std::optional<DashboardRange> parse_dashboard_range(std::string_view text);

struct DashboardQuery {
  DashboardRange range = DashboardRange::hour;
  std::string environment;  // "" = all environments
  std::int64_t now_ms = 0;
};

// The window of a query: rows with from_minute <= minute < to_minute (minutes since the epoch).
struct DashboardWindow {
  std::int64_t from_minute = 0;
  std::int64_t to_minute = 0;
  int step_minutes = 1;
  int buckets = 0;
};
DashboardWindow dashboard_window(const DashboardQuery& q);

// The /dashboard/data document (docs/dashboard.md) from the rows of the query's window.
boost::json::object dashboard_data(const std::vector<MetricMinute>& rows, const DashboardQuery& q);

}  // namespace leadgate
