#include "services/dashboard.h"

#include "domain/slo.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

#include "domain/enum_table.h"
#include "domain/slo.h"

namespace leadgate {
namespace json = boost::json;

namespace {
constexpr std::size_t kB = Metrics::kBuckets.size();

double number_of(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return 0;
}

std::string_view label(const json::object& labels, std::string_view key) {
  if (const auto* v = labels.if_contains(key); v && v->is_string()) return v->get_string();
  return {};
}

json::value rate_or_null(double numerator, double denominator) {
  if (denominator <= 0) return nullptr;
  return std::round(std::min(numerator / denominator, 1.0) * 10000.0) / 10000.0;
}

json::value ms_or_null(std::optional<double> seconds) {
  if (!seconds) return nullptr;
  return std::round(*seconds * 1000.0 * 100.0) / 100.0;
}

struct Hist {
  std::array<double, kB> cum{};
  double count = 0;
  double sum = 0;
  void add(const json::array& buckets, double n, double s) {
    for (std::size_t i = 0; i < kB && i < buckets.size(); ++i) cum[i] += number_of(buckets[i]);
    count += n;
    sum += s;
  }
  std::optional<double> quantile(double q) const { return histogram_quantile(q, cum, count); }
};

std::size_t bucket_index(double threshold_seconds) {
  for (std::size_t i = 0; i < kB; ++i) {
    if (Metrics::kBuckets[i] == threshold_seconds) return i;
  }
  return kB - 1;
}

// The product API: operational routes (health, metrics, docs, the dashboard itself) and unknown
// paths outside /api_v1/ ("unmatched_other": favicons, scanners) are left out of the API health
// numbers, so that watching the service does not change what it shows.
bool api_route(std::string_view route) {
  return route.rfind("/api_v1/", 0) == 0 || route == "unmatched";
}

// Gauges of one minute, over the instances that wrote it.
struct MinuteGauges {
  double rss = 0;  // summed: per process
  std::optional<double> outbox_pending, outbox_dead, inbox_failed, db_size, db_up;  // max: shared
  double cpu_seconds = 0;
};

void take_max(std::optional<double>& slot, double v) {
  slot = slot ? std::max(*slot, v) : v;
}

// Counts are kept as doubles (the registry's values); whole numbers go out as JSON integers.
void integral_to_int(json::value& v) {
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
      v = static_cast<std::int64_t>(d);
    }
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) integral_to_int(e);
  } else if (v.is_object()) {
    for (auto& kv : v.get_object()) integral_to_int(kv.value());
  }
}

constexpr auto kRangeNames = std::to_array<const char*>({"hour", "day", "week"});

const char* range_name(DashboardRange range) {
  return enum_entry<DashboardRange::week>(kRangeNames, range, "week");
}

// One period of the series (a minute, 15 minutes or an hour).
struct Bucket {
  double requests = 0, errors = 0, otp_sent = 0, otp_verified = 0, created = 0, completed = 0,
         inbound = 0, answered = 0, cpu = 0, cpu_divisor = 0;
  Hist latency, db;
  // The latest minute of the bucket that reported each gauge.
  json::value rss = nullptr, pending = nullptr, dead = nullptr, size = nullptr;
};

// Sums over the whole window.
struct Totals {
  double otp_sent = 0, otp_verified = 0, created = 0, completed = 0, inbound = 0, answered = 0,
         wa_sent = 0, wa_delivered = 0, wa_read = 0, wa_failed = 0, gupshup_calls = 0,
         gupshup_ok = 0;
  double requests = 0, s4xx = 0, s5xx = 0;  // over the endpoints
  Hist latency, db, processing;
};

struct RouteStats {
  double requests = 0, s4xx = 0, s5xx = 0;
  Hist latency;
};

struct PartnerStats {
  double calls = 0, failures = 0, retries = 0;
  Hist latency;
};

