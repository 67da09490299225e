#include "jobs/outbox_dispatcher.h"

#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <exception>

#include "core/log.h"
#include "domain/outbox_payload.h"

namespace leadgate {
namespace {
constexpr int kBatch = 16;
constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;  // the customer cap's rolling window
}  // namespace

OutboxDispatcher::OutboxDispatcher(boost::asio::any_io_executor executor, OutboxStore& store,
                                   WhatsAppStore& opt_outs, VerificationStore& limits,
                                   BlockingPool& pool, WhatsAppSender& sender,
                                   const PiiCipher& cipher, const Config& config, Metrics& metrics)
    : loop_(
          executor, {"outbox_dispatcher", config.outbox_poll}, [this] { return step(); },
          [this]() -> boost::asio::awaitable<void> {
            co_await release_leases();
            log_info("outbox_dispatcher_stopped", {{"owner", owner_}});
          }),
      store_(store),
      chats_(opt_outs),
      limits_(limits),
      pool_(pool),
      sender_(sender),
      cipher_(cipher),
      config_(config),
      metrics_(metrics),
      owner_("instance-" + std::to_string(getpid()) + "-" + random_token(8)) {
  metrics_.describe("leadgate_outbox_attempts_total", "counter",
                    "Outbox delivery attempts by kind and outcome");
}

void OutboxDispatcher::start() {
  log_info("outbox_dispatcher_started", {{"owner", owner_}, {"sandbox", sender_.sandboxed()}});
  loop_.start();
}

boost::asio::awaitable<bool> OutboxDispatcher::step() {
  std::vector<OutboxMessage> batch;
  const auto timeout = config_.gupshup_timeout.count();
  // Short, so that rows held by an instance that died are picked up again soon.
  const auto lease_until = now_ms() + 2 * timeout + 5000;
  try {
    const auto now = now_ms();
    batch =
        co_await pool_.run([&] { return store_.claim_outbox(now, kBatch, owner_, lease_until); });
  } catch (const std::exception& e) {
    log_warn("outbox_claim_failed", {{"error", e.what()}});
  }
  std::size_t delivered = 0;
  for (const auto& message : batch) {
    // Never start a send that could outlast the lease: another instance may claim the row
    // once it expires, and the provider would then see the message twice.
    if (loop_.stopping() || now_ms() + timeout + 2000 > lease_until) break;
    co_await deliver(message);
    ++delivered;
  }
  if (delivered < batch.size()) co_await release_leases();
  co_return static_cast<int>(batch.size()) == kBatch;
}

boost::asio::awaitable<void> OutboxDispatcher::release_leases() {
  try {
    co_await pool_.run([&] { store_.release_outbox_leases(owner_); });
  } catch (const std::exception& e) {
    log_warn("outbox_release_failed", {{"error", e.what()}});
  }
}

boost::asio::awaitable<void> OutboxDispatcher::deliver(const OutboxMessage& m) {
  OutboxAttempt attempt;
  attempt.outbox_id = m.id;
  attempt.attempt = m.attempts + 1;
  attempt.started_at = now_ms();
  std::string destination;
  bool retryable = true;
  bool suppressed = false;
  try {
    suppressed = co_await send(m, attempt, destination);
    if (!suppressed) attempt.outcome = "accepted";
  } catch (const PartnerError& e) {
    attempt.outcome = "failed";
    attempt.http_status = e.http_status;
    attempt.error = e.what();
    retryable = e.retryable;  // e.g. Gupshup refusing the number: retrying cannot help
  } catch (const StoreUnavailable& e) {
    attempt.outcome = "failed";  // the opt-out check could not be made: retry later
    attempt.error = std::string("database unavailable: ") + e.what();
  } catch (const ServiceUnavailable& e) {
    attempt.outcome = "failed";
    attempt.error = std::string("busy: ") + e.what();
  } catch (const std::exception& e) {
    // An unreadable payload or unknown environment will not get better by retrying.
    attempt.outcome = "failed";
    attempt.error = std::string("undeliverable: ") + e.what();
    retryable = false;
  }
  attempt.duration_ms = now_ms() - attempt.started_at;
  co_await record(m, attempt, destination, suppressed, retryable);
}

boost::asio::awaitable<bool> OutboxDispatcher::send(const OutboxMessage& m, OutboxAttempt& attempt,
                                                    std::string& destination) {
  const OutboxPayload payload = parse_outbox_payload(m.kind, cipher_.open("outbox", m.payload_enc));
  destination = payload.destination;
  const auto& env = config_.env(m.environment);
  const std::string& environment = m.environment;
  const std::string bidx =
      destination.size() == 12 ? cipher_.blind_index("mobile", destination.substr(2)) : "";
  // A customer who sent STOP gets no notifications in that environment until START; only the
  // opt-out confirmations and answers to their own messages are exempt.
  if (!payload.exempt_opt_out && !bidx.empty()) {
    const bool opted_out =
        co_await pool_.run([&] { return chats_.is_opted_out(environment, bidx); });
    if (opted_out) {
      attempt.outcome = "suppressed";
      attempt.error = "recipient opted out of WhatsApp messages";
      co_return true;
    }
  }
  std::optional<std::int64_t> slot;
  if (payload.customer_notification && !bidx.empty()) {
    slot = co_await take_customer_slot(environment, bidx);
    if (!slot) {
      attempt.outcome = "suppressed";
      attempt.error = "customer message limit reached (" +
                      std::to_string(config_.customer_messages_per_day) +
                      " notifications in 24 hours)";
      co_return true;
    }
  }
  std::exception_ptr failed;
  try {
    // Arguments are named: no temporaries inside the co_await expressions (see core/offload.h).
    if (m.kind == "whatsapp_template") {
      attempt.provider_message_id =
          co_await sender_.send_template(env, destination, payload.template_id, payload.params);
    } else {
      attempt.provider_message_id = co_await sender_.send_text(env, destination, payload.text);
    }
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    // Not sent (or not confirmed): the slot is given back; a retry takes one again.
    if (slot) {
      const std::int64_t id = *slot;
      try {
        co_await pool_.run([&] { limits_.release_rate_event(id); });
      } catch (const std::exception& e) {
        log_warn("outbox_slot_release_failed", {{"outbox_id", m.id}, {"error", e.what()}});
      }
    }
    std::rethrow_exception(failed);
  }
  co_return false;
}

boost::asio::awaitable<std::optional<std::int64_t>> OutboxDispatcher::take_customer_slot(
    const std::string& environment, const std::string& phone_bidx) {
  const std::string scope = "wa_customer:" + environment + ":" + phone_bidx;
  const std::int64_t now = now_ms();
  const int cap = config_.customer_messages_per_day;
  const RateDecision d = co_await pool_.run(
      [&] { return limits_.reserve_rate_event(scope, now, kDayMs, cap, /*cooldown_ms=*/0); });
  if (!d.allowed) co_return std::nullopt;
  co_return d.event_id;
}

boost::asio::awaitable<void> OutboxDispatcher::record(const OutboxMessage& m,
                                                      const OutboxAttempt& attempt,
                                                      const std::string& destination,
                                                      bool suppressed, bool retryable) {
  std::string status = suppressed ? "suppressed" : "sent";
  std::int64_t next = attempt.started_at;
  if (attempt.outcome != "accepted" && !suppressed) {
    if (!retryable || attempt.attempt >= config_.outbox_max_attempts) {
      status = "dead";
    } else {
      status = "pending";
      next = now_ms() + backoff_delay(config_.outbox_backoff, attempt.attempt).count();
    }
  }
  metrics_.count("leadgate_outbox_attempts_total",
                 {{"kind", m.kind}, {"environment", m.environment}, {"outcome", status}});
  log_event(
      status == "sent" || suppressed ? LogLevel::info : LogLevel::warn, "outbox_attempt",
      {{"outbox_id", m.id},
       {"environment", m.environment},
       {"kind", m.kind},
       {"attempt", attempt.attempt},
       {"destination", mask_mobile(destination.size() > 10 ? destination.substr(2) : destination)},
       {"result", status},
       {"provider_message_id", attempt.provider_message_id},
       {"error", attempt.error}});
  try {
    co_await pool_.run([&] { store_.finish_outbox_attempt(attempt, status, next); });
  } catch (const std::exception& e) {
    // The lease expires and the row is retried; the provider may then see it twice.
    log_error("outbox_record_failed", {{"outbox_id", m.id}, {"error", e.what()}});
  }
}

}  // namespace leadgate
