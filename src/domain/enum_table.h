#pragma once
// A table with one entry per value of an enum (names, messages, ...), in place of a switch with
// one `case` per value.
#include <array>
#include <cstddef>
#include <type_traits>

namespace leadgate {

// The entry of `table` for `value`. The enum's values run 0, 1, 2, ... up to `Last`, and the
// table holds one entry per value, in that order; a table of another size fails to compile:
//   constexpr auto kLevelNames = std::to_array<std::string_view>({"debug", "info"});
//   enum_entry<Level::info>(kLevelNames, level, "info")
// `fallback` is for a value outside the enum's range (only a cast makes one).
template <auto Last, typename T, std::size_t N>
constexpr T enum_entry(const std::array<T, N>& table, decltype(Last) value,
                       std::type_identity_t<T> fallback) {
  static_assert(N == static_cast<std::size_t>(Last) + 1, "one entry per value of the enum");
  const auto index = static_cast<std::size_t>(value);
  return index < N ? table[index] : fallback;
}

}  // namespace leadgate