// The business counters that count per environment, in the series and in the totals.
struct BusinessCounter {
  double Bucket::*series;
  double Totals::*total;
};
const std::map<std::string_view, BusinessCounter>& business_counters() {
  static const std::map<std::string_view, BusinessCounter> counters{
      {"leadgate_otp_sent_total", {&Bucket::otp_sent, &Totals::otp_sent}},
      {"leadgate_otp_verified_total", {&Bucket::otp_verified, &Totals::otp_verified}},
      {"leadgate_leads_created_total", {&Bucket::created, &Totals::created}},
      {"leadgate_leads_completed_total", {&Bucket::completed, &Totals::completed}},
      {"leadgate_whatsapp_inbound_total", {&Bucket::inbound, &Totals::inbound}},
      {"leadgate_whatsapp_replies_total", {&Bucket::answered, &Totals::answered}},
  };
  return counters;
}

// The assistant's replies that answered the customer (the rest are fallbacks).
bool answered_kind(std::string_view kind) {
  return kind == "status" || kind == "help" || kind == "opt_out" || kind == "opt_in";
}

// The entries of one section of a row's payload ("c", "h" or "g"): [name, {labels}, values…] with
// at least `size` elements. Malformed entries are skipped.
template <typename F>
void for_each_entry(const json::object& payload, std::string_view section, std::size_t size,
                    F&& f) {
  const auto* entries = payload.if_contains(section);
  if (!entries || !entries->is_array()) return;
  for (const auto& entry : entries->get_array()) {
    if (!entry.is_array() || entry.as_array().size() < size) continue;
    const auto& e = entry.as_array();
    if (!e[0].is_string() || !e[1].is_object()) continue;
    f(std::string_view(e[0].get_string()), e[1].get_object(), e);
  }
}

// The sums of one query's rows, and the document made from them.
class Aggregate {
 public:
  explicit Aggregate(const DashboardQuery& q)
      : q_(q), win_(dashboard_window(q)), now_minute_(q.now_ms / 60000), buckets_(n()) {}

  void add(const MetricMinute& row);
  json::object document();

 private:
  std::size_t n() const { return static_cast<std::size_t>(win_.buckets); }
  std::size_t bucket_of(std::int64_t minute) const {
    return static_cast<std::size_t>((minute - win_.from_minute) / win_.step_minutes);
  }
  bool env_ok(const json::object& labels) const {
    return q_.environment.empty() || label(labels, "environment") == q_.environment;
  }
  double minute_seconds(std::int64_t m) const;

  void add_counter(std::string_view name, const json::object& labels, double d, Bucket& b,
                   MinuteGauges& g);
  void add_http_request(const json::object& labels, double d, Bucket& b);
  void add_histogram(std::string_view name, const json::object& labels, const json::array& e,
                     Bucket& b);
  void add_slo_samples(const std::string& route, bool ok, double count, const json::array& buckets);
  void add_partner_call(const json::object& labels, double count, double sum,
                        const json::array& buckets);
  static void add_gauge(std::string_view name, const json::object& labels, double v,
                        MinuteGauges& g);

  void spread_minutes();
  json::array times() const;
  json::object series() const;
  json::array endpoints();
  json::array error_types() const;
  json::array partners() const;
  json::array slos() const;
  json::object summary() const;
  void add_recent_gauges(json::object& summary) const;
  json::value latest(std::optional<double> MinuteGauges::*field) const;

  const DashboardQuery& q_;
  const DashboardWindow win_;
  const std::int64_t now_minute_;
  std::vector<Bucket> buckets_;
  Totals totals_;
  std::map<std::string, RouteStats> routes_;
  std::map<std::tuple<std::string, int, std::string>, double> error_types_;
  std::map<std::pair<std::string, std::string>, PartnerStats> partners_;
  std::vector<std::pair<double, double>> slo_ =
      std::vector<std::pair<double, double>>(slo_defs().size());  // total, good
  std::map<std::int64_t, MinuteGauges> minutes_;
  std::set<std::string> instances_;
};

