#include "services/webhook_intake.h"

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <utility>

#include "core/log.h"
#include "domain/text.h"
#include "http/problem.h"

namespace leadgate {

std::optional<std::string> webhook_challenge(const std::map<std::string, std::string>& query,
                                             const std::string& expected) {
  auto get = [&](const char* dotted, const char* underscored) -> std::optional<std::string> {
    if (auto it = query.find(dotted); it != query.end()) return it->second;
    if (auto it = query.find(underscored); it != query.end()) return it->second;
    return std::nullopt;
  };
  const auto mode = get("hub.mode", "hub_mode");
  const auto token = get("hub.verify_token", "hub_verify_token");
  const auto challenge = get("hub.challenge", "hub_challenge");
  if (!mode || *mode != "subscribe" || !token || !challenge || expected.empty()) {
    return std::nullopt;
  }
  if (!constant_time_equals(*token, expected)) return std::nullopt;
  return challenge;
}

bool valid_meta_signature(const std::string& secret, std::string_view body,
                          std::string_view header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (secret.empty() || !header.starts_with(kPrefix)) return false;
  const std::string expected = hex_encode(hmac_sha256(secret, body));
  return constant_time_equals(lower(header.substr(kPrefix.size())), expected);
}

bool ip_allowed(const std::string& allow_list, const std::string& ip) {
  if (trim(allow_list).empty()) return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(ip, ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  std::size_t start = 0;
  while (start <= allow_list.size()) {
    auto end = allow_list.find(',', start);
    if (end == std::string::npos) end = allow_list.size();
    const std::string entry(trim(std::string_view(allow_list).substr(start, end - start)));
    start = end + 1;
    if (entry.empty()) continue;
    if (entry.find('/') != std::string::npos) {
      auto network = boost::asio::ip::make_network_v4(entry, ec);
      if (!ec && address.is_v4()) {
        const auto a = address.to_v4().to_uint();
        const auto mask = network.netmask().to_uint();
        if ((a & mask) == (network.network().to_uint() & mask)) return true;
      }
      continue;
    }
    auto allowed = boost::asio::ip::make_address(entry, ec);
    if (!ec && allowed == address) return true;
  }
  return false;
}

std::string environment_for(const Config& config, Provider provider,
                            const std::string& to_business_number) {
  for (const auto& [name, env] : config.envs) {
    if (provider == Provider::gupshup) {
      if (!to_business_number.empty() && lower(to_business_number) == lower(env.gupshup_app_name)) {
        return name;
      }
    } else {
      const std::string to = digits_of(to_business_number);
      if (!to.empty() && to == digits_of(env.gupshup_source)) return name;
    }
  }
  return "";
}

std::vector<InboxEvent> inbox_events(const WebhookBatch& batch, const Config& config,
                                     const PiiCipher& cipher, std::int64_t now) {
  const std::string provider(provider_name(batch.provider));
  std::vector<InboxEvent> out;
  auto add = [&](std::string event_id, const std::string& environment, const InboxItem& item) {
    InboxEvent e;
    e.provider = provider;
    e.event_id = std::move(event_id);
    e.environment = environment;
    e.kind = inbox_kind(item);
    e.payload_enc = cipher.seal("inbox", to_json(item));
    e.received_at = now;
    e.next_attempt_at = now;
    out.push_back(std::move(e));
  };
  for (const auto& m : batch.messages) {
    add(provider + ":message:" + m.provider_message_id,
        environment_for(config, batch.provider, m.to_business_number), m);
  }
  for (const auto& s : batch.statuses) add(s.event_id, "", s);
  for (const auto& u : batch.user_events) {
    // The event's natural id contains the phone number: keyed-hashed so it is not stored in
    // clear (it only has to be unique and stable across redeliveries).
    add(provider + ":user-event:" + cipher.blind_index("inbox_event", u.event_id),
        environment_for(config, batch.provider, u.to_business_number), u);
  }
  return out;
}

InboxWriter::InboxWriter(WhatsAppStore& store, BlockingPool& pool, int max_waiting)
    : store_(store), pool_(pool), max_waiting_(static_cast<std::size_t>(max_waiting)) {}

boost::asio::awaitable<std::vector<char>> InboxWriter::write(
    const std::vector<InboxEvent>& events) {
  if (events.empty()) co_return std::vector<char>{};
  const auto executor = co_await boost::asio::this_coro::executor;
  // The initiation captures references only (see BlockingPool::run on g++ 12 and temporaries in
  // a co_await expression); `events` lives in the awaiting frame until completion.
  co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                 void(std::exception_ptr, std::vector<char>)>(
      [this, &events, &executor](auto handler) {
        // The handler is move-only; std::function needs a copyable target.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto target = boost::asio::get_associated_executor(*shared, executor);
        start(Waiter{&events,
                     [shared, target](std::exception_ptr error, std::vector<char> fresh) {
                       boost::asio::post(target,
                                         [shared, error, fresh = std::move(fresh)]() mutable {
                                           (*shared)(error, std::move(fresh));
                                         });
                     }},
              executor);
      },
      boost::asio::use_awaitable);
}

void InboxWriter::start(Waiter waiter, const boost::asio::any_io_executor& executor) {
  bool spawn = false;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= max_waiting_) {
      waiter.complete(std::make_exception_ptr(ServiceUnavailable("webhook inbox queue is full", 1)),
                      {});
      return;
    }
    queue_.push_back(std::move(waiter));
    spawn = writers_ < kMaxWriters;
    if (spawn) ++writers_;
  }
  if (spawn) boost::asio::co_spawn(executor, flush(), boost::asio::detached);
}

