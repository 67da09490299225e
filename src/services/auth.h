#pragma once
// API keys: `lg_` + 43 random URL-safe characters, stored only as SHA-256 (the keys are random
// and long, so a fast hash is enough and makes lookup an index probe). A short in-process cache
// keeps the store off the hot path (issue 20 §5, §7):
//   - a known key is re-read from the store once its entry is LEADGATE_API_KEY_CACHE_SECONDS old
//     (default and maximum 30), so a key revoked with `leadgate apikey revoke` gets 401 on every
//     instance within that time;
//   - an unknown (or revoked) well-formed key is remembered as unknown for the same time, so a
//     client repeating a wrong key does not reach the database each time;
//   - each cache holds at most kMaxCachedKeys entries and is emptied when full.
// When a re-read finds the key's last_used_at more than a minute old it is set to now: "last
// used" (apikey list) costs one small write per key per minute, not one per request.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "core/offload.h"
#include "domain/token_bucket.h"
#include "http/middleware.h"
#include "store/store.h"

namespace leadgate {

struct NewApiKey {
  std::string key;  // shown once
  ApiKeyRow row;
};

// The scope of operations keys: the monitoring dashboard and /metrics, no customer data
// (docs/dashboard.md). Brand keys may not read them: their numbers cover both environments.
inline constexpr const char* kOpsScope = "ops";
inline constexpr const char* kNoOpsScopeDetail = "This API key has no ops scope";
inline constexpr std::size_t kMaxCachedKeys = 10000;
inline constexpr std::int64_t kLastUsedResolutionMs = 60'000;

// Makes a key and its row (not yet stored). Scopes are environments and/or "ops"; kind is server
// or app (domain/customer_access.h), and an app key may not have the ops scope. Throws
// std::invalid_argument on bad scopes or kind.
NewApiKey make_api_key(const std::string& name, const std::vector<std::string>& environments,
                       const std::string& kind = std::string(kServerKeyKind));
std::string hash_api_key(std::string_view key);
bool well_formed_api_key(std::string_view key);  // "lg_" + 43 alphanumerics

class ApiKeyAuth {
 public:
  // requests_per_minute: each key's budget on this instance (a token bucket, see
  // domain/token_bucket.h); beyond it 429 RATE_LIMITED with Retry-After. cache_ttl: how long a
  // lookup (known or unknown) is answered from memory.
  ApiKeyAuth(AccessStore& store, BlockingPool& pool, std::chrono::seconds cache_ttl,
             int requests_per_minute)
      : store_(store), pool_(pool), ttl_(cache_ttl), requests_per_minute_(requests_per_minute) {}
  // 401 unless the request carries a known, unrevoked key; 429 when the key is over its budget.
  // brand_route: the route serves brands' customers (/api_v1/...): 403 SCOPE_FORBIDDEN for a
  // key scoped for no brand environment (an ops-only key), whatever the request names.
  Middleware middleware(bool brand_route = false);
  // The caller of a key (Authorization/X-API-Key value), or of a stored key hash; nullopt when
  // unknown or revoked. Cached like the middleware's lookups.
  boost::asio::awaitable<std::optional<Caller>> lookup(std::string key);
  boost::asio::awaitable<std::optional<Caller>> lookup_hash(std::string hash);
  // The key a request carries (Bearer or X-API-Key), "" when none.
  static std::string key_of(const Request& req);

 private:
  AccessStore& store_;
  BlockingPool& pool_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  struct Cached {
    Caller caller;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Cached> cache_;  // by key hash
  // Well-formed keys the store did not know (or knew revoked), by hash: until when to say so.
  std::map<std::string, std::chrono::steady_clock::time_point> unknown_;
  // Takes one of the key's tokens; throws the 429 when there is none.
  void spend(const std::string& key_id);
  int requests_per_minute_;
  std::map<std::string, TokenBucket> buckets_;  // by key id: bounded by the stored keys
};

}  // namespace leadgate
