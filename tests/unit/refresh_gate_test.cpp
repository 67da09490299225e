#include "services/refresh_gate.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

constexpr std::int64_t kTtl = 60'000;

TEST(RefreshGate, OneRefreshPerApplicationAtATime) {
  RefreshGate gate;
  EXPECT_TRUE(gate.try_begin(1, 1'000, kTtl));
  EXPECT_FALSE(gate.try_begin(1, 1'001, kTtl));  // running
  EXPECT_TRUE(gate.try_begin(2, 1'001, kTtl));   // another application
  // Still running after the TTL: no second refresh beside it.
  EXPECT_FALSE(gate.try_begin(1, 1'000 + kTtl + 5, kTtl));
}

TEST(RefreshGate, AtMostOneAttemptPerTtlEvenWhenItFailed) {
  RefreshGate gate;
  ASSERT_TRUE(gate.try_begin(7, 1'000, kTtl));
  gate.finish(7);
  EXPECT_FALSE(gate.try_begin(7, 1'000 + kTtl - 1, kTtl));  // one ms short of the TTL
  EXPECT_TRUE(gate.try_begin(7, 1'000 + kTtl, kTtl));       // exactly the TTL later
}

TEST(RefreshGate, FinishOfAnUnknownIdIsHarmless) {
  RefreshGate gate;
  gate.finish(42);
  EXPECT_EQ(gate.size(), 0u);
  EXPECT_TRUE(gate.try_begin(42, 0, kTtl));
}

TEST(RefreshGate, PrunesFinishedEntriesOlderThanTheTtlWhenLarge) {
  RefreshGate gate;
  for (std::int64_t id = 0; id < static_cast<std::int64_t>(RefreshGate::kPruneAbove); ++id) {
    ASSERT_TRUE(gate.try_begin(id, 0, kTtl));
    if (id != 0) gate.finish(id);  // id 0 is still running: kept
  }
  EXPECT_EQ(gate.size(), RefreshGate::kPruneAbove);
  EXPECT_TRUE(gate.try_begin(-1, kTtl, kTtl));  // prunes first
  EXPECT_EQ(gate.size(), 2u);                   // the running one and the new one
  EXPECT_FALSE(gate.try_begin(0, kTtl, kTtl));
}

// A refresh that found the stored status unchanged is remembered (not written), latest wins, and
// survives the next attempt; an id never begun has nothing to remember.
TEST(RefreshGate, RemembersConfirmationsOfAttemptsOnly) {
  RefreshGate gate;
  EXPECT_EQ(gate.confirmed(7), 0);
  gate.confirm(7, 500);
  EXPECT_EQ(gate.confirmed(7), 0) << "no attempt of 7 began";
  ASSERT_TRUE(gate.try_begin(7, 1'000, kTtl));
  gate.confirm(7, 1'200);
  gate.confirm(7, 1'100);
  gate.finish(7);
  EXPECT_EQ(gate.confirmed(7), 1'200);
  ASSERT_TRUE(gate.try_begin(7, 1'000 + kTtl, kTtl));
  EXPECT_EQ(gate.confirmed(7), 1'200) << "kept while the next refresh runs";
}

}  // namespace
}  // namespace leadgate
