#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace leadgate {
namespace {

// ---- OpenSSL ownership ----

// A std::unique_ptr deleter that calls OpenSSL's `Free` (EVP_MD_free, ...).
template <auto Free>
struct OpenSslFree {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
template <class T, auto Free>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree<Free>>;
using MacCtxPtr = OpenSslPtr<EVP_MAC_CTX, EVP_MAC_CTX_free>;
using KdfCtxPtr = OpenSslPtr<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using CipherCtxPtr = OpenSslPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("crypto: ") + what);
}

// Explicit fetches are done once: implicit fetching on every call is slow in OpenSSL 3.
// Function-local static: constructed after OpenSSL initialises, so freed before its atexit cleanup.
struct Algorithms {
  OpenSslPtr<EVP_MD, EVP_MD_free> sha256{EVP_MD_fetch(nullptr, "SHA256", nullptr)};
  OpenSslPtr<EVP_MAC, EVP_MAC_free> hmac{EVP_MAC_fetch(nullptr, "HMAC", nullptr)};
  OpenSslPtr<EVP_KDF, EVP_KDF_free> hkdf{EVP_KDF_fetch(nullptr, "HKDF", nullptr)};
  OpenSslPtr<EVP_CIPHER, EVP_CIPHER_free> aes_gcm{
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)};

  Algorithms() {
    if (!sha256 || !hmac || !hkdf || !aes_gcm) fail("cannot fetch SHA256/HMAC/HKDF/AES-256-GCM");
  }
};

const Algorithms& algorithms() {
  static const Algorithms algs;
  return algs;
}

const unsigned char* bytes_of(std::string_view s) {
  // Never hand OpenSSL a null pointer, even for empty input.
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

int checked_int(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) throw std::length_error("crypto: input too large");
  return static_cast<int>(n);
}

// OSSL_PARAM takes non-const pointers but never writes through input parameters.
OSSL_PARAM octet_param(const char* name, std::string_view value) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<unsigned char*>(bytes_of(value)),
                                           value.size());
}

// Fills out with uniform values in [0, range) drawn from random bytes below the largest multiple
// of range, so no value is favoured (plain modulo would bias the low values).
std::string uniform_chars(std::size_t n, std::string_view alphabet) {
  const unsigned range = static_cast<unsigned>(alphabet.size());
  const unsigned limit = 256 - 256 % range;
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    const std::size_t missing = n - out.size();
    const std::string pool = random_bytes(missing + missing / 4 + 8);
    for (const char c : pool) {
      const unsigned b = static_cast<unsigned char>(c);
      if (b >= limit) continue;
      out.push_back(alphabet[b % range]);
      if (out.size() == n) break;
    }
  }
  return out;
}

