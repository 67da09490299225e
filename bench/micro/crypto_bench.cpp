// PiiCipher: sealing a field (AES-256-GCM, fresh nonce), opening it, and its blind index.
#include <benchmark/benchmark.h>

#include <string>

#include "crypto/crypto.h"

namespace leadgate {
namespace {

const PiiCipher& cipher() {
  static const PiiCipher c(std::string(PiiCipher::kMasterKeySize, 'k'));
  return c;
}

void BM_Seal(benchmark::State& state) {
  const std::string plaintext(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(cipher().seal("mobile", plaintext));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Seal)->Arg(10)->Arg(1024);

void BM_Open(benchmark::State& state) {
  const std::string sealed =
      cipher().seal("mobile", std::string(static_cast<std::size_t>(state.range(0)), 'x'));
  for (auto _ : state) benchmark::DoNotOptimize(cipher().open("mobile", sealed));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Open)->Arg(10)->Arg(1024);

void BM_BlindIndex(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(cipher().blind_index("mobile", "9876543210"));
}
BENCHMARK(BM_BlindIndex);

}  // namespace
}  // namespace leadgate
