#include "jobs/inbox_processor.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "core/log.h"
#include "crypto/crypto.h"

namespace leadgate {
namespace {

// A claim takes up to kClaim due events. Its delivery receipts are applied together (a few
// statements whatever their number); of the other events, which may each need a live status
// lookup, at most kEventsPerClaim are processed and the rest released at once for the next claim
// (this instance's or another's), so a lease never holds more of them than it was sized for.
constexpr int kClaim = 64;
constexpr int kEventsPerClaim = 8;
constexpr std::int64_t kReceiptsLeaseMs = 30 * 1000;
constexpr int kMaxAttempts = 5;

}  // namespace

InboxProcessor::InboxProcessor(boost::asio::any_io_executor executor, WhatsAppStore& store,
                               BlockingPool& pool, InboxHandlers handlers, const Config& config)
    : loop_(
          executor, {"inbox_processor", config.inbox_poll}, [this] { return step(); },
          [this]() -> boost::asio::awaitable<void> {
            log_info("inbox_processor_stopped", {{"owner", owner_}});
            co_return;
          }),
      store_(store),
      pool_(pool),
      handlers_(std::move(handlers)),
      config_(config),
      owner_("inbox-" + std::to_string(getpid()) + "-" + random_token(8)) {}

void InboxProcessor::start() {
  log_info("inbox_processor_started", {{"owner", owner_}});
  loop_.start();
}

boost::asio::awaitable<bool> InboxProcessor::step() {
  std::vector<InboxEvent> batch;
  // Long enough to apply the receipts and for a live status lookup per other event; an event is
  // only started while its worst case still fits, so a lease never expires under work in
  // progress (and if it did, the unique inbound message id still prevents a second answer).
  const auto per_event =
      (config_.status_timeout + config_.status_retry_delay).count() * config_.status_attempts +
      2000;
  const auto lease_until = now_ms() + kReceiptsLeaseMs + kEventsPerClaim * per_event;
  try {
    const auto now = now_ms();
    batch =
        co_await pool_.run([&] { return store_.claim_inbox(now, kClaim, owner_, lease_until); });
  } catch (const std::exception& e) {
    log_warn("inbox_claim_failed", {{"error", e.what()}});
  }
  std::vector<const InboxEvent*> rest;
  if (!batch.empty()) rest = co_await handlers_.apply_receipts(batch);
  std::size_t processed = batch.size() - rest.size();
  for (std::size_t i = 0; i < rest.size() && static_cast<int>(i) < kEventsPerClaim; ++i) {
    // Unprocessed claims are released (or taken again when their lease expires).
    if (loop_.stopping() || now_ms() + per_event > lease_until) break;
    co_await process(*rest[i]);
    ++processed;
  }
  if (processed < batch.size()) {
    try {
      co_await pool_.run([&] { store_.release_inbox_leases(owner_); });
    } catch (const std::exception& e) {
      log_warn("inbox_release_failed", {{"error", e.what()}});
    }
  }
  co_return static_cast<int>(batch.size()) == kClaim || rest.size() > kEventsPerClaim;
}

boost::asio::awaitable<void> InboxProcessor::process(const InboxEvent& event) {
  std::string error;
  try {
    co_await handlers_.handle(event);
    co_return;
  } catch (const std::exception& e) {
    error = scrub_pii(e.what());
  }
  // A failure (database down, ...) is retried with backoff; after kMaxAttempts the event is kept
  // as failed for an operator.
  const int attempt = event.attempts + 1;
  const std::string state = attempt >= kMaxAttempts ? "failed" : "pending";
  const auto now = now_ms();
  const auto next = now + 1000LL * (1LL << std::min(attempt, 10));
  log_warn("inbox_event_failed", {{"inbox_id", event.id},
                                  {"kind", event.kind},
                                  {"attempt", attempt},
                                  {"state", state},
                                  {"error", error}});
  try {
    co_await pool_.run([&] { store_.finish_inbox(event.id, state, now, next, error); });
  } catch (const std::exception& e) {
    log_warn("inbox_finish_failed", {{"inbox_id", event.id}, {"error", e.what()}});
  }
}

}  // namespace leadgate
