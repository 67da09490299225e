#pragma once
// A background loop whose round is one blocking function run on the BlockingPool (the store's
// threads): the hourly purges, the backlog gauges and the minute recorder's flush. The loop and
// its logging are PollingLoop's; the work is passed in, so that a job needs no service.
#include <boost/asio/any_io_executor.hpp>
#include <functional>

#include "core/offload.h"
#include "jobs/polling_loop.h"

namespace leadgate {

class PeriodicJob {
 public:
  PeriodicJob(boost::asio::any_io_executor executor, BlockingPool& pool,
              PollingLoop::Options options, std::function<void()> work);
  void start() { loop_.start(); }
  void stop() { loop_.stop(); }  // finishes the round in hand, then the loop ends

 private:
  BlockingPool& pool_;
  std::function<void()> work_;
  PollingLoop loop_;
};

}  // namespace leadgate
