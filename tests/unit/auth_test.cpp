// ApiKeyAuth (issue 20 §5, §7) against a hand-written AccessStore fake that counts its calls:
// unknown keys are answered from the negative cache, known ones are re-read once their entry is
// older than the cache time (so a revoked key stops working), last_used_at is written at most
// once a minute, and ops-only keys are refused on brand routes.
#include "services/auth.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "crypto/crypto.h"

namespace leadgate {
namespace {

namespace asio = boost::asio;

class CountingAccessStore : public AccessStore {
 public:
  std::vector<ApiKeyRow> keys;
  int finds = 0;
  int touches = 0;

  void insert_api_key(const ApiKeyRow& row) override { keys.push_back(row); }
  std::optional<ApiKeyRow> find_api_key(const std::string& hash) override {
    ++finds;
    for (const auto& k : keys) {
      if (k.key_hash == hash) return k;
    }
    return std::nullopt;
  }
  std::int64_t count_api_keys() override { return static_cast<std::int64_t>(keys.size()); }
  std::vector<ApiKeyRow> list_api_keys() override { return keys; }
  bool revoke_api_key(const std::string& id) override {
    for (auto& k : keys) {
      if (k.id == id && !k.revoked) return k.revoked = true;
    }
    return false;
  }
  void touch_api_key(const std::string& id, std::int64_t at) override {
    ++touches;
    for (auto& k : keys) {
      if (k.id == id) k.last_used_at = std::max(k.last_used_at, at);
    }
  }
  IdempotencyRecord begin_idempotent(const std::string&, const std::string&, const std::string&,
                                     std::int64_t, std::int64_t) override {
    return {};
  }
  void complete_idempotent(const std::string&, const std::string&, int, const std::string&,
                           const std::string&, std::int64_t) override {}
  void abandon_idempotent(const std::string&, const std::string&) override {}
  std::int64_t purge_idempotent(std::int64_t) override { return 0; }
  void insert_ops_session(const OpsSessionRow&) override {}
  std::optional<std::string> find_ops_session(const std::string&, std::int64_t) override {
    return std::nullopt;
  }
  bool delete_ops_session(const std::string&) override { return false; }
};

class ApiKeyAuthTest : public ::testing::Test {
 protected:
  template <class T>
  T run(asio::awaitable<T> work) {
    auto result = asio::co_spawn(ioc_, std::move(work), asio::use_future);
    ioc_.restart();
    ioc_.run();
    return result.get();
  }

  std::string add_key(const std::vector<std::string>& scopes, const std::string& kind = "server") {
    auto key = make_api_key("test", scopes, kind);
    store_.insert_api_key(key.row);
    return key.key;
  }

  // The status and problem code of a request through auth.middleware(brand_route).
  std::pair<int, std::string> call(ApiKeyAuth& auth, const std::string& key, bool brand_route) {
    Request req{http::verb::post, "/api_v1/lead_status", 11};
    req.set("X-API-Key", key);
    RequestContext ctx;
    const Handler ok = [](const Request& r, RequestContext&) -> asio::awaitable<Response> {
      co_return Response{http::status::ok, r.version()};
    };
    const Handler chain = compose({auth.middleware(brand_route)}, ok);
    try {
      return {static_cast<int>(run(chain(req, ctx)).result_int()), ""};
    } catch (const ApiError& e) {
      return {e.status(), e.code()};
    }
  }