void Aggregate::add(const MetricMinute& row) {
  if (row.resolution != win_.step_minutes || row.minute < win_.from_minute ||
      row.minute >= win_.to_minute) {
    return;
  }
  boost::system::error_code ec;
  const auto parsed = json::parse(row.payload_json, ec);
  if (ec || !parsed.is_object()) return;
  const auto& payload = parsed.as_object();
  instances_.insert(row.instance);
  auto& b = buckets_[bucket_of(row.minute)];
  auto& g = minutes_[row.minute];
  for_each_entry(payload, "c", 3, [&](std::string_view name, const auto& labels, const auto& e) {
    add_counter(name, labels, number_of(e[2]), b, g);
  });
  for_each_entry(payload, "h", 5, [&](std::string_view name, const auto& labels, const auto& e) {
    if (e[4].is_array()) add_histogram(name, labels, e, b);
  });
  for_each_entry(payload, "g", 3, [&](std::string_view name, const auto& labels, const auto& e) {
    add_gauge(name, labels, number_of(e[2]), g);
  });
}

void Aggregate::add_counter(std::string_view name, const json::object& labels, double d, Bucket& b,
                            MinuteGauges& g) {
  if (name == "leadgate_http_requests_total") {
    add_http_request(labels, d, b);
  } else if (name == "leadgate_http_errors_total") {
    const auto route = std::string(label(labels, "route"));
    if (!api_route(route) || !env_ok(labels)) return;
    error_types_[{route, std::atoi(std::string(label(labels, "status")).c_str()),
                  std::string(label(labels, "code"))}] += d;
  } else if (const auto it = business_counters().find(name); it != business_counters().end()) {
    // OTPs are WhatsApp messages too (delivery numbers are service-wide).
    if (name == "leadgate_otp_sent_total") totals_.wa_sent += d;
    if (!env_ok(labels)) return;
    if (name == "leadgate_whatsapp_replies_total" && !answered_kind(label(labels, "kind"))) return;
    b.*(it->second.series) += d;
    totals_.*(it->second.total) += d;
  } else if (name == "leadgate_outbox_attempts_total") {
    const auto outcome = label(labels, "outcome");
    if (outcome == "sent") totals_.wa_sent += d;
    if (outcome == "dead") totals_.wa_failed += d;
  } else if (name == "leadgate_whatsapp_receipts_total") {
    if (label(labels, "matched") != "true") return;
    const auto status = label(labels, "status");
    if (status == "delivered") totals_.wa_delivered += d;
    if (status == "read") totals_.wa_read += d;
    if (status == "failed") totals_.wa_failed += d;
  } else if (name == "leadgate_partner_call_retries_total") {
    partners_[{std::string(label(labels, "partner")), std::string(label(labels, "call"))}]
        .retries += d;
  } else if (name == "process_cpu_seconds_total") {
    b.cpu += d;
    g.cpu_seconds += d;
  }
}

void Aggregate::add_http_request(const json::object& labels, double d, Bucket& b) {
  const auto route = std::string(label(labels, "route"));
  if (!api_route(route) || !env_ok(labels)) return;
  const int status = std::atoi(std::string(label(labels, "status")).c_str());
  b.requests += d;
  auto& r = routes_[route];
  r.requests += d;
  if (status >= 400) b.errors += d;
  if (status >= 500) {
    r.s5xx += d;
  } else if (status >= 400) {
    r.s4xx += d;
  }
}

void Aggregate::add_histogram(std::string_view name, const json::object& labels,
                              const json::array& e, Bucket& b) {
  const double count = number_of(e[2]);
  const double sum = number_of(e[3]);
  const auto& buckets = e[4].get_array();
  if (name == "leadgate_http_request_duration_seconds") {
    const auto route = std::string(label(labels, "route"));
    if (!api_route(route) || !env_ok(labels)) return;
    b.latency.add(buckets, count, sum);
    totals_.latency.add(buckets, count, sum);
    routes_[route].latency.add(buckets, count, sum);
    add_slo_samples(route, label(labels, "outcome") != "error", count, buckets);
  } else if (name == "leadgate_database_operation_seconds") {
    b.db.add(buckets, count, sum);
    totals_.db.add(buckets, count, sum);
  } else if (name == "leadgate_partner_call_duration_seconds") {
    add_partner_call(labels, count, sum, buckets);
  } else if (name == "leadgate_lead_processing_seconds") {
    if (!env_ok(labels)) return;
    totals_.processing.add(buckets, count, sum);
  }
}

