#pragma once
// India pincode directory: pincode -> state, loaded once at start into a compact sorted index.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leadgate {

class PincodeDirectory {
 public:
  // Loads data/pincodes.csv (see data/README.md). Throws std::runtime_error naming the file and
  // line on a malformed file.
  static PincodeDirectory load(const std::string& path);
  // Builds from in-memory rows (tests).
  static PincodeDirectory from_rows(const std::vector<std::pair<std::string, std::string>>& rows);

  // The state of a 6-digit pincode, or nullopt when the pincode does not exist.
  std::optional<std::string_view> state_of(std::string_view pincode) const;
  // True when `state` names the pincode's state (case-insensitive, ignoring spaces, '&'/"and").
  bool state_matches(std::string_view pincode, std::string_view state) const;
  // True when `text` names one of the directory's states or UTs, with the same tolerance.
  bool names_a_state(std::string_view text) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t pincode;
    std::uint16_t state;
  };
  std::vector<Entry> entries_;       // sorted by pincode
  std::vector<std::string> states_;  // state names, indexed by Entry::state
};

}  // namespace leadgate
