#include "domain/otp_policy.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

const OtpPolicy kPolicy;  // ttl 180 s, 5 attempts

OtpSnapshot active(std::int64_t expires_at, int attempts = 0) {
  return OtpSnapshot{expires_at, attempts, "active"};
}

TEST(OtpPolicy, MissingCodeIsNotFound) {
  EXPECT_EQ(decide_verify(std::nullopt, true, 0, kPolicy).verdict, OtpVerdict::not_found);
}

TEST(OtpPolicy, RightCodeBeforeExpiryVerifiesAndIsUsedOnce) {
  auto d = decide_verify(active(1000), true, 999, kPolicy);
  EXPECT_EQ(d.verdict, OtpVerdict::verified);
  ASSERT_TRUE(d.next);
  EXPECT_EQ(d.next->state, "used");
  auto again = decide_verify(d.next, true, 999, kPolicy);
  EXPECT_EQ(again.verdict, OtpVerdict::already_used);
  EXPECT_FALSE(again.next);
}

TEST(OtpPolicy, ExpiryBoundary) {
  EXPECT_EQ(decide_verify(active(1000), true, 999, kPolicy).verdict, OtpVerdict::verified);
  EXPECT_EQ(decide_verify(active(1000), true, 1000, kPolicy).verdict, OtpVerdict::expired);
  EXPECT_FALSE(decide_verify(active(1000), false, 1000, kPolicy).next);  // no attempt counted
}

TEST(OtpPolicy, FourWrongAttemptsThenTheFifthBurns) {
  std::optional<OtpSnapshot> s = active(10'000);
  for (int i = 1; i <= 4; ++i) {
    auto d = decide_verify(s, false, 1, kPolicy);
    EXPECT_EQ(d.verdict, OtpVerdict::invalid) << i;
    EXPECT_EQ(d.next->attempts, i);
    s = d.next;
  }
  auto fifth = decide_verify(s, false, 1, kPolicy);
  EXPECT_EQ(fifth.verdict, OtpVerdict::attempts_exceeded);
  EXPECT_EQ(fifth.next->state, "burned");
  // Even the right code no longer works.
  EXPECT_EQ(decide_verify(fifth.next, true, 1, kPolicy).verdict, OtpVerdict::attempts_exceeded);
}

TEST(OtpPolicy, RightCodeAfterFourWrongStillVerifies) {
  EXPECT_EQ(decide_verify(active(10'000, 4), true, 1, kPolicy).verdict, OtpVerdict::verified);
}

TEST(OtpPolicy, CodesAndMessages) {
  EXPECT_EQ(verdict_code(OtpVerdict::invalid), "OTP_INVALID");
  EXPECT_EQ(verdict_code(OtpVerdict::expired), "OTP_EXPIRED");
  EXPECT_EQ(verdict_code(OtpVerdict::already_used), "OTP_ALREADY_USED");
  EXPECT_EQ(verdict_code(OtpVerdict::not_found), "OTP_NOT_FOUND");
  EXPECT_EQ(verdict_code(OtpVerdict::attempts_exceeded), "OTP_ATTEMPTS_EXCEEDED");
  EXPECT_FALSE(verdict_message(OtpVerdict::invalid).empty());
}

TEST(NormalizeOtp, ExactlySixDigits) {
  EXPECT_EQ(normalize_otp("123456"), "123456");
  EXPECT_EQ(normalize_otp(" 012345 "), "012345");
  EXPECT_FALSE(normalize_otp("12345"));
  EXPECT_FALSE(normalize_otp("1234567"));
  EXPECT_FALSE(normalize_otp("12a456"));
  EXPECT_FALSE(normalize_otp(""));
}

}  // namespace
}  // namespace leadgate
