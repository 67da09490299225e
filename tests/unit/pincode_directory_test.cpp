#include "domain/pincode_directory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef LEADGATE_SOURCE_DATA_DIR
#error "LEADGATE_SOURCE_DATA_DIR must name the repository's data/ directory"
#endif

namespace leadgate {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

PincodeDirectory sample() {
  return PincodeDirectory::from_rows({
      {"600001", "Tamil Nadu"},
      {"110001", "Delhi"},
      {"400001", "Maharashtra"},
      {"190001", "Jammu and Kashmir"},
      {"751001", "Odisha"},
      {"605001", "Puducherry"},
      {"248001", "Uttarakhand"},
      {"744101", "Andaman and Nicobar Islands"},
      {"396230", "Dadra and Nagar Haveli and Daman and Diu"},
      {"400002", "Maharashtra"},
  });
}

// Writes `content` to a fresh temporary file (unique per process) and removes it when done.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("pincode_directory_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter_++) + ".csv"))
                .string();
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// The message of the std::runtime_error thrown by `fn`, or "" when none is thrown.
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(PincodeDirectoryTest, FromRowsLooksUpStates) {
  const PincodeDirectory dir = sample();
  EXPECT_EQ(dir.size(), 10u);
  EXPECT_EQ(dir.state_of("600001"), "Tamil Nadu");
  EXPECT_EQ(dir.state_of("110001"), "Delhi");
  EXPECT_EQ(dir.state_of("400001"), "Maharashtra");
  EXPECT_EQ(dir.state_of("400002"), "Maharashtra");
  EXPECT_EQ(dir.state_of("744101"), "Andaman and Nicobar Islands");
}

TEST(PincodeDirectoryTest, UnknownOrInvalidPincodeIsNullopt) {
  const PincodeDirectory dir = sample();
  EXPECT_EQ(dir.state_of("400003"), std::nullopt);
  EXPECT_EQ(dir.state_of("999999"), std::nullopt);
  EXPECT_EQ(dir.state_of("100000"), std::nullopt);
  EXPECT_EQ(dir.state_of(""), std::nullopt);
  EXPECT_EQ(dir.state_of("40000"), std::nullopt);
  EXPECT_EQ(dir.state_of("4000011"), std::nullopt);
  EXPECT_EQ(dir.state_of("40000A"), std::nullopt);
  EXPECT_EQ(dir.state_of("040000"), std::nullopt);
  EXPECT_EQ(dir.state_of(" 400001"), std::nullopt);
  EXPECT_FALSE(dir.state_matches("400003", "Maharashtra"));
  EXPECT_FALSE(dir.state_matches("4000", "Maharashtra"));

  const PincodeDirectory empty = PincodeDirectory::from_rows({});
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.state_of("400001"), std::nullopt);
}

TEST(PincodeDirectoryTest, FromRowsRejectsMalformedRows) {
  EXPECT_THROW(PincodeDirectory::from_rows({{"40001", "Maharashtra"}}), std::runtime_error);
  EXPECT_THROW(PincodeDirectory::from_rows({{"4000011", "Maharashtra"}}), std::runtime_error);
  EXPECT_THROW(PincodeDirectory::from_rows({{"40000A", "Maharashtra"}}), std::runtime_error);
  EXPECT_THROW(PincodeDirectory::from_rows({{"ABCDEF", "Maharashtra"}}), std::runtime_error);
  EXPECT_THROW(PincodeDirectory::from_rows({{"012345", "Maharashtra"}}), std::runtime_error);
  EXPECT_THROW(PincodeDirectory::from_rows({{"400001", ""}}), std::runtime_error);
  EXPECT_THROW(PincodeDirectory::from_rows({{"400001", "   "}}), std::runtime_error);
  // One pincode, two states.
  EXPECT_THROW(PincodeDirectory::from_rows({{"400001", "Maharashtra"}, {"400001", "Goa"}}),
               std::runtime_error);
  // An exact duplicate is harmless.
  EXPECT_EQ(
      PincodeDirectory::from_rows({{"400001", "Maharashtra"}, {"400001", "Maharashtra"}}).size(),
      1u);
  EXPECT_NE(error_of([] {
              PincodeDirectory::from_rows({{"400001", "A"}, {"0123", "B"}});
            }).find(":2:"),
            std::string::npos);
}

TEST(PincodeDirectoryTest, StateMatchesIgnoresCaseSpacesPunctuationAndAmpersand) {
  const PincodeDirectory dir = sample();
  EXPECT_TRUE(dir.state_matches("600001", "Tamil Nadu"));
  EXPECT_TRUE(dir.state_matches("600001", "tamil nadu"));
  EXPECT_TRUE(dir.state_matches("600001", "TAMILNADU"));
  EXPECT_TRUE(dir.state_matches("600001", "  Tamil-Nadu. "));
  EXPECT_TRUE(dir.state_matches("190001", "Jammu & Kashmir"));
  EXPECT_TRUE(dir.state_matches("190001", "jammu and kashmir"));
  EXPECT_TRUE(dir.state_matches("190001", "J&K"));
  EXPECT_TRUE(dir.state_matches("744101", "Andaman & Nicobar Islands"));
  EXPECT_TRUE(dir.state_matches("744101", "Andaman and Nicobar"));
  EXPECT_TRUE(dir.state_matches("396230", "Dadra & Nagar Haveli & Daman & Diu"));

  EXPECT_FALSE(dir.state_matches("600001", "Kerala"));
  EXPECT_FALSE(dir.state_matches("600001", "Tamil"));
  EXPECT_FALSE(dir.state_matches("600001", ""));
  EXPECT_FALSE(dir.state_matches("600001", " & "));
  EXPECT_FALSE(dir.state_matches("400001", "Delhi"));
}

