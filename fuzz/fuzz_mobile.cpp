// Indian mobile normalisation (domain/mobile.h normalize_mobile) on any bytes: an accepted number
// is 10 ASCII digits starting 6-9, and normalising it again gives it back.
#include <cstddef>
#include <cstdint>

#include "domain/mobile.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadgate;
  const auto mobile = normalize_mobile(fuzz::text_of(data, size));
  if (!mobile) return 0;
  fuzz::check(mobile->size() == 10, "not 10 digits");
  fuzz::check((*mobile)[0] >= '6' && (*mobile)[0] <= '9', "first digit not 6-9");
  for (char c : *mobile) fuzz::check(c >= '0' && c <= '9', "not a digit");
  fuzz::check(normalize_mobile(*mobile) == mobile, "not a fixed point");
  return 0;
}
