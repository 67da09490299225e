#pragma once
// Idempotency-Key on POSTs (interfaces.md §2), persisted in the store so every instance sees it:
// same key + same body -> the stored response, with Idempotent-Replayed: true; same key +
// different body -> 422; same key while the first request runs -> 409. Only 2xx responses are
// stored; after an error the key is released so the client can retry. Records are kept 24 hours.
// A stored response is sealed (it holds the customer's data: issue 20 §6).
#include <chrono>
#include <string>

#include "core/offload.h"
#include "crypto/crypto.h"
#include "http/middleware.h"
#include "store/store.h"

namespace leadgate {

inline constexpr std::chrono::hours kIdempotencyRetention{24};

class Idempotency {
 public:
  Idempotency(AccessStore& store, BlockingPool& pool, const PiiCipher& cipher)
      : store_(store), pool_(pool), cipher_(cipher) {}
  // For one route: a first request older than `stale_after` (the route's slowest possible
  // partner exchange) is taken to have died with its instance.
  Middleware middleware(std::chrono::milliseconds stale_after);

 private:
  AccessStore& store_;
  BlockingPool& pool_;
  const PiiCipher& cipher_;
};

// A stored response body sealed, and opened again (a body written before schema 13 is
// plaintext: it is answered as it is).
inline constexpr std::string_view kIdempotentResponsePurpose = "idempotent_response";
std::string seal_idempotent_response(const PiiCipher& cipher, std::string_view body);
std::string open_idempotent_response(const PiiCipher& cipher, const std::string& stored);

}  // namespace leadgate
