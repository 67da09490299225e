#pragma once
// Prometheus text-format metrics: counters and histograms with label sets. Thread-safe, with no
// global lock on the hot path: an update finds its series under a shared (reader) lock and adds
// to it atomically; only the first update of a new label set takes the exclusive lock.
#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
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
  // One series' numbers, updated without a lock (relaxed atomics: each number is exact, a render
  // racing an update may show a histogram one observation behind in its sum).
  struct Cell {
    std::atomic<double> value{0};
  };
  struct HistogramCell {
    // counts[i]: observations in (kBuckets[i - 1], kBuckets[i]]; the last one: above every bucket
    // (or NaN). The cumulative buckets and the count are summed from these when read.
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> counts{};
    std::atomic<double> sum{0};
    Histogram read() const;
  };
  struct Cells {  // a family: the series' addresses never change once created
    std::string type;
    std::string help;
    std::map<Labels, std::unique_ptr<Cell>> values;
    std::map<Labels, std::unique_ptr<HistogramCell>> histograms;
    bool overflowed = false;
  };
  // The series of `labels` in `family` (the overflow series when the family is full and `labels`
  // is new), or nullptr when it does not exist yet. With mutex_ held, shared or exclusive.
  template <typename Series>
  static Series* find(const std::map<Labels, std::unique_ptr<Series>>& series, const Cells& family,
                      const Labels& labels);
  // The same, creating the series (exclusive lock held); the first refusal logs a warning.
  template <typename Series>
  static Series& create(const std::string& name, Cells& family,
                        std::map<Labels, std::unique_ptr<Series>>& series, const Labels& labels);
  Cell& value_cell(const std::string& name, const Labels& labels, const char* type);

  mutable std::shared_mutex mutex_;
  std::map<std::string, Cells> families_;
};

}  // namespace leadgate
