#pragma once
// The brands (environments) leadgate serves. Their data never mix: every row, key scope, metric
// label and setting carries one of these names. This is the only list of them.
#include <string>
#include <string_view>
#include <vector>

namespace leadgate {

inline const std::vector<std::string>& environments() {
  static const std::vector<std::string> kEnvs{"orbit", "homfinity"};
  return kEnvs;
}

inline bool is_environment(std::string_view name) {
  for (const auto& e : environments()) {
    if (e == name) return true;
  }
  return false;
}

}  // namespace leadgate
