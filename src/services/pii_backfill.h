#pragma once
// Sealing what was stored in plaintext before schema 13 (issue 20 §6): a lead's credit score,
// annual income and remarks, and stored Idempotency-Key responses. Runs after migrating, at
// start-up and in `leadgate migrate`; in batches, each its own transaction, so it can be
// interrupted and run again. Once done, finding nothing costs one probe of an empty index.
#include <cstdint>
#include <functional>

#include "crypto/crypto.h"
#include "store/store.h"

namespace leadgate {

struct PlaintextSealed {
  std::int64_t leads = 0;
  std::int64_t idempotency_records = 0;
};

// `progress` is called after every batch with the running counts.
PlaintextSealed seal_plaintext_at_rest(
    OpsStore& store, const PiiCipher& cipher,
    const std::function<void(const PlaintextSealed&)>& progress = {});

}  // namespace leadgate
