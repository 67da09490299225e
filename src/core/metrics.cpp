#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/log.h"

namespace leadgate {
namespace {
std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string render_labels(const Labels& labels, const std::string& extra_key = {},
                          const std::string& extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += k + "=\"" + escape_label(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out.push_back(',');
    out += extra_key + "=\"" + extra_value + "\"";
  }
  out.push_back('}');
  return out;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::unique_lock lock(mutex_);
  auto& f = families_[name];
  f.type = type;
  f.help = help;
}

void Metrics::describe(std::initializer_list<FamilyHelp> families) {
  for (const auto& f : families) describe(f.name, f.type, f.help);
}

template <typename Series>
Series* Metrics::find(const std::map<Labels, std::unique_ptr<Series>>& series, const Cells& family,
                      const Labels& labels) {
  static const Labels kOverflow{{"overflow", "true"}};
  if (auto it = series.find(labels); it != series.end()) return it->second.get();
  if (!family.overflowed) return nullptr;
  auto it = series.find(kOverflow);
  return it == series.end() ? nullptr : it->second.get();
}

template <typename Series>
Series& Metrics::create(const std::string& name, Cells& family,
                        std::map<Labels, std::unique_ptr<Series>>& series, const Labels& labels) {
  if (Series* found = find(series, family, labels)) return *found;
  static const Labels kOverflow{{"overflow", "true"}};
  const bool full = family.values.size() + family.histograms.size() >= kMaxSeriesPerFamily;
  if (full && !family.overflowed) {
    family.overflowed = true;
    log_warn("metric_series_overflow",
             {{"metric", name}, {"max_series", static_cast<std::int64_t>(kMaxSeriesPerFamily)}});
  }
  auto& slot = series[full ? kOverflow : labels];
  if (!slot) slot = std::make_unique<Series>();
  return *slot;
}

Metrics::Cell& Metrics::value_cell(const std::string& name, const Labels& labels,
                                   const char* type) {
  {
    std::shared_lock lock(mutex_);
    if (auto f = families_.find(name); f != families_.end()) {
      if (Cell* cell = find(f->second.values, f->second, labels)) return *cell;
    }
  }
  std::unique_lock lock(mutex_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = type;
  return create(name, f, f.values, labels);
}

void Metrics::count(const std::string& name, const Labels& labels, double delta) {
  value_cell(name, labels, "counter").value.fetch_add(delta, std::memory_order_relaxed);
}

void Metrics::set_gauge(const std::string& name, const Labels& labels, double value) {
  value_cell(name, labels, "gauge").value.store(value, std::memory_order_relaxed);
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  HistogramCell* cell = nullptr;
  {
    std::shared_lock lock(mutex_);
    if (auto f = families_.find(name); f != families_.end()) {
      cell = find(f->second.histograms, f->second, labels);
    }
  }
  if (!cell) {
    std::unique_lock lock(mutex_);
    auto& f = families_[name];
    if (f.type.empty()) f.type = "histogram";
    cell = &create(name, f, f.histograms, labels);
  }
  // The first bucket with seconds <= le; NaN is in none but +Inf.
  const auto bucket = std::isnan(seconds)
                          ? kBuckets.end()
                          : std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  cell->counts[static_cast<std::size_t>(bucket - kBuckets.begin())].fetch_add(
      1, std::memory_order_relaxed);
  cell->sum.fetch_add(seconds, std::memory_order_relaxed);
}

Metrics::Histogram Metrics::HistogramCell::read() const {
  Histogram h;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    total += counts[i].load(std::memory_order_relaxed);
    if (i < h.buckets.size()) h.buckets[i] = total;
  }
  h.count = total;
  h.sum = sum.load(std::memory_order_relaxed);
  return h;
}

std::map<std::string, Metrics::Family> Metrics::snapshot() const {
  std::shared_lock lock(mutex_);
  std::map<std::string, Family> out;
  for (const auto& [name, cells] : families_) {
    auto& f = out[name];
    f.type = cells.type;
    f.help = cells.help;
    f.overflowed = cells.overflowed;
    for (const auto& [labels, cell] : cells.values) {
      f.values.emplace(labels, cell->value.load(std::memory_order_relaxed));
    }
    for (const auto& [labels, cell] : cells.histograms) f.histograms.emplace(labels, cell->read());
  }
  return out;
}

std::string Metrics::render() const {
  std::shared_lock lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out << "# HELP " << name << ' ' << f.help << '\n';
    out << "# TYPE " << name << ' ' << f.type << '\n';
    for (const auto& [labels, cell] : f.values) {
      out << name << render_labels(labels) << ' ' << number(cell->value.load()) << '\n';
    }
    for (const auto& [labels, cell] : f.histograms) {
      const Histogram h = cell->read();
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        out << name << "_bucket" << render_labels(labels, "le", number(kBuckets[i])) << ' '
            << h.buckets[i] << '\n';
      }
      out << name << "_bucket" << render_labels(labels, "le", "+Inf") << ' ' << h.count << '\n';
      out << name << "_sum" << render_labels(labels) << ' ' << number(h.sum) << '\n';
      out << name << "_count" << render_labels(labels) << ' ' << h.count << '\n';
    }
  }
  return out.str();
}

}  // namespace leadgate
