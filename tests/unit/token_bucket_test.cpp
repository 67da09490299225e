#include "domain/token_bucket.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

TEST(TokenBucket, AFreshBucketAllowsAFullMinuteAtOnceThenRefuses) {
  TokenBucket b;
  for (int i = 0; i < 6000; ++i) ASSERT_TRUE(take_token(b, 6000, 1000).allowed) << i;
  const auto refused = take_token(b, 6000, 1000);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ms, 10);  // 6,000 a minute: one token every 10 ms
}

TEST(TokenBucket, RefillsAtTheRateAndNeverAboveCapacity) {
  TokenBucket b;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(take_token(b, 3, 0).allowed);
  EXPECT_FALSE(take_token(b, 3, 19'999).allowed);  // one token takes 20 s
  EXPECT_TRUE(take_token(b, 3, 20'000).allowed);
  EXPECT_FALSE(take_token(b, 3, 20'000).allowed);
  // An hour idle refills to the capacity, not to 180.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(take_token(b, 3, 3'620'000).allowed);
  EXPECT_FALSE(take_token(b, 3, 3'620'000).allowed);
}

TEST(TokenBucket, RetryAfterIsWhenTheNextTokenIsBack) {
  TokenBucket b;
  ASSERT_TRUE(take_token(b, 1, 0).allowed);
  auto d = take_token(b, 1, 15'000);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 45'000);
  EXPECT_TRUE(take_token(b, 1, 15'000 + d.retry_after_ms).allowed);
}

TEST(TokenBucket, AClockGoingBackRefillsNothing) {
  TokenBucket b;
  ASSERT_TRUE(take_token(b, 1, 100'000).allowed);
  EXPECT_FALSE(take_token(b, 1, 50'000).allowed);
  EXPECT_FALSE(take_token(b, 1, 159'999).allowed);
  EXPECT_TRUE(take_token(b, 1, 160'000).allowed);
}

}  // namespace
}  // namespace leadgate
