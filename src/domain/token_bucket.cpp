#include "domain/token_bucket.h"

#include <algorithm>

namespace leadgate {

namespace {
constexpr std::int64_t kUnitsPerToken = 60'000;  // ms per minute
}  // namespace

TokenDecision take_token(TokenBucket& bucket, int per_minute, std::int64_t now_ms) {
  const std::int64_t rate = per_minute;  // units per ms
  const std::int64_t capacity = rate * kUnitsPerToken;
  if (bucket.units < 0) {
    bucket.units = capacity;
  } else if (now_ms > bucket.updated_ms) {
    bucket.units = std::min(capacity, bucket.units + (now_ms - bucket.updated_ms) * rate);
  }
  bucket.updated_ms = std::max(bucket.updated_ms, now_ms);
  if (bucket.units >= kUnitsPerToken) {
    bucket.units -= kUnitsPerToken;
    return {true, 0};
  }
  return {false, std::max<std::int64_t>((kUnitsPerToken - bucket.units + rate - 1) / rate, 1)};
}

}  // namespace leadgate