constexpr std::string_view kBase64Std =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64_encode_with(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out.push_back(alphabet[v >> 18 & 0x3f]);
    out.push_back(alphabet[v >> 12 & 0x3f]);
    out.push_back(alphabet[v >> 6 & 0x3f]);
    out.push_back(alphabet[v & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out.push_back(alphabet[v >> 18 & 0x3f]);
    out.push_back(alphabet[v >> 12 & 0x3f]);
    if (rest == 2) out.push_back(alphabet[v >> 6 & 0x3f]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

std::optional<std::string> base64_decode_with(std::string_view text, std::string_view alphabet) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (std::size_t k = 0; k < alphabet.size(); ++k) {
    value[static_cast<unsigned char>(alphabet[k])] = static_cast<int>(k);
  }
  // Padding is optional, but when present it must bring the length to a multiple of 4.
  if (text.size() % 4 == 0 && !text.empty()) {
    if (text.back() == '=') text.remove_suffix(1);
    if (text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) return std::nullopt;

  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = value[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;  // also rejects '=' in the middle and whitespace
    acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
  // Leftover bits must be zero, so every byte string has exactly one encoding.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// Keeps `head` leading and `tail` trailing UTF-8 characters and writes one X per other character;
// values too short to keep anything hidden become all X.
std::string mask_keep(std::string_view s, std::size_t head, std::size_t tail) {
  std::vector<std::size_t> starts;  // byte offset where each character begins
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 0 || (static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) starts.push_back(i);
  }
  const std::size_t count = starts.size();
  if (count <= head + tail) return std::string(count, 'X');
  std::string out(s.substr(0, starts[head]));
  out.append(count - head - tail, 'X');
  out.append(s.substr(starts[count - tail]));
  return out;
}

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kKeySize = 32;
constexpr std::string_view kSealPrefix = "v1:";
// Purposes are code constants, so the cache stays tiny; the cap only guards against misuse.
constexpr std::size_t kMaxCachedKeys = 64;

// Derived key that wipes itself.
struct Key {
  std::string bytes;
  explicit Key(std::string b) : bytes(std::move(b)) {}
  Key(const Key&) = default;
  Key& operator=(const Key&) = delete;
  ~Key() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

}  // namespace

// ---- Random ----

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t done = 0;
  while (done < n) {
    const int chunk = static_cast<int>(std::min<std::size_t>(n - done, INT_MAX));
    if (RAND_bytes(bytes_of(out) + done, chunk) != 1) fail("RAND_bytes failed");
    done += static_cast<std::size_t>(chunk);
  }
  return out;
}

std::string random_token(std::size_t n_chars) {
  return uniform_chars(n_chars, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

std::string random_digits(std::size_t n) {
  return uniform_chars(n, "0123456789");
}

std::string uuid_v4() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);  // variant 10xx
  const std::string h = hex_encode(b);
  std::string out;
  out.reserve(36);
  out.append(h, 0, 8).append(1, '-').append(h, 8, 4).append(1, '-').append(h, 12, 4);
  out.append(1, '-').append(h, 16, 4).append(1, '-').append(h, 20, 12);
  return out;
}

// ---- Encoding ----

std::string base64_encode(std::string_view bytes) {
  return base64_encode_with(bytes, kBase64Std, true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return base64_decode_with(text, kBase64Std);
}

std::string base64url_encode(std::string_view bytes) {
  return base64_encode_with(bytes, kBase64Url, false);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return base64_decode_with(text, kBase64Url);
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

// ---- Hashes / MACs ----

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(bytes_of(data), data.size(), bytes_of(out), &len, algorithms().sha256.get(),
                 nullptr) != 1 ||
      len != out.size()) {
    fail("SHA-256 failed");
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  MacCtxPtr ctx(EVP_MAC_CTX_new(algorithms().hmac.get()));
  if (!ctx) fail("EVP_MAC_CTX_new failed");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  std::string out(32, '\0');
  std::size_t len = 0;
  if (EVP_MAC_init(ctx.get(), bytes_of(key), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), bytes_of(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), bytes_of(out), &len, out.size()) != 1 || len != out.size()) {
    fail("HMAC-SHA256 failed");
  }
  return out;
}

std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info,
                        std::size_t out_len) {
  KdfCtxPtr ctx(EVP_KDF_CTX_new(algorithms().hkdf.get()));
  if (!ctx) fail("EVP_KDF_CTX_new failed");
  char digest[] = "SHA256";
  std::vector<OSSL_PARAM> params;
  params.push_back(OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0));
  params.push_back(octet_param(OSSL_KDF_PARAM_KEY, key));
  if (!salt.empty()) params.push_back(octet_param(OSSL_KDF_PARAM_SALT, salt));
  if (!info.empty()) params.push_back(octet_param(OSSL_KDF_PARAM_INFO, info));
  params.push_back(OSSL_PARAM_construct_end());
  std::string out(out_len, '\0');
  if (EVP_KDF_derive(ctx.get(), bytes_of(out), out.size(), params.data()) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    fail("HKDF-SHA256 failed");
  }
  return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(bytes_of(a), bytes_of(b), a.size()) == 0;
}

// ---- PII sealing ----

namespace {

// A 32-byte key and the purpose keys derived from it (the master key, or one data key).
struct KeyMaterial {
  std::string key;
  std::mutex mu;
  std::map<std::string, std::string, std::less<>> derived;  // info -> key, guarded by mu

  explicit KeyMaterial(std::string k) : key(std::move(k)) {}
  KeyMaterial(const KeyMaterial&) = delete;
  KeyMaterial& operator=(const KeyMaterial&) = delete;
  ~KeyMaterial() {
    OPENSSL_cleanse(key.data(), key.size());
    for (auto& [info, k] : derived) OPENSSL_cleanse(k.data(), k.size());
  }

  Key key_for(std::string_view label, std::string_view purpose) {
    std::string info = "leadgate:";
    info.append(label).append(":").append(purpose);
    {
      const std::lock_guard lock(mu);
      if (const auto it = derived.find(info); it != derived.end()) return Key(it->second);
    }
    // Derivation is deterministic, so racing threads compute the same key; derive unlocked.
    Key derived_key(hkdf_sha256(key, {}, info, kKeySize));
    const std::lock_guard lock(mu);
    if (derived.size() < kMaxCachedKeys) derived.try_emplace(std::move(info), derived_key.bytes);
    return derived_key;
  }
};

// `prefix` + base64(nonce | ciphertext | tag) under `km`'s key for `purpose`.
std::string seal_under(KeyMaterial& km, std::string_view prefix, std::string_view purpose,
                       std::string_view plaintext) {
  const Key key = km.key_for("pii", purpose);
  const std::string nonce = random_bytes(kNonceSize);
  std::string blob(kNonceSize + plaintext.size() + kTagSize, '\0');
  std::copy(nonce.begin(), nonce.end(), blob.begin());
  unsigned char* ct = bytes_of(blob) + kNonceSize;

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail("EVP_CIPHER_CTX_new failed");
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), algorithms().aes_gcm.get(), bytes_of(key.bytes),
                          bytes_of(nonce), nullptr) != 1) {
    fail("AES-GCM init failed");
  }
  if (!purpose.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(purpose),
                                            checked_int(purpose.size())) != 1) {
    fail("AES-GCM AAD failed");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), ct, &len, bytes_of(plaintext),
                          checked_int(plaintext.size())) != 1) {
      fail("AES-GCM encrypt failed");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), ct + written, &len) != 1) fail("AES-GCM final failed");
  written += len;
  if (static_cast<std::size_t>(written) != plaintext.size()) fail("AES-GCM length mismatch");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          ct + plaintext.size()) != 1) {
    fail("AES-GCM tag failed");
  }
  std::string out(prefix);
  out += base64_encode(blob);
  return out;
}

