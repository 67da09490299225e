// OtpService against hand-written fakes of the one store role it uses (VerificationStore) and of
// the WhatsApp sender: no database, no network.
#include "services/otp_service.h"

#include "services/auth.h"
#include "services/customer_tokens.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <utility>

namespace leadgate {
namespace {

namespace asio = boost::asio;

// One phone's code and one consent in memory; every rate-limit reservation is allowed.
class FakeVerificationStore : public VerificationStore {
 public:
  std::optional<OtpCode> otp;
  std::optional<ConsentRecord> consent;
  int reserved = 0;
  std::vector<std::int64_t> released;

  void put_otp(const OtpCode& code) override { otp = code; }
  std::optional<OtpCode> find_otp(const std::string&, const std::string&) override { return otp; }
  std::optional<OtpCode> update_otp(
      const std::string&, const std::string&,
      const std::function<std::optional<OtpCode>(const std::optional<OtpCode>&)>& decide) override {
    auto next = decide(otp);
    if (next) otp = next;
    return next;
  }
  RateReservation reserve_rate_events(const std::vector<RateRule>& rules, std::int64_t) override {
    RateReservation r;
    r.allowed = true;
    for (std::size_t i = 0; i < rules.size(); ++i) r.event_ids.push_back(++reserved);
    return r;
  }
  void release_rate_event(std::int64_t id) override { released.push_back(id); }
  std::int64_t purge_rate_events(std::int64_t) override { return 0; }
  void insert_consent(const ConsentRecord& c) override { consent = c; }
  std::optional<ConsentRecord> grant_consent(const std::string&, std::int64_t,
                                             const std::optional<ConsentEvent>&) override {
    return std::nullopt;
  }
  std::optional<ConsentRecord> find_consent(const std::string&) override { return consent; }
  std::vector<ConsentRecord> consents_for(const std::string&, const std::string&) override {
    return {};
  }
  std::vector<CustomerTokenRow> tokens;
  void insert_customer_token(const CustomerTokenRow& t) override { tokens.push_back(t); }
  std::optional<CustomerTokenRow> find_customer_token(const std::string& hash) override {
    for (const auto& t : tokens) {
      if (t.token_hash == hash) return t;
    }
    return std::nullopt;
  }
  std::int64_t purge_customer_tokens(std::int64_t) override { return 0; }
};

// Keeps the parameters of the last template sent (for an OTP: the code); throws `failure`, when
// set, instead of answering (after recording the call, like a partner that got the request).
class FakeSender : public WhatsAppSender {
 public:
  std::vector<std::string> last_params;
  int calls = 0;
  std::optional<PartnerError> failure;

  asio::awaitable<std::string> send_template(const EnvironmentConfig&, const std::string&,
                                             const std::string&,
                                             const std::vector<std::string>& params) override {
    ++calls;
    last_params = params;
    if (failure) throw *failure;
    co_return "msg-1";
  }
  asio::awaitable<std::string> send_text(const EnvironmentConfig&, const std::string&,
                                         const std::string&) override {
    co_return "msg-2";
  }
  bool sandboxed() const override { return true; }
};

class OtpServiceTest : public ::testing::Test {
 protected:
  OtpServiceTest() : cipher_(std::string(PiiCipher::kMasterKeySize, 'k')) {
    config_.envs["orbit"].name = "orbit";
    config_.envs["orbit"].templates = {{"otp", "tpl-otp"}, {"consent", "tpl-consent"}};
  }

  template <class T>
  T run(asio::awaitable<T> work) {
    auto result = asio::co_spawn(ioc_, std::move(work), asio::use_future);
    ioc_.restart();
    ioc_.run();
    return result.get();
  }

  // The error code of a verify that fails ("" when it succeeds).
  std::string verify(const std::string& code) {
    try {
      last_token_ = run(otp_.verify("orbit", kPhone, code, trace_));
      return "";
    } catch (const ApiError& e) {
      return e.code();
    }
  }