void Aggregate::add_slo_samples(const std::string& route, bool ok, double count,
                                const json::array& buckets) {
  for (std::size_t i = 0; i < slo_defs().size(); ++i) {
    const auto& def = slo_defs()[i];
    if (std::find(def.routes.begin(), def.routes.end(), route) == def.routes.end()) continue;
    slo_[i].first += count;
    const auto at = bucket_index(def.threshold);
    if (ok && at < buckets.size()) slo_[i].second += number_of(buckets[at]);
  }
}

void Aggregate::add_partner_call(const json::object& labels, double count, double sum,
                                 const json::array& buckets) {
  const std::string partner(label(labels, "partner"));
  auto& p = partners_[{partner, std::string(label(labels, "call"))}];
  p.calls += count;
  p.latency.add(buckets, count, sum);
  const bool ok = label(labels, "outcome") == "ok";
  if (!ok) p.failures += count;
  if (partner == "gupshup") {
    totals_.gupshup_calls += count;
    if (ok) totals_.gupshup_ok += count;
  }
}

void Aggregate::add_gauge(std::string_view name, const json::object& labels, double v,
                          MinuteGauges& g) {
  if (name == "process_resident_memory_bytes") {
    g.rss += v;
  } else if (name == "leadgate_outbox_messages") {
    if (label(labels, "status") == "pending") take_max(g.outbox_pending, v);
    if (label(labels, "status") == "dead") take_max(g.outbox_dead, v);
  } else if (name == "leadgate_inbox_events") {
    if (label(labels, "state") == "failed") take_max(g.inbox_failed, v);
  } else if (name == "leadgate_database_size_bytes") {
    take_max(g.db_size, v);
  } else if (name == "leadgate_database_up") {
    take_max(g.db_up, v);
  }
}

// Seconds each period covers: the current one only as far as it has gone.
double Aggregate::minute_seconds(std::int64_t m) const {
  if (m + win_.step_minutes <= now_minute_) return win_.step_minutes * 60.0;
  return std::max(1.0, static_cast<double>(q_.now_ms - m * 60000) / 1000.0);
}

// The gauges of each minute into its bucket: the latest minute of the bucket wins (the map is
// ordered); CPU seconds over the seconds the bucket's minutes cover.
void Aggregate::spread_minutes() {
  for (const auto& [m, g] : minutes_) {
    auto& b = buckets_[bucket_of(m)];
    b.cpu_divisor += minute_seconds(m);
    if (g.rss > 0) b.rss = g.rss;
    if (g.outbox_pending) b.pending = *g.outbox_pending;
    if (g.outbox_dead) b.dead = *g.outbox_dead;
    if (g.db_size) b.size = *g.db_size;
  }
}

json::array Aggregate::times() const {
  json::array times;
  for (std::size_t i = 0; i < n(); ++i) {
    times.push_back((win_.from_minute + static_cast<std::int64_t>(i) * win_.step_minutes) * 60);
  }
  return times;
}

