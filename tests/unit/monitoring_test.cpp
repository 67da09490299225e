// The dashboard's numbers: per-minute deltas of the metrics registry, their aggregation over
// instances and windows, percentiles from buckets, SLO attainment, and the ops session cookie.
#include "services/monitoring.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "services/auth.h"
#include "services/dashboard.h"

namespace leadgate {
namespace {
namespace json = boost::json;

constexpr std::int64_t kNow = 1'795'633'414'000;  // 2026-11-25T18:10:14Z
constexpr std::int64_t kMinute = kNow / 60000;

MetricMinute row(std::int64_t minute, const std::string& instance, const Metrics& before,
                 const Metrics& after) {
  return {minute, 1, instance, encode_minute_delta(before.snapshot(), after.snapshot()), kNow};
}

MetricMinute row(std::int64_t minute, const std::string& instance, const Metrics& after) {
  return row(minute, instance, Metrics{}, after);
}

void request(Metrics& m, const std::string& route, int status, const std::string& env,
             double seconds) {
  m.count("leadgate_http_requests_total", {{"route", route},
                                           {"method", "POST"},
                                           {"status", std::to_string(status)},
                                           {"environment", env}});
  if (status >= 400) {
    m.count("leadgate_http_errors_total", {{"route", route},
                                           {"status", std::to_string(status)},
                                           {"code", status == 422 ? "VALIDATION_ERROR" : "X"},
                                           {"environment", env}});
  }
  m.observe("leadgate_http_request_duration_seconds",
            {{"route", route}, {"environment", env}, {"outcome", status >= 500 ? "error" : "ok"}},
            seconds);
}

const json::object& slo_named(const json::object& data, std::string_view name) {
  for (const auto& s : data.at("slos").as_array()) {
    if (s.as_object().at("name").as_string() == name) return s.as_object();
  }
  throw std::runtime_error("no such SLO");
}

TEST(MinuteDelta, CountersAndHistogramsAreDifferencesGaugesAreValues) {
  Metrics m;
  m.count("c_total", {{"k", "a"}}, 3);
  m.count("idle_total", {}, 5);
  m.observe("h_seconds", {}, 0.004);
  m.set_gauge("g", {}, 7);
  const auto before = m.snapshot();
  m.count("c_total", {{"k", "a"}}, 2);
  m.observe("h_seconds", {}, 0.02);
  m.set_gauge("g", {}, 9);
  const auto payload = json::parse(encode_minute_delta(before, m.snapshot())).as_object();
  const auto& c = payload.at("c").as_array();
  ASSERT_EQ(c.size(), 1u);  // idle_total did not change: left out
  EXPECT_EQ(c[0].as_array()[0].as_string(), "c_total");
  EXPECT_EQ(c[0].as_array()[1].as_object().at("k").as_string(), "a");
  EXPECT_EQ(c[0].as_array()[2].to_number<double>(), 2.0);
  const auto& h = payload.at("h").as_array()[0].as_array();
  EXPECT_EQ(h[2].to_number<double>(), 1.0);  // one new observation
  EXPECT_NEAR(h[3].to_number<double>(), 0.02, 1e-12);
  const auto& buckets = h[4].as_array();
  EXPECT_EQ(buckets[4].to_number<double>(), 0.0);  // le=0.01: 0.02 is not in it
  EXPECT_EQ(buckets[5].to_number<double>(), 1.0);  // le=0.025
  EXPECT_EQ(payload.at("g").as_array()[0].as_array()[2].to_number<double>(), 9.0);
}

TEST(HistogramQuantile, InterpolatesInsideTheBucketLikePrometheus) {
  std::array<double, Metrics::kBuckets.size()> cum{};
  // 10 observations in (0.001, 0.0025], 10 in (0.0025, 0.005].
  for (std::size_t i = 2; i < cum.size(); ++i) cum[i] = i == 2 ? 10 : 20;
  EXPECT_NEAR(*histogram_quantile(0.5, cum, 20), 0.0025, 1e-12);
  EXPECT_NEAR(*histogram_quantile(0.75, cum, 20), 0.0025 + 0.0025 * 0.5, 1e-12);
  EXPECT_NEAR(*histogram_quantile(0.25, cum, 20), 0.001 + 0.0015 * 0.5, 1e-12);
  EXPECT_FALSE(histogram_quantile(0.5, {}, 0));
  // Everything beyond the last finite bound: the bound.
  std::array<double, Metrics::kBuckets.size()> slow{};
  EXPECT_EQ(*histogram_quantile(0.99, slow, 4), 10.0);
}

TEST(DashboardWindow, EndsWithTheCurrentBucketAndAlignsToTheStep) {
  DashboardQuery q;
  q.now_ms = kNow;
  auto w = dashboard_window(q);
  EXPECT_EQ(w.to_minute, kMinute + 1);
  EXPECT_EQ(w.from_minute, kMinute - 59);
  q.range = DashboardRange::day;
  w = dashboard_window(q);
  EXPECT_EQ(w.step_minutes, 15);
  EXPECT_EQ(w.to_minute % 15, 0);
  EXPECT_EQ(w.to_minute - w.from_minute, 96 * 15);
  EXPECT_LE(w.to_minute - 15, kMinute);
  q.range = DashboardRange::week;
  w = dashboard_window(q);
  EXPECT_EQ(w.to_minute - w.from_minute, 168 * 60);
  EXPECT_EQ(parse_dashboard_range(""), DashboardRange::hour);
  EXPECT_EQ(parse_dashboard_range("week"), DashboardRange::week);
  EXPECT_FALSE(parse_dashboard_range("month"));
}

TEST(DashboardData, SumsInstancesFiltersEnvironmentsAndLeavesOutOperationalRoutes) {
  Metrics a, b;
  request(a, "/api_v1/create_lead", 200, "orbit", 0.004);
  request(a, "/api_v1/create_lead", 422, "orbit", 0.001);
  request(b, "/api_v1/create_lead", 200, "homfinity", 0.004);
  request(b, "/dashboard/data", 200, "", 0.001);  // watching is not traffic
  request(b, "/metrics", 200, "", 0.001);
  a.count("leadgate_leads_created_total", {{"environment", "orbit"}});
  b.count("leadgate_leads_created_total", {{"environment", "homfinity"}});
  a.count("leadgate_otp_sent_total", {{"environment", "orbit"}}, 4);
  a.count("leadgate_otp_verified_total", {{"environment", "orbit"}}, 3);
  a.count("leadgate_whatsapp_inbound_total",
          {{"environment", "orbit"}, {"type", "text"}, {"classification", "status"}}, 2);
  a.count("leadgate_whatsapp_replies_total", {{"environment", "orbit"}, {"kind", "status"}});
  a.count("leadgate_whatsapp_replies_total", {{"environment", "orbit"}, {"kind", "fallback"}});
  std::vector<MetricMinute> rows{row(kMinute - 1, "a", a), row(kMinute - 1, "b", b),
                                 row(kMinute - 100, "a", a)};  // outside the hour
  DashboardQuery q;
  q.now_ms = kNow;
  auto all = dashboard_data(rows, q);
  const auto& s = all.at("summary").as_object();
  EXPECT_EQ(s.at("requests").to_number<double>(), 3.0);
  EXPECT_EQ(s.at("errors_4xx").to_number<double>(), 1.0);
  EXPECT_NEAR(s.at("success_rate").to_number<double>(), 0.6667, 1e-9);
  EXPECT_EQ(s.at("leads_created").to_number<double>(), 2.0);
  EXPECT_EQ(s.at("otp_success_rate").to_number<double>(), 0.75);
  EXPECT_EQ(s.at("assistant_accuracy").to_number<double>(), 0.5);
  EXPECT_TRUE(s.at("avg_lead_processing_seconds").is_null());
  EXPECT_EQ(all.at("instances").as_array().size(), 2u);
  EXPECT_EQ(all.at("endpoints").as_array().size(), 1u);
  const auto& types = all.at("error_types").as_array();
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types[0].as_object().at("code").as_string(), "VALIDATION_ERROR");
  const auto& series = all.at("series").as_object().at("requests").as_array();
  ASSERT_EQ(series.size(), 60u);
  EXPECT_EQ(series[58].to_number<double>(), 3.0);
  EXPECT_EQ(series[59].to_number<double>(), 0.0);

