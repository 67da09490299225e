#include "app/auth.h"

#include "app/config.h"
#include "crypto/crypto.h"

namespace leadgate {

std::string hash_api_key(std::string_view key) {
  return hex_encode(sha256(key));
}

bool well_formed_api_key(std::string_view key) {
  if (key.size() != 46 || key.substr(0, 3) != "lg_") return false;
  for (char c : key.substr(3)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

NewApiKey make_api_key(const std::string& name, const std::vector<std::string>& envs) {
  if (name.empty() || name.size() > 100)
    throw std::invalid_argument("--name must be 1-100 characters");
  if (envs.empty()) throw std::invalid_argument("--env needs at least one environment");
  for (const auto& e : envs) {
    if (!is_environment(e)) throw std::invalid_argument("--env: unknown environment '" + e + "'");
  }
  NewApiKey out;
  out.key = "lg_" + random_token(43);
  out.row.id = "key_" + random_token(10);
  out.row.name = name;
  out.row.key_hash = hash_api_key(out.key);
  out.row.environments = envs;
  out.row.created_at = now_ms();
  return out;
}

boost::asio::awaitable<std::optional<Caller>> ApiKeyAuth::lookup(std::string key) {
  const std::string hash = hash_api_key(key);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) co_return it->second.caller;
  }
  auto row = co_await pool_.run([&] { return store_.find_api_key(hash); });
  if (!row || row->revoked || !constant_time_equals(row->key_hash, hash)) co_return std::nullopt;
  Caller caller{row->id, row->name, row->environments};
  std::lock_guard lock(mutex_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[hash] = Cached{caller, now + ttl_};
  co_return caller;
}

Middleware ApiKeyAuth::middleware() {
  return [this](const Request& req, RequestContext& ctx,
                const Handler& next) -> boost::asio::awaitable<Response> {
    std::string key;
    auto authorization = req[http::field::authorization];
    if (authorization.size() > 7 &&
        (authorization.substr(0, 7) == "Bearer " || authorization.substr(0, 7) == "bearer ")) {
      key = std::string(authorization.substr(7));
    } else if (auto header = req["X-API-Key"]; !header.empty()) {
      key = std::string(header);
    }
    if (key.empty()) {
      throw ApiError(401, "UNAUTHENTICATED",
                     "An API key is required: Authorization: Bearer <key> or X-API-Key");
    }
    // Only well-formed keys reach the store: random tokens cannot load the database.
    if (!well_formed_api_key(key)) throw ApiError(401, "UNAUTHENTICATED", "Unknown API key");
    ctx.caller = co_await lookup(std::move(key));
    if (!ctx.caller) throw ApiError(401, "UNAUTHENTICATED", "Unknown API key");
    co_return co_await next(req, ctx);
  };
}

}  // namespace leadgate