json::object Aggregate::series() const {
  json::array s_requests, s_errors, s_p50, s_p95, s_p99, s_db95, s_otp_sent, s_otp_verified,
      s_created, s_completed, s_inbound, s_answered, s_cpu, s_rss, s_pending, s_dead, s_size;
  const double step = win_.step_minutes;
  for (const auto& b : buckets_) {
    s_requests.push_back(b.requests / step);
    s_errors.push_back(b.errors / step);
    s_p50.push_back(ms_or_null(b.latency.quantile(0.5)));
    s_p95.push_back(ms_or_null(b.latency.quantile(0.95)));
    s_p99.push_back(ms_or_null(b.latency.quantile(0.99)));
    s_db95.push_back(ms_or_null(b.db.quantile(0.95)));
    s_otp_sent.push_back(b.otp_sent);
    s_otp_verified.push_back(b.otp_verified);
    s_created.push_back(b.created);
    s_completed.push_back(b.completed);
    s_inbound.push_back(b.inbound);
    s_answered.push_back(b.answered);
    if (b.cpu_divisor > 0) {
      s_cpu.push_back(std::round(b.cpu / b.cpu_divisor * 100.0 * 100.0) / 100.0);
    } else {
      s_cpu.push_back(nullptr);
    }
    s_rss.push_back(b.rss);
    s_pending.push_back(b.pending);
    s_dead.push_back(b.dead);
    s_size.push_back(b.size);
  }
  return json::object{{"requests", s_requests},
                      {"errors", s_errors},
                      {"p50_ms", s_p50},
                      {"p95_ms", s_p95},
                      {"p99_ms", s_p99},
                      {"db_p95_ms", s_db95},
                      {"otp_sent", s_otp_sent},
                      {"otp_verified", s_otp_verified},
                      {"leads_created", s_created},
                      {"leads_completed", s_completed},
                      {"whatsapp_inbound", s_inbound},
                      {"whatsapp_answered", s_answered},
                      {"cpu_percent", s_cpu},
                      {"rss_bytes", s_rss},
                      {"outbox_pending", s_pending},
                      {"outbox_dead", s_dead},
                      {"database_size_bytes", s_size}};
}

// Per route; sums the totals of requests and errors for the summary as it goes.
json::array Aggregate::endpoints() {
  json::array endpoints;
  for (const auto& [route, r] : routes_) {
    totals_.requests += r.requests;
    totals_.s4xx += r.s4xx;
    totals_.s5xx += r.s5xx;
    endpoints.push_back(
        json::object{{"route", route},
                     {"requests", r.requests},
                     {"errors_4xx", r.s4xx},
                     {"errors_5xx", r.s5xx},
                     {"success_rate", rate_or_null(r.requests - r.s4xx - r.s5xx, r.requests)},
                     {"p50_ms", ms_or_null(r.latency.quantile(0.5))},
                     {"p95_ms", ms_or_null(r.latency.quantile(0.95))},
                     {"p99_ms", ms_or_null(r.latency.quantile(0.99))}});
  }
  return endpoints;
}

json::array Aggregate::error_types() const {
  json::array types;
  for (const auto& [key, count] : error_types_) {
    types.push_back(json::object{{"route", std::get<0>(key)},
                                 {"status", std::get<1>(key)},
                                 {"code", std::get<2>(key)},
                                 {"count", count}});
  }
  return types;
}

json::array Aggregate::partners() const {
  json::array partner_rows;
  for (const auto& [key, p] : partners_) {
    partner_rows.push_back(json::object{{"partner", key.first},
                                        {"call", key.second},
                                        {"calls", p.calls},
                                        {"failures", p.failures},
                                        {"error_rate", rate_or_null(p.failures, p.calls)},
                                        {"retries", p.retries},
                                        {"p50_ms", ms_or_null(p.latency.quantile(0.5))},
                                        {"p95_ms", ms_or_null(p.latency.quantile(0.95))}});
  }
  return partner_rows;
}