  CountingAccessStore store_;
  BlockingPool pool_{1, 8};
  asio::io_context ioc_;
};

TEST_F(ApiKeyAuthTest, UnknownKeysAreAnsweredFromTheNegativeCache) {
  ApiKeyAuth auth(store_, pool_, std::chrono::seconds(30), 1000);
  const std::string unknown = "lg_" + random_token(43);
  EXPECT_EQ(call(auth, unknown, true).first, 401);
  EXPECT_EQ(store_.finds, 1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(call(auth, unknown, true).first, 401);
  EXPECT_EQ(store_.finds, 1) << "the database is asked once per unknown key and cache period";
  // Malformed keys never reach the store at all.
  EXPECT_EQ(call(auth, "lg_short", true).first, 401);
  EXPECT_EQ(store_.finds, 1);
  // Another unknown key is its own lookup.
  EXPECT_EQ(call(auth, "lg_" + random_token(43), true).first, 401);
  EXPECT_EQ(store_.finds, 2);
}

TEST_F(ApiKeyAuthTest, NegativeCacheIsBounded) {
  ApiKeyAuth auth(store_, pool_, std::chrono::seconds(30), 100000);
  const std::string first = "lg_" + random_token(43);
  EXPECT_EQ(call(auth, first, true).first, 401);
  for (std::size_t i = 0; i < kMaxCachedKeys; ++i) {
    EXPECT_FALSE(run(auth.lookup_hash("unknown-" + std::to_string(i))));
  }
  const int before = store_.finds;
  // Full: the cache was emptied, so the first key is asked about again (memory stays bounded).
  EXPECT_EQ(call(auth, first, true).first, 401);
  EXPECT_EQ(store_.finds, before + 1);
}

TEST_F(ApiKeyAuthTest, KnownKeysAreRereadAfterTheCacheTimeSoRevocationTakesEffect) {
  ApiKeyAuth auth(store_, pool_, std::chrono::seconds(1), 1000);
  const std::string key = add_key({"orbit"});
  EXPECT_EQ(call(auth, key, true).first, 200);
  EXPECT_EQ(call(auth, key, true).first, 200);
  EXPECT_EQ(store_.finds, 1);  // the second call came from the cache
  ASSERT_TRUE(store_.revoke_api_key(store_.keys.front().id));
  EXPECT_EQ(call(auth, key, true).first, 200);  // still cached
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(call(auth, key, true), (std::pair<int, std::string>{401, "UNAUTHENTICATED"}));
  EXPECT_EQ(store_.finds, 2);
  EXPECT_EQ(call(auth, key, true).first, 401);  // revoked: now negatively cached
  EXPECT_EQ(store_.finds, 2);
}

TEST_F(ApiKeyAuthTest, LastUsedIsWrittenAtMostOnceAMinute) {
  ApiKeyAuth auth(store_, pool_, std::chrono::seconds(1), 1000);
  const std::string key = add_key({"orbit"});
  const auto before = now_ms();
  EXPECT_EQ(call(auth, key, true).first, 200);
  EXPECT_EQ(store_.touches, 1);
  EXPECT_GE(store_.keys.front().last_used_at, before);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(call(auth, key, true).first, 200);  // re-read, but last used less than a minute ago
  EXPECT_EQ(store_.finds, 2);
  EXPECT_EQ(store_.touches, 1);
  store_.keys.front().last_used_at -= kLastUsedResolutionMs;  // as if a minute had passed
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(call(auth, key, true).first, 200);
  EXPECT_EQ(store_.touches, 2);
}

TEST_F(ApiKeyAuthTest, OpsOnlyKeysAreRefusedOnBrandRoutes) {
  ApiKeyAuth auth(store_, pool_, std::chrono::seconds(30), 1000);
  const std::string ops = add_key({"ops"});
  EXPECT_EQ(call(auth, ops, true), (std::pair<int, std::string>{403, "SCOPE_FORBIDDEN"}));
  EXPECT_EQ(call(auth, ops, false).first, 200);  // /metrics checks the ops scope itself
  const std::string both = add_key({"ops", "orbit"});
  EXPECT_EQ(call(auth, both, true).first, 200);
}

TEST_F(ApiKeyAuthTest, KeyKinds) {
  ApiKeyAuth auth(store_, pool_, std::chrono::seconds(30), 1000);
  const std::string app = add_key({"orbit"}, "app");
  const auto caller = run(auth.lookup(app));
  ASSERT_TRUE(caller);
  EXPECT_TRUE(caller->is_app());
  EXPECT_FALSE(run(auth.lookup(add_key({"orbit"})))->is_app());
  EXPECT_THROW(make_api_key("x", {"orbit"}, "mobile"), std::invalid_argument);
  EXPECT_THROW(make_api_key("x", {"ops"}, "app"), std::invalid_argument);
  EXPECT_EQ(make_api_key("x", {"orbit"}).row.kind, "server");
}

}  // namespace
}  // namespace leadgate
