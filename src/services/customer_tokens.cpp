#include "services/customer_tokens.h"

#include "crypto/crypto.h"
#include "services/auth.h"

namespace leadgate {
namespace {

constexpr std::string_view kTokenPrefix = "lgc_";
constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kTokenChars = 43;  // base64url of 32 bytes, unpadded

[[noreturn]] void token_required(const std::string& why) {
  throw ApiError(401, "CUSTOMER_TOKEN_REQUIRED",
                 why +
                     ". This API key is an app key: calls about a customer need the "
                     "customer_token from otp_verify in the X-Customer-Token header");
}

}  // namespace

std::string make_customer_token() {
  return std::string(kTokenPrefix) + base64url_encode(random_bytes(kTokenBytes));
}

bool well_formed_customer_token(std::string_view token) {
  if (token.size() != kTokenPrefix.size() + kTokenChars || !token.starts_with(kTokenPrefix)) {
    return false;
  }
  for (char c : token.substr(kTokenPrefix.size())) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

CustomerTokenRow customer_token_row(const std::string& token, const std::string& environment,
                                    const std::string& phone_bidx, std::int64_t now,
                                    std::int64_t ttl_ms) {
  return {hash_api_key(token), environment, phone_bidx, now, now + ttl_ms};
}

void require_customer(const CustomerAccess& access, const std::string& environment,
                      const std::string& mobile_bidx) {
  switch (check_customer(access, environment, mobile_bidx)) {
    case CustomerVerdict::allowed:
      return;
    case CustomerVerdict::token_required:
      token_required("No valid customer token");
    case CustomerVerdict::mismatch:
      throw ApiError(403, "CUSTOMER_MISMATCH",
                     "The customer token belongs to another customer or another environment");
  }
}

Middleware CustomerGuard::middleware() {
  return [this](const Request& req, RequestContext& ctx,
                const Handler& next) -> boost::asio::awaitable<Response> {
    if (ctx.caller && ctx.caller->is_app()) {
      ctx.customer.required = true;
      const std::string token(req[kCustomerTokenHeader]);
      if (token.empty()) token_required("X-Customer-Token is missing");
      // Only well-formed tokens reach the store.
      if (!well_formed_customer_token(token)) token_required("Unknown or expired customer token");
      const std::string hash = hash_api_key(token);
      const auto found = co_await pool_.run([&] { return store_.find_customer_token(hash); });
      if (!found || found->expires_at <= now_ms()) {
        token_required("Unknown or expired customer token");
      }
      ctx.customer.environment = found->environment;
      ctx.customer.mobile_bidx = found->phone_bidx;
    }
    co_return co_await next(req, ctx);
  };
}

}  // namespace leadgate
