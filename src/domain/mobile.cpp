#include "domain/mobile.h"
#include "domain/text.h"

namespace leadgate {

namespace {

constexpr std::size_t kNationalLength = 10;

bool is_layout(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case '\v':
    case '-':
    case '.':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<std::string> normalize_mobile(std::string_view input) {
  std::string digits;
  bool plus = false;
  for (char c : input) {
    if (is_layout(c)) continue;
    if (c == '+' && digits.empty() && !plus) {
      plus = true;
      continue;
    }
    if (!is_digit(c)) return std::nullopt;
    digits.push_back(c);
  }

  std::string_view rest = digits;
  if (plus) {
    // "+" must carry India's country code; a trunk 0 after it is tolerated.
    if (!rest.starts_with("91")) return std::nullopt;
    rest.remove_prefix(2);
    if (rest.size() == kNationalLength + 1 && rest.front() == '0') rest.remove_prefix(1);
  } else if (rest.size() == kNationalLength + 1 && rest.starts_with("0")) {
    rest.remove_prefix(1);
  } else if (rest.size() == kNationalLength + 2 && rest.starts_with("91")) {
    rest.remove_prefix(2);
  } else if (rest.size() == kNationalLength + 3 && rest.starts_with("910")) {
    rest.remove_prefix(3);
  }

  if (rest.size() != kNationalLength) return std::nullopt;
  if (rest.front() < '6') return std::nullopt;  // Indian mobiles start with 6, 7, 8 or 9.
  return std::string(rest);
}

}  // namespace leadgate
