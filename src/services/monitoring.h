#pragma once
// The monitoring dashboard's numbers (docs/dashboard.md): every instance writes the per-minute
// differences of its metrics registry into the store (metric_minutes), and the dashboard sums the
// rows of all instances over the selected window. The encoding and the aggregation are pure
// functions; MinuteRecorder is the background writer.
#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/offload.h"
#include "store/store.h"

namespace leadgate {

using MetricsSnapshot = std::map<std::string, Metrics::Family>;

// The periods every instance writes rows for (minutes): per minute for the hour view, 15-minute
// and hourly rollups for the day and week views (docs/dashboard.md).
inline constexpr std::array<int, 3> kRollups{1, 15, 60};

// The payload of one metric_minutes row: what changed between two snapshots of one registry.
// Counters and histograms as differences (zero differences left out), gauges as their current
// value. {"v":1,"c":[[name,{labels},delta]…],"h":[[name,{labels},count,sum,[cumulative
// bucket counts]]…],"g":[[name,{labels},value]…]}
std::string encode_minute_delta(const MetricsSnapshot& before, const MetricsSnapshot& now);

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

// Process CPU time and resident memory (Linux /proc/self), as Prometheus' process_* metrics.
void refresh_process_metrics(Metrics& metrics);

// Writes this instance's current minute, 15 minutes and hour every `flush` (upserts), a finished
// period once more at its boundary, and purges rows older than 30 days hourly. flush_final() writes
// the current minute synchronously (at shutdown, after the I/O threads stopped).
class MinuteRecorder {
 public:
  MinuteRecorder(Store& store, BlockingPool& pool, Metrics& metrics, std::string instance,
                 std::chrono::milliseconds flush);
  void start(const boost::asio::any_io_executor& executor);
  void stop();
  void flush_final();

 private:
  boost::asio::awaitable<void> loop();
  // One row per rollup: the current period's, or a finished period's last when it rolled over.
  std::vector<MetricMinute> take_rows(std::int64_t now_ms);
  bool finished(const MetricMinute& row) const;

  Store& store_;
  BlockingPool& pool_;
  Metrics& metrics_;
  std::string instance_;
  std::chrono::milliseconds flush_;
  std::optional<boost::asio::steady_timer> timer_;
  bool stopping_ = false;
  struct Period {
    std::int64_t start = -1;   // first minute of the current period
    MetricsSnapshot baseline;  // the registry when it started
  };
  std::array<Period, kRollups.size()> periods_;
  std::int64_t last_purge_ms_ = 0;
  std::vector<MetricMinute> unsent_;  // finished minutes whose write failed
};

// hostname-pid-random: unique per process, readable in the dashboard's instance list.
std::string make_instance_id();

}  // namespace leadgate
