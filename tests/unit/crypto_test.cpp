#include "crypto/crypto.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/request_id.h"

namespace leadgate {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string test_master_key() {
  return std::string(32, '\x42');
}

// ---- Hashes / MACs / KDF: known answers ----

TEST(CryptoHash, Sha256KnownAnswers) {
  EXPECT_EQ(hex_encode(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc").size(), 32u);
}

TEST(CryptoHash, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoHash, HmacSha256Rfc4231Case1) {
  EXPECT_EQ(hex_encode(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(CryptoHash, HmacSha256EmptyKeyAndData) {
  EXPECT_EQ(hex_encode(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(CryptoHash, HkdfSha256Rfc5869) {
  // Test case 1.
  EXPECT_EQ(hex_encode(hkdf_sha256(std::string(22, '\x0b'), from_hex("000102030405060708090a0b0c"),
                                   from_hex("f0f1f2f3f4f5f6f7f8f9"), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  // Test case 3: empty salt and info.
  EXPECT_EQ(hex_encode(hkdf_sha256(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(CryptoHash, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "ab"));
  EXPECT_FALSE(constant_time_equals("", "a"));
  EXPECT_TRUE(constant_time_equals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

// ---- Encoding ----

TEST(CryptoEncoding, Base64Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    const auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(CryptoEncoding, Base64DecodeAcceptsMissingPadding) {
  EXPECT_EQ(base64_decode("Zg"), "f");
  EXPECT_EQ(base64_decode("Zm8"), "fo");
  EXPECT_EQ(base64_decode("Zm9vYmE"), "fooba");
}

TEST(CryptoEncoding, Base64DecodeRejectsInvalid) {
  for (const char* bad : {"Z", "Zm9vY", "Zg=", "Z===", "====", "Zm9v=", "Zg==Zg==", "Z g==",
                          "Zm9v\n", "Zm9v!", "Zm-_", "Zh==", "Zm9=", "=Zg="}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(CryptoEncoding, Base64RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string slice = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(slice)), slice);
    EXPECT_EQ(base64url_decode(base64url_encode(slice)), slice);
  }
}

TEST(CryptoEncoding, Base64UrlHasNoPaddingAndUrlAlphabet) {
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_FALSE(base64url_decode("+/8").has_value());
}

TEST(CryptoEncoding, HexLowercase) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

// ---- Random ----

TEST(CryptoRandom, RandomBytesLength) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1).size(), 1u);
  EXPECT_EQ(random_bytes(1000).size(), 1000u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(CryptoRandom, RandomTokenCharsetAndLength) {
  EXPECT_EQ(random_token(0), "");
  std::set<char> seen;
  for (const std::size_t n : {1u, 16u, 32u, 100u, 4000u}) {
    const std::string token = random_token(n);
    ASSERT_EQ(token.size(), n);
    for (const char c : token) {
      ASSERT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << c;
      seen.insert(c);
    }
  }
  // 4000+ draws over 62 symbols: missing one is astronomically unlikely.
  EXPECT_EQ(seen.size(), 62u);
  EXPECT_NE(random_token(32), random_token(32));
}

TEST(CryptoRandom, RandomDigitsLengthAndCharset) {
  EXPECT_EQ(random_digits(0), "");
  for (const std::size_t n : {1u, 6u, 8u, 1000u}) {
    const std::string digits = random_digits(n);
    ASSERT_EQ(digits.size(), n);
    EXPECT_TRUE(std::all_of(digits.begin(), digits.end(), [](char c) {
      return c >= '0' && c <= '9';
    })) << digits;
  }
}

TEST(CryptoRandom, RandomDigitsRoughlyUniform) {
  const std::string digits = random_digits(100000);
  int counts[10] = {};
  for (const char c : digits) ++counts[c - '0'];
  for (const int count : counts) {
    // Expected 10000, sd ~95: a +-1000 window only fails on a broken generator.
    EXPECT_GT(count, 9000);
    EXPECT_LT(count, 11000);
  }
}

void expect_uuid_v4s(const std::function<std::string()>& make) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = make();
    ASSERT_EQ(id.size(), 36u);
    for (std::size_t k = 0; k < id.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        ASSERT_EQ(id[k], '-') << id;
      } else {
        ASSERT_TRUE((id[k] >= '0' && id[k] <= '9') || (id[k] >= 'a' && id[k] <= 'f')) << id;
      }
    }
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(CryptoRandom, UuidV4Format) {
  expect_uuid_v4s(uuid_v4);
}

TEST(CryptoRandom, CorrelationUuidIsAUuidV4UniqueAcrossThreads) {
  expect_uuid_v4s(correlation_uuid);
  // Each thread seeds its own generator from the CSPRNG: no two threads repeat each other.
  std::vector<std::string> a, b;
  std::thread ta([&a] {
    for (int i = 0; i < 1000; ++i) a.push_back(correlation_uuid());
  });
  std::thread tb([&b] {
    for (int i = 0; i < 1000; ++i) b.push_back(correlation_uuid());
  });
  ta.join();
  tb.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 2000u);
}

// ---- PII sealing ----

TEST(PiiCipherTest, RejectsWrongSizeMasterKey) {
  EXPECT_THROW(PiiCipher{std::string()}, std::invalid_argument);
  EXPECT_THROW(PiiCipher(std::string(31, 'k')), std::invalid_argument);
  EXPECT_THROW(PiiCipher(std::string(33, 'k')), std::invalid_argument);
  EXPECT_NO_THROW(PiiCipher(std::string(32, 'k')));
}

TEST(PiiCipherTest, SealOpenRoundTrip) {
  const PiiCipher cipher(test_master_key());
  for (const std::string& plain :
       {std::string(), std::string("ABCDE1234F"), std::string("9876543210"),
        std::string("ரமேஷ் कुमार"), std::string(10000, 'x'), std::string("a\0b", 3)}) {
    const std::string sealed = cipher.seal("pan", plain);
    EXPECT_TRUE(sealed.starts_with("v1:")) << sealed;
    if (plain.size() >= 4) {
      EXPECT_EQ(sealed.find(plain), std::string::npos);
    }
    EXPECT_EQ(cipher.open("pan", sealed), plain);
  }
}

TEST(PiiCipherTest, SealedLayoutIsNonceCiphertextTag) {
  const PiiCipher cipher(test_master_key());
  const std::string sealed = cipher.seal("mobile", "9876543210");
  const auto blob = base64_decode(std::string_view(sealed).substr(sealed.rfind(':') + 1));
  ASSERT_TRUE(blob.has_value());
  EXPECT_EQ(blob->size(), 12u + 10u + 16u);
}

TEST(PiiCipherTest, NonceDiffersBetweenSeals) {
  const PiiCipher cipher(test_master_key());
  const std::string a = cipher.seal("pan", "ABCDE1234F");
  const std::string b = cipher.seal("pan", "ABCDE1234F");
  EXPECT_NE(a, b);
  const auto blob_a = base64_decode(std::string_view(a).substr(a.rfind(':') + 1));
  const auto blob_b = base64_decode(std::string_view(b).substr(b.rfind(':') + 1));
  ASSERT_TRUE(blob_a && blob_b);
  EXPECT_NE(blob_a->substr(0, 12), blob_b->substr(0, 12));
}

TEST(PiiCipherTest, TamperedValueThrows) {
  const PiiCipher cipher(test_master_key());
  const std::string sealed = cipher.seal("pan", "ABCDE1234F");
  const std::string blob = *base64_decode(std::string_view(sealed).substr(sealed.rfind(':') + 1));
  // Flip one bit in every position: nonce, ciphertext and tag are all covered.
  for (std::size_t i = 0; i < blob.size(); ++i) {
    std::string bad = blob;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_THROW(cipher.open("pan", "v1:" + base64_encode(bad)), std::runtime_error) << i;
  }
  // Truncated and extended.
  EXPECT_THROW(cipher.open("pan", "v1:" + base64_encode(blob.substr(0, blob.size() - 1))),
               std::runtime_error);
  EXPECT_THROW(cipher.open("pan", "v1:" + base64_encode(blob + "x")), std::runtime_error);
}

TEST(PiiCipherTest, BadFormatThrows) {
  const PiiCipher cipher(test_master_key());
  const std::string sealed = cipher.seal("pan", "ABCDE1234F");
  EXPECT_THROW(cipher.open("pan", ""), std::runtime_error);
  EXPECT_THROW(cipher.open("pan", "v1:"), std::runtime_error);
  EXPECT_THROW(cipher.open("pan", "v1:!!!!"), std::runtime_error);
  EXPECT_THROW(cipher.open("pan", "v2:" + sealed.substr(3)), std::runtime_error);
  EXPECT_THROW(cipher.open("pan", sealed.substr(3)), std::runtime_error);
  EXPECT_THROW(cipher.open("pan", "v1:" + base64_encode(std::string(27, 'a'))), std::runtime_error);
}

TEST(PiiCipherTest, WrongPurposeThrows) {
  const PiiCipher cipher(test_master_key());
  const std::string sealed = cipher.seal("pan", "ABCDE1234F");
  EXPECT_THROW(cipher.open("mobile", sealed), std::runtime_error);
  EXPECT_THROW(cipher.open("", sealed), std::runtime_error);
  EXPECT_THROW(cipher.open("pan ", sealed), std::runtime_error);
  EXPECT_EQ(cipher.open("pan", sealed), "ABCDE1234F");
}

TEST(PiiCipherTest, WrongMasterKeyThrows) {
  const PiiCipher cipher(test_master_key());
  const PiiCipher other(std::string(32, '\x43'));
  EXPECT_THROW(other.open("pan", cipher.seal("pan", "ABCDE1234F")), std::runtime_error);
}

TEST(PiiCipherTest, BlindIndexDeterministicAndPurposeSeparated) {
  const PiiCipher cipher(test_master_key());
  const std::string idx = cipher.blind_index("mobile", "9876543210");
  EXPECT_EQ(idx.size(), 64u);
  EXPECT_TRUE(std::all_of(idx.begin(), idx.end(),
                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  EXPECT_EQ(cipher.blind_index("mobile", "9876543210"), idx);
  EXPECT_EQ(PiiCipher(test_master_key()).blind_index("mobile", "9876543210"), idx);
  EXPECT_NE(cipher.blind_index("mobile", "9876543211"), idx);
  EXPECT_NE(cipher.blind_index("pan", "9876543210"), idx);
  EXPECT_NE(PiiCipher(std::string(32, '\x43')).blind_index("mobile", "9876543210"), idx);
  // The blind-index key is not the master key used directly.
  EXPECT_NE(idx, hex_encode(hmac_sha256(test_master_key(), "9876543210")));
}

TEST(PiiCipherTest, DerivedKeysMatchDocumentedHkdf) {
  // Pins the derivation so stored blind indexes stay valid across releases.
  const PiiCipher cipher(test_master_key());
  const std::string bidx_key = hkdf_sha256(test_master_key(), "", "leadgate:bidx:mobile", 32);
  EXPECT_EQ(cipher.blind_index("mobile", "9876543210"),
            hex_encode(hmac_sha256(bidx_key, "9876543210")));
}

TEST(PiiCipherTest, MovedCipherStillWorks) {
  PiiCipher a(test_master_key());
  const std::string sealed = a.seal("pan", "ABCDE1234F");
  PiiCipher b(std::move(a));
  EXPECT_EQ(b.open("pan", sealed), "ABCDE1234F");
}

TEST(PiiCipherTest, ConcurrentUse) {
  const PiiCipher cipher(test_master_key());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cipher, &failures, t] {
      const std::string purpose = (t % 2 == 0) ? "pan" : "mobile";
      for (int i = 0; i < 200; ++i) {
        const std::string plain = "value-" + std::to_string(t) + "-" + std::to_string(i);
        if (cipher.open(purpose, cipher.seal(purpose, plain)) != plain) ++failures;
        if (cipher.blind_index(purpose, plain) != cipher.blind_index(purpose, plain)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---- Masks ----

TEST(Masks, Mobile) {
  EXPECT_EQ(mask_mobile("9876543210"), "98XXXXXX10");
  EXPECT_EQ(mask_mobile("12345"), "12X45");
  EXPECT_EQ(mask_mobile("1234"), "XXXX");
  EXPECT_EQ(mask_mobile(""), "");
}

TEST(Masks, Pan) {
  EXPECT_EQ(mask_pan("ABCDE1234F"), "ABXXXXXX4F");
  EXPECT_EQ(mask_pan("ABC"), "XXX");
}

TEST(Masks, Email) {
  EXPECT_EQ(mask_email("john.doe@example.com"), "jXXXXXXe@example.com");
  EXPECT_EQ(mask_email("abc@example.com"), "aXc@example.com");
  EXPECT_EQ(mask_email("ab@example.com"), "XX@example.com");
  EXPECT_EQ(mask_email("a@example.com"), "X@example.com");
  EXPECT_EQ(mask_email("@example.com"), "@example.com");
  EXPECT_EQ(mask_email("not-an-email"), "nXXXXXXXXXXl");
}

TEST(Masks, Generic) {
  EXPECT_EQ(mask_generic("Ramesh"), "RXXXXh");
  EXPECT_EQ(mask_generic("abc"), "aXc");
  EXPECT_EQ(mask_generic("ab"), "XX");
  EXPECT_EQ(mask_generic("a"), "X");
  EXPECT_EQ(mask_generic(""), "");
}

TEST(Masks, Utf8CharactersAreNotSplit) {
  // "रमेश" is 4 code points, 12 bytes: one X per code point, whole characters kept.
  EXPECT_EQ(mask_generic("रमेश"), "रXXश");
  EXPECT_EQ(mask_generic("éé"), "XX");
}

}  // namespace
}  // namespace leadgate

namespace leadgate {
namespace {
TEST(ScrubPii, MasksMobilesPansAndEmailsInFreeText) {
  EXPECT_EQ(scrub_pii("PAN ABCDE1234F already exists"), "PAN ABXXXXXX4F already exists");
  EXPECT_EQ(scrub_pii("invalid destination 919876543210"), "invalid destination 91XXXXXXXX10");
  EXPECT_EQ(scrub_pii("mail john.doe@example.com bounced"), "mail jXXXXXXe@example.com bounced");
  EXPECT_EQ(scrub_pii("HTTP 503 after 2 attempts on 127.0.0.1:8080"),
            "HTTP 503 after 2 attempts on 127.0.0.1:8080");
}

// ---- Data keys (issue 21 §3) ----

TEST(DataKeyTest, SealsUnderItsOwnKeyAndNamesIt) {
  PiiCipher master(std::string(32, 'm'));
  const std::string wrapped = master.wrap_new_data_key();
  EXPECT_TRUE(is_sealed(wrapped));
  EXPECT_EQ(sealed_data_key_id(wrapped), 0);
  const DataKey key = master.data_key(42, wrapped);
  const std::string sealed = key.seal("pan", "ABCDE1234F");
  EXPECT_TRUE(sealed.starts_with("v1:p42:"));
  EXPECT_TRUE(is_sealed(sealed));
  EXPECT_EQ(sealed_data_key_id(sealed), 42);
  EXPECT_EQ(master.open("pan", sealed), "ABCDE1234F");  // cached since data_key()
  EXPECT_THROW(master.open("mobile", sealed), std::runtime_error);
}

TEST(DataKeyTest, OpenFindsTheKeyThroughTheSourceAndFailsOnceErased) {
  PiiCipher writer(std::string(32, 'm'));
  const std::string wrapped = writer.wrap_new_data_key();
  const std::string sealed = writer.data_key(7, wrapped).seal("first_name", "Asha");

  PiiCipher reader(std::string(32, 'm'));  // another instance: nothing cached
  EXPECT_THROW(reader.open("first_name", sealed), std::runtime_error);  // no source yet
  std::optional<std::string> stored = wrapped;
  int lookups = 0;
  reader.set_data_key_source([&](std::int64_t id) {
    ++lookups;
    return id == 7 ? stored : std::nullopt;
  });
  EXPECT_EQ(reader.open("first_name", sealed), "Asha");
  EXPECT_EQ(reader.open("first_name", sealed), "Asha");
  EXPECT_EQ(lookups, 1);  // unwrapped once, then kept

  stored.reset();  // the key is destroyed
  reader.forget_data_key(7);
  EXPECT_THROW(reader.open("first_name", sealed), DataKeyErased);
}

TEST(DataKeyTest, AWrappedKeyOpensOnlyUnderItsMasterKey) {
  PiiCipher a(std::string(32, 'a'));
  PiiCipher b(std::string(32, 'b'));
  const std::string wrapped = a.wrap_new_data_key();
  EXPECT_THROW(b.data_key(1, wrapped), std::runtime_error);
  EXPECT_THROW(a.data_key(1, "v1:p3:AAAA"), std::runtime_error);
  EXPECT_THROW(a.data_key(0, wrapped), std::invalid_argument);
  // Two data keys never open each other's values.
  const std::string sealed = a.data_key(1, wrapped).seal("pan", "X");
  const std::string forged = "v1:p2:" + sealed.substr(std::string("v1:p1:").size());
  a.data_key(2, a.wrap_new_data_key());
  EXPECT_THROW(a.open("pan", forged), std::runtime_error);
}

TEST(DataKeyTest, MalformedKeyIdsAreRefused) {
  PiiCipher master(std::string(32, 'm'));
  EXPECT_THROW(master.open("pan", "v1:p:AAAA"), std::runtime_error);
  EXPECT_THROW(master.open("pan", "v1:px1:AAAA"), std::runtime_error);
  EXPECT_THROW(master.open("pan", "v1:p-1:AAAA"), std::runtime_error);
  EXPECT_EQ(sealed_data_key_id("plain text"), 0);
}
// ---- Master key ids and rotation (issue 21 §5) ----

TEST(MasterKeyTest, SealedValuesNameTheirMasterKey) {
  const std::string key(32, 'n');
  const PiiCipher cipher(key);
  EXPECT_EQ(cipher.key_id(), master_key_id(key));
  EXPECT_EQ(cipher.key_id().size(), 8u);
  const std::string sealed = cipher.seal("pan", "ABCDE1234F");
  EXPECT_TRUE(sealed.starts_with("v1:m" + cipher.key_id() + ":"));
  EXPECT_TRUE(cipher.under_current_key(sealed));
  EXPECT_EQ(sealed_data_key_id(sealed), 0);
  EXPECT_NE(master_key_id(std::string(32, 'o')), cipher.key_id());
}

TEST(MasterKeyTest, PreviousKeysOpenButNeverSeal) {
  const std::string old_key(32, 'o');
  const std::string new_key(32, 'n');
  const PiiCipher before(old_key);
  const std::string old_sealed = before.seal("mobile", "9876543210");
  const std::string wrapped = before.wrap_new_data_key();
  const PiiCipher alone(new_key);
  EXPECT_THROW(alone.open("mobile", old_sealed), std::runtime_error);
  const PiiCipher rotating(new_key, {old_key});
  EXPECT_TRUE(rotating.has_previous_keys());
  EXPECT_EQ(rotating.open("mobile", old_sealed), "9876543210");
  EXPECT_FALSE(rotating.under_current_key(old_sealed));
  const std::string resealed = rotating.seal("mobile", rotating.open("mobile", old_sealed));
  EXPECT_EQ(alone.open("mobile", resealed), "9876543210");
  // A data key re-wrapped under the new master key opens what was sealed under it before.
  const std::string sealed_under_data_key = before.data_key(5, wrapped).seal("pan", "X");
  const std::string rewrapped = rotating.rewrap(wrapped);
  EXPECT_TRUE(alone.under_current_key(rewrapped));
  PiiCipher after(new_key);
  after.set_data_key_source([&](std::int64_t) { return std::optional<std::string>(rewrapped); });
  EXPECT_EQ(after.open("pan", sealed_under_data_key), "X");
}

TEST(MasterKeyTest, ValuesFromBeforeKeyIdsStillOpen) {
  // "v1:" + base64 with no key id: tried with each configured master key.
  const std::string old_key(32, 'o');
  const PiiCipher before(old_key);
  const std::string with_id = before.seal("email", "a@b.in");
  const std::string legacy = "v1:" + with_id.substr(with_id.rfind(':') + 1);
  EXPECT_EQ(PiiCipher(std::string(32, 'n'), {old_key}).open("email", legacy), "a@b.in");
  EXPECT_THROW(PiiCipher(std::string(32, 'n')).open("email", legacy), std::runtime_error);
  EXPECT_THROW(before.open("email", "v1:mdeadbeef:" + legacy.substr(3)), std::runtime_error);
}

TEST(MasterKeyTest, TheIndexKeyKeepsBlindIndexesAcrossARotation) {
  const std::string old_key(32, 'o');
  const PiiCipher before(old_key);
  const std::string bidx = before.blind_index("mobile", "9876543210");
  const std::string wrapped_index = before.wrap_index_key();  // the old master key, wrapped
  PiiCipher rotating(std::string(32, 'n'), {old_key});
  rotating.use_index_key(wrapped_index);
  EXPECT_EQ(rotating.blind_index("mobile", "9876543210"), bidx);
  PiiCipher after(std::string(32, 'n'));
  after.use_index_key(rotating.rewrap(wrapped_index));
  EXPECT_EQ(after.blind_index("mobile", "9876543210"), bidx);
  EXPECT_NE(PiiCipher(std::string(32, 'n')).blind_index("mobile", "9876543210"), bidx);
}

}  // namespace
}  // namespace leadgate
