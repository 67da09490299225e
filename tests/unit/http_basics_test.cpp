#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "http/problem.h"
#include "http/router.h"
#include "http/types.h"

namespace leadgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// ---- Router ----

Route route(http::verb method, std::string pattern) {
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(route(http::verb::post, "/api_v1/create_lead"));
    router_.add(route(http::verb::get, "/api_v1/consent/{token}"));
    router_.add(route(http::verb::post, "/api_v1/consent/{token}"));
    router_.add(route(http::verb::get, "/api_v1/leads/{env}/{reference}/status"));
    router_.add(route(http::verb::get, "/healthz"));
    router_.add(route(http::verb::get, "/api_v1/whatsapp/webhook"));
    router_.add(route(http::verb::post, "/api_v1/whatsapp/webhook"));
  }
  Router router_;
};

TEST_F(RouterTest, ExactRoute) {
  auto m = router_.match(http::verb::post, "/api_v1/create_lead");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api_v1/create_lead");
  EXPECT_EQ(m.route->method, http::verb::post);
  EXPECT_TRUE(m.params.empty());
}

TEST_F(RouterTest, SameMethodDifferentPathsPickTheRightRoute) {
  auto get = router_.match(http::verb::get, "/api_v1/whatsapp/webhook");
  auto post = router_.match(http::verb::post, "/api_v1/whatsapp/webhook");
  ASSERT_NE(get.route, nullptr);
  ASSERT_NE(post.route, nullptr);
  EXPECT_EQ(get.route->method, http::verb::get);
  EXPECT_EQ(post.route->method, http::verb::post);
}

TEST_F(RouterTest, ParamCaptured) {
  auto m = router_.match(http::verb::get, "/api_v1/consent/abc123XYZ");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api_v1/consent/{token}");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params.at("token"), "abc123XYZ");
}

TEST_F(RouterTest, SeveralParamsCaptured) {
  auto m = router_.match(http::verb::get, "/api_v1/leads/orbit/LG-42/status");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("env"), "orbit");
  EXPECT_EQ(m.params.at("reference"), "LG-42");
}

TEST_F(RouterTest, ParamMatchesOneSegmentOnly) {
  EXPECT_EQ(router_.match(http::verb::get, "/api_v1/consent/a/b").route, nullptr);
  EXPECT_EQ(router_.match(http::verb::get, "/api_v1/consent").route, nullptr);
}

TEST_F(RouterTest, QueryStringIgnored) {
  auto m = router_.match(http::verb::get, "/api_v1/consent/tok?lang=en&x=/y");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("token"), "tok");
  auto hub = router_.match(
      http::verb::get,
      "/api_v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=t&hub.challenge=1");
  ASSERT_NE(hub.route, nullptr);
  EXPECT_EQ(hub.route->pattern, "/api_v1/whatsapp/webhook");
  auto empty_query = router_.match(http::verb::get, "/healthz?");
  ASSERT_NE(empty_query.route, nullptr);
}

TEST_F(RouterTest, WrongMethodListsAllowedMethods) {
  auto m = router_.match(http::verb::delete_, "/api_v1/consent/tok");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_THAT(m.allowed, UnorderedElementsAre("GET", "POST"));

  auto one = router_.match(http::verb::get, "/api_v1/create_lead");
  EXPECT_EQ(one.route, nullptr);
  EXPECT_THAT(one.allowed, ElementsAre("POST"));
}

TEST_F(RouterTest, NoMatch) {
  for (const char* path : {"/", "/api_v1", "/api_v1/unknown", "/api_v1/create_lead/extra",
                           "/API_V1/create_lead", "/healthz/x"}) {
    SCOPED_TRACE(path);
    auto m = router_.match(http::verb::get, path);
    EXPECT_EQ(m.route, nullptr);
    EXPECT_TRUE(m.allowed.empty());
    EXPECT_TRUE(m.params.empty());
  }
}

TEST(RouterEmpty, NothingMatches) {
  Router r;
  auto m = r.match(http::verb::get, "/healthz");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed.empty());
}

