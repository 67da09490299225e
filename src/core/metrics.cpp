#include "core/metrics.h"

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
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  f.type = type;
  f.help = help;
}

void Metrics::describe(std::initializer_list<FamilyHelp> families) {
  for (const auto& f : families) describe(f.name, f.type, f.help);
}

const Labels& Metrics::admit(const std::string& name, Family& family, const Labels& labels) {
  static const Labels kOverflow{{"overflow", "true"}};
  if (family.values.size() + family.histograms.size() < kMaxSeriesPerFamily ||
      family.values.contains(labels) || family.histograms.contains(labels)) {
    return labels;
  }
  if (!family.overflowed) {
    family.overflowed = true;
    log_warn("metric_series_overflow",
             {{"metric", name}, {"max_series", static_cast<std::int64_t>(kMaxSeriesPerFamily)}});
  }
  return kOverflow;
}

void Metrics::count(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = "counter";
  f.values[admit(name, f, labels)] += delta;
}

void Metrics::set_gauge(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = "gauge";
  f.values[admit(name, f, labels)] = value;
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = "histogram";
  auto& h = f.histograms[admit(name, f, labels)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::map<std::string, Metrics::Family> Metrics::snapshot() const {
  std::lock_guard lock(mutex_);
  return families_;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out << "# HELP " << name << ' ' << f.help << '\n';
    out << "# TYPE " << name << ' ' << f.type << '\n';
    for (const auto& [labels, value] : f.values) {
      out << name << render_labels(labels) << ' ' << number(value) << '\n';
    }
    for (const auto& [labels, h] : f.histograms) {
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