// Opens the base64 part of a sealed value with `km`'s key for `purpose`.
std::string open_under(KeyMaterial& km, std::string_view purpose, std::string_view encoded) {
  std::optional<std::string> blob = base64_decode(encoded);
  if (!blob || blob->size() < kNonceSize + kTagSize) fail("sealed value: malformed");
  const std::size_t ct_size = blob->size() - kNonceSize - kTagSize;
  unsigned char* nonce = bytes_of(*blob);
  unsigned char* ct = nonce + kNonceSize;
  unsigned char* tag = ct + ct_size;

  const Key key = km.key_for("pii", purpose);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail("EVP_CIPHER_CTX_new failed");
  std::string plain(ct_size, '\0');
  int len = 0;
  int written = 0;
  if (EVP_DecryptInit_ex2(ctx.get(), algorithms().aes_gcm.get(), bytes_of(key.bytes), nonce,
                          nullptr) != 1) {
    fail("AES-GCM init failed");
  }
  if (!purpose.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(purpose),
                                            checked_int(purpose.size())) != 1) {
    fail("AES-GCM AAD failed");
  }
  if (ct_size > 0) {
    if (EVP_DecryptUpdate(ctx.get(), bytes_of(plain), &len, ct, checked_int(ct_size)) != 1) {
      fail("AES-GCM decrypt failed");
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    fail("AES-GCM tag failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), bytes_of(plain) + written, &len) != 1) {
    // Unauthenticated plaintext must not linger in memory.
    OPENSSL_cleanse(plain.data(), plain.size());
    fail("sealed value: authentication failed (tampered, wrong purpose or wrong key)");
  }
  return plain;
}

constexpr std::string_view kDataKeyPurpose = "data-key";
// Unwrapped data keys are kept this long, at most this many (then the oldest half goes).
constexpr std::int64_t kDataKeyCacheMs = 5 * 60 * 1000;
constexpr std::size_t kMaxCachedDataKeys = 20000;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// After "v1:", "p<id>:" names a data key and "m<kid>:" a master key (8 hex digits); a value
// sealed before key ids has neither (base64 has no ':'). Sets *body_at to where the base64 starts.
struct SealedKey {
  std::int64_t data_key = 0;  // > 0: under that data key
  std::string_view master;    // otherwise the master key's id ("" before key ids)
  std::size_t body_at = 0;
};

SealedKey parse_sealed(std::string_view stored) {
  SealedKey k;
  k.body_at = kSealPrefix.size();
  const std::size_t colon = stored.find(':', kSealPrefix.size());
  if (colon == std::string_view::npos || stored.size() < kSealPrefix.size() + 2) return k;
  const char kind = stored[kSealPrefix.size()];
  const std::string_view id = stored.substr(kSealPrefix.size() + 1, colon - kSealPrefix.size() - 1);
  if (kind == 'p') {
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), k.data_key);
    if (ec != std::errc() || end != id.data() + id.size() || k.data_key <= 0) {
      fail("sealed value: malformed key id");
    }
  } else if (kind == 'm' && id.size() == 8) {
    k.master = id;
  } else {
    fail("sealed value: malformed key id");
  }
  k.body_at = colon + 1;
  return k;
}

}  // namespace

