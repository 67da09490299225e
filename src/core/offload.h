#pragma once
// Runs blocking work (store calls, file I/O) on a bounded worker pool and resumes the awaiting
// coroutine on its own executor, so I/O threads never block. It keeps a moving average of how
// long a call runs, from which estimated_wait() tells how long a call submitted now would queue:
// load shedding (http/middleware.h) compares that with the route's SLO. `max_waiting` is only a
// memory bound: past it a call fails fast with ServiceUnavailable (503 + Retry-After).
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <type_traits>

#include "core/errors.h"
#include "core/metrics.h"

namespace leadgate {

class BlockingPool {
 public:
  // With `metrics`, every call's time from submission to completion (queueing included) is
  // observed as leadgate_database_operation_seconds: the store's latency as the service sees it.
  BlockingPool(int threads, int max_waiting, Metrics* metrics = nullptr)
      : pool_(static_cast<std::size_t>(threads)),
        threads_(threads),
        max_waiting_(max_waiting),
        metrics_(metrics) {}
  ~BlockingPool() { pool_.join(); }

  // Pass a lambda that captures by reference only ([&]): g++ 12 can destroy a temporary that
  // appears in a co_await expression twice, which is harmless only for trivially destructible
  // objects. The awaiting coroutine outlives the call, so references stay valid.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> run(F f) {
    static_assert(std::is_trivially_destructible_v<F>, "capture by reference: see above");
    using R = std::invoke_result_t<F>;
    if (waiting_.fetch_add(1) >= max_waiting_) {
      waiting_.fetch_sub(1);
      throw ServiceUnavailable("blocking work queue is full", 1);
    }
    struct Release {
      std::atomic<int>& n;
      Metrics* metrics;
      std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
      ~Release() {
        n.fetch_sub(1);
        if (metrics) {
          metrics->observe(
              "leadgate_database_operation_seconds", {},
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        }
      }
    } release{waiting_, metrics_};
    // A coroutine function, not a capturing coroutine lambda: g++ 12 mishandles the captures of
    // lambda coroutines passed as temporaries (double destruction).
    co_return co_await boost::asio::co_spawn(
        pool_.get_executor(), invoke<R>(std::move(f), average_run_), boost::asio::use_awaitable);
  }

  void stop() { pool_.join(); }
  int waiting() const { return waiting_.load(); }
  // Seconds a call submitted now would wait for a thread: the calls ahead of it beyond the
  // threads' count, times the average run time, shared by the threads.
  double estimated_wait() const {
    const int queued = waiting_.load(std::memory_order_relaxed) - threads_;
    if (queued <= 0) return 0;
    return queued * average_run_.load(std::memory_order_relaxed) / threads_;
  }
  int max_waiting() const { return max_waiting_; }

 private:
  // Observes one run into the moving average (weight 1/16; races between threads only blur it).
  struct RunTimer {
    std::atomic<double>& average;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    ~RunTimer() {
      const double took =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const double before = average.load(std::memory_order_relaxed);
      average.store(before + (took - before) / 16, std::memory_order_relaxed);
    }
  };

  template <class R, class F>
  static boost::asio::awaitable<R> invoke(F fn, std::atomic<double>& average) {
    RunTimer timer{average};
    if constexpr (std::is_void_v<R>) {
      fn();
      co_return;
    } else {
      co_return fn();
    }
  }

  boost::asio::thread_pool pool_;
  int threads_;
  std::atomic<int> waiting_{0};
  std::atomic<double> average_run_{0};  // seconds
  int max_waiting_;
  Metrics* metrics_;
};

}  // namespace leadgate
