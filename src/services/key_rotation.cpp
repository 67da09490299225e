#include "services/key_rotation.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "services/idempotency.h"

namespace leadgate {
namespace {

constexpr const char* kIndexKeyName = "blind-index";
constexpr std::string_view kWrappedKeyPurpose = "data-key";

struct Column {
  SealedColumn where;
  std::string_view purpose;
};

// Every value sealed directly under the master key, by table and column, with its purpose.
const std::vector<Column>& sealed_columns() {
  static const std::vector<Column> kColumns{
      {{"person_keys", "id", "BIGINT", "wrapped_key"}, kWrappedKeyPurpose},
      {{"leads", "id", "BIGINT", "first_name_enc"}, "first_name"},
      {{"leads", "id", "BIGINT", "last_name_enc"}, "last_name"},
      {{"leads", "id", "BIGINT", "mobile_enc"}, "mobile"},
      {{"leads", "id", "BIGINT", "email_enc"}, "email"},
      {{"leads", "id", "BIGINT", "pan_enc"}, "pan"},
      {{"leads", "id", "BIGINT", "dob_enc"}, "date_of_birth"},
      {{"leads", "id", "BIGINT", "credit_score"}, "credit_score"},
      {{"leads", "id", "BIGINT", "annual_income"}, "annual_income"},
      {{"leads", "id", "BIGINT", "remarks"}, "remarks"},
      {{"leads", "id", "BIGINT", "flash_details_enc"}, "flash_details"},
      {{"outbox", "id", "BIGINT", "payload_enc"}, "outbox"},
      {{"whatsapp_inbox", "id", "BIGINT", "payload_enc"}, "inbox"},
      {{"whatsapp_conversation", "id", "BIGINT", "text_enc"}, "conversation"},
      {{"consent_ledger", "id", "BIGINT", "phone_enc"}, "mobile"},
      {{"consents", "id", "BIGINT", "phone_enc"}, "mobile"},
      {{"rms", "id", "BIGINT", "phone_enc"}, "rm_phone"},
      {{"idempotency_keys", "scope || ' ' || key", "TEXT", "body"}, kIdempotentResponsePurpose},
  };
  return kColumns;
}

}  // namespace

void load_index_key(KeyringStore& store, PiiCipher& cipher) {
  std::optional<std::string> wrapped = store.keyring_key(kIndexKeyName);
  if (!wrapped) {
    if (cipher.has_previous_keys()) {
      throw std::runtime_error(
          "the database has no blind-index key yet: start once with LEADGATE_PII_KEY set to the "
          "key its data was written under and no LEADGATE_PII_PREVIOUS_KEYS, then rotate");
    }
    store.put_keyring_key(kIndexKeyName, cipher.wrap_index_key(), std::nullopt, now_ms());
    wrapped = store.keyring_key(kIndexKeyName);  // another instance's, if it was first
  }
  cipher.use_index_key(wrapped.value());
}

RotationCounts rotate_master_key(KeyringStore& store, const PiiCipher& cipher,
                                 const std::function<void(const RotationCounts&)>& progress) {
  constexpr int kPage = 500;
  RotationCounts n;
  if (const auto index = store.keyring_key(kIndexKeyName);
      index && !cipher.under_current_key(*index)) {
    if (store.put_keyring_key(kIndexKeyName, cipher.rewrap(*index), index, now_ms())) ++n.resealed;
  }
  for (const auto& c : sealed_columns()) {
    const auto reseal = [&](const std::string& value) -> std::optional<std::string> {
      // Values under a person's data key move with the key; plaintext and NULLs are not ours.
      if (!is_sealed(value) || sealed_data_key_id(value) != 0 || cipher.under_current_key(value)) {
        return std::nullopt;
      }
      try {
        return cipher.seal(c.purpose, cipher.open(c.purpose, value));
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(c.where.table) + "." + c.where.column + ": " +
                                 e.what());
      }
    };
    std::string after = std::string_view(c.where.key_type) == "BIGINT" ? "0" : "";
    while (const std::int64_t read =
               store.reseal_page(c.where, &after, kPage, reseal, &n.resealed)) {
      n.examined += read;
      if (progress) progress(n);
    }
    ++n.columns;
  }
  return n;
}

}  // namespace leadgate
