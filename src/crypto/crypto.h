#pragma once
// Randomness, encodings, hashes and PII sealing on OpenSSL 3 EVP, plus the masks logs and audit
// use in place of raw PII. Every function is safe to call from many threads at once.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leadgate {

// ---- Random (OpenSSL DRBG) ----

// n bytes from RAND_bytes; throws std::runtime_error when the DRBG fails.
std::string random_bytes(std::size_t n);
// n_chars from [A-Za-z0-9], each uniform (rejection sampling, no modulo bias).
std::string random_token(std::size_t n_chars);
// n uniform decimal digits, for OTPs (rejection sampling, no modulo bias).
std::string random_digits(std::size_t n);
// RFC 9562 version 4 UUID, lowercase 8-4-4-4-12.
std::string uuid_v4();

// ---- Encoding ----

// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);
// Strict: nullopt on characters outside the alphabet, whitespace, misplaced padding, impossible
// lengths or non-zero unused bits. Padding is optional; when present it must be complete.
std::optional<std::string> base64_decode(std::string_view text);
// RFC 4648 section 5 alphabet ("-_"), without padding.
std::string base64url_encode(std::string_view bytes);
// Same rules as base64_decode, URL-safe alphabet.
std::optional<std::string> base64url_decode(std::string_view text);
// Lowercase hex.
std::string hex_encode(std::string_view bytes);

// ---- Hashes / MACs ----

// Raw 32-byte digest.
std::string sha256(std::string_view data);
// Raw 32-byte MAC.
std::string hmac_sha256(std::string_view key, std::string_view data);
// RFC 5869 HKDF-SHA256 (extract + expand), out_len bytes. Empty salt means the RFC's zero salt.
std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info,
                        std::size_t out_len);
// Contents compared in constant time (CRYPTO_memcmp); different sizes are simply unequal, so the
// length may leak but the contents do not.
bool constant_time_equals(std::string_view a, std::string_view b);

// ---- PII sealing ----

// AES-256-GCM with one key per purpose, derived from a 32-byte key by HKDF-SHA256 (info
// "leadgate:pii:" + purpose); blind indexes use separate derived keys (info "leadgate:bidx:" +
// purpose). A purpose is a fixed label from code ("pan", "mobile"), never input.
//
// Two kinds of key seal (issue 21 §3): the master key (PiiCipher), and a person's data key
// (DataKey), 32 random bytes stored only wrapped (sealed) by the master key. Destroying the
// wrapped data key makes everything sealed under it unreadable (crypto-shredding).
//   master:   "v1:m<kid>:" + base64(nonce(12) | ciphertext | tag(16)), <kid> the master key's id
//             (master_key_id); "v1:" + base64(...) before key ids (issue 21 §5)
//   data key: "v1:p<id>:" + base64(...), <id> the data key's row id (base64 has no ':')
// Whether a stored value is in one of these formats (what a plaintext value written before its
// column was sealed never looks like, except by the remotest chance for free text).
inline bool is_sealed(std::string_view stored) {
  return stored.starts_with("v1:");
}
// The data key a sealed value names (0: the master key, or not sealed).
std::int64_t sealed_data_key_id(std::string_view stored);
// A master key's id: the first 8 hex digits of HMAC-SHA256(key, "leadgate:key-id").
std::string master_key_id(std::string_view master_key);

// Anything that seals: the master key or a person's data key.
class Sealer {
 public:
  virtual ~Sealer() = default;
  // A fresh random nonce each call and AAD = purpose, so a value sealed for "pan" cannot be
  // opened as "mobile".
  virtual std::string seal(std::string_view purpose, std::string_view plaintext) const = 0;
};

// Thrown by PiiCipher::open for a value sealed under a data key that was destroyed (erased).
class DataKeyErased : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One person's data key, unwrapped (PiiCipher::data_key). Cheap to copy (shared state).
class DataKey final : public Sealer {
 public:
  DataKey() = default;  // empty: seal() must not be called on it
  std::int64_t id() const { return id_; }
  std::string seal(std::string_view purpose, std::string_view plaintext) const override;

 private:
  friend class PiiCipher;
  struct State;
  DataKey(std::int64_t id, std::shared_ptr<State> state) : id_(id), state_(std::move(state)) {}
  std::int64_t id_ = 0;
  std::shared_ptr<State> state_;
};