std::int64_t sealed_data_key_id(std::string_view stored) {
  if (!is_sealed(stored)) return 0;
  return parse_sealed(stored).data_key;
}

std::string master_key_id(std::string_view master_key) {
  return hex_encode(hmac_sha256(master_key, "leadgate:key-id")).substr(0, 8);
}

struct DataKey::State : KeyMaterial {
  using KeyMaterial::KeyMaterial;
};

std::string DataKey::seal(std::string_view purpose, std::string_view plaintext) const {
  if (!state_) fail("data key: empty");
  const std::string prefix = std::string(kSealPrefix) + "p" + std::to_string(id_) + ":";
  return seal_under(*state_, prefix, purpose, plaintext);
}

struct PiiCipher::State {
  struct Cached {
    std::shared_ptr<DataKey::State> key;
    std::int64_t at = 0;  // steady_ms() when unwrapped
  };
  struct Master {
    std::string id;  // master_key_id()
    std::unique_ptr<KeyMaterial> key;
  };
  std::vector<Master> masters;         // the current one first, then the previous ones
  std::string prefix;                  // "v1:m<current id>:"
  std::unique_ptr<KeyMaterial> index;  // blind indexes' root (null: the current master key)
  DataKeySource source;
  std::mutex mu;
  std::map<std::int64_t, Cached> data_keys;  // guarded by mu

  KeyMaterial& current() { return *masters.front().key; }

