#include "domain/pincode_directory.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/line_file.h"
#include "domain/text.h"

namespace leadgate {
namespace {

constexpr std::string_view kHeader = "pincode,state";

// A 6-digit Indian pincode (first digit 1-9) as a number, or nullopt.
std::optional<std::uint32_t> parse_pincode(std::string_view text) {
  if (text.size() != 6 || text.front() < '1' || text.front() > '9') return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value;
}

// Comparison key for a state name: ASCII letters and digits only, lower-cased, with '&' spelled
// "and" (so "Jammu & Kashmir", "jammu and kashmir" and "JAMMUANDKASHMIR" share one key).
std::string state_key(std::string_view name) {
  std::string key;
  key.reserve(name.size() + 4);
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      key.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      key.push_back(c);
    } else if (c == '&') {
      key += "and";
    }
  }
  return key;
}

// Old or alternate names (as keys) and the key of the official name they stand for.
constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kStateAliases = {{
    {"orissa", "odisha"},
    {"pondicherry", "puducherry"},
    {"uttaranchal", "uttarakhand"},
    {"nctofdelhi", "delhi"},
    {"newdelhi", "delhi"},
    {"nationalcapitalterritoryofdelhi", "delhi"},
    {"chattisgarh", "chhattisgarh"},
    {"andamanandnicobar", "andamanandnicobarislands"},
    {"dadraandnagarhaveli", "dadraandnagarhavelianddamananddiu"},
    {"damananddiu", "dadraandnagarhavelianddamananddiu"},
    {"jandk", "jammuandkashmir"},
}};

std::string canonical_state_key(std::string_view name) {
  std::string key = state_key(name);
  for (const auto& [alias, official] : kStateAliases) {
    if (key == alias) return std::string(official);
  }
  return key;
}

// Collects validated rows with interned state names, then sorts and de-duplicates them. Errors
// read "SOURCE:LINE: what" (SOURCE is the file path, or "pincode rows" for in-memory rows).
class Builder {
 public:
  explicit Builder(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(std::size_t line, std::string_view what) const {
    throw std::runtime_error(source_ + ":" + std::to_string(line) + ": " + std::string(what));
  }

  void add(std::size_t line, std::string_view pincode_text, std::string_view state) {
    const std::optional<std::uint32_t> pincode = parse_pincode(pincode_text);
    if (!pincode) {
      fail(line, "invalid pincode \"" + std::string(pincode_text) +
                     "\" (expected 6 digits, first digit 1-9)");
    }
    if (state.empty()) fail(line, "missing state for pincode " + std::string(pincode_text));
    rows_.push_back(Row{*pincode, intern(state), line});
  }

  // Sorts by pincode, drops exact duplicates and hands over the interned states. `Entry` is the
  // directory's {pincode, state} record.
  template <class Entry>
  void finish(std::vector<std::string>& states, std::vector<Entry>& entries) {
    std::stable_sort(rows_.begin(), rows_.end(),
                     [](const Row& a, const Row& b) { return a.pincode < b.pincode; });
    entries.clear();
    entries.reserve(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      if (i > 0 && rows_[i].pincode == rows_[i - 1].pincode) {
        if (rows_[i].state != rows_[i - 1].state) {
          fail(rows_[i].line, "pincode " + std::to_string(rows_[i].pincode) +
                                  " is already mapped to a different state on line " +
                                  std::to_string(rows_[i - 1].line));
        }
        continue;  // exact duplicate: keep one
      }
      entries.push_back(Entry{rows_[i].pincode, rows_[i].state});
    }
    states = std::move(states_);
  }

 private:
  struct Row {
    std::uint32_t pincode;
    std::uint16_t state;
    std::size_t line;
  };

  std::uint16_t intern(std::string_view state) {
    auto it = index_.find(std::string(state));
    if (it != index_.end()) return it->second;
    if (states_.size() > std::numeric_limits<std::uint16_t>::max()) {
      throw std::runtime_error(source_ + ": too many distinct states");
    }
    const auto id = static_cast<std::uint16_t>(states_.size());
    states_.emplace_back(state);
    index_.emplace(states_.back(), id);
    return id;
  }

  std::string source_;
  std::vector<Row> rows_;
  std::vector<std::string> states_;
  std::unordered_map<std::string, std::uint16_t> index_;
};

// The state field of a CSV line: plain (no commas or quotes), or double-quoted with "" for a
// literal quote. nullopt when malformed.
std::optional<std::string_view> parse_state_field(std::string_view field, std::string& storage) {
  if (field.empty() || field.front() != '"') {
    if (field.find_first_of(",\"") != std::string_view::npos) return std::nullopt;
    return field;
  }
  if (field.size() < 2 || field.back() != '"') return std::nullopt;
  storage.clear();
  const std::string_view inner = field.substr(1, field.size() - 2);
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '"') {
      if (i + 1 >= inner.size() || inner[i + 1] != '"') return std::nullopt;
      ++i;
    }
    storage.push_back(inner[i]);
  }
  return trim(storage);
}

}  // namespace

PincodeDirectory PincodeDirectory::load(const std::string& path) {
  Builder builder(path);
  std::string storage;
  const auto fail = [&](std::size_t line_no, const std::string& what) {
    builder.fail(line_no, what);
  };
  read_line_file(
      path, "pincode directory", kHeader,
      [&](std::size_t line_no, std::string_view view) {
        const std::size_t comma = view.find(',');
        if (comma == std::string_view::npos) builder.fail(line_no, "missing state");
        const std::string_view pincode = trim(view.substr(0, comma));
        const std::optional<std::string_view> state =
            parse_state_field(trim(view.substr(comma + 1)), storage);
        if (!state) builder.fail(line_no, "malformed state field (expected pincode,state)");
        builder.add(line_no, pincode, *state);
      },
      fail);

  PincodeDirectory dir;
  builder.finish(dir.states_, dir.entries_);
  return dir;
}

PincodeDirectory PincodeDirectory::from_rows(
    const std::vector<std::pair<std::string, std::string>>& rows) {
  Builder builder("pincode rows");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    builder.add(i + 1, rows[i].first, trim(rows[i].second));
  }
  PincodeDirectory dir;
  builder.finish(dir.states_, dir.entries_);
  return dir;
}

std::optional<std::string_view> PincodeDirectory::state_of(std::string_view pincode) const {
  const std::optional<std::uint32_t> code = parse_pincode(pincode);
  if (!code) return std::nullopt;
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), *code,
                                   [](const Entry& e, std::uint32_t v) { return e.pincode < v; });
  if (it == entries_.end() || it->pincode != *code) return std::nullopt;
  return std::string_view(states_[it->state]);
}

bool PincodeDirectory::state_matches(std::string_view pincode, std::string_view state) const {
  const std::optional<std::string_view> actual = state_of(pincode);
  if (!actual) return false;
  const std::string given = canonical_state_key(state);
  return !given.empty() && given == canonical_state_key(*actual);
}

bool PincodeDirectory::names_a_state(std::string_view text) const {
  const std::string key = canonical_state_key(text);
  if (key.empty()) return false;
  for (const auto& state : states_) {
    if (canonical_state_key(state) == key) return true;
  }
  return false;
}

}  // namespace leadgate
