#include "services/monitoring.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "core/log.h"
#include "crypto/crypto.h"

namespace leadgate {
namespace json = boost::json;

namespace {
constexpr std::size_t kB = Metrics::kBuckets.size();
constexpr std::int64_t kRetentionMinutes = 30LL * 24 * 60;
static_assert(kRollups[0] == 1, "the per-minute rows come first");

json::object labels_json(const Labels& labels) {
  json::object o;
  for (const auto& [k, v] : labels) o[k] = v;
  return o;
}

}  // namespace

std::string encode_minute_delta(const MetricsSnapshot& before, const MetricsSnapshot& now) {
  json::array counters, histograms, gauges;
  for (const auto& [name, family] : now) {
    const auto prev = before.find(name);
    if (family.type == "gauge") {
      for (const auto& [labels, value] : family.values) {
        gauges.push_back(json::array{json::value(name), labels_json(labels), value});
      }
      continue;
    }
    for (const auto& [labels, value] : family.values) {
      double old = 0;
      if (prev != before.end()) {
        if (auto it = prev->second.values.find(labels); it != prev->second.values.end()) {
          old = it->second;
        }
      }
      if (value - old != 0) {
        counters.push_back(json::array{json::value(name), labels_json(labels), value - old});
      }
    }
    for (const auto& [labels, h] : family.histograms) {
      const Metrics::Histogram* old = nullptr;
      if (prev != before.end()) {
        if (auto it = prev->second.histograms.find(labels); it != prev->second.histograms.end()) {
          old = &it->second;
        }
      }
      const std::uint64_t count = h.count - (old ? old->count : 0);
      if (count == 0) continue;
      json::array buckets;
      for (std::size_t i = 0; i < kB; ++i)
        buckets.push_back(h.buckets[i] - (old ? old->buckets[i] : 0));
      histograms.push_back(json::array{json::value(name), labels_json(labels), count,
                                       h.sum - (old ? old->sum : 0.0), std::move(buckets)});
    }
  }
  return json::serialize(json::object{{"v", 1}, {"c", counters}, {"h", histograms}, {"g", gauges}});
}

void refresh_process_metrics(Metrics& metrics) {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const auto close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest(line.substr(close + 2));
      std::string field;
      double utime = 0, stime = 0;
      for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::atof(field.c_str());
        if (i == 15) stime = std::atof(field.c_str());
      }
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      metrics.set_gauge("process_cpu_seconds_total", {}, (utime + stime) / ticks);
    }
  }
  std::ifstream statm("/proc/self/statm");
  double size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    metrics.set_gauge("process_resident_memory_bytes", {},
                      resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE)));
  }
}

std::string make_instance_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  return std::string(host).substr(0, 40) + "-" + std::to_string(getpid()) + "-" + random_token(4);
}

MinuteRecorder::MinuteRecorder(OpsStore& store, Metrics& metrics, std::string instance)
    : store_(store), metrics_(metrics), instance_(std::move(instance)) {
  metrics_.describe("process_cpu_seconds_total", "counter",
                    "User and system CPU time of this process, in seconds");
  metrics_.describe("process_resident_memory_bytes", "gauge", "Resident memory of this process");
}

std::vector<MetricMinute> MinuteRecorder::take_rows(std::int64_t now) {
  refresh_process_metrics(metrics_);
  const auto current = metrics_.snapshot();
  const std::int64_t minute = now / 60000;
  std::vector<MetricMinute> rows;
  for (std::size_t i = 0; i < kRollups.size(); ++i) {
    const int resolution = kRollups[i];
    auto& period = periods_[i];
    const std::int64_t start = minute / resolution * resolution;
    // The first snapshot: counters so far belong to the start-up period.
    if (period.start < 0) period.start = start;
    rows.push_back(
        {period.start, resolution, instance_, encode_minute_delta(period.baseline, current), now});
    if (start != period.start) {
      // What happened since the last flush is counted in the finished period (at most one flush
      // interval late); the new period starts from here.
      period.start = start;
      period.baseline = current;
    }
  }
  return rows;
}

bool MinuteRecorder::finished(const MetricMinute& row) const {
  for (std::size_t i = 0; i < kRollups.size(); ++i) {
    if (kRollups[i] == row.resolution) return row.minute != periods_[i].start;
  }
  return true;
}

void MinuteRecorder::flush(std::int64_t now) {
  const std::lock_guard lock(mutex_);
  auto rows = take_rows(now);
  // Finished minutes whose last write failed go again first.
  rows.insert(rows.begin(), unsent_.begin(), unsent_.end());
  unsent_.clear();
  try {
    for (const auto& r : rows) store_.put_metric_minute(r);
    if (now - last_purge_ms_ > 3600LL * 1000) {
      store_.purge_metric_minutes(now / 60000 - kRetentionMinutes);
      last_purge_ms_ = now;
    }
  } catch (const std::exception& e) {
    // The current minute is rewritten from its baseline at the next flush anyway; finished
    // minutes are kept until a write succeeds (the newest hour of them at most).
    for (auto& r : rows) {
      if (finished(r)) unsent_.push_back(std::move(r));
    }
    if (unsent_.size() > 180) unsent_.erase(unsent_.begin(), unsent_.end() - 180);
    log_warn("metric_minutes_write_failed", {{"error", e.what()}});
  }
}

void MinuteRecorder::flush_final() {
  const std::lock_guard lock(mutex_);
  try {
    auto rows = take_rows(now_ms());
    rows.insert(rows.begin(), unsent_.begin(), unsent_.end());
    for (const auto& r : rows) store_.put_metric_minute(r);
  } catch (const std::exception& e) {
    log_warn("metric_minutes_write_failed", {{"error", e.what()}});
  }
}

}  // namespace leadgate
