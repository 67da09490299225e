// The per-request observability of the HTTP path (issue 19): the access log line that
// request_id_middleware writes and the metric updates of metrics_middleware, alone and from two
// threads at once (leadgate's default I/O thread count). Run with stderr redirected to a file, as
// the service's log is: `leadgate_micro_bench --benchmark_filter=Log 2>/tmp/log.txt`.
// (`__has_include`: the file also builds against the logger before core/log_sink.h existed, for
// the A/B in bench/README.md.)
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/log.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#if __has_include("crypto/request_id.h")
#include "crypto/request_id.h"
#endif
#if __has_include("core/log_sink.h")
#include "core/log_sink.h"
#define LEADGATE_HAS_ASYNC_LOGGING 1
#endif

namespace {

void log_access_line() {
  leadgate::log_info("http_request", {{"request_id", "0f8b7a52-4c1e-4a53-9a0e-5f0c8d2e7b61"},
                                      {"method", "GET"},
                                      {"route", "/healthz"},
                                      {"status", 200},
                                      {"duration_ms", 0.042},
                                      {"environment", ""},
                                      {"client_ip", "127.0.0.1"}});
}

// Written synchronously: one write(2) per line (the CLI's mode; the server's before issue 19).
void BM_AccessLogLine(benchmark::State& state) {
  for (auto _ : state) log_access_line();
}
BENCHMARK(BM_AccessLogLine)->Threads(1)->Threads(2)->UseRealTime();

#ifdef LEADGATE_HAS_ASYNC_LOGGING
// As the server logs: appended to the buffer that the background thread writes.
std::unique_ptr<leadgate::AsyncLogging> g_async;
void BM_AccessLogLineBuffered(benchmark::State& state) {
  for (auto _ : state) log_access_line();
}
BENCHMARK(BM_AccessLogLineBuffered)
    ->Setup([](const benchmark::State&) { g_async = std::make_unique<leadgate::AsyncLogging>(); })
    ->Teardown([](const benchmark::State&) { g_async.reset(); })
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
#endif

// The caller's part alone: its fields object built, the line filtered out by the log level.
void BM_AccessLogFieldsOnly(benchmark::State& state) {
  leadgate::set_log_level(leadgate::LogLevel::error);
  for (auto _ : state) log_access_line();
  leadgate::set_log_level(leadgate::LogLevel::info);
}
BENCHMARK(BM_AccessLogFieldsOnly);

// A new request id (request_id_middleware, when the client sends none): before issue 19 a
// uuid_v4 (OpenSSL's RAND_bytes), now a correlation_uuid (a per-thread generator).
void BM_RequestIdUuidV4(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(leadgate::uuid_v4());
}
BENCHMARK(BM_RequestIdUuidV4)->Threads(1)->Threads(2)->UseRealTime();

#if __has_include("crypto/request_id.h")
void BM_RequestIdCorrelationUuid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(leadgate::correlation_uuid());
}
BENCHMARK(BM_RequestIdCorrelationUuid)->Threads(1)->Threads(2)->UseRealTime();
#endif

leadgate::Metrics& shared_metrics() {
  static leadgate::Metrics metrics;
  return metrics;
}

// What metrics_middleware does once per request.
void BM_RequestMetrics(benchmark::State& state) {
  auto& metrics = shared_metrics();
  const std::string route = state.thread_index() == 0 ? "/healthz" : "/api_v1/lead_status";
  for (auto _ : state) {
    metrics.count("leadgate_http_requests_total", {{"route", route},
                                                   {"method", "GET"},
                                                   {"status", std::to_string(200)},
                                                   {"environment", "orbit"}});
    metrics.observe("leadgate_http_request_duration_seconds",
                    {{"route", route}, {"environment", "orbit"}, {"outcome", "ok"}}, 0.0004);
  }
}
BENCHMARK(BM_RequestMetrics)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