// The master key. Movable, not copyable; a moved-from cipher must not be used.
class PiiCipher final : public Sealer {
 public:
  static constexpr std::size_t kMasterKeySize = 32;
  // Where open() finds a data key it has not unwrapped lately: the wrapped key of that id, or
  // nullopt when it was destroyed. Must be safe to call from many threads.
  using DataKeySource = std::function<std::optional<std::string>(std::int64_t id)>;

  // `master_key` seals; it and `previous_keys` (LEADGATE_PII_PREVIOUS_KEYS) open. Throws
  // std::invalid_argument unless every key is exactly 32 bytes.
  explicit PiiCipher(std::string master_key, std::vector<std::string> previous_keys = {});
  ~PiiCipher() override;
  PiiCipher(PiiCipher&&) noexcept;
  PiiCipher& operator=(PiiCipher&&) noexcept;
  PiiCipher(const PiiCipher&) = delete;
  PiiCipher& operator=(const PiiCipher&) = delete;

  // Sealed under the master key.
  std::string seal(std::string_view purpose, std::string_view plaintext) const override;
  // Opens a value sealed under the master key or under a data key (found through the source,
  // then kept unwrapped for a few minutes). Throws DataKeyErased when that data key was
  // destroyed, std::runtime_error on tampering, wrong purpose, wrong key or bad format.
  std::string open(std::string_view purpose, std::string_view sealed) const;
  // hex(HMAC-SHA256(derived blind-index key for purpose, value)), for equality lookups (the same
  // for every person, since lookups cross people). Keyed by the index key once use_index_key was
  // called, else by the current master key.
  std::string blind_index(std::string_view purpose, std::string_view value) const;
  // Key rotation (issue 21 §5). key_id: the current master key's id. under_current_key: whether a
  // sealed value is sealed under the current master key (and says so). rewrap: a wrapped key
  // (data key or index key) wrapped again under the current master key.
  const std::string& key_id() const;
  bool has_previous_keys() const;
  bool under_current_key(std::string_view sealed) const;
  std::string rewrap(std::string_view wrapped) const;
  // The blind indexes' own key, stored wrapped so that rotating the master key leaves every blind
  // index as it is: wrap_index_key wraps the one in use (at first the current master key, which
  // keyed every index made before), use_index_key takes a stored one. Call use_index_key once,
  // before the cipher is shared between threads.
  std::string wrap_index_key() const;
  void use_index_key(std::string_view wrapped);

  // Data keys (issue 21 §3). wrap_new_data_key: 32 fresh random bytes sealed under the master
  // key, to be stored. data_key: the stored wrapped key of row `id`, unwrapped (and kept for
  // open()). forget_data_key: drops it from memory (after erasure). Call set_data_key_source once,
  // before the cipher is shared between threads.
  std::string wrap_new_data_key() const;
  DataKey data_key(std::int64_t id, std::string_view wrapped) const;
  // The data key `sealed` is under (through the source when not in memory; it may block), or
  // nullopt when it is under the master key. Throws DataKeyErased like open().
  std::optional<DataKey> key_of(std::string_view sealed) const;
  void forget_data_key(std::int64_t id) const;
  void set_data_key_source(DataKeySource source);

 private:
  struct State;  // master key + derived-key cache + unwrapped data keys behind a mutex
  std::unique_ptr<State> state_;
};

// ---- Masks for logs and audit (UTF-8 aware: one X per character) ----

// First 2 and last 2 visible: "9876543210" -> "98XXXXXX10". 4 characters or fewer: all X.
std::string mask_mobile(std::string_view mobile);
// First 2 and last 2 visible: "ABCDE1234F" -> "ABXXXXXX4F". 4 characters or fewer: all X.
std::string mask_pan(std::string_view pan);
// Local part masked as mask_generic, domain kept: "john.doe@example.com" ->
// "jXXXXXXe@example.com". Without an '@' the whole value is masked as mask_generic.
std::string mask_email(std::string_view email);
// First and last character visible, X in between; 2 characters or fewer: all X.
std::string mask_generic(std::string_view value);
// Masks what looks like PII inside free text from partners before it is logged or stored: runs of
// 6 or more digits (mobiles, account numbers; first 2 and last 2 kept), PAN-shaped tokens and
// e-mail addresses.
std::string scrub_pii(std::string_view text);

}  // namespace leadgate
