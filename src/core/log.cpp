#include "core/log.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <utility>

#include "core/log_sink.h"
#include "domain/enum_table.h"

namespace leadgate {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};

constexpr auto kLevelNames = std::to_array<const char*>({"debug", "info", "warn", "error"});

const char* level_name(LogLevel level) {
  return enum_entry<LogLevel::error>(kLevelNames, level, "info");
}

// Appends e.g. 2026-01-02T03:04:05.678Z. The text up to the second is kept per thread: it only
// changes once a second.
void append_utc_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[64];
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  out += cached;
  out.push_back('.');
  out.push_back(static_cast<char>('0' + millis / 100));
  out.push_back(static_cast<char>('0' + millis / 10 % 10));
  out.push_back(static_cast<char>('0' + millis % 10));
  out.push_back('Z');
}

// Process-wide and never destroyed: static destructors that log still find it.
LogSink& stderr_sink() {
  static LogSink* const sink = new LogSink(STDERR_FILENO);
  return *sink;
}

// While AsyncLogging is active: what std::terminate ran before (called after the flush).
std::atomic<std::terminate_handler> g_previous_terminate{nullptr};

[[noreturn]] void flush_then_terminate() {
  stderr_sink().flush_if_unlocked();
  if (auto previous = g_previous_terminate.load()) previous();
  std::abort();
}

// Polls made with nothing to write before the thread sleeps until the next line.
constexpr std::chrono::milliseconds kIdleAfter{200};
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

std::string format_log_line(LogLevel level, std::string_view event, boost::json::object fields) {
  // ts, level and event first, then the fields in their order. A field named like one of the
  // three replaces it (rare: through a JSON object, which keeps each key once).
  if (fields.contains("ts") || fields.contains("level") || fields.contains("event")) {
    std::string ts;
    append_utc_timestamp(ts);
    boost::json::object line;
    line["ts"] = ts;
    line["level"] = level_name(level);
    line["event"] = event;
    for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
    return boost::json::serialize(line) + "\n";
  }
  std::string text;
  text.reserve(256);
  text += R"({"ts":")";
  append_utc_timestamp(text);
  text += R"(","level":")";
  text += level_name(level);
  text += R"(","event":)";
  text += boost::json::serialize(boost::json::string_view(event.data(), event.size()));
  if (!fields.empty()) {
    const std::string rest = boost::json::serialize(fields);  // {"k":v,...}
    text.push_back(',');
    text.append(rest, 1, std::string::npos);
  } else {
    text.push_back('}');
  }
  text.push_back('\n');
  return text;
}

void log_event(LogLevel level, std::string_view event, boost::json::object fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  stderr_sink().write(format_log_line(level, event, std::move(fields)));
}

void flush_logs() {
  stderr_sink().flush();
}

AsyncLogging::AsyncLogging() {
  static const bool at_exit = std::atexit([] { stderr_sink().flush(); }) == 0;
  (void)at_exit;
  g_previous_terminate = std::set_terminate(flush_then_terminate);
  stderr_sink().start();
}

AsyncLogging::~AsyncLogging() {
  stderr_sink().stop();
  std::set_terminate(g_previous_terminate.exchange(nullptr));
}

// ---- LogSink ----

LogSink::LogSink(int fd, Limits limits) : fd_(fd), limits_(limits) {}

LogSink::~LogSink() {
  stop();
}

void LogSink::start() {
  std::lock_guard lock(mutex_);
  if (buffered_) return;
  buffered_ = true;
  stopping_ = false;
  idle_ = false;
  buffer_.reserve(limits_.batch_bytes);
  thread_ = std::thread([this] { run(); });
}

void LogSink::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!buffered_ || stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  std::lock_guard writing(write_mutex_);
  {
    std::lock_guard lock(mutex_);
    buffered_ = false;  // lines from now on wait for write_mutex_, so they follow this batch
    stopping_ = false;
  }
  write_batch();
}

void LogSink::write(std::string_view line) {
  {
    std::unique_lock lock(mutex_);
    if (buffered_) {
      if (buffer_.size() + line.size() > limits_.max_buffered) {
        ++dropped_pending_;
        ++dropped_total_;
        return;
      }
      const bool below_batch = buffer_.size() < limits_.batch_bytes;
      buffer_.append(line);
      // Only a sleeping thread or a full batch is worth a wake-up (a futex call): otherwise the
      // thread's next poll, at most `interval` away, takes the line.
      if (idle_ || (below_batch && buffer_.size() >= limits_.batch_bytes)) {
        idle_ = false;
        lock.unlock();
        wake_.notify_one();
      }
      return;
    }
  }
  std::lock_guard writing(write_mutex_);
  write_all(line);
}

void LogSink::flush() {
  std::lock_guard writing(write_mutex_);
  write_batch();
}

void LogSink::flush_if_unlocked() {
  std::unique_lock writing(write_mutex_, std::try_to_lock);
  if (!writing.owns_lock()) return;
  std::string out;
  {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    out.swap(buffer_);
  }
  write_all(out);
}

std::uint64_t LogSink::dropped_total() const {
  std::lock_guard lock(mutex_);
  return dropped_total_;
}

void LogSink::run() {
  const long polls_before_idle = std::max<long>(1, kIdleAfter / limits_.interval);
  long empty_polls = 0;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (idle_) {
      wake_.wait(lock, [this] { return stopping_ || !idle_; });
    } else {
      wake_.wait_for(lock, limits_.interval,
                     [this] { return stopping_ || buffer_.size() >= limits_.batch_bytes; });
    }
    if (stopping_) break;
    if (buffer_.empty() && dropped_pending_ == 0) {
      if (++empty_polls >= polls_before_idle) idle_ = true;
      continue;
    }
    empty_polls = 0;
    lock.unlock();
    {
      std::lock_guard writing(write_mutex_);
      write_batch();
    }
    lock.lock();
  }
}

void LogSink::write_batch() {
  std::string out;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    if (buffer_.empty() && dropped_pending_ == 0) return;
    out.swap(spare_);   // empty, with the previous batch's capacity
    out.swap(buffer_);  // the lines; the buffer continues in the spare memory
    dropped = std::exchange(dropped_pending_, 0);
  }
  write_all(out);
  if (dropped > 0) {
    write_all(
        format_log_line(LogLevel::warn, "log_lines_dropped",
                        {{"dropped", dropped}, {"max_buffered_bytes", limits_.max_buffered}}));
  }
  out.clear();
  if (out.capacity() > 4 * limits_.batch_bytes) out.shrink_to_fit();  // after a burst
  spare_ = std::move(out);  // only touched with write_mutex_ held
}

void LogSink::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      return;  // a closed or broken stderr: nothing to be done about it
    }
  }
}

}  // namespace leadgate
