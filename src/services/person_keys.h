#pragma once
// Per-person data keys (issue 21 §3): each person's PII is sealed under a key of their own,
// stored only wrapped by the master key, so that erasing the person destroys one row and every
// copy of their ciphertext becomes unreadable (crypto-shredding).
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "store/store.h"

namespace leadgate {

// The live data key of the person with the mobile blind index `phone_bidx` in `environment`,
// created (and stored wrapped) on first use. Blocking: a store call.
DataKey person_key(PrivacyStore& store, const PiiCipher& cipher, const std::string& environment,
                   const std::string& phone_bidx);

// Makes sure the data keys of these leads are in memory (a store call per key not yet there), so
// that opening their fields on an I/O thread does not block. Blocking: call it on the pool. A
// key already destroyed is skipped (its fields are blank).
void load_lead_keys(const PiiCipher& cipher, const std::vector<LeadRow>& leads);
void load_lead_key(const PiiCipher& cipher, const LeadRow& lead);

// Installs the store as the cipher's source of wrapped data keys.
void attach_data_keys(PiiCipher& cipher, PrivacyStore& store);

}  // namespace leadgate
