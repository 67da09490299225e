#pragma once
// Idempotency-Key on POSTs (interfaces.md §2), persisted in the store so every instance sees it:
// same key + same body -> the stored response, with Idempotent-Replayed: true; same key +
// different body -> 422; same key while the first request runs -> 409. Only 2xx responses are
// stored; after an error the key is released so the client can retry. Records are kept 24 hours.
#include <chrono>

#include "app/offload.h"
#include "http/middleware.h"
#include "store/store.h"

namespace leadgate {

inline constexpr std::chrono::hours kIdempotencyRetention{24};

class Idempotency {
 public:
  // A first request older than `stale_after` is taken to have died with its instance.
  Idempotency(Store& store, BlockingPool& pool, std::chrono::milliseconds stale_after)
      : store_(store), pool_(pool), stale_after_(stale_after) {}
  Middleware middleware();

 private:
  Store& store_;
  BlockingPool& pool_;
  std::chrono::milliseconds stale_after_;
};

}  // namespace leadgate
