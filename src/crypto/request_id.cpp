#include "crypto/request_id.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "crypto/crypto.h"

namespace leadgate {
namespace {

// xoshiro256** (Blackman and Vigna, 2018).
class Xoshiro256 {
 public:
  Xoshiro256() {
    const std::string seed = random_bytes(sizeof s_);
    std::memcpy(s_.data(), seed.data(), sizeof s_);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace

std::string correlation_uuid() {
  thread_local Xoshiro256 generator;
  std::array<unsigned char, 16> b{};
  const std::uint64_t hi = generator.next();
  const std::uint64_t lo = generator.next();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (8 * i));
    b[8 + i] = static_cast<unsigned char>(lo >> (8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace leadgate
