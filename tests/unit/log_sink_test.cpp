#include "core/log_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace leadgate {
namespace {

using namespace std::chrono_literals;

// A temporary file the sink writes to; read back whole.
class TempLog {
 public:
  TempLog() {
    char name[] = "/tmp/leadgate_log_sink_XXXXXX";
    fd_ = ::mkstemp(name);
    path_ = name;
  }
  ~TempLog() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  std::string text() const {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(text());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  // Waits up to 5 s for the file to hold at least `n` lines.
  bool wait_for_lines(std::size_t n) const {
    for (int i = 0; i < 500; ++i) {
      if (lines().size() >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

std::string numbered(int thread, int n) {
  return "line " + std::to_string(thread) + " " + std::to_string(n) + "\n";
}

// A sink that writes only when told (or when a batch is full): the interval is an hour.
constexpr LogSink::Limits kManual{std::chrono::hours(1), 1 << 20, 8 << 20};

TEST(LogSink, WritesEachLineAtOnceUntilStarted) {
  TempLog file;
  LogSink sink(file.fd(), kManual);
  sink.write("one\n");
  EXPECT_EQ(file.text(), "one\n");
}

TEST(LogSink, BuffersOnceStartedAndFlushWritesEverythingInOrder) {
  TempLog file;
  LogSink sink(file.fd(), kManual);
  sink.start();
  for (int i = 0; i < 1000; ++i) sink.write(numbered(0, i));
  EXPECT_EQ(file.text(), "");  // nothing written by the callers themselves
  sink.flush();
  const auto lines = file.lines();
  ASSERT_EQ(lines.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(lines[i] + "\n", numbered(0, i));
}

TEST(LogSink, TheThreadWritesWithinTheInterval) {
  TempLog file;
  LogSink sink(file.fd(), {5ms, 64 * 1024, 8 << 20});
  sink.start();
  sink.write("soon\n");
  EXPECT_TRUE(file.wait_for_lines(1));
  // After a quiet spell the thread sleeps until the next line, which still arrives promptly.
  std::this_thread::sleep_for(300ms);
  sink.write("after a pause\n");
  EXPECT_TRUE(file.wait_for_lines(2));
  EXPECT_EQ(file.text(), "soon\nafter a pause\n");
}

TEST(LogSink, AFullBatchIsWrittenBeforeTheInterval) {
  TempLog file;
  LogSink sink(file.fd(), {std::chrono::hours(1), 1000, 8 << 20});
  sink.start();
  const std::string line(99, 'x');
  for (int i = 0; i < 11; ++i) sink.write(line + "\n");
  EXPECT_TRUE(file.wait_for_lines(10));
}

TEST(LogSink, ConcurrentWritersKeepEachThreadsOrderAndLoseNothing) {
  TempLog file;
  LogSink sink(file.fd(), {1ms, 4096, 8 << 20});
  sink.start();
  constexpr int kThreads = 4, kLines = 5000;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&sink, t] {
      for (int i = 0; i < kLines; ++i) sink.write(numbered(t, i));
    });
  }
  for (auto& w : writers) w.join();
  sink.flush();
  std::vector<int> next(kThreads, 0);
  for (const auto& line : file.lines()) {
    std::istringstream in(line);
    std::string word;
    int t = -1, n = -1;
    in >> word >> t >> n;
    ASSERT_GE(t, 0) << line;
    ASSERT_LT(t, kThreads) << line;
    EXPECT_EQ(n, next[t]) << "thread " << t << " out of order";
    next[t] = n + 1;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kLines) << t;
  EXPECT_EQ(sink.dropped_total(), 0u);
}

TEST(LogSink, BeyondTheCapLinesAreDroppedCountedAndReported) {
  TempLog file;
  LogSink sink(file.fd(), {std::chrono::hours(1), 1 << 20, 1000});
  sink.start();
  const std::string line(99, 'x');
  for (int i = 0; i < 100; ++i) sink.write(line + "\n");  // 10 fit in 1000 bytes
  EXPECT_EQ(sink.dropped_total(), 90u);
  sink.flush();
  auto lines = file.lines();
  ASSERT_EQ(lines.size(), 11u);
  const auto notice = boost::json::parse(lines.back()).as_object();
  EXPECT_EQ(notice.at("event"), "log_lines_dropped");
  EXPECT_EQ(notice.at("level"), "warn");
  EXPECT_EQ(notice.at("dropped").to_number<int>(), 90);
  // Space is back: lines are kept again, and the notice is not repeated.
  sink.write("again\n");
  sink.flush();
  lines = file.lines();
  ASSERT_EQ(lines.size(), 12u);
  EXPECT_EQ(lines.back(), "again");
}

TEST(LogSink, StopWritesTheRestAndThenWritesLineByLine) {
  TempLog file;
  LogSink sink(file.fd(), kManual);
  sink.start();
  sink.write("buffered\n");
  sink.stop();
  EXPECT_EQ(file.text(), "buffered\n");
  sink.write("direct\n");
  EXPECT_EQ(file.text(), "buffered\ndirect\n");
  sink.start();  // and again
  sink.write("buffered again\n");
  EXPECT_EQ(file.text(), "buffered\ndirect\n");
}  // the destructor writes it

TEST(LogSink, DestructorWritesWhatIsBuffered) {
  TempLog file;
  {
    LogSink sink(file.fd(), kManual);
    sink.start();
    sink.write("last words\n");
  }
  EXPECT_EQ(file.text(), "last words\n");
}

TEST(LogLine, JsonWithTimestampLevelEventAndFields) {
  const std::string text =
      format_log_line(LogLevel::warn, "something_odd", {{"count", 3}, {"who", "a \"b\""}});
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  const auto line = boost::json::parse(text).as_object();
  EXPECT_EQ(line.at("level"), "warn");
  EXPECT_EQ(line.at("event"), "something_odd");
  EXPECT_EQ(line.at("count"), 3);
  EXPECT_EQ(line.at("who"), "a \"b\"");
  const std::string ts(line.at("ts").as_string());
  EXPECT_EQ(ts.size(), 24u) << ts;  // 2026-01-01T00:00:00.000Z
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(LogLine, KeysInOrderAndAFieldNamedLikeAFixedKeyReplacesIt) {
  EXPECT_EQ(format_log_line(LogLevel::info, "e", {{"a", 1}, {"b", true}}).substr(32),
            R"(,"level":"info","event":"e","a":1,"b":true})"
            "\n");
  const auto line =
      boost::json::parse(format_log_line(LogLevel::info, "e", {{"event", "other"}})).as_object();
  EXPECT_EQ(line.size(), 3u);
  EXPECT_EQ(line.at("event"), "other");
}

}  // namespace
}  // namespace leadgate
