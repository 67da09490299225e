#pragma once
// Customer tokens (issue 20 §2): a successful otp_verify answers one; calls with an app key about
// a customer carry it as X-Customer-Token. A token is "lgc_" + 43 base64url characters (32 bytes
// from the CSPRNG), bound to one environment and one phone (its mobile blind index), valid
// LEADGATE_CUSTOMER_TOKEN_TTL_SECONDS, and stored only as its SHA-256 (hash_api_key: like API
// keys, the token is long and random, so a fast hash is enough and lookup is an index probe).
// The decision itself is domain/customer_access.h's check_customer.
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "core/offload.h"
#include "domain/customer_access.h"
#include "http/middleware.h"
#include "store/store.h"

namespace leadgate {

inline constexpr const char* kCustomerTokenHeader = "X-Customer-Token";

std::string make_customer_token();
bool well_formed_customer_token(std::string_view token);  // "lgc_" + 43 of [A-Za-z0-9_-]

// The stored record of a new token for `phone_bidx` in `environment`, issued at `now`.
CustomerTokenRow customer_token_row(const std::string& token, const std::string& environment,
                                    const std::string& phone_bidx, std::int64_t now,
                                    std::int64_t ttl_ms);

// Throws 401 CUSTOMER_TOKEN_REQUIRED or 403 CUSTOMER_MISMATCH unless check_customer allows the
// call about the customer with `mobile_bidx` in `environment`. The one place services ask.
void require_customer(const CustomerAccess& access, const std::string& environment,
                      const std::string& mobile_bidx);

// Resolves X-Customer-Token on the customer-bound routes (after the API key's middleware).
class CustomerGuard {
 public:
  CustomerGuard(VerificationStore& store, BlockingPool& pool) : store_(store), pool_(pool) {}
  // Server keys: nothing is asked (ctx.customer stays "not required"). App keys: 401
  // CUSTOMER_TOKEN_REQUIRED when the header is missing, malformed, unknown or expired; otherwise
  // ctx.customer holds the token's environment and phone for the service's require_customer.
  Middleware middleware();

 private:
  VerificationStore& store_;
  BlockingPool& pool_;
};

}  // namespace leadgate
