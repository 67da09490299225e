#pragma once
// Prometheus text-format metrics: counters and histograms with label sets. Thread-safe.
#include <array>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace leadgate {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  void count(const std::string& name, const Labels& labels, double delta = 1.0);
  void observe(const std::string& name, const Labels& labels, double seconds);
  void set_gauge(const std::string& name, const Labels& labels, double value);
  void describe(const std::string& name, const std::string& type, const std::string& help);
  // The HELP and TYPE of a family, for describe() of several at once.
  struct FamilyHelp {
    const char* name;
    const char* type;  // counter, gauge or histogram
    const char* help;
  };
  void describe(std::initializer_list<FamilyHelp> families);
  std::string render() const;

  struct Histogram {
    std::array<std::uint64_t, 16> buckets{};  // cumulative: observations <= kBuckets[i]
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;  // counter, gauge or histogram
    std::string help;
    std::map<Labels, double> values;
    std::map<Labels, Histogram> histograms;
    bool overflowed = false;  // a series was refused (see kMaxSeriesPerFamily)
  };
  // A copy of every family, for the per-minute monitoring aggregates (services/monitoring.h).
  std::map<std::string, Family> snapshot() const;

  // A family holds at most this many label sets; the values of any further label set are counted
  // in one series labelled overflow="true" instead, and a warning (metric_series_overflow) is
  // logged once per family. Labels come from closed sets, so this is a backstop: it keeps memory,
  // /metrics and the dashboard's per-minute rows bounded whatever a client sends.
  static constexpr std::size_t kMaxSeriesPerFamily = 2000;

  // Latency buckets (seconds), sorted ascending. They include every SLO threshold exactly, so the
  // "faster than the threshold" share is a plain bucket ratio: 1 s (webhook), 2 s (OTP send and
  // verify), 3 s (status lookup), 5 s (lead creation). See docs/prometheus/leadgate-alerts.yml.
  static constexpr std::array<double, 16> kBuckets{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 3, 5, 10};

 private:
  static_assert(std::tuple_size_v<decltype(Histogram::buckets)> == kBuckets.size());
  // `labels`, or the overflow label set when the family is full and `labels` is new.
  static const Labels& admit(const std::string& name, Family& family, const Labels& labels);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace leadgate
