// Store conformance, VerificationStore: OTPs, rate limits and consents.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

// ---- OTPs ----

OtpCode make_otp(const std::string& env, const std::string& bidx, const std::string& hash,
                 std::int64_t created_at = 1'000) {
  OtpCode o;
  o.environment = env;
  o.phone_bidx = bidx;
  o.code_hash = hash;
  o.created_at = created_at;
  o.expires_at = created_at + 180'000;
  return o;
}

void expect_same_otp(const std::optional<OtpCode>& got, const OtpCode& want) {
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->environment, want.environment);
  EXPECT_EQ(got->phone_bidx, want.phone_bidx);
  EXPECT_EQ(got->code_hash, want.code_hash);
  EXPECT_EQ(got->created_at, want.created_at);
  EXPECT_EQ(got->expires_at, want.expires_at);
  EXPECT_EQ(got->attempts, want.attempts);
  EXPECT_EQ(got->state, want.state);
}

TEST_P(StoreConformanceTest, OtpPutFindAndReplace) {
  EXPECT_FALSE(store_->find_otp("orbit", "b1").has_value());

  OtpCode first = make_otp("orbit", "b1", "hash-1");
  first.attempts = 3;
  first.state = "burned";
  store_->put_otp(first);
  expect_same_otp(store_->find_otp("orbit", "b1"), first);

  // A new send replaces the code and resets its attempts and state.
  const OtpCode second = make_otp("orbit", "b1", "hash-2", 50'000);
  store_->put_otp(second);
  expect_same_otp(store_->find_otp("orbit", "b1"), second);
  EXPECT_EQ(count_rows("otp_codes"), 1);
  EXPECT_FALSE(store_->find_otp("orbit", "b2").has_value());
}

TEST_P(StoreConformanceTest, OtpIsolatedByEnvironment) {
  const OtpCode orbit = make_otp("orbit", "b1", "hash-orbit");
  store_->put_otp(orbit);
  EXPECT_FALSE(store_->find_otp("homfinity", "b1").has_value());

  const OtpCode homfinity = make_otp("homfinity", "b1", "hash-homfinity", 2'000);
  store_->put_otp(homfinity);
  expect_same_otp(store_->find_otp("orbit", "b1"), orbit);
  expect_same_otp(store_->find_otp("homfinity", "b1"), homfinity);

  // An update in one environment leaves the other's code alone.
  store_->update_otp("homfinity", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.state = "used";
    return std::optional<OtpCode>(next);
  });
  EXPECT_EQ(store_->find_otp("homfinity", "b1")->state, "used");
  expect_same_otp(store_->find_otp("orbit", "b1"), orbit);
}

TEST_P(StoreConformanceTest, UpdateOtpOnAMissingRowDecidesOnNulloptAndWritesNothing) {
  int calls = 0;
  bool saw_nullopt = false;
  const auto result = store_->update_otp("orbit", "b1", [&](const std::optional<OtpCode>& current) {
    ++calls;
    saw_nullopt = !current.has_value();
    return std::optional<OtpCode>();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(saw_nullopt);
  EXPECT_FALSE(result.has_value());
  EXPECT_FALSE(store_->find_otp("orbit", "b1").has_value());
  EXPECT_EQ(count_rows("otp_codes"), 0);
}

TEST_P(StoreConformanceTest, UpdateOtpReturningNulloptLeavesTheRowUnchanged) {
  const OtpCode code = make_otp("orbit", "b1", "hash-1");
  store_->put_otp(code);
  std::optional<OtpCode> seen;
  const auto result = store_->update_otp("orbit", "b1", [&](const std::optional<OtpCode>& current) {
    seen = current;
    return std::optional<OtpCode>();
  });
  EXPECT_FALSE(result.has_value());
  expect_same_otp(seen, code);
  expect_same_otp(store_->find_otp("orbit", "b1"), code);
}

TEST_P(StoreConformanceTest, UpdateOtpStoresAndReturnsTheDecision) {
  store_->put_otp(make_otp("orbit", "b1", "hash-1"));
  const auto result = store_->update_otp("orbit", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.attempts = current->attempts + 1;
    next.state = "used";
    return std::optional<OtpCode>(next);
  });
  OtpCode want = make_otp("orbit", "b1", "hash-1");
  want.attempts = 1;
  want.state = "used";
  expect_same_otp(result, want);
  expect_same_otp(store_->find_otp("orbit", "b1"), want);

  // The row is keyed by the arguments, whatever key the decision carries.
  const auto rekeyed = store_->update_otp("orbit", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.environment = "homfinity";
    next.phone_bidx = "other";
    next.state = "burned";
    return std::optional<OtpCode>(next);
  });
  ASSERT_TRUE(rekeyed.has_value());
  EXPECT_EQ(rekeyed->environment, "orbit");
  EXPECT_EQ(rekeyed->phone_bidx, "b1");
  EXPECT_EQ(store_->find_otp("orbit", "b1")->state, "burned");
  EXPECT_FALSE(store_->find_otp("homfinity", "other").has_value());
  EXPECT_EQ(count_rows("otp_codes"), 1);
}

TEST_P(StoreConformanceTest, UpdateOtpWhoseDecideThrowsWritesNothing) {
  const OtpCode code = make_otp("orbit", "b1", "hash-1");
  store_->put_otp(code);
  EXPECT_THROW(store_->update_otp("orbit", "b1",
                                  [](const std::optional<OtpCode>&) -> std::optional<OtpCode> {
                                    throw std::logic_error("decide failed");
                                  }),
               std::logic_error);
  expect_same_otp(store_->find_otp("orbit", "b1"), code);
  // The store is usable afterwards (lock, transaction and connection were released).
  const auto after = store_->update_otp("orbit", "b1", [](const std::optional<OtpCode>& current) {
    OtpCode next = *current;
    next.attempts = 1;
    return std::optional<OtpCode>(next);
  });
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(store_->find_otp("orbit", "b1")->attempts, 1);
}

// Several instances (one store object per thread) updating one phone: each decide sees the
// previous one's write, so no increment is lost.
TEST_P(StoreConformanceTest, ConcurrentUpdateOtpCallsAreSerialised) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 3;
  store_->put_otp(make_otp("orbit", "b1", "hash-1"));
  std::mutex seen_mutex;
  std::vector<int> seen;  // attempts each decide saw
  const int failures = run_at_once(thread_stores(kThreads), [&](int, Store& store) {
    for (int round = 0; round < kRounds; ++round) {
      store.update_otp("orbit", "b1", [&](const std::optional<OtpCode>& current) {
        if (!current) return std::optional<OtpCode>();
        {
          std::lock_guard lock(seen_mutex);
          seen.push_back(current->attempts);
        }
        // Widen the window in which an unserialised read-modify-write would lose an update.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        OtpCode next = *current;
        next.attempts = current->attempts + 1;
        return std::optional<OtpCode>(next);
      });
    }
  });
  EXPECT_EQ(failures, 0);
  const auto final_code = store_->find_otp("orbit", "b1");
  ASSERT_TRUE(final_code.has_value());
  EXPECT_EQ(final_code->attempts, kThreads * kRounds);
  std::sort(seen.begin(), seen.end());
  std::vector<int> expected(kThreads * kRounds);
  for (int i = 0; i < kThreads * kRounds; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(seen, expected) << "every decide saw a distinct, previously committed count";
}

// ---- Rate limits ----

constexpr std::int64_t kTenMinutes = 600'000;

TEST_P(StoreConformanceTest, RateLimitAllowsMaxEventsInTheWindow) {
  const std::string scope = "otp_send:orbit:b1";
  std::set<std::int64_t> ids;
  for (const std::int64_t at : {1'000, 2'000, 5'000}) {
    const RateDecision d = store_->reserve_rate_event(scope, at, kTenMinutes, 3, 0);
    EXPECT_TRUE(d.allowed) << at;
    EXPECT_GT(d.event_id, 0);
    ids.insert(d.event_id);
  }
  EXPECT_EQ(ids.size(), 3u);

  RateDecision d = store_->reserve_rate_event(scope, 6'000, kTenMinutes, 3, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1'000 + kTenMinutes - 6'000) << "until the oldest leaves the window";
  EXPECT_EQ(count_rows("rate_events"), 3) << "a refusal records nothing";

  d = store_->reserve_rate_event(scope, 600'999, kTenMinutes, 3, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1);
  // At 601'000 the event at 1'000 is exactly window_ms old: outside (now - window, now].
  d = store_->reserve_rate_event(scope, 601'000, kTenMinutes, 3, 0);
  EXPECT_TRUE(d.allowed);
}

TEST_P(StoreConformanceTest, RateLimitWindowSlides) {
  const std::string scope = "s";
  EXPECT_TRUE(store_->reserve_rate_event(scope, 1'000, 10'000, 2, 0).allowed);
  EXPECT_TRUE(store_->reserve_rate_event(scope, 5'000, 10'000, 2, 0).allowed);
  RateDecision d = store_->reserve_rate_event(scope, 9'000, 10'000, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 2'000);
  // 1'000 has left the window; 5'000 and the new 11'000 are in it.
  EXPECT_TRUE(store_->reserve_rate_event(scope, 11'000, 10'000, 2, 0).allowed);
  d = store_->reserve_rate_event(scope, 14'999, 10'000, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1);
  EXPECT_TRUE(store_->reserve_rate_event(scope, 15'000, 10'000, 2, 0).allowed);
  d = store_->reserve_rate_event(scope, 15'001, 10'000, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 11'000 + 10'000 - 15'001);
}

// More events in the window than the (lowered) maximum: room only once enough of them leave.
TEST_P(StoreConformanceTest, RateLimitOverTheMaximumWaitsForEnoughEventsToLeave) {
  const std::string scope = "s";
  for (const std::int64_t at : {1'000, 2'000, 3'000, 4'000}) {
    ASSERT_TRUE(store_->reserve_rate_event(scope, at, kTenMinutes, 10, 0).allowed);
  }
  const RateDecision d = store_->reserve_rate_event(scope, 5'000, kTenMinutes, 2, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 3'000 + kTenMinutes - 5'000) << "the third oldest must leave";
}

TEST_P(StoreConformanceTest, RateLimitCooldown) {
  const std::string scope = "otp_send:orbit:b1";
  // Window 0: only the cooldown applies.
  EXPECT_TRUE(store_->reserve_rate_event(scope, 10'000, 0, 5, 30'000).allowed);
  RateDecision d = store_->reserve_rate_event(scope, 10'001, 0, 5, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 29'999);
  d = store_->reserve_rate_event(scope, 39'999, 0, 5, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1);
  EXPECT_TRUE(store_->reserve_rate_event(scope, 40'000, 0, 5, 30'000).allowed);
  // Without a window, spaced events are never limited by count.
  for (int i = 1; i <= 8; ++i) {
    EXPECT_TRUE(store_->reserve_rate_event(scope, 40'000 + i * 30'000, 0, 5, 30'000).allowed) << i;
  }
  // Cooldown 0: only the window applies, however close the events.
  EXPECT_TRUE(store_->reserve_rate_event("other", 1'000, kTenMinutes, 2, 0).allowed);
  EXPECT_TRUE(store_->reserve_rate_event("other", 1'000, kTenMinutes, 2, 0).allowed);
  EXPECT_FALSE(store_->reserve_rate_event("other", 1'000, kTenMinutes, 2, 0).allowed);
}

TEST_P(StoreConformanceTest, RateLimitRetryAfterIsTheLaterOfBothRules) {
  // Window wait longer than the cooldown wait.
  EXPECT_TRUE(store_->reserve_rate_event("a", 1'000, kTenMinutes, 2, 30'000).allowed);
  EXPECT_TRUE(store_->reserve_rate_event("a", 31'000, kTenMinutes, 2, 30'000).allowed);
  RateDecision d = store_->reserve_rate_event("a", 40'000, kTenMinutes, 2, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 1'000 + kTenMinutes - 40'000);
  // Within the window but only the cooldown refuses.
  d = store_->reserve_rate_event("b", 0, kTenMinutes, 5, 30'000);
  ASSERT_TRUE(d.allowed);
  d = store_->reserve_rate_event("b", 10'000, kTenMinutes, 5, 30'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 20'000);
  // Cooldown longer than the window: the cooldown wait wins, and it counts an event that has
  // already left the window.
  EXPECT_TRUE(store_->reserve_rate_event("c", 1'000, 60'000, 1, 100'000).allowed);
  d = store_->reserve_rate_event("c", 2'000, 60'000, 1, 100'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 99'000);
  d = store_->reserve_rate_event("c", 70'000, 60'000, 1, 100'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 31'000);
  EXPECT_TRUE(store_->reserve_rate_event("c", 101'000, 60'000, 1, 100'000).allowed);
}

TEST_P(StoreConformanceTest, ReleasedRateEventMakesRoom) {
  const RateDecision first = store_->reserve_rate_event("s", 1'000, kTenMinutes, 2, 0);
  ASSERT_TRUE(first.allowed);
  ASSERT_TRUE(store_->reserve_rate_event("s", 2'000, kTenMinutes, 2, 0).allowed);
  ASSERT_FALSE(store_->reserve_rate_event("s", 3'000, kTenMinutes, 2, 0).allowed);
  store_->release_rate_event(first.event_id);
  EXPECT_EQ(count_rows("rate_events"), 1);
  const RateDecision again = store_->reserve_rate_event("s", 3'000, kTenMinutes, 2, 0);
  EXPECT_TRUE(again.allowed);
  EXPECT_NE(again.event_id, first.event_id);
  // Cooldown too: releasing the newest event lifts it.
  const RateDecision cooled = store_->reserve_rate_event("c", 1'000, 0, 0, 30'000);
  ASSERT_TRUE(cooled.allowed);
  ASSERT_FALSE(store_->reserve_rate_event("c", 2'000, 0, 0, 30'000).allowed);
  store_->release_rate_event(cooled.event_id);
  EXPECT_TRUE(store_->reserve_rate_event("c", 2'000, 0, 0, 30'000).allowed);
  EXPECT_NO_THROW(store_->release_rate_event(999'999));
  EXPECT_NO_THROW(store_->release_rate_event(first.event_id));  // already gone
}

// Several scopes in one reservation (an OTP send: its API key's and its phone's): all or none,
// and a refusal names the first rule that refused.
TEST_P(StoreConformanceTest, ReservationOfSeveralScopesIsAllOrNone) {
  const std::vector<RateRule> rules{{"otp-key:k", 60'000, 3, 0}, {"otp:orbit:b1", 0, 0, 30'000}};
  const RateReservation first = store_->reserve_rate_events(rules, 1'000);
  ASSERT_TRUE(first.allowed);
  ASSERT_EQ(first.event_ids.size(), 2u);
  EXPECT_NE(first.event_ids[0], first.event_ids[1]);
  // The phone's cooldown refuses: the key's event is not recorded either.
  RateReservation d = store_->reserve_rate_events(rules, 2'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.refused_rule, 1u);
  EXPECT_EQ(d.retry_after_ms, 29'000);
  EXPECT_TRUE(d.event_ids.empty());
  EXPECT_EQ(number_from("rate_events", "SUM(n)"), 2);
  // Other phones use the key's room: two more, then the key refuses first.
  EXPECT_TRUE(
      store_->reserve_rate_events({rules[0], {"otp:orbit:b2", 0, 0, 30'000}}, 3'000).allowed);
  EXPECT_TRUE(
      store_->reserve_rate_events({rules[0], {"otp:orbit:b3", 0, 0, 30'000}}, 4'000).allowed);
  d = store_->reserve_rate_events({rules[0], {"otp:orbit:b4", 0, 0, 30'000}}, 5'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.refused_rule, 0u);
  EXPECT_EQ(d.retry_after_ms, 1'000 + 60'000 - 5'000);
  // Both refuse: the first rule is named.
  d = store_->reserve_rate_events(rules, 6'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.refused_rule, 0u);
  EXPECT_EQ(number_from("rate_events", "SUM(n)"), 6);
  // A refused reservation leaves the phone's limits as they were: b4 never sent.
  EXPECT_TRUE(store_->reserve_rate_event("otp:orbit:b4", 6'000, 0, 0, 30'000).allowed);
  // Scopes with quotes, commas and braces are kept as they are.
  const RateReservation odd =
      store_->reserve_rate_events({{"a,\"b\"", 60'000, 1, 0}, {"{c}\\d", 60'000, 1, 0}}, 7'000);
  ASSERT_TRUE(odd.allowed);
  EXPECT_FALSE(store_->reserve_rate_event("a,\"b\"", 7'001, 60'000, 1, 0).allowed);
  EXPECT_FALSE(store_->reserve_rate_event("{c}\\d", 7'001, 60'000, 1, 0).allowed);
  EXPECT_TRUE(store_->reserve_rate_event("a", 7'001, 60'000, 1, 0).allowed);
}

// Reservations naming the same scopes in opposite orders at once neither deadlock nor exceed.
TEST_P(StoreConformanceTest, ConcurrentReservationsOfScopesInAnyOrderFinish) {
  constexpr int kThreads = 8;
  const std::vector<Store*> stores = thread_stores(kThreads);
  std::atomic<int> allowed{0};
  const int failures = run_at_once(stores, [&](int t, Store& store) {
    for (int i = 0; i < 10; ++i) {
      std::vector<RateRule> rules{{"x", 600'000, 40, 0}, {"y", 600'000, 40, 0}};
      if (t % 2 == 1) std::swap(rules[0], rules[1]);
      if (store.reserve_rate_events(rules, 100'000 + i).allowed) ++allowed;
    }
  });
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(allowed.load(), 40);
  EXPECT_EQ(number_from("rate_events", "SUM(n)"), 80);
}

TEST_P(StoreConformanceTest, RateLimitScopesAreIndependent) {
  ASSERT_TRUE(store_->reserve_rate_event("otp:orbit:b1", 1'000, kTenMinutes, 1, 30'000).allowed);
  EXPECT_FALSE(store_->reserve_rate_event("otp:orbit:b1", 1'001, kTenMinutes, 1, 30'000).allowed);
  EXPECT_TRUE(store_->reserve_rate_event("otp:orbit:b2", 1'001, kTenMinutes, 1, 30'000).allowed);
  EXPECT_TRUE(
      store_->reserve_rate_event("otp:homfinity:b1", 1'001, kTenMinutes, 1, 30'000).allowed);
  EXPECT_FALSE(store_->reserve_rate_event("otp:orbit:b1", 1'002, kTenMinutes, 1, 30'000).allowed);
}

// Concurrent reservations from several instances (one store object per thread): exactly max
// are allowed, never more.
TEST_P(StoreConformanceTest, ConcurrentReservationsNeverExceedTheMaximum) {
  constexpr int kThreads = 8;
  const std::vector<Store*> stores = thread_stores(kThreads);

  struct Case {
    std::string scope;
    std::int64_t window_ms;
    int max_events;
    std::int64_t cooldown_ms;
    int expected_allowed;
    std::int64_t expected_retry_after_ms;  // of every refused caller
  };
  const std::vector<Case> cases{
      {"window-1", kTenMinutes, 5, 0, 5, kTenMinutes},
      {"window-2", kTenMinutes, 5, 0, 5, kTenMinutes},
      {"window-3", kTenMinutes, 5, 0, 5, kTenMinutes},
      {"cooldown", 0, 0, 30'000, 1, 30'000},
      {"both", kTenMinutes, 5, 30'000, 1, 30'000},
  };
  for (const auto& c : cases) {
    std::atomic<int> allowed{0};
    std::atomic<int> refused{0};
    std::mutex retry_mutex;
    std::set<std::int64_t> retry_afters;
    const int failures = run_at_once(stores, [&](int, Store& store) {
      const RateDecision d =
          store.reserve_rate_event(c.scope, 100'000, c.window_ms, c.max_events, c.cooldown_ms);
      if (d.allowed) {
        ++allowed;
      } else {
        ++refused;
        std::lock_guard lock(retry_mutex);
        retry_afters.insert(d.retry_after_ms);
      }
    });
    EXPECT_EQ(failures, 0) << c.scope;
    EXPECT_EQ(allowed.load(), c.expected_allowed) << c.scope;
    EXPECT_EQ(refused.load(), kThreads - c.expected_allowed) << c.scope;
    EXPECT_EQ(retry_afters, std::set<std::int64_t>{c.expected_retry_after_ms}) << c.scope;
  }
  EXPECT_EQ(number_from("rate_events", "SUM(n)"), 5 + 5 + 5 + 1 + 1);
  EXPECT_EQ(count_rows("rate_events"), 5) << "one row per scope: its events share one second";
}

// A busy scope: the events of one second share a row that counts them, dated by the newest; the
// window counts them until that newest one leaves it, and releases take them back one by one.
TEST_P(StoreConformanceTest, RateEventsOfOneSecondShareARow) {
  const std::string scope = "otp-key:k1";
  std::set<std::int64_t> ids;
  for (const std::int64_t at : {10'000, 10'400, 10'999}) {
    const RateDecision d = store_->reserve_rate_event(scope, at, 60'000, 4, 0);
    ASSERT_TRUE(d.allowed) << at;
    ids.insert(d.event_id);
  }
  EXPECT_EQ(ids.size(), 1u) << "one row for the second";
  const RateDecision next_second = store_->reserve_rate_event(scope, 11'000, 60'000, 4, 0);
  ASSERT_TRUE(next_second.allowed);
  EXPECT_EQ(count_rows("rate_events"), 2);
  RateDecision d = store_->reserve_rate_event(scope, 20'000, 60'000, 4, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 10'999 + 60'000 - 20'000) << "the row's newest event";
  // Its three events leave the window together, at 70'999.
  EXPECT_FALSE(store_->reserve_rate_event(scope, 70'998, 60'000, 2, 0).allowed);
  EXPECT_TRUE(store_->reserve_rate_event(scope, 70'999, 60'000, 2, 0).allowed);
  // Released one by one: the row counts one less each time and goes with its last event.
  store_->release_rate_event(*ids.begin());
  EXPECT_EQ(number_from("rate_events", "SUM(n)"), 4);
  EXPECT_EQ(count_rows("rate_events"), 3);
  store_->release_rate_event(*ids.begin());
  store_->release_rate_event(*ids.begin());
  EXPECT_EQ(count_rows("rate_events"), 2);
  EXPECT_EQ(number_from("rate_events", "SUM(n)"), 2);
  EXPECT_NO_THROW(store_->release_rate_event(*ids.begin()));
  EXPECT_EQ(number_from("rate_events", "SUM(n)"), 2);
}

TEST_P(StoreConformanceTest, PurgeRateEventsRemovesOldEventsOnly) {
  ASSERT_TRUE(store_->reserve_rate_event("a", 1'000, kTenMinutes, 10, 0).allowed);
  ASSERT_TRUE(store_->reserve_rate_event("b", 2'000, kTenMinutes, 10, 0).allowed);
  ASSERT_TRUE(store_->reserve_rate_event("a", 3'000, kTenMinutes, 10, 0).allowed);
  EXPECT_EQ(store_->purge_rate_events(2'000), 1) << "strictly older than the cutoff";
  EXPECT_EQ(store_->purge_rate_events(2'000), 0);
  EXPECT_EQ(count_rows("rate_events"), 2);
  EXPECT_EQ(store_->purge_rate_events(3'001), 2);
  EXPECT_EQ(count_rows("rate_events"), 0);
  // Purged events no longer count.
  EXPECT_TRUE(store_->reserve_rate_event("a", 3'500, kTenMinutes, 1, 0).allowed);
}

// ---- Consents ----

ConsentRecord make_consent(const std::string& env, const std::string& bidx,
                           const std::string& token_hash, std::int64_t requested_at,
                           std::int64_t expires_at) {
  ConsentRecord c;
  c.environment = env;
  c.phone_bidx = bidx;
  c.phone_enc = "v1:phone-" + bidx;
  c.token_hash = token_hash;
  c.requested_at = requested_at;
  c.expires_at = expires_at;
  return c;
}

TEST_P(StoreConformanceTest, ConsentIsGrantedOnce) {
  store_->insert_consent(make_consent("orbit", "b1", "tok-1", 1'000, 100'000));
  auto before = store_->consents_for("orbit", "b1");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].granted_at, 0);
  EXPECT_EQ(before[0].phone_enc, "v1:phone-b1");

  const auto granted = store_->grant_consent("tok-1", 5'000, std::nullopt);
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->environment, "orbit");
  EXPECT_EQ(granted->phone_bidx, "b1");
  EXPECT_EQ(granted->phone_enc, "v1:phone-b1");
  EXPECT_EQ(granted->token_hash, "tok-1");
  EXPECT_EQ(granted->requested_at, 1'000);
  EXPECT_EQ(granted->expires_at, 100'000);
  EXPECT_EQ(granted->granted_at, 5'000);

  EXPECT_FALSE(store_->grant_consent("tok-1", 6'000, std::nullopt).has_value())
      << "the link works once";
  const auto after = store_->consents_for("orbit", "b1");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].granted_at, 5'000) << "the second open did not move the time";
}

TEST_P(StoreConformanceTest, FindConsentReadsAnyStateAndChangesNothing) {
  store_->insert_consent(make_consent("homfinity", "b2", "tok-p", 1'000, 5'000));
  for (int i = 0; i < 2; ++i) {  // looking twice changes nothing
    const auto found = store_->find_consent("tok-p");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->environment, "homfinity");
    EXPECT_EQ(found->phone_bidx, "b2");
    EXPECT_EQ(found->phone_enc, "v1:phone-b2");
    EXPECT_EQ(found->requested_at, 1'000);
    EXPECT_EQ(found->expires_at, 5'000);
    EXPECT_EQ(found->granted_at, 0);
  }
  EXPECT_EQ(store_->consents_for("homfinity", "b2").at(0).granted_at, 0);
  EXPECT_FALSE(store_->find_consent("tok-unknown").has_value());
  ASSERT_TRUE(store_->grant_consent("tok-p", 3'000, std::nullopt).has_value());
  const auto granted = store_->find_consent("tok-p");
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(granted->granted_at, 3'000);
}

TEST_P(StoreConformanceTest, ExpiredOrUnknownConsentIsNotGranted) {
  store_->insert_consent(make_consent("orbit", "b1", "tok-expired", 1'000, 5'000));
  store_->insert_consent(make_consent("orbit", "b1", "tok-last-ms", 1'000, 5'000));
  EXPECT_FALSE(store_->grant_consent("tok-expired", 5'000, std::nullopt).has_value())
      << "expires_at > now";
  EXPECT_FALSE(store_->grant_consent("tok-expired", 9'000, std::nullopt).has_value());
  const auto last = store_->grant_consent("tok-last-ms", 4'999, std::nullopt);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->granted_at, 4'999);
  EXPECT_FALSE(store_->grant_consent("tok-unknown", 2'000, std::nullopt).has_value());

  const auto rows = store_->consents_for("orbit", "b1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].token_hash, "tok-expired");
  EXPECT_EQ(rows[0].granted_at, 0);
  EXPECT_EQ(rows[1].granted_at, 4'999);
}

TEST_P(StoreConformanceTest, ConsentsForOldestFirstAndIsolated) {
  store_->insert_consent(make_consent("orbit", "b1", "t-3000", 3'000, 90'000));
  store_->insert_consent(make_consent("orbit", "b1", "t-1000", 1'000, 90'000));
  store_->insert_consent(make_consent("homfinity", "b1", "t-other-env", 500, 90'000));
  store_->insert_consent(make_consent("orbit", "b2", "t-other-phone", 500, 90'000));
  store_->insert_consent(make_consent("orbit", "b1", "t-2000-a", 2'000, 90'000));
  store_->insert_consent(make_consent("orbit", "b1", "t-2000-b", 2'000, 90'000));

  std::vector<std::string> tokens;
  for (const auto& c : store_->consents_for("orbit", "b1")) tokens.push_back(c.token_hash);
  EXPECT_EQ(tokens, (std::vector<std::string>{"t-1000", "t-2000-a", "t-2000-b", "t-3000"}));

  const auto other_env = store_->consents_for("homfinity", "b1");
  ASSERT_EQ(other_env.size(), 1u);
  EXPECT_EQ(other_env[0].token_hash, "t-other-env");
  EXPECT_EQ(store_->consents_for("orbit", "b2").size(), 1u);
  EXPECT_TRUE(store_->consents_for("orbit", "b3").empty());

  // Granting one phone's consent does not touch another's.
  ASSERT_TRUE(store_->grant_consent("t-other-phone", 1'000, std::nullopt).has_value());
  for (const auto& c : store_->consents_for("orbit", "b1")) EXPECT_EQ(c.granted_at, 0);
}

TEST_P(StoreConformanceTest, DuplicateConsentTokenConflicts) {
  store_->insert_consent(make_consent("orbit", "b1", "tok", 1'000, 90'000));
  EXPECT_THROW(store_->insert_consent(make_consent("orbit", "b2", "tok", 2'000, 90'000)),
               StoreConflict);
  EXPECT_TRUE(store_->consents_for("orbit", "b2").empty());
}

TEST_P(StoreConformanceTest, ConcurrentGrantsOfOneTokenSucceedOnce) {
  store_->insert_consent(make_consent("orbit", "b1", "tok", 1'000, 90'000));
  std::atomic<int> granted{0};
  const int failures = run_at_once(thread_stores(8), [&](int t, Store& store) {
    if (store.grant_consent("tok", 2'000 + t, std::nullopt)) ++granted;
  });
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(granted.load(), 1);
}

// ---- Customer tokens ----

TEST_P(StoreConformanceTest, CustomerTokensInsertFindPurge) {
  EXPECT_FALSE(store_->find_customer_token("hash-1").has_value());
  store_->insert_customer_token({"hash-1", "orbit", "bidx-1", 1'000, 901'000});
  store_->insert_customer_token({"hash-2", "homfinity", "bidx-2", 2'000, 5'000});
  const auto one = store_->find_customer_token("hash-1");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->token_hash, "hash-1");
  EXPECT_EQ(one->environment, "orbit");
  EXPECT_EQ(one->phone_bidx, "bidx-1");
  EXPECT_EQ(one->created_at, 1'000);
  EXPECT_EQ(one->expires_at, 901'000);
  EXPECT_THROW(store_->insert_customer_token({"hash-1", "orbit", "bidx-9", 1, 2}), StoreConflict);
  // Found whatever its expiry: the caller compares.
  EXPECT_EQ(store_->find_customer_token("hash-2")->expires_at, 5'000);

  EXPECT_EQ(store_->purge_customer_tokens(5'000), 0);  // expires_at < older_than only
  EXPECT_EQ(store_->purge_customer_tokens(5'001), 1);
  EXPECT_FALSE(store_->find_customer_token("hash-2").has_value());
  EXPECT_TRUE(store_->find_customer_token("hash-1").has_value());
}

}  // namespace
}  // namespace leadgate::conformance
