#pragma once
// The monitoring dashboard's rows (docs/dashboard.md): every instance writes the per-minute
// differences of its metrics registry into the store (metric_minutes), and the dashboard sums the
// rows of all instances over the selected window (services/dashboard.h). The encoding is a pure
// function; MinuteRecorder keeps the periods and writes them (its loop: jobs/periodic_job.h).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics.h"
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

// Process CPU time and resident memory (Linux /proc/self), as Prometheus' process_* metrics.
void refresh_process_metrics(Metrics& metrics);

// This instance's rows: its current minute, 15 minutes and hour, written (upserted) at every
// flush(), a finished period once more at its boundary; rows older than 30 days are purged hourly.
// A finished period whose write failed is written again at the next flush. flush() runs on the
// store's threads, one at a time (jobs/periodic_job.h); flush_final() writes the current minute
// at shutdown, after the I/O threads stopped.
class MinuteRecorder {
 public:
  MinuteRecorder(OpsStore& store, Metrics& metrics, std::string instance);
  void flush(std::int64_t now_ms);
  void flush_final();

 private:
  // One row per rollup: the current period's, or a finished period's last when it rolled over.
  std::vector<MetricMinute> take_rows(std::int64_t now_ms);
  bool finished(const MetricMinute& row) const;

  OpsStore& store_;
  Metrics& metrics_;
  std::string instance_;
  // flush_final() may start while the last flush() still runs on a store thread.
  std::mutex mutex_;
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