  q.environment = "homfinity";
  auto hom = dashboard_data(rows, q);
  EXPECT_EQ(hom.at("summary").as_object().at("requests").to_number<double>(), 1.0);
  EXPECT_EQ(hom.at("summary").as_object().at("leads_created").to_number<double>(), 1.0);
  EXPECT_TRUE(hom.at("summary").as_object().at("otp_success_rate").is_null());
  EXPECT_EQ(hom.at("environment").as_string(), "homfinity");
}

TEST(DashboardData, SloCountsSlowAnswersAndServerErrorsOnceEach) {
  Metrics m;
  for (int i = 0; i < 996; ++i) request(m, "/api_v1/otp_send", 200, "orbit", 0.1);
  request(m, "/api_v1/otp_verify", 200, "orbit", 2.0);  // exactly at the threshold: good
  request(m, "/api_v1/otp_verify", 200, "orbit", 2.4);  // slow
  request(m, "/api_v1/otp_send", 503, "orbit", 0.01);   // fast but 5xx
  request(m, "/api_v1/otp_send", 503, "orbit", 2.4);    // slow and 5xx: one bad request
  DashboardQuery q;
  q.now_ms = kNow;
  const auto data = dashboard_data({row(kMinute, "a", m)}, q);
  const auto& otp = slo_named(data, "OTP send/verify");
  EXPECT_EQ(otp.at("total").to_number<double>(), 1000.0);
  EXPECT_EQ(otp.at("good").to_number<double>(), 997.0);
  EXPECT_NEAR(otp.at("attainment").to_number<double>(), 0.997, 1e-9);
  EXPECT_NEAR(otp.at("error_budget_remaining").to_number<double>(), 0.4, 1e-9);  // 3 of 5 spent
  EXPECT_TRUE(otp.at("met").as_bool());
  const auto& webhook = slo_named(data, "WhatsApp webhook");
  EXPECT_EQ(webhook.at("total").to_number<double>(), 0.0);
  EXPECT_EQ(webhook.at("attainment").to_number<double>(), 1.0);
  EXPECT_EQ(webhook.at("error_budget_remaining").to_number<double>(), 1.0);

  Metrics worse;
  for (int i = 0; i < 10; ++i) request(worse, "/api_v1/create_lead", 200, "orbit", 6.0);
  const auto breached = dashboard_data({row(kMinute, "a", worse)}, q);
  const auto& lead = slo_named(breached, "Lead creation");
  EXPECT_FALSE(lead.at("met").as_bool());
  EXPECT_EQ(lead.at("error_budget_remaining").to_number<double>(), 0.0);
}

TEST(DashboardData, GaugesTakeTheLatestMinuteSharedOnesTheMaximumProcessOnesTheSum) {
  Metrics a1, a2, b2;
  a1.set_gauge("leadgate_database_size_bytes", {}, 1000);
  a2.set_gauge("leadgate_database_size_bytes", {}, 1500);
  b2.set_gauge("leadgate_database_size_bytes", {}, 1400);
  a2.set_gauge("leadgate_outbox_messages", {{"status", "pending"}}, 3);
  b2.set_gauge("leadgate_outbox_messages", {{"status", "pending"}}, 4);
  a2.set_gauge("process_resident_memory_bytes", {}, 10e6);
  b2.set_gauge("process_resident_memory_bytes", {}, 20e6);
  a2.set_gauge("leadgate_database_up", {}, 1);
  DashboardQuery q;
  q.now_ms = kNow;
  const auto data = dashboard_data(
      {row(kMinute - 3, "a", a1), row(kMinute - 1, "a", a2), row(kMinute - 1, "b", b2)}, q);
  const auto& s = data.at("summary").as_object();
  EXPECT_EQ(s.at("database_size_bytes").to_number<double>(), 1500.0);
  EXPECT_EQ(s.at("database_growth_bytes").to_number<double>(), 500.0);
  EXPECT_EQ(s.at("outbox_pending").to_number<double>(), 4.0);
  EXPECT_EQ(s.at("rss_bytes").to_number<double>(), 30e6);
  EXPECT_TRUE(s.at("db_up").as_bool());
  EXPECT_TRUE(s.at("outbox_dead").is_null());
}

TEST(DashboardData, CpuIsCpuSecondsOverTheSecondsCovered) {
  Metrics before, after;
  before.describe("process_cpu_seconds_total", "counter", "");
  after.describe("process_cpu_seconds_total", "counter", "");
  before.set_gauge("process_cpu_seconds_total", {}, 10);
  after.set_gauge("process_cpu_seconds_total", {}, 16);  // 6 s of CPU in a full minute: 10 %
  DashboardQuery q;
  q.now_ms = kNow;
  const auto data = dashboard_data({row(kMinute - 1, "a", before, after)}, q);
  EXPECT_NEAR(data.at("summary").as_object().at("cpu_percent").to_number<double>(), 10.0, 1e-9);
}

TEST(DashboardData, IgnoresRowsThatAreNotItsPayload) {
  DashboardQuery q;
  q.now_ms = kNow;
  std::vector<MetricMinute> rows{
      {kMinute, 1, "a", "not json", kNow},
      {kMinute, 1, "b", R"({"c":[[1,2,3],["x"]],"h":[{}],"g":7})", kNow}};
  const auto data = dashboard_data(rows, q);
  EXPECT_EQ(data.at("summary").as_object().at("requests").to_number<double>(), 0.0);
}

TEST(OpsScope, KeysCanCarryItButNoOtherUnknownScope) {
  EXPECT_EQ(make_api_key("ops", {"ops"}).row.environments, std::vector<std::string>{"ops"});
  EXPECT_NO_THROW(make_api_key("both", {"orbit", "ops"}));
  EXPECT_THROW(make_api_key("x", {"admin"}), std::invalid_argument);
}

}  // namespace
}  // namespace leadgate