// Found by fuzz/fuzz_http_request.cpp: a trailing '/' and a target without its leading '/'
// were aliases of the route.
TEST(RouterEmptySegment, PathsWithEmptySegmentsOrNoLeadingSlashMatchNothing) {
  Router r;
  r.add(route(http::verb::post, "/api_v1/lead_status"));
  r.add(route(http::verb::get, "/api_v1/consent/{token}"));
  EXPECT_NE(r.match(http::verb::post, "/api_v1/lead_status").route, nullptr);
  for (const char* path :
       {"//api_v1/lead_status", "/api_v1//lead_status", "/api_v1/lead_status//",
        "/api_v1//consent/abc", "/api_v1/consent//abc", "/api_v1/lead_status/",
        "/api_v1/lead_status/?x=1", "api_v1/lead_status", "/api_v1/consent/abc/", "", "/"}) {
    const auto m = r.match(http::verb::post, path);
    EXPECT_EQ(m.route, nullptr) << path;
    EXPECT_TRUE(m.allowed.empty()) << path;
  }
}

TEST(RouterPolicies, RouteCarriesItsFlags) {
  Router r;
  Route open = route(http::verb::get, "/healthz");
  open.requires_api_key = false;
  Route create = route(http::verb::post, "/api_v1/create_lead");
  create.idempotent = true;
  r.add(std::move(open));
  r.add(std::move(create));
  auto h = r.match(http::verb::get, "/healthz");
  ASSERT_NE(h.route, nullptr);
  EXPECT_FALSE(h.route->requires_api_key);
  EXPECT_FALSE(h.route->idempotent);
  auto c = r.match(http::verb::post, "/api_v1/create_lead");
  ASSERT_NE(c.route, nullptr);
  EXPECT_TRUE(c.route->requires_api_key);
  EXPECT_TRUE(c.route->idempotent);
}

// ---- Metrics ----

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The value of the sample line that starts with `series + " "`, or -1 when there is none.
double sample(const std::string& text, const std::string& series) {
  for (const auto& line : lines_of(text)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST(MetricsCap, SeriesBeyondTheCapAreCountedInOneOverflowSeries) {
  Metrics m;
  const auto n = Metrics::kMaxSeriesPerFamily;
  for (std::size_t i = 0; i < n + 500; ++i) {
    m.count("c_total", {{"path", "/p" + std::to_string(i)}});
    m.observe("h_seconds", {{"path", "/p" + std::to_string(i)}}, 0.001);
  }
  m.count("c_total", {{"path", "/p0"}});  // a series admitted before the cap still counts
  const auto families = m.snapshot();
  EXPECT_EQ(families.at("c_total").values.size(), n + 1);
  EXPECT_EQ(families.at("c_total").values.at({{"overflow", "true"}}), 500);
  EXPECT_EQ(families.at("c_total").values.at({{"path", "/p0"}}), 2);
  EXPECT_TRUE(families.at("c_total").overflowed);
  EXPECT_EQ(families.at("h_seconds").histograms.size(), n + 1);
  EXPECT_EQ(families.at("h_seconds").histograms.at({{"overflow", "true"}}).count, 500u);
  EXPECT_EQ(sample(m.render(), "c_total{overflow=\"true\"}"), 500);
}

// Updates from several threads at once, new series among them, lose nothing (no global lock:
// each series is updated atomically), and a render meanwhile sees a consistent histogram.
TEST(MetricsConcurrency, ConcurrentUpdatesAreAllCounted) {
  Metrics m;
  constexpr int kThreads = 4, kUpdates = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kUpdates; ++i) {
        m.count("c_total", {{"route", "/shared"}});
        m.count("c_total", {{"route", "/t" + std::to_string(t)}}, 2);
        m.observe("h_seconds", {{"route", "/shared"}}, i % 2 ? 0.001 : 20);
        m.set_gauge("g", {{"thread", std::to_string(t)}}, i);
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    const std::string text = m.render();
    const double inf = sample(text, "h_seconds_bucket{route=\"/shared\",le=\"+Inf\"}");
    EXPECT_EQ(inf, sample(text, "h_seconds_count{route=\"/shared\"}"));
    EXPECT_LE(sample(text, "h_seconds_bucket{route=\"/shared\",le=\"10\"}"), inf);
  }
  for (auto& t : threads) t.join();
  const auto families = m.snapshot();
  EXPECT_EQ(families.at("c_total").values.at({{"route", "/shared"}}), kThreads * kUpdates);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(families.at("c_total").values.at({{"route", "/t" + std::to_string(t)}}),
              2 * kUpdates);
    EXPECT_EQ(families.at("g").values.at({{"thread", std::to_string(t)}}), kUpdates - 1);
  }
  const auto& h = families.at("h_seconds").histograms.at({{"route", "/shared"}});
  EXPECT_EQ(h.count, std::uint64_t{kThreads} * kUpdates);
  EXPECT_EQ(h.buckets[1], std::uint64_t{kThreads} * kUpdates / 2);      // le 0.001
  EXPECT_EQ(h.buckets.back(), std::uint64_t{kThreads} * kUpdates / 2);  // le 10: not the 20 s
  EXPECT_NEAR(h.sum, kThreads * (kUpdates / 2) * (0.001 + 20), 1e-3);
}

