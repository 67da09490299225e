#include "services/auth.h"

#include <algorithm>

#include "core/config.h"
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

NewApiKey make_api_key(const std::string& name, const std::vector<std::string>& envs,
                       const std::string& kind) {
  if (name.empty() || name.size() > 100)
    throw std::invalid_argument("--name must be 1-100 characters");
  if (envs.empty()) throw std::invalid_argument("--env needs at least one environment");
  for (const auto& e : envs) {
    if (!is_environment(e) && e != kOpsScope) {
      throw std::invalid_argument("--env: unknown environment '" + e +
                                  "' (orbit, homfinity or ops)");
    }
  }
  if (!is_key_kind(kind)) throw std::invalid_argument("--kind must be server or app");
  const bool ops = std::find(envs.begin(), envs.end(), kOpsScope) != envs.end();
  if (kind == kAppKeyKind && ops) {
    throw std::invalid_argument(
        "--kind app: an app key cannot have the ops scope (it ships inside a mobile app)");
  }
  NewApiKey out;
  out.key = "lg_" + random_token(43);
  out.row.id = "key_" + random_token(10);
  out.row.name = name;
  out.row.key_hash = hash_api_key(out.key);
  out.row.environments = envs;
  out.row.created_at = now_ms();
  out.row.kind = kind;
  return out;
}

std::string ApiKeyAuth::key_of(const Request& req) {
  auto authorization = req[http::field::authorization];
  if (authorization.size() > 7 &&
      (authorization.substr(0, 7) == "Bearer " || authorization.substr(0, 7) == "bearer ")) {
    return std::string(authorization.substr(7));
  }
  return std::string(req["X-API-Key"]);
}

boost::asio::awaitable<std::optional<Caller>> ApiKeyAuth::lookup(std::string key) {
  if (!well_formed_api_key(key)) co_return std::nullopt;
  co_return co_await lookup_hash(hash_api_key(key));
}

boost::asio::awaitable<std::optional<Caller>> ApiKeyAuth::lookup_hash(std::string hash) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) co_return it->second.caller;
    auto unknown = unknown_.find(hash);
    if (unknown != unknown_.end() && unknown->second > now) co_return std::nullopt;
  }
  const std::int64_t wall = now_ms();
  auto row = co_await pool_.run([&] {
    auto found = store_.find_api_key(hash);
    // "Last used" to the minute: at most one write per key a minute, whatever the traffic.
    if (found && !found->revoked && found->last_used_at <= wall - kLastUsedResolutionMs) {
      store_.touch_api_key(found->id, wall);
    }
    return found;
  });
  std::lock_guard lock(mutex_);
  if (!row || row->revoked || !constant_time_equals(row->key_hash, hash)) {
    if (unknown_.size() >= kMaxCachedKeys) unknown_.clear();
    unknown_[hash] = now + ttl_;
    cache_.erase(hash);
    co_return std::nullopt;
  }
  Caller caller{row->id, row->name, row->environments, row->kind};
  if (cache_.size() >= kMaxCachedKeys) cache_.clear();
  cache_[hash] = Cached{caller, now + ttl_};
  co_return caller;
}

Middleware ApiKeyAuth::middleware(bool brand_route) {
  return [this, brand_route](const Request& req, RequestContext& ctx,
                             const Handler& next) -> boost::asio::awaitable<Response> {
    std::string key = key_of(req);
    if (key.empty()) {
      throw ApiError(401, "UNAUTHENTICATED",
                     "An API key is required: Authorization: Bearer <key> or X-API-Key");
    }
    // Only well-formed keys reach the store: random tokens cannot load the database.
    if (!well_formed_api_key(key)) throw ApiError(401, "UNAUTHENTICATED", "Unknown API key");
    ctx.caller = co_await lookup(std::move(key));
    if (!ctx.caller) throw ApiError(401, "UNAUTHENTICATED", "Unknown API key");
    spend(ctx.caller->key_id);
    if (brand_route && !ctx.caller->has_brand_scope()) {
      throw ApiError(403, "SCOPE_FORBIDDEN",
                     "This API key is scoped for operations only; brand APIs need a key scoped "
                     "for orbit or homfinity");
    }
    co_return co_await next(req, ctx);
  };
}

void ApiKeyAuth::spend(const std::string& key_id) {
  TokenDecision d;
  {
    std::lock_guard lock(mutex_);
    d = take_token(buckets_[key_id], requests_per_minute_, now_ms());
  }
  if (!d.allowed) {
    const auto seconds = static_cast<int>((d.retry_after_ms + 999) / 1000);
    throw ApiError(429, "RATE_LIMITED",
                   "Too many requests for this API key (" + std::to_string(requests_per_minute_) +
                       " a minute); retry in " + std::to_string(seconds) + " s",
                   {}, seconds);
  }
}

}  // namespace leadgate