json::array Aggregate::slos() const {
  json::array slos;
  for (std::size_t i = 0; i < slo_defs().size(); ++i) {
    const auto& def = slo_defs()[i];
    const auto [total, good] = slo_[i];
    json::array route_names;
    for (const auto& r : def.routes) route_names.emplace_back(r);
    const double attainment = total > 0 ? good / total : 1.0;
    const double budget =
        total > 0 ? std::max(0.0, 1.0 - ((total - good) / total) / (1.0 - def.objective)) : 1.0;
    slos.push_back(json::object{{"name", def.name},
                                {"routes", route_names},
                                {"threshold_seconds", def.threshold},
                                {"objective", def.objective},
                                {"total", total},
                                {"good", good},
                                {"attainment", std::round(attainment * 100000.0) / 100000.0},
                                {"error_budget_remaining", std::round(budget * 10000.0) / 10000.0},
                                {"met", attainment >= def.objective}});
  }
  return slos;
}

// The newest minute that reported the gauge.
json::value Aggregate::latest(std::optional<double> MinuteGauges::*field) const {
  for (auto it = minutes_.rbegin(); it != minutes_.rend(); ++it) {
    if (const auto& v = it->second.*field) return *v;
  }
  return nullptr;
}

json::object Aggregate::summary() const {
  const auto& t = totals_;
  const double errors_total = t.s4xx + t.s5xx;
  json::object summary;
  summary["requests"] = t.requests;
  summary["requests_per_minute"] =
      std::round(t.requests / (static_cast<double>(n()) * win_.step_minutes) * 100.0) / 100.0;
  summary["errors_4xx"] = t.s4xx;
  summary["errors_5xx"] = t.s5xx;
  summary["error_rate"] = rate_or_null(errors_total, t.requests);
  summary["success_rate"] = rate_or_null(t.requests - errors_total, t.requests);
  summary["p50_ms"] = ms_or_null(t.latency.quantile(0.5));
  summary["p95_ms"] = ms_or_null(t.latency.quantile(0.95));
  summary["p99_ms"] = ms_or_null(t.latency.quantile(0.99));
  const json::value up = latest(&MinuteGauges::db_up);
  summary["db_up"] = up.is_null() ? json::value(nullptr) : json::value(number_of(up) > 0);
  summary["db_operations"] = t.db.count;
  summary["db_p50_ms"] = ms_or_null(t.db.quantile(0.5));
  summary["db_p95_ms"] = ms_or_null(t.db.quantile(0.95));
  summary["db_p99_ms"] = ms_or_null(t.db.quantile(0.99));
  summary["otp_sent"] = t.otp_sent;
  summary["otp_verified"] = t.otp_verified;
  summary["otp_success_rate"] = rate_or_null(t.otp_verified, t.otp_sent);
  summary["leads_created"] = t.created;
  summary["leads_completed"] = t.completed;
  summary["lead_conversion_rate"] = rate_or_null(t.completed, t.created);
  summary["avg_lead_processing_seconds"] =
      t.processing.count > 0
          ? json::value(std::round(t.processing.sum / t.processing.count * 100.0) / 100.0)
          : json::value(nullptr);
  summary["whatsapp_inbound"] = t.inbound;
  summary["whatsapp_answered"] = t.answered;
  summary["assistant_accuracy"] = rate_or_null(t.answered, t.inbound);
  summary["whatsapp_sent"] = t.wa_sent;
  summary["whatsapp_delivered"] = t.wa_delivered;
  summary["whatsapp_read"] = t.wa_read;
  summary["whatsapp_failed"] = t.wa_failed;
  summary["delivery_rate"] = rate_or_null(t.wa_delivered, t.wa_sent);
  add_recent_gauges(summary);
  summary["whatsapp_provider_availability"] = rate_or_null(t.gupshup_ok, t.gupshup_calls);
  return summary;
}

