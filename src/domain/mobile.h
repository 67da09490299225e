#pragma once
// Indian mobile numbers as customers type them, reduced to the 10-digit national number.
#include <optional>
#include <string>
#include <string_view>

namespace leadgate {

// Returns the 10-digit national number (first digit 6-9), or nullopt when `input` is not an
// Indian mobile number. Decisions (each pinned by tests/unit/mobile_test.cpp):
//  - ASCII whitespace, '-', '.', '(' and ')' are layout and are dropped anywhere.
//  - '+' is allowed only as the very first character and must be followed by country code 91:
//    "+91 98765 43210" is accepted, "+1 ..." and "9876+543210" are rejected.
//  - After "+91", a trunk '0' is accepted ("+91 0 98765 43210", also written "+91 (0) ..."): the
//    number is unambiguous and this is a common way of writing it.
//  - Without '+': 10 digits as is; 11 digits only as "0" + 10; 12 digits only as "91" + 10;
//    13 digits only as "910" + 10. Any other length (e.g. 9, or 11 without the leading 0) is
//    rejected rather than guessed at.
//  - The international call prefix "00" ("0091 ...") is not accepted: nobody enters their own
//    Indian mobile that way on an Indian form, and accepting it widens what 0-prefixed input means.
//  - Anything else (letters, other digit scripts, '+' not first) is rejected.
std::optional<std::string> normalize_mobile(std::string_view input);

}  // namespace leadgate
