#pragma once
// WhatsApp OTP (api-wireframes 2): send / resend / verify with consent, limits shared by all
// instances through the store, codes kept only as a keyed hash. The code itself never reaches a
// log line, a metric label, an error body or an audit record.
#include <boost/asio/awaitable.hpp>

#include "core/trace.h"
#include "partners/whatsapp.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

// An OTP delivered to `phone` (the normalised 10-digit mobile), with a consent request first
// when `consent_requested`.
struct OtpSent {
  std::string phone;
  bool consent_requested = false;
};

class OtpService {
 public:
  // `sender` is used synchronously, so it should have a short timeout
  // (LEADGATE_OTP_SEND_TIMEOUT_MS).
  OtpService(VerificationStore& store, const ServiceDeps& deps, WhatsAppSender& sender);

  // `phone` is the normalised 10-digit mobile; `key_id` the caller's API key id (its own send
  // limit). Throw ApiError (400/429/503) on failure.
  boost::asio::awaitable<OtpSent> send(const std::string& environment, const std::string& phone,
                                       bool user_check, const std::string& key_id,
                                       const Trace& trace);
  boost::asio::awaitable<OtpSent> resend(const std::string& environment, const std::string& phone,
                                         const std::string& key_id, const Trace& trace);
  // When the code is verified (used up): a new customer token for this phone in this environment
  // (services/customer_tokens.h), stored as its hash. Throws ApiError 400 with the verdict
  // otherwise.
  boost::asio::awaitable<std::string> verify(const std::string& environment,
                                             const std::string& phone, const std::string& code,
                                             const Trace& trace);
  // The consent request behind a link, as its page shows it: `pending` (it can still be granted),
  // `granted` (already recorded) or `invalid` (unknown or expired; `record` is then empty). Nothing
  // is recorded: link previews and prefetchers open links too.
  struct ConsentLink {
    enum class State { pending, granted, invalid };
    State state = State::invalid;
    ConsentRecord record;
  };
  boost::asio::awaitable<ConsentLink> consent_link(const std::string& token);
  // POST /api_v1/consent/{token} (the customer's "I agree"): the granted consent, or nullopt for
  // an unknown, used or expired link.
  // Records the grant in the consent ledger with it (purpose whatsapp_otp, source consent_link).
  boost::asio::awaitable<std::optional<ConsentRecord>> grant_consent(const std::string& token,
                                                                     const Trace& trace);

 private:
  boost::asio::awaitable<OtpSent> issue(const std::string& environment, const std::string& phone,
                                        bool request_consent, const std::string& key_id,
                                        const Trace& trace);
  // The send's reservations (per API key, per phone): their event ids, or 429.
  boost::asio::awaitable<std::vector<std::int64_t>> reserve(const std::string& key_id,
                                                            const std::string& environment,
                                                            const std::string& bidx);
  // One template, retried once after a definite failure; never after an unknown outcome.
  boost::asio::awaitable<void> deliver(const EnvironmentConfig& env, const std::string& phone,
                                       const std::string& purpose,
                                       const std::vector<std::string>& params);
  // The code's message, and the code stored when it was (or may have been) delivered.
  boost::asio::awaitable<void> deliver_code(const EnvironmentConfig& env, const std::string& phone,
                                            const OtpCode& otp, const std::string& code);
  // A send whose outcome is unknown: it keeps every reservation; throws the 503.
  [[noreturn]] void unconfirmed(const std::string& environment, const std::string& phone,
                                const PartnerError& failure, const Trace& trace) const;
  std::string code_hash(const std::string& environment, const std::string& phone,
                        const std::string& code) const;

  VerificationStore& store_;
  ServiceDeps deps_;
  WhatsAppSender& sender_;
};

}  // namespace leadgate
