#pragma once
// The skeleton of every background loop (outbox, inbox, purges, gauges, the minute recorder):
// run one step on a strand, then wait `period` unless the step says more work is due now or
// notify() wakes it early. stop() lets the step in hand finish, runs `finally` once and ends the
// loop. A step that throws is logged as `<name>_failed` and tried again after the period.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace leadgate {

class PollingLoop {
 public:
  // One round of work. Returns true when more is due at once (e.g. a full batch was claimed).
  using Step = std::function<boost::asio::awaitable<bool>()>;
  // Runs once after the last step (e.g. releasing leases); its failure is logged too.
  using Finally = std::function<boost::asio::awaitable<void>()>;

  struct Options {
    std::string name;  // for the logs: <name>_failed, <name>_crashed
    std::chrono::steady_clock::duration period;
    bool wait_first = false;  // the first step runs after one period, not at start
  };

  PollingLoop(boost::asio::any_io_executor executor, Options options, Step step,
              Finally finally = {});
  PollingLoop(const PollingLoop&) = delete;
  PollingLoop& operator=(const PollingLoop&) = delete;

  void start();
  void notify();  // look now instead of at the end of the period
  void stop();    // finishes the step in hand, runs `finally`, then the loop ends
  bool stopping() const { return stopping_.load(); }
  bool stopped() const { return stopped_.load(); }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> wait();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  Options options_;
  Step step_;
  Finally finally_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace leadgate
