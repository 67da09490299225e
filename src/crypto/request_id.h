#pragma once
// Request ids: a UUID v4 per request that comes without a usable X-Request-ID.
#include <string>

namespace leadgate {

// A UUID v4 (122 random bits) from a per-thread xoshiro256** generator seeded from the CSPRNG
// (random_bytes). Unique, but not unpredictable: for correlation ids, never for anything secret
// (use uuid_v4 or random_bytes there). About 30 times cheaper than uuid_v4, which takes OpenSSL's
// RAND_bytes for every id.
std::string correlation_uuid();

}  // namespace leadgate
