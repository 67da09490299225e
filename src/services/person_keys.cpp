#include "services/person_keys.h"

namespace leadgate {

DataKey person_key(PrivacyStore& store, const PiiCipher& cipher, const std::string& environment,
                   const std::string& phone_bidx) {
  const DataKeyRow row =
      store.person_data_key(environment, phone_bidx, cipher.wrap_new_data_key(), now_ms());
  return cipher.data_key(row.id, row.wrapped);
}

void load_lead_key(const PiiCipher& cipher, const LeadRow& lead) {
  try {
    cipher.key_of(lead.mobile_enc);
  } catch (const DataKeyErased&) {
    // erased meanwhile: the reader finds a tombstone or nothing
  }
}

void load_lead_keys(const PiiCipher& cipher, const std::vector<LeadRow>& leads) {
  for (const auto& lead : leads) load_lead_key(cipher, lead);
}

void attach_data_keys(PiiCipher& cipher, PrivacyStore& store) {
  cipher.set_data_key_source([&store](std::int64_t id) { return store.wrapped_data_key(id); });
}

}  // namespace leadgate