TEST(PincodeDirectoryTest, StateMatchesAcceptsOldAndAlternateNames) {
  const PincodeDirectory dir = sample();
  EXPECT_TRUE(dir.state_matches("751001", "Orissa"));
  EXPECT_TRUE(dir.state_matches("751001", "ODISHA"));
  EXPECT_TRUE(dir.state_matches("605001", "Pondicherry"));
  EXPECT_TRUE(dir.state_matches("248001", "Uttaranchal"));
  EXPECT_TRUE(dir.state_matches("110001", "NCT of Delhi"));
  EXPECT_TRUE(dir.state_matches("110001", "New Delhi"));
  EXPECT_TRUE(dir.state_matches("110001", "new-delhi"));
  EXPECT_TRUE(dir.state_matches("396230", "Daman and Diu"));
  EXPECT_TRUE(dir.state_matches("396230", "Dadra and Nagar Haveli"));
  // Aliases only stand for their own state.
  EXPECT_FALSE(dir.state_matches("600001", "Pondicherry"));
  EXPECT_FALSE(dir.state_matches("400001", "New Delhi"));
}

TEST(PincodeDirectoryTest, StateMatchesAliasesInTheDirectoryToo) {
  // A directory that still carries an old name matches the official one.
  const PincodeDirectory dir =
      PincodeDirectory::from_rows({{"751001", "ORISSA"}, {"605001", "Pondicherry"}});
  EXPECT_TRUE(dir.state_matches("751001", "Odisha"));
  EXPECT_TRUE(dir.state_matches("605001", "Puducherry"));
}

TEST(PincodeDirectoryTest, LoadParsesCsvAndSkipsBlankLines) {
  const TempFile file(
      "pincode,state\r\n"
      "600001,Tamil Nadu\r\n"
      "\r\n"
      "110001 , Delhi \n"
      "   \n"
      "190001,\"Jammu and Kashmir\"\n"
      "400001,Maharashtra");  // no final newline
  const PincodeDirectory dir = PincodeDirectory::load(file.path());
  EXPECT_EQ(dir.size(), 4u);
  EXPECT_EQ(dir.state_of("600001"), "Tamil Nadu");
  EXPECT_EQ(dir.state_of("110001"), "Delhi");
  EXPECT_EQ(dir.state_of("190001"), "Jammu and Kashmir");
  EXPECT_EQ(dir.state_of("400001"), "Maharashtra");
}

TEST(PincodeDirectoryTest, LoadNamesFileAndLineOfMalformedInput) {
  struct Case {
    const char* content;
    const char* line;
  };
  const Case cases[] = {
      {"pincode,state\n110001,Delhi\n40001,Maharashtra\n", ":3:"},     // 5 digits
      {"pincode,state\n110001,Delhi\n\n40000A,Maharashtra\n", ":4:"},  // a letter
      {"pincode,state\n012345,Maharashtra\n", ":2:"},                  // leading 0
      {"pincode,state\n400001\n", ":2:"},                              // no state column
      {"pincode,state\n400001,\n", ":2:"},                             // empty state
      {"pincode,state\n400001,Maha,rashtra\n", ":2:"},                 // extra column
      {"pincode,state\n400001,\"Maharashtra\n", ":2:"},                // unbalanced quote
      {"400001,Maharashtra\n", ":1:"},                                 // no header
      {"", ":1:"},                                                     // empty file
      {"pincode,state\n400001,Maharashtra\n400001,Goa\n", ":3:"},      // conflicting duplicate
  };
  for (const Case& c : cases) {
    const TempFile file(c.content);
    const std::string message = error_of([&] { PincodeDirectory::load(file.path()); });
    EXPECT_NE(message.find(file.path()), std::string::npos) << c.content << " -> " << message;
    EXPECT_NE(message.find(c.line), std::string::npos) << c.content << " -> " << message;
  }
}

TEST(PincodeDirectoryTest, LoadOfMissingFileThrows) {
  EXPECT_THROW(PincodeDirectory::load("/nonexistent/leadgate/pincodes.csv"), std::runtime_error);
}

TEST(PincodeDirectoryTest, ShippedDirectoryHasWellKnownPincodes) {
  const PincodeDirectory dir =
      PincodeDirectory::load(std::string(LEADGATE_SOURCE_DATA_DIR) + "/pincodes.csv");
  EXPECT_GT(dir.size(), 15000u);
  EXPECT_EQ(dir.state_of("400001"), "Maharashtra");
  EXPECT_EQ(dir.state_of("110001"), "Delhi");
  EXPECT_EQ(dir.state_of("560001"), "Karnataka");
  EXPECT_EQ(dir.state_of("600001"), "Tamil Nadu");
  EXPECT_EQ(dir.state_of("700001"), "West Bengal");
  EXPECT_TRUE(dir.state_matches("600001", "TAMILNADU"));
  EXPECT_TRUE(dir.state_matches("110001", "New Delhi"));
}

}  // namespace
}  // namespace leadgate
