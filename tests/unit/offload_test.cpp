#include "core/offload.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <thread>
#include <vector>

namespace leadgate {
namespace {

namespace asio = boost::asio;

TEST(BlockingPool, RunsWorkOffTheCallingThreadAndReturnsItsValue) {
  BlockingPool pool(1, 4);
  asio::io_context ioc;
  const auto caller = std::this_thread::get_id();
  auto result = asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<bool> {
        co_return co_await pool.run([&] { return std::this_thread::get_id() != caller; });
      },
      asio::use_future);
  ioc.run();
  EXPECT_TRUE(result.get());
}

TEST(BlockingPool, PropagatesExceptions) {
  BlockingPool pool(1, 4);
  asio::io_context ioc;
  auto result = asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await pool.run([] { throw std::runtime_error("boom"); });
      },
      asio::use_future);
  ioc.run();
  EXPECT_THROW(result.get(), std::runtime_error);
}

// A full queue fails fast with ServiceUnavailable (503 + Retry-After) instead of piling up.
TEST(BlockingPool, FullQueueFailsFast) {
  BlockingPool pool(1, 2);
  asio::io_context ioc;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> started{0};
  auto block = [&]() -> asio::awaitable<void> {
    co_await pool.run([&] {
      ++started;
      released.wait();
    });
  };
  auto first = asio::co_spawn(ioc, block(), asio::use_future);
  auto second = asio::co_spawn(ioc, block(), asio::use_future);
  auto third = asio::co_spawn(ioc, block(), asio::use_future);
  std::thread runner([&] { ioc.run(); });
  EXPECT_THROW(third.get(), ServiceUnavailable);
  release.set_value();
  first.get();
  second.get();
  runner.join();
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(pool.waiting(), 0);
}

// The estimated queue wait: 0 while a thread is free; with calls queued behind a busy thread,
// about their number times the average run time (what load shedding compares with an SLO).
TEST(BlockingPool, EstimatesTheQueueWaitFromTheAverageRunTime) {
  BlockingPool pool(1, 1000);
  asio::io_context ioc;
  EXPECT_EQ(pool.estimated_wait(), 0.0);
  auto nap = [&]() -> asio::awaitable<void> {
    co_await pool.run([] { std::this_thread::sleep_for(std::chrono::milliseconds(10)); });
  };
  for (int i = 0; i < 48; ++i) {  // one after another: the average approaches 10 ms
    auto done = asio::co_spawn(ioc, nap(), asio::use_future);
    ioc.run();
    ioc.restart();
    done.get();
    EXPECT_EQ(pool.estimated_wait(), 0.0);
  }
  std::promise<void> release;
  auto released = release.get_future().share();
  auto block = [&]() -> asio::awaitable<void> { co_await pool.run([&] { released.wait(); }); };
  std::vector<std::future<void>> calls;
  calls.push_back(asio::co_spawn(ioc, block(), asio::use_future));
  for (int i = 0; i < 20; ++i) calls.push_back(asio::co_spawn(ioc, nap(), asio::use_future));
  std::thread runner([&] { ioc.run(); });
  while (pool.waiting() < 21) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double wait = pool.estimated_wait();  // 20 queued x ~10 ms
  EXPECT_GT(wait, 0.1);
  EXPECT_LT(wait, 0.6);
  release.set_value();
  for (auto& c : calls) c.get();
  runner.join();
  EXPECT_EQ(pool.estimated_wait(), 0.0);
}

}  // namespace
}  // namespace leadgate
