#include "core/log.h"

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <string>

#include "domain/enum_table.h"

namespace leadgate {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_write_mutex;

constexpr auto kLevelNames = std::to_array<const char*>({"debug", "info", "warn", "error"});

const char* level_name(LogLevel level) {
  return enum_entry<LogLevel::error>(kLevelNames, level, "info");
}

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}
}  // namespace

void set_log_level(LogLevel level) {
  g_level = static_cast<int>(level);
}

LogLevel parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  throw std::invalid_argument("must be one of debug, info, warn, error");
}

void log_event(LogLevel level, std::string_view event, boost::json::object fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  boost::json::object line;
  line["ts"] = utc_timestamp();
  line["level"] = level_name(level);
  line["event"] = event;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  std::lock_guard lock(g_write_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace leadgate
