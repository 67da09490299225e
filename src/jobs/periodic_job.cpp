#include "jobs/periodic_job.h"

namespace leadgate {

PeriodicJob::PeriodicJob(boost::asio::any_io_executor executor, BlockingPool& pool,
                         PollingLoop::Options options, std::function<void()> work)
    : pool_(pool),
      work_(std::move(work)),
      loop_(std::move(executor), std::move(options), [this]() -> boost::asio::awaitable<bool> {
        co_await pool_.run([this] { work_(); });
        co_return false;
      }) {}

}  // namespace leadgate
