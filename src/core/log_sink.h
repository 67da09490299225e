#pragma once
// Where log_event's lines go (core/log.h). Lines are written one write(2) each until an
// AsyncLogging guard exists (the server holds one while it runs): then log_event only appends the
// line to a buffer in memory, and a background thread writes the buffer every few milliseconds
// with one write(2). The guard's end, flush_logs(), std::terminate and exit() write whatever is
// buffered.
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/log.h"

namespace leadgate {

// The JSON line (with its '\n') log_event writes: ts, level, event, then `fields`.
std::string format_log_line(LogLevel level, std::string_view event, boost::json::object fields);

// Writes every line logged so far to stderr before it returns.
void flush_logs();

// While one exists, log lines go to stderr through a buffer written by a background thread (see
// LogSink). Its destructor writes everything buffered; lines are then written one by one again.
class AsyncLogging {
 public:
  AsyncLogging();
  ~AsyncLogging();
  AsyncLogging(const AsyncLogging&) = delete;
  AsyncLogging& operator=(const AsyncLogging&) = delete;
};

// A file descriptor for log lines, written synchronously (one write(2) per line) until start(),
// then through a buffer that a background thread writes with one write(2) per batch: every
// `interval`, or sooner once `batch_bytes` are waiting. A line that would take the buffer past
// `max_buffered` is dropped and counted (a caller never waits for the disk or the pipe); after the
// next batch, a warning line `log_lines_dropped` says how many were lost.
class LogSink {
 public:
  struct Limits {
    std::chrono::milliseconds interval{5};
    std::size_t batch_bytes = 64 * 1024;
    std::size_t max_buffered = 8 * 1024 * 1024;
  };
  explicit LogSink(int fd) : LogSink(fd, Limits{}) {}
  LogSink(int fd, Limits limits);
  ~LogSink();  // stop()
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  void start();  // buffered from now on (no-op when already started)
  void stop();   // writes what is buffered, joins the thread; synchronous from now on
  void write(std::string_view line);  // one complete line, '\n' included
  void flush();                       // writes what is buffered before it returns
  // flush() for std::terminate: gives up rather than wait for a lock another thread holds.
  void flush_if_unlocked();
  std::uint64_t dropped_total() const;

 private:
  void run();
  void write_batch();  // with write_mutex_ held
  void write_all(std::string_view bytes);

  const int fd_;
  const Limits limits_;
  std::mutex write_mutex_;  // one writer of fd_ at a time: batches leave in order
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string buffer_;
  std::string spare_;  // the previous batch's memory, reused
  std::uint64_t dropped_pending_ = 0;
  std::uint64_t dropped_total_ = 0;
  bool buffered_ = false;
  bool stopping_ = false;
  bool idle_ = false;  // the thread sleeps until a line arrives (nothing logged for a while)
  std::thread thread_;
};

}  // namespace leadgate
