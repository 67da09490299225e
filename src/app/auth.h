#pragma once
// API keys: `lg_` + 43 random URL-safe characters, stored only as SHA-256 (the keys are random
// and long, so a fast hash is enough and makes lookup an index probe). A short in-process cache
// keeps the store off the hot path; a revoked key stops working within the cache TTL.
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "app/offload.h"
#include "http/middleware.h"
#include "store/store.h"

namespace leadgate {

struct NewApiKey {
  std::string key;  // shown once
  ApiKeyRow row;
};

// Makes a key and its row (not yet stored). Throws std::invalid_argument on bad scopes.
NewApiKey make_api_key(const std::string& name, const std::vector<std::string>& environments);
std::string hash_api_key(std::string_view key);
bool well_formed_api_key(std::string_view key);  // "lg_" + 43 alphanumerics

class ApiKeyAuth {
 public:
  ApiKeyAuth(Store& store, BlockingPool& pool, std::chrono::seconds cache_ttl)
      : store_(store), pool_(pool), ttl_(cache_ttl) {}
  // 401 unless the request carries a known, unrevoked key.
  Middleware middleware();

 private:
  boost::asio::awaitable<std::optional<Caller>> lookup(std::string key);
  Store& store_;
  BlockingPool& pool_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  struct Cached {
    Caller caller;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Cached> cache_;  // by key hash
};

}  // namespace leadgate
