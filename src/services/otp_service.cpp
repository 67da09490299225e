#include "services/otp_service.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/log.h"
#include "services/customer_tokens.h"
#include "services/privacy.h"

namespace leadgate {
namespace {

// Consent links are stored by the hash of their token only.
std::string consent_token_hash(const std::string& token) {
  return hex_encode(sha256(token));
}

}  // namespace

OtpService::OtpService(VerificationStore& store, const ServiceDeps& deps, WhatsAppSender& sender)
    : store_(store), deps_(deps), sender_(sender) {
  deps_.metrics.describe({
      {"leadgate_otp_sent_total", "counter", "OTPs delivered, by environment"},
      {"leadgate_otp_verified_total", "counter", "OTPs verified, by environment"},
      {"leadgate_otp_failed_total", "counter",
       "OTP sends and verifies that failed, by environment and reason"},
      {"leadgate_consent_requested_total", "counter", "Consent requests sent, by environment"},
      {"leadgate_consent_granted_total", "counter",
       "Consents granted (\"I agree\" on the link's page), by environment"},
  });
}

std::string OtpService::code_hash(const std::string& environment, const std::string& phone,
                                  const std::string& code) const {
  // HMAC with a key derived from the server's master key, bound to environment and phone.
  return deps_.cipher.blind_index("otp", environment + ":" + phone + ":" + code);
}

// Per API key (one client cannot pump WhatsApp costs) and per phone, in one reservation: both
// events are recorded, or none. A refusal names the limit that refused, the key's first.
boost::asio::awaitable<std::vector<std::int64_t>> OtpService::reserve(
    const std::string& key_id, const std::string& environment, const std::string& bidx) {
  const auto& policy = deps_.config.otp;
  const std::vector<RateRule> rules{
      {"otp-key:" + key_id, 60 * 1000, policy.key_sends_per_minute, 0},
      {"otp:" + environment + ":" + bidx, policy.send_window_ms, policy.max_sends,
       policy.resend_cooldown_ms},
  };
  const auto now = now_ms();
  const RateReservation r =
      co_await deps_.pool.run([&] { return store_.reserve_rate_events(rules, now); });
  if (!r.allowed) {
    const int seconds = static_cast<int>((r.retry_after_ms + 999) / 1000);
    throw ApiError(429, r.refused_rule == 0 ? "RATE_LIMITED" : "OTP_RATE_LIMITED",
                   "Too many OTP requests; retry in " + std::to_string(seconds) + " seconds", {},
                   seconds > 0 ? seconds : 1);
  }
  co_return r.event_ids;
}

boost::asio::awaitable<void> OtpService::deliver(const EnvironmentConfig& env,
                                                 const std::string& phone,
                                                 const std::string& purpose,
                                                 const std::vector<std::string>& params) {
  const std::string destination = "91" + phone;
  const std::string& template_id = env.templates.at(purpose);
  std::optional<PartnerError> failure;
  for (int attempt = 1; attempt <= 2; ++attempt) {  // one retry, after a definite failure only
    try {
      co_await sender_.send_template(env, destination, template_id, params);
      co_return;
    } catch (const PartnerError& e) {
      failure = e;
    }
    log_warn("otp_delivery_failed", {{"environment", env.name},
                                     {"purpose", purpose},
                                     {"attempt", attempt},
                                     {"destination", mask_mobile(phone)},
                                     {"outcome_unknown", failure->outcome_unknown},
                                     {"error", failure->what()}});
    // A send that may have reached the customer (a timeout after the request was written) is
    // never repeated: a slow provider would otherwise deliver every copy.
    if (!failure->retryable || failure->outcome_unknown) break;
  }
  throw *failure;
}

boost::asio::awaitable<void> OtpService::deliver_code(const EnvironmentConfig& env,
                                                      const std::string& phone, const OtpCode& otp,
                                                      const std::string& code) {
  const std::string purpose = "otp";
  const std::vector<std::string> params{code};
  std::optional<PartnerError> unconfirmed;
  try {
    co_await deliver(env, phone, purpose, params);
  } catch (const PartnerError& e) {
    if (!e.outcome_unknown) throw;  // definitely not sent: the customer's code stays as it was
    unconfirmed = e;
  }
  // Stored once delivered, or when it may have been (it can still arrive and must then verify);
  // a send that certainly failed must not replace the customer's working code.
  co_await deps_.pool.run([&] { store_.put_otp(otp); });
  if (unconfirmed) throw *unconfirmed;
}

boost::asio::awaitable<OtpSent> OtpService::issue(const std::string& environment,
                                                  const std::string& phone, bool request_consent,
                                                  const std::string& key_id, const Trace& trace) {
  const auto& env = deps_.config.env(environment);
  const auto& policy = deps_.config.otp;
  const std::string bidx = deps_.cipher.blind_index("mobile", phone);
  const std::vector<std::int64_t> reserved = co_await reserve(key_id, environment, bidx);
  const auto now = now_ms();
  const std::string code = random_digits(6);
  std::optional<PartnerError> failure;
  try {
    if (request_consent) {
      const std::string token = random_token(12);
      ConsentRecord consent{environment,
                            bidx,
                            deps_.cipher.seal("mobile", phone),
                            consent_token_hash(token),
                            now,
                            now + 1000LL * deps_.config.consent_ttl_seconds,
                            0};
      co_await deps_.pool.run([&] { store_.insert_consent(consent); });
      const std::string purpose = "consent";
      const std::vector<std::string> params{deps_.config.public_base_url + "/api_v1/consent/" +
                                            token};
      co_await deliver(env, phone, purpose, params);
      deps_.metrics.count("leadgate_consent_requested_total", {{"environment", environment}});
    }
    OtpCode otp;
    otp.environment = environment;
    otp.phone_bidx = bidx;
    otp.code_hash = code_hash(environment, phone, code);
    otp.created_at = now;
    otp.expires_at = now + policy.ttl_ms;
    // user_check: true is the client asserting the person's consent to OTPs on WhatsApp.
    if (!request_consent) {
      otp.consent = consent_event(deps_, environment, phone, "whatsapp_otp", "granted",
                                  "client_asserted", trace);
    }
    co_await deliver_code(env, phone, otp, code);
  } catch (const PartnerError& e) {
    failure = e;
  }
  if (failure && failure->outcome_unknown) unconfirmed(environment, phone, *failure, trace);
  if (failure) {
    // A send that certainly never reached the customer does not count against their limits.
    for (const auto id : reserved) co_await deps_.pool.run([&] { store_.release_rate_event(id); });
    deps_.metrics.count("leadgate_otp_failed_total",
                        {{"environment", environment}, {"reason", "WHATSAPP_UNAVAILABLE"}});
    throw ApiError(503, "WHATSAPP_UNAVAILABLE",
                   "WhatsApp delivery is unavailable right now; no OTP was sent. Retry shortly.",
                   {}, 5);
  }
  deps_.metrics.count("leadgate_otp_sent_total", {{"environment", environment}});
  log_info("otp_sent", {{"request_id", trace.request_id},
                        {"environment", environment},
                        {"phone", mask_mobile(phone)},
                        {"consent_requested", request_consent}});
  co_return OtpSent{phone, request_consent};
}

void OtpService::unconfirmed(const std::string& environment, const std::string& phone,
                             const PartnerError& failure, const Trace& trace) const {
  deps_.metrics.count("leadgate_otp_failed_total",
                      {{"environment", environment}, {"reason", "WHATSAPP_UNCONFIRMED"}});
  log_warn("otp_delivery_unconfirmed", {{"request_id", trace.request_id},
                                        {"environment", environment},
                                        {"phone", mask_mobile(phone)},
                                        {"error", failure.what()}});
  const std::int64_t cooldown_s = (deps_.config.otp.resend_cooldown_ms + 999) / 1000;
  throw ApiError(503, "WHATSAPP_UNAVAILABLE",
                 "WhatsApp did not confirm the message in time; it may still arrive. It counts "
                 "against this number's OTP limits, so wait before asking for another code.",
                 {}, static_cast<int>(std::max<std::int64_t>(5, cooldown_s)));
}

boost::asio::awaitable<OtpSent> OtpService::send(const std::string& environment,
                                                 const std::string& phone, bool user_check,
                                                 const std::string& key_id, const Trace& trace) {
  co_return co_await issue(environment, phone, !user_check, key_id, trace);
}

boost::asio::awaitable<OtpSent> OtpService::resend(const std::string& environment,
                                                   const std::string& phone,
                                                   const std::string& key_id, const Trace& trace) {
  const std::string bidx = deps_.cipher.blind_index("mobile", phone);
  auto existing = co_await deps_.pool.run([&] { return store_.find_otp(environment, bidx); });
  if (!existing) {
    throw ApiError(400, "OTP_NOT_FOUND", "No OTP was sent to this number; use otp_send first");
  }
  // The fresh code replaces (and so invalidates) the previous one.
  co_return co_await issue(environment, phone, false, key_id, trace);
}

boost::asio::awaitable<std::string> OtpService::verify(const std::string& environment,
                                                       const std::string& phone,
                                                       const std::string& code,
                                                       const Trace& trace) {
  const std::string bidx = deps_.cipher.blind_index("mobile", phone);
  const std::string given = code_hash(environment, phone, code);
  const auto now = now_ms();
  OtpVerdict verdict = OtpVerdict::not_found;
  const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)> decide =
      [&](const std::optional<OtpCode>& current) -> std::optional<OtpCode> {
    std::optional<OtpSnapshot> snapshot;
    if (current) snapshot = OtpSnapshot{current->expires_at, current->attempts, current->state};
    const bool matches = current && constant_time_equals(current->code_hash, given);
    const OtpDecision d = decide_verify(snapshot, matches, now, deps_.config.otp);
    verdict = d.verdict;
    if (!d.next) return std::nullopt;
    OtpCode next = *current;
    next.attempts = d.next->attempts;
    next.state = d.next->state;
    return next;
  };
  co_await deps_.pool.run([&] { store_.update_otp(environment, bidx, decide); });
  if (verdict != OtpVerdict::verified) {
    deps_.metrics.count(
        "leadgate_otp_failed_total",
        {{"environment", environment}, {"reason", std::string(verdict_code(verdict))}});
    log_info("otp_verify_failed", {{"request_id", trace.request_id},
                                   {"environment", environment},
                                   {"phone", mask_mobile(phone)},
                                   {"reason", std::string(verdict_code(verdict))}});
    throw ApiError(400, std::string(verdict_code(verdict)), std::string(verdict_message(verdict)));
  }
  deps_.metrics.count("leadgate_otp_verified_total", {{"environment", environment}});
  const std::string token = make_customer_token();
  const CustomerTokenRow row = customer_token_row(token, environment, bidx, now_ms(),
                                                  1000LL * deps_.config.customer_token_ttl_seconds);
  co_await deps_.pool.run([&] { store_.insert_customer_token(row); });
  co_return token;
}

