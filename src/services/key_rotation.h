#pragma once
// Master-key rotation (issue 21 §5). LEADGATE_PII_KEY seals; LEADGATE_PII_PREVIOUS_KEYS still
// open. `leadgate pii rotate` re-wraps every person's data key and the blind-index key, and
// re-seals every value sealed directly under a previous master key, so that the service then
// starts without the previous keys. Blind indexes are keyed by the stored blind-index key, not
// by the master key, so they stay as they are.
#include <cstdint>
#include <functional>

#include "crypto/crypto.h"
#include "store/store.h"

namespace leadgate {

// At start: gives the cipher the stored blind-index key, storing it first when there is none
// (the current master key, which keyed every blind index made before schema 19). Throws when
// there is none yet but previous keys are configured (start once without them first).
void load_index_key(KeyringStore& store, PiiCipher& cipher);

struct RotationCounts {
  std::int64_t examined = 0;  // values read
  std::int64_t resealed = 0;  // values written under the current master key
  std::int64_t columns = 0;   // columns done
};

// Re-seals every column sealed under the master key (data keys and the blind-index key
// included), a page at a time, each page one transaction whose writes apply only to values
// unchanged since read. `progress` after each page. Throws, naming the column, on a value no
// configured key opens.
RotationCounts rotate_master_key(KeyringStore& store, const PiiCipher& cipher,
                                 const std::function<void(const RotationCounts&)>& progress);

}  // namespace leadgate