  // Opens a value under a master key: the one it names, or (sealed before key ids) each in turn.
  std::string open_master(std::string_view purpose, std::string_view stored) {
    const SealedKey k = parse_sealed(stored);
    const std::string_view body = stored.substr(k.body_at);
    if (!k.master.empty()) {
      for (auto& m : masters) {
        if (m.id == k.master) return open_under(*m.key, purpose, body);
      }
      fail("sealed value: under a master key that is not configured (LEADGATE_PII_PREVIOUS_KEYS)");
    }
    for (std::size_t i = 0;; ++i) {
      try {
        return open_under(*masters[i].key, purpose, body);
      } catch (const std::runtime_error&) {
        if (i + 1 == masters.size()) throw;
      }
    }
  }

  std::shared_ptr<DataKey::State> unwrap(std::int64_t id, std::string_view wrapped) {
    if (!is_sealed(wrapped) || sealed_data_key_id(wrapped) != 0) fail("data key: malformed");
    std::string raw = open_master(kDataKeyPurpose, wrapped);
    if (raw.size() != kKeySize) fail("data key: malformed");
    auto key = std::make_shared<DataKey::State>(std::move(raw));
    const std::int64_t now = steady_ms();
    const std::lock_guard lock(mu);
    if (data_keys.size() >= kMaxCachedDataKeys) data_keys.clear();
    data_keys[id] = Cached{key, now};
    return key;
  }

  // The data key of `id`: in memory, or unwrapped from what the source answers.
  std::shared_ptr<DataKey::State> find(std::int64_t id) {
    if (auto key = cached(id)) return key;
    if (!source) fail("sealed value: under a data key, but no data key source is set");
    const std::optional<std::string> wrapped = source(id);
    if (!wrapped || wrapped->empty()) {
      throw DataKeyErased("sealed value: its data key was destroyed (the person was erased)");
    }
    return unwrap(id, *wrapped);
  }

  std::shared_ptr<DataKey::State> cached(std::int64_t id) {
    const std::lock_guard lock(mu);
    const auto it = data_keys.find(id);
    if (it == data_keys.end()) return nullptr;
    if (steady_ms() - it->second.at > kDataKeyCacheMs) {
      data_keys.erase(it);
      return nullptr;
    }
    return it->second.key;
  }
};

PiiCipher::PiiCipher(std::string master_key, std::vector<std::string> previous_keys) {
  state_ = std::make_unique<State>();
  previous_keys.insert(previous_keys.begin(), std::move(master_key));
  for (auto& key : previous_keys) {
    if (key.size() != kMasterKeySize) {
      for (auto& k : previous_keys) OPENSSL_cleanse(k.data(), k.size());
      throw std::invalid_argument("PiiCipher: master key must be exactly 32 bytes");
    }
  }
  for (auto& key : previous_keys) {
    std::string id = master_key_id(key);
    state_->masters.push_back({std::move(id), std::make_unique<KeyMaterial>(std::move(key))});
  }
  state_->prefix = std::string(kSealPrefix) + "m" + state_->masters.front().id + ":";
}

PiiCipher::~PiiCipher() = default;
PiiCipher::PiiCipher(PiiCipher&&) noexcept = default;
PiiCipher& PiiCipher::operator=(PiiCipher&&) noexcept = default;

std::string PiiCipher::seal(std::string_view purpose, std::string_view plaintext) const {
  return seal_under(state_->current(), state_->prefix, purpose, plaintext);
}

std::string PiiCipher::open(std::string_view purpose, std::string_view sealed) const {
  if (!sealed.starts_with(kSealPrefix)) fail("sealed value: unknown format");
  const SealedKey k = parse_sealed(sealed);
  if (k.data_key == 0) return state_->open_master(purpose, sealed);
  return open_under(*state_->find(k.data_key), purpose, sealed.substr(k.body_at));
}

bool PiiCipher::under_current_key(std::string_view sealed) const {
  return sealed.starts_with(state_->prefix);
}

const std::string& PiiCipher::key_id() const {
  return state_->masters.front().id;
}

bool PiiCipher::has_previous_keys() const {
  return state_->masters.size() > 1;
}