TEST(MetricsRender, NanIsOnlyInTheInfBucket) {
  Metrics m;
  m.observe("h", {}, std::nan(""));
  const std::string text = m.render();
  EXPECT_EQ(sample(text, "h_bucket{le=\"10\"}"), 0);
  EXPECT_EQ(sample(text, "h_bucket{le=\"+Inf\"}"), 1);
  EXPECT_EQ(sample(text, "h_count"), 1);
}

TEST(MethodLabel, ServedMethodsByNameEverythingElseIsOther) {
  for (auto v : {http::verb::get, http::verb::head, http::verb::post, http::verb::put,
                 http::verb::patch, http::verb::delete_, http::verb::options}) {
    EXPECT_TRUE(is_served_method(v));
    const auto name = http::to_string(v);
    EXPECT_EQ(method_label(v), std::string_view(name.data(), name.size()));
  }
  for (auto v : {http::verb::unknown, http::verb::trace, http::verb::connect, http::verb::propfind,
                 http::verb::purge}) {
    EXPECT_FALSE(is_served_method(v));
    EXPECT_EQ(method_label(v), "other");
  }
}

TEST(MetricsRender, EmptyIsEmpty) {
  Metrics m;
  EXPECT_EQ(m.render(), "");
}

TEST(MetricsRender, CounterWithLabels) {
  Metrics m;
  m.describe("leadgate_http_requests_total", "counter", "HTTP requests by route and status.");
  m.count("leadgate_http_requests_total", {{"route", "/api_v1/create_lead"}, {"status", "201"}});
  m.count("leadgate_http_requests_total", {{"route", "/api_v1/create_lead"}, {"status", "201"}});
  m.count("leadgate_http_requests_total", {{"route", "/healthz"}, {"status", "200"}}, 3);
  const std::string text = m.render();
  EXPECT_THAT(text, HasSubstr("# HELP leadgate_http_requests_total HTTP requests by route and "
                              "status.\n# TYPE leadgate_http_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("leadgate_http_requests_total{route=\"/api_v1/create_lead\","
                              "status=\"201\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("leadgate_http_requests_total{route=\"/healthz\",status=\"200\"} 3\n"));
}

TEST(MetricsRender, CounterWithoutLabelsAndWithoutHelp) {
  Metrics m;
  m.count("leadgate_things_total", {});
  EXPECT_EQ(m.render(), "# TYPE leadgate_things_total counter\nleadgate_things_total 1\n");
}

TEST(MetricsRender, Gauge) {
  Metrics m;
  m.set_gauge("leadgate_outbox_pending", {{"environment", "orbit"}}, 5);
  m.set_gauge("leadgate_outbox_pending", {{"environment", "orbit"}}, 2);
  EXPECT_EQ(m.render(),
            "# TYPE leadgate_outbox_pending gauge\nleadgate_outbox_pending{environment=\"orbit\"} "
            "2\n");
}

TEST(MetricsRender, LabelValuesEscaped) {
  Metrics m;
  m.count("x_total", {{"v", "a\"b\\c\nd"}});
  EXPECT_THAT(m.render(), HasSubstr("x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsRender, HistogramBucketsCumulativeWithInfSumAndCount) {
  Metrics m;
  const Labels labels{{"route", "/r"}};
  m.observe("lat_seconds", labels, 0.0004);  // every bucket
  m.observe("lat_seconds", labels, 0.003);   // from 0.005
  m.observe("lat_seconds", labels, 0.2);     // from 0.25
  m.observe("lat_seconds", labels, 42);      // only +Inf
  const std::string text = m.render();
  EXPECT_THAT(text, HasSubstr("# TYPE lat_seconds histogram\n"));

  // Collect the bucket lines in order: le values ascending, counts never decreasing.
  std::vector<std::pair<std::string, double>> buckets;
  for (const auto& line : lines_of(text)) {
    const std::string prefix = "lat_seconds_bucket{route=\"/r\",le=\"";
    if (line.rfind(prefix, 0) != 0) continue;
    const auto end = line.find("\"}", prefix.size());
    ASSERT_NE(end, std::string::npos) << line;
    buckets.emplace_back(line.substr(prefix.size(), end - prefix.size()),
                         std::stod(line.substr(end + 3)));
  }
  ASSERT_EQ(buckets.size(), Metrics::kBuckets.size() + 1);
  for (std::size_t i = 0; i < Metrics::kBuckets.size(); ++i) {
    EXPECT_DOUBLE_EQ(std::stod(buckets[i].first), Metrics::kBuckets[i]) << i;
    if (i > 0) {
      EXPECT_GE(buckets[i].second, buckets[i - 1].second) << "cumulative at " << i;
    }
  }
  EXPECT_EQ(buckets.back().first, "+Inf");
  EXPECT_EQ(buckets.back().second, 4);

  auto bucket_for = [&](double le) {
    for (std::size_t i = 0; i < Metrics::kBuckets.size(); ++i) {
      if (Metrics::kBuckets[i] == le) return buckets[i].second;
    }
    return -1.0;
  };
  EXPECT_EQ(bucket_for(0.0005), 1);
  EXPECT_EQ(bucket_for(0.0025), 1);
  EXPECT_EQ(bucket_for(0.005), 2);
  EXPECT_EQ(bucket_for(0.1), 2);
  EXPECT_EQ(bucket_for(0.25), 3);
  EXPECT_EQ(bucket_for(10), 3);

  EXPECT_NEAR(sample(text, "lat_seconds_sum{route=\"/r\"}"), 0.0004 + 0.003 + 0.2 + 42, 1e-9);
  EXPECT_EQ(sample(text, "lat_seconds_count{route=\"/r\"}"), 4);
}

TEST(MetricsRender, BoundaryValueFallsInItsBucket) {
  Metrics m;
  m.observe("h", {}, 0.5);  // le is inclusive
  const std::string text = m.render();
  EXPECT_EQ(sample(text, "h_bucket{le=\"0.5\"}"), 1);
  EXPECT_EQ(sample(text, "h_bucket{le=\"0.25\"}"), 0);
  EXPECT_EQ(sample(text, "h_bucket{le=\"+Inf\"}"), 1);
  EXPECT_EQ(sample(text, "h_sum"), 0.5);
  EXPECT_EQ(sample(text, "h_count"), 1);
}

// The SLO alert rules (docs/prometheus/leadgate-alerts.yml) read the share of requests faster
// than each threshold straight from a bucket: le="1" (webhook), "2" (OTP), "3" (status lookup),
// "5" (lead creation). Dropping or renaming one of these buckets breaks those rules.
TEST(MetricsBuckets, SortedAndIncludeEverySloThreshold) {
  for (std::size_t i = 1; i < Metrics::kBuckets.size(); ++i) {
    EXPECT_LT(Metrics::kBuckets[i - 1], Metrics::kBuckets[i]) << "ascending at " << i;
  }
  for (double threshold : {1.0, 2.0, 3.0, 5.0}) {
    EXPECT_NE(std::find(Metrics::kBuckets.begin(), Metrics::kBuckets.end(), threshold),
              Metrics::kBuckets.end())
        << threshold << " s is an SLO threshold";
  }
}

TEST(MetricsRender, SloThresholdBucketsRenderedAsPlainNumbers) {
  Metrics m;
  const Labels labels{{"route", "/r"}};
  m.observe("lat_seconds", labels, 0.9);  // within every SLO threshold
  m.observe("lat_seconds", labels, 2);    // exactly 2 s: good for OTP (le is inclusive)
  m.observe("lat_seconds", labels, 2.7);  // between 2.5 and 3
  m.observe("lat_seconds", labels, 4);    // within 5 only
  m.observe("lat_seconds", labels, 6);    // beyond every SLO threshold
  const std::string text = m.render();
  EXPECT_EQ(sample(text, "lat_seconds_bucket{route=\"/r\",le=\"1\"}"), 1);
  EXPECT_EQ(sample(text, "lat_seconds_bucket{route=\"/r\",le=\"2\"}"), 2);
  EXPECT_EQ(sample(text, "lat_seconds_bucket{route=\"/r\",le=\"2.5\"}"), 2);
  EXPECT_EQ(sample(text, "lat_seconds_bucket{route=\"/r\",le=\"3\"}"), 3);
  EXPECT_EQ(sample(text, "lat_seconds_bucket{route=\"/r\",le=\"5\"}"), 4);
  EXPECT_EQ(sample(text, "lat_seconds_bucket{route=\"/r\",le=\"10\"}"), 5);
  EXPECT_EQ(sample(text, "lat_seconds_bucket{route=\"/r\",le=\"+Inf\"}"), 5);
  EXPECT_EQ(sample(text, "lat_seconds_count{route=\"/r\"}"), 5);
}

TEST(MetricsRender, HistogramLabelSetsKeptApart) {
  Metrics m;
  m.observe("h", {{"call", "a"}}, 0.01);
  m.observe("h", {{"call", "b"}}, 0.01);
  m.observe("h", {{"call", "b"}}, 0.01);
  const std::string text = m.render();
  EXPECT_EQ(sample(text, "h_count{call=\"a\"}"), 1);
  EXPECT_EQ(sample(text, "h_count{call=\"b\"}"), 2);
  EXPECT_EQ(sample(text, "h_bucket{call=\"b\",le=\"+Inf\"}"), 2);
}

TEST(MetricsRender, EveryFamilyHasOneTypeLine) {
  Metrics m;
  m.count("a_total", {{"k", "1"}});
  m.count("a_total", {{"k", "2"}});
  m.observe("b_seconds", {}, 1);
  const std::string text = m.render();
  int type_lines = 0;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("# TYPE ", 0) == 0) ++type_lines;
  }
  EXPECT_EQ(type_lines, 2);
  EXPECT_THAT(text, HasSubstr("# TYPE a_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE b_seconds histogram\n"));
}

// ---- Problem details ----

boost::json::object parse_object(const std::string& text) {
  return boost::json::parse(text).as_object();
}

TEST(ProblemBody, StandardAndExtensionMembers) {
  auto body = parse_object(problem_body(404, "LEAD_NOT_FOUND", "No such lead", "req-1", {}));
  EXPECT_EQ(body.at("type"), "about:blank");
  EXPECT_EQ(body.at("title"), "Not Found");
  EXPECT_EQ(body.at("status"), 404);
  EXPECT_EQ(body.at("detail"), "No such lead");
  EXPECT_EQ(body.at("success"), false);
  EXPECT_EQ(body.at("code"), "LEAD_NOT_FOUND");
  EXPECT_EQ(body.at("request_id"), "req-1");
  EXPECT_FALSE(body.contains("errors")) << "errors only for 422 or when there are some";
}

TEST(ProblemBody, ValidationErrorsListed) {
  auto body = parse_object(
      problem_body(422, "VALIDATION_ERROR", "Invalid request", "req-2",
                   {{"pan", "Invalid PAN number format"}, {"mobile", "Invalid mobile number"}}));
  EXPECT_EQ(body.at("title"), "Unprocessable Content");
  EXPECT_EQ(body.at("status"), 422);
  const auto& errors = body.at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].at("field"), "pan");
  EXPECT_EQ(errors[0].at("message"), "Invalid PAN number format");
  EXPECT_EQ(errors[1].at("field"), "mobile");
  EXPECT_EQ(errors[1].at("message"), "Invalid mobile number");
}