boost::asio::awaitable<OtpService::ConsentLink> OtpService::consent_link(const std::string& token) {
  const std::string hash = consent_token_hash(token);
  auto found = co_await deps_.pool.run([&] { return store_.find_consent(hash); });
  ConsentLink link;
  if (!found) co_return link;
  if (found->granted_at != 0) {
    link.state = ConsentLink::State::granted;
  } else if (found->expires_at > now_ms()) {
    link.state = ConsentLink::State::pending;
  } else {
    co_return link;  // expired
  }
  link.record = std::move(*found);
  co_return link;
}

boost::asio::awaitable<std::optional<ConsentRecord>> OtpService::grant_consent(
    const std::string& token, const Trace& trace) {
  const std::string hash = consent_token_hash(token);
  const auto now = now_ms();
  // The ledger's event, whose person and time the store fills from the granted request.
  const auto found = co_await deps_.pool.run([&] { return store_.find_consent(hash); });
  if (!found || !deps_.config.envs.contains(found->environment)) co_return std::nullopt;
  ConsentEvent e;
  e.purpose = "whatsapp_otp";
  e.action = "granted";
  e.source = "consent_link";
  e.notice_version = deps_.config.env(found->environment).consent_notice_version;
  e.request_id = trace.request_id;
  const std::optional<ConsentEvent> ledger = e;
  auto granted = co_await deps_.pool.run([&] { return store_.grant_consent(hash, now, ledger); });
  if (granted)
    deps_.metrics.count("leadgate_consent_granted_total", {{"environment", granted->environment}});
  co_return granted;
}

}  // namespace leadgate