  static constexpr const char* kPhone = "9876543210";
  FakeVerificationStore store_;
  FakeSender sender_;
  BlockingPool pool_{1, 8};
  PiiCipher cipher_;
  Config config_;
  Metrics metrics_;
  OtpService otp_{store_, {pool_, cipher_, config_, metrics_}, sender_};
  asio::io_context ioc_;
  Trace trace_{"req-1", "orbit"};
  std::string last_token_;
};

TEST_F(OtpServiceTest, SentCodeVerifiesOnceAndWrongCodesCount) {
  const OtpSent sent = run(otp_.send("orbit", kPhone, true, "key_1", trace_));
  EXPECT_EQ(sent.phone, kPhone);
  EXPECT_FALSE(sent.consent_requested);
  ASSERT_EQ(sender_.last_params.size(), 1u);
  const std::string code = sender_.last_params.front();
  ASSERT_TRUE(store_.otp);
  EXPECT_NE(store_.otp->code_hash, code);  // only a keyed hash is kept

  EXPECT_EQ(verify(code == "000000" ? "111111" : "000000"), "OTP_INVALID");
  EXPECT_EQ(store_.otp->attempts, 1);
  EXPECT_TRUE(store_.tokens.empty());  // a wrong code proves nothing
  EXPECT_EQ(verify(code), "");
  EXPECT_EQ(store_.otp->state, "used");
  EXPECT_EQ(verify(code), "OTP_ALREADY_USED");

  // The verified code answered a customer token for this phone and environment, stored only as
  // its hash, valid LEADGATE_CUSTOMER_TOKEN_TTL_SECONDS.
  EXPECT_TRUE(well_formed_customer_token(last_token_)) << last_token_;
  ASSERT_EQ(store_.tokens.size(), 1u);
  const auto& t = store_.tokens.front();
  EXPECT_EQ(t.token_hash, hash_api_key(last_token_));
  EXPECT_NE(t.token_hash, last_token_);
  EXPECT_EQ(t.environment, "orbit");
  EXPECT_EQ(t.phone_bidx, cipher_.blind_index("mobile", kPhone));
  EXPECT_EQ(t.expires_at - t.created_at, 1000LL * config_.customer_token_ttl_seconds);
}

// The error of a send that fails (status and code), or {0, ""}.
std::pair<int, std::string> send_error(const std::function<void()>& send) {
  try {
    send();
  } catch (const ApiError& e) {
    return {e.status(), e.code()};
  }
  return {0, ""};
}

TEST_F(OtpServiceTest, AnUnconfirmedSendIsNotRetriedKeepsTheLimitsAndStoresTheCode) {
  PartnerError timeout("Gupshup: read response from x failed: timeout", "timeout", true);
  timeout.outcome_unknown = true;
  sender_.failure = timeout;
  const auto [status, code] =
      send_error([&] { run(otp_.send("orbit", kPhone, true, "key_1", trace_)); });
  EXPECT_EQ(status, 503);
  EXPECT_EQ(code, "WHATSAPP_UNAVAILABLE");
  EXPECT_EQ(sender_.calls, 1);           // no retry: the first copy may still arrive
  EXPECT_EQ(store_.reserved, 2);         // the key's and the phone's reservation ...
  EXPECT_TRUE(store_.released.empty());  // ... both kept
  // The code that may arrive verifies.
  ASSERT_TRUE(store_.otp);
  ASSERT_EQ(sender_.last_params.size(), 1u);
  EXPECT_EQ(verify(sender_.last_params.front()), "");
}

TEST_F(OtpServiceTest, ADefiniteFailureIsRetriedOnceAndGivesTheLimitsBack) {
  sender_.failure = PartnerError("Gupshup: connect to x failed: refused", "transport", true);
  const auto [status, code] =
      send_error([&] { run(otp_.send("orbit", kPhone, true, "key_1", trace_)); });
  EXPECT_EQ(status, 503);
  EXPECT_EQ(code, "WHATSAPP_UNAVAILABLE");
  EXPECT_EQ(sender_.calls, 2);
  EXPECT_EQ(store_.released, (std::vector<std::int64_t>{1, 2}));
  EXPECT_FALSE(store_.otp);  // nothing was sent: no code replaced
}

TEST_F(OtpServiceTest, VerifyWithoutASentCodeIsNotFound) {
  EXPECT_EQ(verify("123456"), "OTP_NOT_FOUND");
  EXPECT_FALSE(store_.otp);
}

TEST_F(OtpServiceTest, ResendNeedsAnEarlierSend) {
  try {
    run(otp_.resend("orbit", kPhone, "key_1", trace_));
    ADD_FAILURE() << "resend without a code";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), "OTP_NOT_FOUND");
  }
}

TEST_F(OtpServiceTest, ConsentLinkStates) {
  using State = OtpService::ConsentLink::State;
  EXPECT_EQ(run(otp_.consent_link("abcdefabcdef")).state, State::invalid);  // unknown
  const auto now = now_ms();
  store_.consent = ConsentRecord{"orbit", "bidx", "enc", "hash", now, now + 60'000, 0};
  EXPECT_EQ(run(otp_.consent_link("abcdefabcdef")).state, State::pending);
  store_.consent->expires_at = now - 1;
  EXPECT_EQ(run(otp_.consent_link("abcdefabcdef")).state, State::invalid);  // expired
  store_.consent->granted_at = now - 10;
  const auto granted = run(otp_.consent_link("abcdefabcdef"));
  EXPECT_EQ(granted.state, State::granted);
  EXPECT_EQ(granted.record.environment, "orbit");
}

}  // namespace
}  // namespace leadgate
