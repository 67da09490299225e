#include "domain/mobile.h"

#include <gtest/gtest.h>

namespace leadgate {
namespace {

TEST(NormalizeMobile, AcceptsTenDigitsStartingSixToNine) {
  EXPECT_EQ(normalize_mobile("9876543210"), "9876543210");
  EXPECT_EQ(normalize_mobile("8876543210"), "8876543210");
  EXPECT_EQ(normalize_mobile("7876543210"), "7876543210");
  EXPECT_EQ(normalize_mobile("6000000000"), "6000000000");
}

TEST(NormalizeMobile, RejectsFirstDigitBelowSix) {
  EXPECT_EQ(normalize_mobile("5876543210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("1876543210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("0876543210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("+91 5876543210"), std::nullopt);
}

TEST(NormalizeMobile, DropsLayoutCharacters) {
  EXPECT_EQ(normalize_mobile("98765 43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("98765-43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("98765.43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("(98765) 43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("  9876543210\t"), "9876543210");
  EXPECT_EQ(normalize_mobile("987-654-3210"), "9876543210");
}

TEST(NormalizeMobile, AcceptsPlusNinetyOne) {
  EXPECT_EQ(normalize_mobile("+91 98765 43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("+919876543210"), "9876543210");
  EXPECT_EQ(normalize_mobile("+91-98765-43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("+(91) 98765 43210"), "9876543210");
}

// Decision: a trunk 0 after the country code is a common way of writing the number
// ("+91 (0) 98765 43210") and is unambiguous, so it is accepted.
TEST(NormalizeMobile, AcceptsTrunkZeroAfterCountryCode) {
  EXPECT_EQ(normalize_mobile("+91 0 9876543210"), "9876543210");
  EXPECT_EQ(normalize_mobile("+91 (0) 98765 43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("910 9876543210"), "9876543210");
  EXPECT_EQ(normalize_mobile("9109876543210"), "9876543210");
}

TEST(NormalizeMobile, AcceptsBareNinetyOneOnlyWithTwelveDigits) {
  EXPECT_EQ(normalize_mobile("919876543210"), "9876543210");
  EXPECT_EQ(normalize_mobile("91 98765 43210"), "9876543210");
  // Ten digits that happen to start with 91 are a national number, not a country code.
  EXPECT_EQ(normalize_mobile("9198765432"), "9198765432");
  // 11 digits starting 91 are neither "91" + 10 nor "0" + 10.
  EXPECT_EQ(normalize_mobile("91987654321"), std::nullopt);
}

TEST(NormalizeMobile, AcceptsTrunkZeroOnlyWithElevenDigits) {
  EXPECT_EQ(normalize_mobile("09876543210"), "9876543210");
  EXPECT_EQ(normalize_mobile("0 9876543210"), "9876543210");
  EXPECT_EQ(normalize_mobile("0 98765 43210"), "9876543210");
  EXPECT_EQ(normalize_mobile("00 9876543210"), std::nullopt);
}

TEST(NormalizeMobile, RejectsWrongLengths) {
  EXPECT_EQ(normalize_mobile(""), std::nullopt);
  EXPECT_EQ(normalize_mobile("   "), std::nullopt);
  EXPECT_EQ(normalize_mobile("987654321"), std::nullopt);     // 9 digits
  EXPECT_EQ(normalize_mobile("98765432101"), std::nullopt);   // 11 digits, no 0 prefix
  EXPECT_EQ(normalize_mobile("987654321012"), std::nullopt);  // 12 digits, no 91 prefix
  EXPECT_EQ(normalize_mobile("+91 987654321"), std::nullopt);
  EXPECT_EQ(normalize_mobile("+91 98765432101"), std::nullopt);
  EXPECT_EQ(normalize_mobile("+91"), std::nullopt);
  EXPECT_EQ(normalize_mobile("+"), std::nullopt);
}

TEST(NormalizeMobile, RejectsOtherCountryCodes) {
  EXPECT_EQ(normalize_mobile("+1 987 654 3210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("+44 7911 123456"), std::nullopt);
  EXPECT_EQ(normalize_mobile("+9876543210"), std::nullopt);
}

// Decision: the international call prefix is not accepted for an Indian number.
TEST(NormalizeMobile, RejectsInternationalCallPrefix) {
  EXPECT_EQ(normalize_mobile("0091 98765 43210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("00919876543210"), std::nullopt);
}

TEST(NormalizeMobile, RejectsMisplacedPlus) {
  EXPECT_EQ(normalize_mobile("9876+543210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("++919876543210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("91+9876543210"), std::nullopt);
}

TEST(NormalizeMobile, RejectsLettersAndOtherCharacters) {
  EXPECT_EQ(normalize_mobile("98765O3210"), std::nullopt);  // letter O, not zero
  EXPECT_EQ(normalize_mobile("phone 9876543210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("9876543210x"), std::nullopt);
  EXPECT_EQ(normalize_mobile("98765/43210"), std::nullopt);
  EXPECT_EQ(normalize_mobile("98765_43210"), std::nullopt);
  // Devanagari digits are not accepted (the result must be ASCII).
  EXPECT_EQ(normalize_mobile("\xE0\xA5\xAF\xE0\xA5\xAE\xE0\xA5\xAD\xE0\xA5\xAC\xE0\xA5\xAB"
                             "\xE0\xA5\xAA\xE0\xA5\xA9\xE0\xA5\xA8\xE0\xA5\xA7\xE0\xA5\xA6"),
            std::nullopt);
}

}  // namespace
}  // namespace leadgate