// Latest gauges; CPU over the last five minutes (hour view) or the latest period.
void Aggregate::add_recent_gauges(json::object& summary) const {
  double cpu_recent = 0, cpu_recent_div = 0;
  std::optional<double> first_size, last_size;
  const MinuteGauges* newest = nullptr;
  for (const auto& [m, g] : minutes_) {
    if (m >= std::min(now_minute_ - 4, win_.to_minute - win_.step_minutes)) {
      cpu_recent += g.cpu_seconds;
      cpu_recent_div += minute_seconds(m);
    }
    if (g.db_size) {
      if (!first_size) first_size = g.db_size;
      last_size = g.db_size;
    }
    newest = &g;
  }
  summary["cpu_percent"] =
      cpu_recent_div > 0 ? json::value(std::round(cpu_recent / cpu_recent_div * 10000.0) / 100.0)
                         : json::value(nullptr);
  summary["rss_bytes"] =
      newest && newest->rss > 0 ? json::value(newest->rss) : json::value(nullptr);
  summary["outbox_pending"] = latest(&MinuteGauges::outbox_pending);
  summary["outbox_dead"] = latest(&MinuteGauges::outbox_dead);
  summary["inbox_failed"] = latest(&MinuteGauges::inbox_failed);
  summary["database_size_bytes"] = latest(&MinuteGauges::db_size);
  summary["database_growth_bytes"] =
      first_size ? json::value(*last_size - *first_size) : json::value(nullptr);
}

json::object Aggregate::document() {
  spread_minutes();
  json::array instance_list;
  for (const auto& i : instances_) instance_list.emplace_back(i);
  // endpoints() first: it sums the request totals the summary shows.
  json::array endpoint_rows = endpoints();
  json::value out = json::object{{"range", range_name(q_.range)},
                                 {"environment", q_.environment.empty() ? "all" : q_.environment},
                                 {"step_seconds", win_.step_minutes * 60},
                                 {"from", win_.from_minute * 60},
                                 {"to", win_.to_minute * 60},
                                 {"generated_at", q_.now_ms / 1000},
                                 {"instances", instance_list},
                                 {"times", times()},
                                 {"summary", summary()},
                                 {"series", series()},
                                 {"endpoints", std::move(endpoint_rows)},
                                 {"error_types", error_types()},
                                 {"partners", partners()},
                                 {"slos", slos()}};
  integral_to_int(out);
  return std::move(out.as_object());
}
}  // namespace

std::optional<double> histogram_quantile(double q, const std::array<double, kB>& cum,
                                         double count) {
  if (count <= 0) return std::nullopt;
  const double rank = q * count;
  for (std::size_t i = 0; i < kB; ++i) {
    if (cum[i] >= rank) {
      const double lower_bound = i == 0 ? 0.0 : Metrics::kBuckets[i - 1];
      const double lower_count = i == 0 ? 0.0 : cum[i - 1];
      const double in_bucket = cum[i] - lower_count;
      if (in_bucket <= 0) return Metrics::kBuckets[i];
      return lower_bound + (Metrics::kBuckets[i] - lower_bound) * (rank - lower_count) / in_bucket;
    }
  }
  return Metrics::kBuckets[kB - 1];
}

std::optional<DashboardRange> parse_dashboard_range(std::string_view text) {
  if (text.empty() || text == "hour") return DashboardRange::hour;
  if (text == "day") return DashboardRange::day;
  if (text == "week") return DashboardRange::week;
  return std::nullopt;
}

DashboardWindow dashboard_window(const DashboardQuery& q) {
  DashboardWindow w;
  switch (q.range) {
    case DashboardRange::hour:
      w.step_minutes = 1;
      w.buckets = 60;
      break;
    case DashboardRange::day:
      w.step_minutes = 15;
      w.buckets = 96;
      break;
    case DashboardRange::week:
      w.step_minutes = 60;
      w.buckets = 168;
      break;
  }
  const std::int64_t now_minute = q.now_ms / 60000;
  const std::int64_t last_start = now_minute / w.step_minutes * w.step_minutes;
  w.from_minute = last_start - static_cast<std::int64_t>(w.buckets - 1) * w.step_minutes;
  w.to_minute = last_start + w.step_minutes;
  return w;
}

json::object dashboard_data(const std::vector<MetricMinute>& rows, const DashboardQuery& q) {
  Aggregate aggregate(q);
  for (const auto& row : rows) aggregate.add(row);
  return aggregate.document();
}

}  // namespace leadgate