std::optional<DataKey> PiiCipher::key_of(std::string_view sealed) const {
  const std::int64_t id = sealed_data_key_id(sealed);
  if (id == 0) return std::nullopt;
  return DataKey(id, state_->find(id));
}

std::string PiiCipher::wrap_new_data_key() const {
  std::string raw = random_bytes(kKeySize);
  std::string wrapped = seal(kDataKeyPurpose, raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return wrapped;
}

std::string PiiCipher::rewrap(std::string_view wrapped) const {
  std::string raw = state_->open_master(kDataKeyPurpose, wrapped);
  std::string out = seal(kDataKeyPurpose, raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

DataKey PiiCipher::data_key(std::int64_t id, std::string_view wrapped) const {
  if (id <= 0) throw std::invalid_argument("data key: id must be positive");
  if (auto key = state_->cached(id)) return DataKey(id, std::move(key));
  return DataKey(id, state_->unwrap(id, wrapped));
}

void PiiCipher::forget_data_key(std::int64_t id) const {
  const std::lock_guard lock(state_->mu);
  state_->data_keys.erase(id);
}

void PiiCipher::set_data_key_source(DataKeySource source) {
  state_->source = std::move(source);
}

std::string PiiCipher::wrap_index_key() const {
  // Before an index key was stored, blind indexes were keyed by the master key itself.
  const KeyMaterial& root = state_->index ? *state_->index : state_->current();
  return seal(kDataKeyPurpose, root.key);
}

void PiiCipher::use_index_key(std::string_view wrapped) {
  std::string raw = state_->open_master(kDataKeyPurpose, wrapped);
  if (raw.size() != kKeySize) fail("index key: malformed");
  state_->index = std::make_unique<KeyMaterial>(std::move(raw));
}

std::string PiiCipher::blind_index(std::string_view purpose, std::string_view value) const {
  KeyMaterial& root = state_->index ? *state_->index : state_->current();
  const Key key = root.key_for("bidx", purpose);
  return hex_encode(hmac_sha256(key.bytes, value));
}

// ---- Masks ----

std::string mask_mobile(std::string_view mobile) {
  return mask_keep(mobile, 2, 2);
}

std::string mask_pan(std::string_view pan) {
  return mask_keep(pan, 2, 2);
}

std::string mask_email(std::string_view email) {
  const std::size_t at = email.rfind('@');
  if (at == std::string_view::npos) return mask_generic(email);
  std::string out = mask_generic(email.substr(0, at));
  out.append(email.substr(at));
  return out;
}

std::string mask_generic(std::string_view value) {
  return mask_keep(value, 1, 1);
}

namespace {
bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         c == '+' || c == '@';
}
bool pan_shaped(std::string_view t) {
  if (t.size() != 10) return false;
  for (std::size_t i = 0; i < 10; ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(t[i])) != 0;
    const bool alpha = std::isalpha(static_cast<unsigned char>(t[i])) != 0;
    if ((i >= 5 && i <= 8) ? !digit : !alpha) return false;
  }
  return true;
}
std::string mask_digit_runs(std::string_view t) {
  std::string out;
  std::size_t i = 0;
  while (i < t.size()) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) {
      out.push_back(t[i++]);
      continue;
    }
    std::size_t j = i;
    while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j;
    const std::string_view run = t.substr(i, j - i);
    if (run.size() >= 6) {
      out += std::string(run.substr(0, 2)) + std::string(run.size() - 4, 'X') +
             std::string(run.substr(run.size() - 2));
    } else {
      out += run;
    }
    i = j;
  }
  return out;
}
}  // namespace

std::string scrub_pii(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_word_char(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && is_word_char(text[j])) ++j;
    const std::string_view token = text.substr(i, j - i);
    if (token.find('@') != std::string_view::npos) {
      out += mask_email(token);
    } else if (pan_shaped(token)) {
      out += mask_pan(token);
    } else {
      out += mask_digit_runs(token);
    }
    i = j;
  }
  return out;
}

}  // namespace leadgate