TEST(ProblemBody, ErrorsArrayPresentFor422EvenWhenEmpty) {
  auto body = parse_object(problem_body(422, "IDEMPOTENCY_KEY_REUSED", "d", "r", {}));
  ASSERT_TRUE(body.contains("errors"));
  ASSERT_TRUE(body.at("errors").is_array());
  EXPECT_TRUE(body.at("errors").as_array().empty());
}

TEST(ProblemBody, ExtraMembersMerged) {
  auto body =
      parse_object(problem_body(409, "DUPLICATE_LEAD", "Lead exists", "req-3", {},
                                {{"basic_application_id", "B002BJF"}, {"reference_id", "LG-1"}}));
  EXPECT_EQ(body.at("title"), "Conflict");
  EXPECT_EQ(body.at("basic_application_id"), "B002BJF");
  EXPECT_EQ(body.at("reference_id"), "LG-1");
  EXPECT_EQ(body.at("success"), false);
}

TEST(ProblemBody, TitlesForEveryStatusTheServiceUses) {
  EXPECT_EQ(problem_title(400), "Bad Request");
  EXPECT_EQ(problem_title(401), "Unauthorized");
  EXPECT_EQ(problem_title(403), "Forbidden");
  EXPECT_EQ(problem_title(404), "Not Found");
  EXPECT_EQ(problem_title(405), "Method Not Allowed");
  EXPECT_EQ(problem_title(409), "Conflict");
  EXPECT_EQ(problem_title(413), "Content Too Large");
  EXPECT_EQ(problem_title(415), "Unsupported Media Type");
  EXPECT_EQ(problem_title(422), "Unprocessable Content");
  EXPECT_EQ(problem_title(429), "Too Many Requests");
  EXPECT_EQ(problem_title(500), "Internal Server Error");
  EXPECT_EQ(problem_title(503), "Service Unavailable");
  EXPECT_THAT(problem_title(418), Not(""));
}

TEST(ProblemBody, JsonSpecialCharactersSurvive) {
  const std::string detail = "bad \"value\"\n\\ \xe2\x82\xb9";
  auto body = parse_object(problem_body(400, "BAD_REQUEST", detail, "r", {}));
  EXPECT_EQ(body.at("detail").as_string(), detail);
}

TEST(ApiErrorType, CarriesEverything) {
  ApiError e(429, "RATE_LIMITED", "Slow down", {{"f", "m"}}, 7);
  EXPECT_EQ(e.status(), 429);
  EXPECT_EQ(e.code(), "RATE_LIMITED");
  EXPECT_STREQ(e.what(), "Slow down");
  ASSERT_EQ(e.errors().size(), 1u);
  EXPECT_EQ(e.errors()[0].field, "f");
  EXPECT_EQ(e.retry_after_seconds(), 7);
  ServiceUnavailable su("db down", 3);
  EXPECT_EQ(su.retry_after(), 3);
}

}  // namespace
}  // namespace leadgate
