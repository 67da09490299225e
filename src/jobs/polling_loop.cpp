#include "jobs/polling_loop.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "core/log.h"

namespace leadgate {

PollingLoop::PollingLoop(boost::asio::any_io_executor executor, Options options, Step step,
                         Finally finally)
    : strand_(boost::asio::make_strand(executor)),
      timer_(strand_),
      options_(std::move(options)),
      step_(std::move(step)),
      finally_(std::move(finally)) {}

void PollingLoop::start() {
  boost::asio::co_spawn(strand_, run(), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_error(options_.name + "_crashed", {{"error", ex.what()}});
      }
    }
    stopped_ = true;
  });
}

void PollingLoop::notify() {
  boost::asio::post(strand_, [this] { timer_.cancel(); });
}

void PollingLoop::stop() {
  stopping_ = true;
  notify();
}

boost::asio::awaitable<void> PollingLoop::wait() {
  timer_.expires_after(options_.period);
  boost::system::error_code ec;
  co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

boost::asio::awaitable<void> PollingLoop::run() {
  if (options_.wait_first && !stopping_) co_await wait();
  while (!stopping_) {
    bool more = false;
    try {
      more = co_await step_();
    } catch (const std::exception& e) {
      log_warn(options_.name + "_failed", {{"error", e.what()}});
    }
    if (stopping_) break;
    if (!more) co_await wait();
  }
  if (finally_) {
    try {
      co_await finally_();
    } catch (const std::exception& e) {
      log_warn(options_.name + "_failed", {{"error", e.what()}});
    }
  }
}

}  // namespace leadgate
