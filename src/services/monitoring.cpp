#include "services/monitoring.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <set>
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

struct SloDef {
  const char* name;
  std::vector<std::string> routes;
  double threshold;
  double objective;
};

const std::vector<SloDef>& slo_defs() {
  // The wireframe's "Response Time Targets"; the same route sets as docs/prometheus.
  static const std::vector<SloDef> defs{
      {"OTP send/verify",
       {"/api_v1/otp_send", "/api_v1/otp_verify", "/api_v1/otp_resend"},
       2,
       0.995},
      {"Lead creation", {"/api_v1/create_lead"}, 5, 0.99},
      {"Status lookup", {"/api_v1/lead_status", "/api_v1/track_application"}, 3, 0.995},
      {"WhatsApp webhook",
       {"/api_v1/whatsapp/webhook", "/api_v1/whatsapp/webhook/{token}"},
       1,
       0.999},
  };
  return defs;
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
  const DashboardWindow win = dashboard_window(q);
  const auto n = static_cast<std::size_t>(win.buckets);
  const std::int64_t now_minute = q.now_ms / 60000;
  auto env_ok = [&](const json::object& labels) {
    return q.environment.empty() || label(labels, "environment") == q.environment;
  };

  std::vector<double> requests(n), errors(n), otp_sent(n), otp_verified(n), created(n),
      completed(n), inbound(n), answered(n), cpu(n), cpu_divisor(n);
  std::vector<Hist> latency(n), db(n);
  Hist latency_all, db_all, processing;
  struct RouteStats {
    double requests = 0, s4xx = 0, s5xx = 0;
    Hist latency;
  };
  std::map<std::string, RouteStats> routes;
  std::map<std::tuple<std::string, int, std::string>, double> error_types;
  struct PartnerStats {
    double calls = 0, failures = 0, retries = 0;
    Hist latency;
  };
  std::map<std::pair<std::string, std::string>, PartnerStats> partners;
  std::vector<std::pair<double, double>> slo(slo_defs().size());  // total, good
  double t_otp_sent = 0, t_otp_verified = 0, t_created = 0, t_completed = 0, t_inbound = 0,
         t_answered = 0, wa_sent = 0, wa_delivered = 0, wa_read = 0, wa_failed = 0,
         gupshup_calls = 0, gupshup_ok = 0;
  std::map<std::int64_t, MinuteGauges> minutes;
  std::set<std::string> instances;

  for (const auto& row : rows) {
    if (row.resolution != win.step_minutes || row.minute < win.from_minute ||
        row.minute >= win.to_minute) {
      continue;
    }
    boost::system::error_code ec;
    const auto parsed = json::parse(row.payload_json, ec);
    if (ec || !parsed.is_object()) continue;
    const auto& payload = parsed.as_object();
    instances.insert(row.instance);
    const auto b = static_cast<std::size_t>((row.minute - win.from_minute) / win.step_minutes);
    auto& gauges_of_minute = minutes[row.minute];

    if (const auto* cs = payload.if_contains("c"); cs && cs->is_array()) {
      for (const auto& entry : cs->get_array()) {
        if (!entry.is_array() || entry.as_array().size() < 3) continue;
        const auto& e = entry.as_array();
        if (!e[0].is_string() || !e[1].is_object()) continue;
        const std::string_view name = e[0].get_string();
        const auto& labels = e[1].get_object();
        const double d = number_of(e[2]);
        if (name == "leadgate_http_requests_total") {
          const auto route = std::string(label(labels, "route"));
          if (!api_route(route) || !env_ok(labels)) continue;
          const int status = std::atoi(std::string(label(labels, "status")).c_str());
          requests[b] += d;
          auto& r = routes[route];
          r.requests += d;
          if (status >= 400) errors[b] += d;
          if (status >= 500) {
            r.s5xx += d;
          } else if (status >= 400) {
            r.s4xx += d;
          }
        } else if (name == "leadgate_http_errors_total") {
          const auto route = std::string(label(labels, "route"));
          if (!api_route(route) || !env_ok(labels)) continue;
          error_types[{route, std::atoi(std::string(label(labels, "status")).c_str()),
                       std::string(label(labels, "code"))}] += d;
        } else if (name == "leadgate_otp_sent_total") {
          wa_sent += d;  // OTPs are WhatsApp messages too (delivery numbers are service-wide)
          if (!env_ok(labels)) continue;
          otp_sent[b] += d;
          t_otp_sent += d;
        } else if (name == "leadgate_otp_verified_total") {
          if (!env_ok(labels)) continue;
          otp_verified[b] += d;
          t_otp_verified += d;
        } else if (name == "leadgate_leads_created_total") {
          if (!env_ok(labels)) continue;
          created[b] += d;
          t_created += d;
        } else if (name == "leadgate_leads_completed_total") {
          if (!env_ok(labels)) continue;
          completed[b] += d;
          t_completed += d;
        } else if (name == "leadgate_whatsapp_inbound_total") {
          if (!env_ok(labels)) continue;
          inbound[b] += d;
          t_inbound += d;
        } else if (name == "leadgate_whatsapp_replies_total") {
          if (!env_ok(labels)) continue;
          const auto kind = label(labels, "kind");
          if (kind == "status" || kind == "help" || kind == "opt_out" || kind == "opt_in") {
            answered[b] += d;
            t_answered += d;
          }
        } else if (name == "leadgate_outbox_attempts_total") {
          const auto outcome = label(labels, "outcome");
          if (outcome == "sent") wa_sent += d;
          if (outcome == "dead") wa_failed += d;
        } else if (name == "leadgate_whatsapp_receipts_total") {
          if (label(labels, "matched") != "true") continue;
          const auto status = label(labels, "status");
          if (status == "delivered") wa_delivered += d;
          if (status == "read") wa_read += d;
          if (status == "failed") wa_failed += d;
        } else if (name == "leadgate_partner_call_retries_total") {
          partners[{std::string(label(labels, "partner")), std::string(label(labels, "call"))}]
              .retries += d;
        } else if (name == "process_cpu_seconds_total") {
          cpu[b] += d;
          gauges_of_minute.cpu_seconds += d;
        }
      }
    }

    if (const auto* hs = payload.if_contains("h"); hs && hs->is_array()) {
      for (const auto& entry : hs->get_array()) {
        if (!entry.is_array() || entry.as_array().size() < 5) continue;
        const auto& e = entry.as_array();
        if (!e[0].is_string() || !e[1].is_object() || !e[4].is_array()) continue;
        const std::string_view name = e[0].get_string();
        const auto& labels = e[1].get_object();
        const double count = number_of(e[2]);
        const double sum = number_of(e[3]);
        const auto& buckets = e[4].get_array();
        if (name == "leadgate_http_request_duration_seconds") {
          const auto route = std::string(label(labels, "route"));
          if (!api_route(route) || !env_ok(labels)) continue;
          latency[b].add(buckets, count, sum);
          latency_all.add(buckets, count, sum);
          routes[route].latency.add(buckets, count, sum);
          const bool ok = label(labels, "outcome") != "error";
          for (std::size_t i = 0; i < slo_defs().size(); ++i) {
            const auto& def = slo_defs()[i];
            if (std::find(def.routes.begin(), def.routes.end(), route) == def.routes.end())
              continue;
            slo[i].first += count;
            const auto at = bucket_index(def.threshold);
            if (ok && at < buckets.size()) slo[i].second += number_of(buckets[at]);
          }
        } else if (name == "leadgate_database_operation_seconds") {
          db[b].add(buckets, count, sum);
          db_all.add(buckets, count, sum);
        } else if (name == "leadgate_partner_call_duration_seconds") {
          const std::string partner(label(labels, "partner"));
          auto& p = partners[{partner, std::string(label(labels, "call"))}];
          p.calls += count;
          p.latency.add(buckets, count, sum);
          const bool ok = label(labels, "outcome") == "ok";
          if (!ok) p.failures += count;
          if (partner == "gupshup") {
            gupshup_calls += count;
            if (ok) gupshup_ok += count;
          }
        } else if (name == "leadgate_lead_processing_seconds") {
          if (!env_ok(labels)) continue;
          processing.add(buckets, count, sum);
        }
      }
    }

    if (const auto* gs = payload.if_contains("g"); gs && gs->is_array()) {
      for (const auto& entry : gs->get_array()) {
        if (!entry.is_array() || entry.as_array().size() < 3) continue;
        const auto& e = entry.as_array();
        if (!e[0].is_string() || !e[1].is_object()) continue;
        const std::string_view name = e[0].get_string();
        const auto& labels = e[1].get_object();
        const double v = number_of(e[2]);
        auto& g = gauges_of_minute;
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
    }
  }

  // Seconds each period covers: the current one only as far as it has gone.
  auto minute_seconds = [&](std::int64_t m) {
    if (m + win.step_minutes <= now_minute) return win.step_minutes * 60.0;
    return std::max(1.0, static_cast<double>(q.now_ms - m * 60000) / 1000.0);
  };
  std::vector<json::value> rss(n, nullptr), pending(n, nullptr), dead(n, nullptr), size(n, nullptr);
  for (const auto& [m, g] : minutes) {
    const auto b = static_cast<std::size_t>((m - win.from_minute) / win.step_minutes);
    cpu_divisor[b] += minute_seconds(m);
    if (g.rss > 0) rss[b] = g.rss;  // the latest minute of the bucket wins (map is ordered)
    if (g.outbox_pending) pending[b] = *g.outbox_pending;
    if (g.outbox_dead) dead[b] = *g.outbox_dead;
    if (g.db_size) size[b] = *g.db_size;
  }

  json::array times, s_requests, s_errors, s_p50, s_p95, s_p99, s_db95, s_otp_sent, s_otp_verified,
      s_created, s_completed, s_inbound, s_answered, s_cpu, s_rss, s_pending, s_dead, s_size;
  const double step = win.step_minutes;
  for (std::size_t i = 0; i < n; ++i) {
    times.push_back((win.from_minute + static_cast<std::int64_t>(i) * win.step_minutes) * 60);
    s_requests.push_back(requests[i] / step);
    s_errors.push_back(errors[i] / step);
    s_p50.push_back(ms_or_null(latency[i].quantile(0.5)));
    s_p95.push_back(ms_or_null(latency[i].quantile(0.95)));
    s_p99.push_back(ms_or_null(latency[i].quantile(0.99)));
    s_db95.push_back(ms_or_null(db[i].quantile(0.95)));
    s_otp_sent.push_back(otp_sent[i]);
    s_otp_verified.push_back(otp_verified[i]);
    s_created.push_back(created[i]);
    s_completed.push_back(completed[i]);
    s_inbound.push_back(inbound[i]);
    s_answered.push_back(answered[i]);
    if (cpu_divisor[i] > 0) {
      s_cpu.push_back(std::round(cpu[i] / cpu_divisor[i] * 100.0 * 100.0) / 100.0);
    } else {
      s_cpu.push_back(nullptr);
    }
    s_rss.push_back(rss[i]);
    s_pending.push_back(pending[i]);
    s_dead.push_back(dead[i]);
    s_size.push_back(size[i]);
  }

  double total_requests = 0, total_4xx = 0, total_5xx = 0;
  json::array endpoints;
  for (const auto& [route, r] : routes) {
    total_requests += r.requests;
    total_4xx += r.s4xx;
    total_5xx += r.s5xx;
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
  json::array types;
  for (const auto& [key, count] : error_types) {
    types.push_back(json::object{{"route", std::get<0>(key)},
                                 {"status", std::get<1>(key)},
                                 {"code", std::get<2>(key)},
                                 {"count", count}});
  }
  json::array partner_rows;
  for (const auto& [key, p] : partners) {
    partner_rows.push_back(json::object{{"partner", key.first},
                                        {"call", key.second},
                                        {"calls", p.calls},
                                        {"failures", p.failures},
                                        {"error_rate", rate_or_null(p.failures, p.calls)},
                                        {"retries", p.retries},
                                        {"p50_ms", ms_or_null(p.latency.quantile(0.5))},
                                        {"p95_ms", ms_or_null(p.latency.quantile(0.95))}});
  }
  json::array slos;
  for (std::size_t i = 0; i < slo_defs().size(); ++i) {
    const auto& def = slo_defs()[i];
    const auto [total, good] = slo[i];
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

  // Latest gauges; CPU over the last five minutes (hour view) or the latest period.
  json::object summary;
  double cpu_recent = 0, cpu_recent_div = 0;
  std::optional<double> first_size, last_size;
  const MinuteGauges* latest = nullptr;
  for (const auto& [m, g] : minutes) {
    if (m >= std::min(now_minute - 4, win.to_minute - win.step_minutes)) {
      cpu_recent += g.cpu_seconds;
      cpu_recent_div += minute_seconds(m);
    }
    if (g.db_size) {
      if (!first_size) first_size = g.db_size;
      last_size = g.db_size;
    }
    latest = &g;
  }
  auto latest_or_null = [&](std::optional<double> MinuteGauges::*field) -> json::value {
    for (auto it = minutes.rbegin(); it != minutes.rend(); ++it) {
      if (const auto& v = it->second.*field) return *v;
    }
    return nullptr;
  };
  const double errors_total = total_4xx + total_5xx;
  summary["requests"] = total_requests;
  summary["requests_per_minute"] =
      std::round(total_requests / (static_cast<double>(n) * step) * 100.0) / 100.0;
  summary["errors_4xx"] = total_4xx;
  summary["errors_5xx"] = total_5xx;
  summary["error_rate"] = rate_or_null(errors_total, total_requests);
  summary["success_rate"] = rate_or_null(total_requests - errors_total, total_requests);
  summary["p50_ms"] = ms_or_null(latency_all.quantile(0.5));
  summary["p95_ms"] = ms_or_null(latency_all.quantile(0.95));
  summary["p99_ms"] = ms_or_null(latency_all.quantile(0.99));
  const json::value up = latest_or_null(&MinuteGauges::db_up);
  summary["db_up"] = up.is_null() ? json::value(nullptr) : json::value(number_of(up) > 0);
  summary["db_operations"] = db_all.count;
  summary["db_p50_ms"] = ms_or_null(db_all.quantile(0.5));
  summary["db_p95_ms"] = ms_or_null(db_all.quantile(0.95));
  summary["db_p99_ms"] = ms_or_null(db_all.quantile(0.99));
  summary["otp_sent"] = t_otp_sent;
  summary["otp_verified"] = t_otp_verified;
  summary["otp_success_rate"] = rate_or_null(t_otp_verified, t_otp_sent);
  summary["leads_created"] = t_created;
  summary["leads_completed"] = t_completed;
  summary["lead_conversion_rate"] = rate_or_null(t_completed, t_created);
  summary["avg_lead_processing_seconds"] =
      processing.count > 0
          ? json::value(std::round(processing.sum / processing.count * 100.0) / 100.0)
          : json::value(nullptr);
  summary["whatsapp_inbound"] = t_inbound;
  summary["whatsapp_answered"] = t_answered;
  summary["assistant_accuracy"] = rate_or_null(t_answered, t_inbound);
  summary["whatsapp_sent"] = wa_sent;
  summary["whatsapp_delivered"] = wa_delivered;
  summary["whatsapp_read"] = wa_read;
  summary["whatsapp_failed"] = wa_failed;
  summary["delivery_rate"] = rate_or_null(wa_delivered, wa_sent);
  summary["cpu_percent"] =
      cpu_recent_div > 0 ? json::value(std::round(cpu_recent / cpu_recent_div * 10000.0) / 100.0)
                         : json::value(nullptr);
  summary["rss_bytes"] =
      latest && latest->rss > 0 ? json::value(latest->rss) : json::value(nullptr);
  summary["outbox_pending"] = latest_or_null(&MinuteGauges::outbox_pending);
  summary["outbox_dead"] = latest_or_null(&MinuteGauges::outbox_dead);
  summary["inbox_failed"] = latest_or_null(&MinuteGauges::inbox_failed);
  summary["database_size_bytes"] = latest_or_null(&MinuteGauges::db_size);
  summary["database_growth_bytes"] =
      first_size ? json::value(*last_size - *first_size) : json::value(nullptr);
  summary["whatsapp_provider_availability"] = rate_or_null(gupshup_ok, gupshup_calls);

  json::array instance_list;
  for (const auto& i : instances) instance_list.emplace_back(i);
  json::object series{{"requests", s_requests},
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
  const char* range_name = q.range == DashboardRange::hour  ? "hour"
                           : q.range == DashboardRange::day ? "day"
                                                            : "week";
  json::value out = json::object{{"range", range_name},
                                 {"environment", q.environment.empty() ? "all" : q.environment},
                                 {"step_seconds", win.step_minutes * 60},
                                 {"from", win.from_minute * 60},
                                 {"to", win.to_minute * 60},
                                 {"generated_at", q.now_ms / 1000},
                                 {"instances", instance_list},
                                 {"times", times},
                                 {"summary", summary},
                                 {"series", series},
                                 {"endpoints", endpoints},
                                 {"error_types", types},
                                 {"partners", partner_rows},
                                 {"slos", slos}};
  integral_to_int(out);
  return std::move(out.as_object());
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

MinuteRecorder::MinuteRecorder(Store& store, BlockingPool& pool, Metrics& metrics,
                               std::string instance, std::chrono::milliseconds flush)
    : store_(store), pool_(pool), metrics_(metrics), instance_(std::move(instance)), flush_(flush) {
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

void MinuteRecorder::start(const boost::asio::any_io_executor& executor) {
  timer_.emplace(executor);
  boost::asio::co_spawn(executor, loop(), boost::asio::detached);
}

void MinuteRecorder::stop() {
  stopping_ = true;
  if (timer_) timer_->cancel();
}

boost::asio::awaitable<void> MinuteRecorder::loop() {
  while (!stopping_) {
    timer_->expires_after(flush_);
    boost::system::error_code ec;
    co_await timer_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (stopping_) co_return;
    const auto now = now_ms();
    auto rows = take_rows(now);
    // Finished minutes whose last write failed go again first.
    rows.insert(rows.begin(), unsent_.begin(), unsent_.end());
    unsent_.clear();
    try {
      const bool purge = now - last_purge_ms_ > 3600LL * 1000;
      co_await pool_.run([&] {
        for (const auto& r : rows) store_.put_metric_minute(r);
        if (purge) store_.purge_metric_minutes(now / 60000 - kRetentionMinutes);
      });
      if (purge) last_purge_ms_ = now;
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
}

void MinuteRecorder::flush_final() {
  try {
    auto rows = take_rows(now_ms());
    rows.insert(rows.begin(), unsent_.begin(), unsent_.end());
    for (const auto& r : rows) store_.put_metric_minute(r);
  } catch (const std::exception& e) {
    log_warn("metric_minutes_write_failed", {{"error", e.what()}});
  }
}

}  // namespace leadgate