boost::asio::awaitable<void> InboxWriter::flush() {
  for (;;) {
    std::vector<Waiter> batch;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        --writers_;
        co_return;
      }
      batch.swap(queue_);
    }
    std::vector<InboxEvent> merged;
    for (const auto& w : batch) merged.insert(merged.end(), w.events->begin(), w.events->end());
    std::vector<char> fresh;
    std::exception_ptr error;
    try {
      co_await pool_.run([&] { store_.insert_inbox(merged, &fresh); });
      if (fresh.size() != merged.size()) throw std::logic_error("insert_inbox: no flag per event");
    } catch (...) {
      error = std::current_exception();
    }
    auto next = fresh.begin();
    for (auto& w : batch) {
      if (error) {
        w.complete(error, {});
        continue;
      }
      const auto n = static_cast<std::ptrdiff_t>(w.events->size());
      w.complete(nullptr, std::vector<char>(next, next + n));
      next += n;
    }
  }
}

WebhookIntake::WebhookIntake(WhatsAppStore& store, const ServiceDeps& deps,
                             std::function<void()> on_stored)
    : store_(store),
      deps_(deps),
      on_stored_(std::move(on_stored)),
      writer_(store, deps.pool, deps.pool.max_waiting()) {
  deps_.metrics.describe({
      {"leadgate_webhook_events_total", "counter",
       "Inbound webhook items received (new and redelivered), by provider and kind"},
      {"leadgate_webhook_duplicates_total", "counter",
       "Inbound webhook items dropped as redeliveries, by provider"},
      {"leadgate_webhook_rejected_total", "counter",
       "Inbound webhook callbacks refused, by reason"},
  });
}

boost::asio::awaitable<int> WebhookIntake::accept(const std::string& body,
                                                  const WebhookCredentials& creds) {
  auto reject = [&](int status, const char* code, const char* reason, std::string detail) {
    deps_.metrics.count("leadgate_webhook_rejected_total", {{"reason", reason}});
    log_warn("webhook_rejected", {{"reason", reason}, {"client_ip", creds.client_ip}});
    return ApiError(status, code, std::move(detail));
  };
  // Authentication first, on the raw bytes: an unauthenticated body never reaches the parser. A
  // signature claims a Meta callback; anything else must carry the Gupshup token.
  const Provider claimed = creds.signature.empty() ? Provider::gupshup : Provider::meta;
  if (claimed == Provider::meta) {
    if (deps_.config.meta_app_secret.empty()) {
      throw reject(401, "UNAUTHENTICATED", "meta_not_configured",
                   "Meta-format webhooks are not accepted: LEADGATE_META_APP_SECRET is not set");
    }
    if (!valid_meta_signature(deps_.config.meta_app_secret, body, creds.signature)) {
      throw reject(401, "UNAUTHENTICATED", "signature", "Missing or invalid X-Hub-Signature-256");
    }
  } else {
    const std::string& expected = deps_.config.gupshup_webhook_token;
    if (expected.empty()) {
      if (!deps_.config.gupshup_sandboxed()) {
        throw reject(401, "UNAUTHENTICATED", "gupshup_not_configured",
                     "Gupshup webhooks are not accepted: LEADGATE_GUPSHUP_WEBHOOK_TOKEN is not "
                     "set");
      }
    } else if (!constant_time_equals(creds.path_token, expected) &&
               !constant_time_equals(creds.header_token, expected)) {
      throw reject(401, "UNAUTHENTICATED", "token", "Missing or invalid webhook token");
    }
    if (!ip_allowed(deps_.config.gupshup_webhook_ips, creds.client_ip)) {
      throw reject(403, "FORBIDDEN_SOURCE", "source_ip",
                   "This source address may not call the webhook");
    }
  }
  auto parsed = parse_webhook(body);
  if (auto* error = std::get_if<PayloadError>(&parsed)) {
    throw reject(400, "MALFORMED_WEBHOOK", "malformed",
                 "Unrecognised webhook body: " + error->message);
  }
  const auto& batch = std::get<WebhookBatch>(parsed);
  if (batch.provider != claimed) {
    // A Gupshup token does not stand in for a Meta signature, nor the reverse.
    throw reject(401, "UNAUTHENTICATED", claimed == Provider::meta ? "token" : "signature",
                 claimed == Provider::meta ? "A signed callback must be in Meta's format"
                                           : "Missing or invalid X-Hub-Signature-256");
  }
  const auto events = inbox_events(batch, deps_.config, deps_.cipher, now_ms());
  const auto stored = co_await writer_.write(events);
  const auto fresh = static_cast<int>(std::count(stored.begin(), stored.end(), 1));
  const std::string provider(provider_name(batch.provider));
  for (const auto& e : events) {
    deps_.metrics.count("leadgate_webhook_events_total",
                        {{"provider", provider}, {"kind", e.kind}});
  }
  if (fresh > 0 && on_stored_) on_stored_();
  const auto duplicates = static_cast<int>(events.size()) - fresh;
  if (duplicates > 0) {
    deps_.metrics.count("leadgate_webhook_duplicates_total", {{"provider", provider}}, duplicates);
  }
  co_return fresh;
}

}  // namespace leadgate
