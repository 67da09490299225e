#pragma once
// A token bucket: `per_minute` requests a minute on average, in bursts of at most `per_minute`.
// Pure: the caller keeps the bucket and passes the time. Integer arithmetic: a token is 60,000
// units and each millisecond adds `per_minute` units, so no rounding drifts.
#include <cstdint>

namespace leadgate {

struct TokenBucket {
  std::int64_t units = -1;  // < 0: never used (starts full)
  std::int64_t updated_ms = 0;
};

struct TokenDecision {
  bool allowed = false;
  std::int64_t retry_after_ms = 0;  // when refused: until one token is back (>= 1)
};

// Refills `bucket` for the time since its last use (a clock that went back refills nothing),
// then takes one token if there is one. per_minute must be >= 1.
TokenDecision take_token(TokenBucket& bucket, int per_minute, std::int64_t now_ms);

}  // namespace leadgate
