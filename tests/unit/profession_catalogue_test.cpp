#include "domain/profession_catalogue.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef LEADGATE_SOURCE_DATA_DIR
#error "LEADGATE_SOURCE_DATA_DIR must name the repository's data/ directory"
#endif

namespace leadgate {
namespace {

ProfessionCatalogue sample() {
  return ProfessionCatalogue::from_rows({
      {20,
       "Doctor",
       EmploymentType::self_employed_professional,
       {"Physician", "Medical Practitioner"}},
      {1, "Software Engineer", EmploymentType::salaried, {"IT Professional", "Software Developer"}},
      {33, "Trader", EmploymentType::self_employed_business, {}},
      {21,
       "Chartered Accountant",
       EmploymentType::self_employed_professional,
       {"CA", "Chartered Accountant (CA)"}},
  });
}

// Writes `content` to a fresh temporary file (unique per process) and removes it when done.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("profession_catalogue_test_" + std::to_string(::getpid()) + "_" +
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

// The error of loading `content` as a catalogue file, with the temporary path replaced by "F".
std::string load_error(const std::string& content) {
  TempFile file(content);
  std::string error = error_of([&] { ProfessionCatalogue::load(file.path()); });
  if (error.compare(0, file.path().size(), file.path()) == 0) {
    error.replace(0, file.path().size(), "F");
  }
  return error;
}

const std::string kHeader = "id,name,employment_type,aliases\n";

TEST(ProfessionCatalogueTest, EmploymentTypeNames) {
  EXPECT_EQ(employment_type_name(EmploymentType::salaried), "salaried");
  EXPECT_EQ(employment_type_name(EmploymentType::self_employed_professional),
            "self_employed_professional");
  EXPECT_EQ(employment_type_name(EmploymentType::self_employed_business), "self_employed_business");
}

TEST(ProfessionCatalogueTest, FromRowsSortsByIdAndFinds) {
  const ProfessionCatalogue c = sample();
  ASSERT_EQ(c.all().size(), 4u);
  EXPECT_EQ(c.all()[0].id, 1);
  EXPECT_EQ(c.all()[1].id, 20);
  EXPECT_EQ(c.all()[2].id, 21);
  EXPECT_EQ(c.all()[3].id, 33);

  const Profession* doctor = c.find(20);
  ASSERT_NE(doctor, nullptr);
  EXPECT_EQ(doctor->name, "Doctor");
  EXPECT_EQ(doctor->type, EmploymentType::self_employed_professional);
  EXPECT_EQ(doctor->aliases, (std::vector<std::string>{"Physician", "Medical Practitioner"}));

  EXPECT_EQ(c.find(0), nullptr);
  EXPECT_EQ(c.find(2), nullptr);
  EXPECT_EQ(c.find(-1), nullptr);
  EXPECT_EQ(c.find(34), nullptr);
  EXPECT_EQ(ProfessionCatalogue::from_rows({}).find(1), nullptr);
}

TEST(ProfessionCatalogueTest, FromRowsTrimsNamesAndAliases) {
  const ProfessionCatalogue c =
      ProfessionCatalogue::from_rows({{5, "  Teacher ", EmploymentType::salaried, {" Lecturer "}}});
  EXPECT_EQ(c.find(5)->name, "Teacher");
  EXPECT_EQ(c.find(5)->aliases, std::vector<std::string>{"Lecturer"});
}

TEST(ProfessionCatalogueTest, FromRowsRejectsBadRows) {
  using T = EmploymentType;
  EXPECT_THROW(ProfessionCatalogue::from_rows({{0, "X", T::salaried, {}}}), std::runtime_error);
  EXPECT_THROW(ProfessionCatalogue::from_rows({{-3, "X", T::salaried, {}}}), std::runtime_error);
  EXPECT_THROW(ProfessionCatalogue::from_rows({{1, "  ", T::salaried, {}}}), std::runtime_error);
  EXPECT_THROW(ProfessionCatalogue::from_rows({{1, "X", T::salaried, {"A", " "}}}),
               std::runtime_error);
  const std::string dup = error_of([] {
    ProfessionCatalogue::from_rows({{1, "A", T::salaried, {}},
                                    {2, "B", T::salaried, {}},
                                    {1, "C", T::self_employed_business, {}}});
  });
  EXPECT_EQ(dup, "profession rows:3: duplicate profession id 1 (also on line 1)");
}

TEST(ProfessionCatalogueTest, NameMatchesNameAndAliasesCaseInsensitively) {
  const ProfessionCatalogue c = sample();
  EXPECT_TRUE(c.name_matches(1, "Software Engineer"));
  EXPECT_TRUE(c.name_matches(1, "software engineer"));
  EXPECT_TRUE(c.name_matches(1, "SOFTWARE ENGINEER"));
  EXPECT_TRUE(c.name_matches(1, "IT Professional"));
  EXPECT_TRUE(c.name_matches(1, "it professional"));
  EXPECT_TRUE(c.name_matches(1, "Software Developer"));
  EXPECT_TRUE(c.name_matches(20, "physician"));
  EXPECT_TRUE(c.name_matches(20, "Medical Practitioner"));
  EXPECT_TRUE(c.name_matches(21, "ca"));
  EXPECT_TRUE(c.name_matches(21, "Chartered Accountant (CA)"));
  EXPECT_TRUE(c.name_matches(33, "trader"));
}

TEST(ProfessionCatalogueTest, NameMatchesIgnoresSurroundingAndDoubleSpaces) {
  const ProfessionCatalogue c = sample();
  EXPECT_TRUE(c.name_matches(1, "  Software Engineer  "));
  EXPECT_TRUE(c.name_matches(1, "Software   Engineer"));
  EXPECT_TRUE(c.name_matches(1, "\tsoftware \t engineer\r\n"));
  EXPECT_TRUE(c.name_matches(20, " medical  practitioner "));
}

TEST(ProfessionCatalogueTest, NameMatchesRejectsOtherNames) {
  const ProfessionCatalogue c = sample();
  EXPECT_FALSE(c.name_matches(1, "Doctor"));  // another profession's name
  EXPECT_FALSE(c.name_matches(20, "Software Engineer"));
  EXPECT_FALSE(c.name_matches(1, "Physician"));         // another profession's alias
  EXPECT_FALSE(c.name_matches(1, "Software"));          // prefix
  EXPECT_FALSE(c.name_matches(1, "SoftwareEngineer"));  // spaces are not ignored, only collapsed
  EXPECT_FALSE(c.name_matches(1, "Software Engineers"));
  EXPECT_FALSE(c.name_matches(1, "Software-Engineer"));
  EXPECT_FALSE(c.name_matches(1, ""));
  EXPECT_FALSE(c.name_matches(1, "   "));
  EXPECT_FALSE(c.name_matches(33, ""));  // no aliases: empty never matches
  EXPECT_FALSE(c.name_matches(21, "Chartered Accountant CA"));
  EXPECT_FALSE(c.name_matches(2, "Software Engineer"));  // unknown id
  EXPECT_FALSE(c.name_matches(0, ""));
}

TEST(ProfessionCatalogueTest, LoadsQuotedFieldsBlankLinesBomAndCrlf) {
  TempFile file(
      "\xEF\xBB\xBFid,name,employment_type,aliases\r\n"
      "7,\"Hotel, Restaurant Owner\",self_employed_business,\"Hotelier|Dhaba \"\"Owner\"\"\"\r\n"
      "\r\n"
      "  3 , Teacher , salaried ,  \r\n"
      "4,Nurse,salaried,Staff Nurse|  Nursing Staff \n");
  const ProfessionCatalogue c = ProfessionCatalogue::load(file.path());
  ASSERT_EQ(c.all().size(), 3u);
  EXPECT_EQ(c.all()[0].id, 3);
  EXPECT_EQ(c.find(3)->name, "Teacher");
  EXPECT_TRUE(c.find(3)->aliases.empty());
  EXPECT_EQ(c.find(7)->name, "Hotel, Restaurant Owner");
  EXPECT_EQ(c.find(7)->type, EmploymentType::self_employed_business);
  EXPECT_EQ(c.find(7)->aliases, (std::vector<std::string>{"Hotelier", "Dhaba \"Owner\""}));
  EXPECT_EQ(c.find(4)->aliases, (std::vector<std::string>{"Staff Nurse", "Nursing Staff"}));
  EXPECT_TRUE(c.name_matches(7, "hotel,  restaurant owner"));
  EXPECT_TRUE(c.name_matches(4, "nursing staff"));
}

TEST(ProfessionCatalogueTest, MalformedFilesNameFileAndLine) {
  EXPECT_EQ(load_error(""), "F:1: no header, expected \"id,name,employment_type,aliases\"");
  EXPECT_EQ(load_error("id,name,type,aliases\n1,A,salaried,\n"),
            "F:1: expected header \"id,name,employment_type,aliases\"");
  EXPECT_EQ(load_error(kHeader + "1,A,salaried\n"),
            "F:2: expected 4 fields (id,name,employment_type,aliases), found 3");
  EXPECT_EQ(load_error(kHeader + "1,A,salaried,,extra\n"),
            "F:2: expected 4 fields (id,name,employment_type,aliases), found 5");
  EXPECT_EQ(load_error(kHeader + "x,A,salaried,\n"),
            "F:2: invalid profession id \"x\" (expected a positive integer)");
  EXPECT_EQ(load_error(kHeader + "\n1,A,salaried,\n01,B,salaried,\n"),
            "F:4: invalid profession id \"01\" (expected a positive integer)");
  EXPECT_EQ(load_error(kHeader + "0,A,salaried,\n"),
            "F:2: invalid profession id \"0\" (expected a positive integer)");
  EXPECT_EQ(load_error(kHeader + "-1,A,salaried,\n"),
            "F:2: invalid profession id \"-1\" (expected a positive integer)");
  EXPECT_EQ(load_error(kHeader + "99999999999,A,salaried,\n"),
            "F:2: invalid profession id \"99999999999\" (expected a positive integer)");
  EXPECT_EQ(load_error(kHeader + "1,,salaried,\n"), "F:2: missing name for profession 1");
  EXPECT_EQ(load_error(kHeader + "1,A,employed,\n"),
            "F:2: unknown employment type \"employed\" (expected salaried, "
            "self_employed_professional or self_employed_business)");
  EXPECT_NE(
      load_error(kHeader + "1,A,Salaried,\n").find("F:2: unknown employment type \"Salaried\""),
      std::string::npos);  // the type is matched exactly
  EXPECT_EQ(load_error(kHeader + "1,A,salaried,B||C\n"), "F:2: empty alias for profession 1");
  EXPECT_EQ(load_error(kHeader + "1,A,salaried,B|\n"), "F:2: empty alias for profession 1");
  EXPECT_EQ(load_error(kHeader + "1,\"A,salaried,\n"), "F:2: unterminated quoted field 2");
  EXPECT_EQ(load_error(kHeader + "1,\"A\"x,salaried,\n"),
            "F:2: unexpected text after the closing quote of field 2");
  EXPECT_EQ(load_error(kHeader + "1,A\"B,salaried,\n"),
            "F:2: quote inside unquoted field 2 (quote the whole field and double the quote)");
  EXPECT_EQ(load_error(kHeader + "1,A,salaried,\n2,B,salaried,\n1,C,salaried,\n"),
            "F:4: duplicate profession id 1 (also on line 2)");
}

TEST(ProfessionCatalogueTest, MissingFileIsAnError) {
  EXPECT_NE(error_of([] {
              ProfessionCatalogue::load("/nonexistent/professions.csv");
            }).find("/nonexistent/professions.csv: cannot open"),
            std::string::npos);
}

// --- The shipped catalogue --------------------------------------------------------------------

const ProfessionCatalogue& shipped() {
  static const ProfessionCatalogue c =
      ProfessionCatalogue::load(std::string(LEADGATE_SOURCE_DATA_DIR) + "/professions.csv");
  return c;
}

TEST(ShippedProfessionCatalogueTest, LoadsWithStableIds) {
  const ProfessionCatalogue& c = shipped();
  EXPECT_GE(c.all().size(), 40u);

  struct Expected {
    int id;
    const char* name;
    EmploymentType type;
  };
  const Expected expected[] = {
      {1, "Software Engineer", EmploymentType::salaried},
      {2, "Government Employee", EmploymentType::salaried},
      {3, "Teacher", EmploymentType::salaried},
      {4, "Bank Employee", EmploymentType::salaried},
      {20, "Doctor", EmploymentType::self_employed_professional},
      {21, "Chartered Accountant", EmploymentType::self_employed_professional},
      {22, "Lawyer", EmploymentType::self_employed_professional},
      {23, "Architect", EmploymentType::self_employed_professional},
      {33, "Trader", EmploymentType::self_employed_business},
      {34, "Shop Owner", EmploymentType::self_employed_business},
      {35, "Manufacturer", EmploymentType::self_employed_business},
      {36, "Contractor", EmploymentType::self_employed_business},
  };
  for (const Expected& e : expected) {
    const Profession* p = c.find(e.id);
    ASSERT_NE(p, nullptr) << e.id;
    EXPECT_EQ(p->name, e.name) << e.id;
    EXPECT_EQ(p->type, e.type) << e.id;
  }
  EXPECT_TRUE(c.name_matches(1, "it professional"));
  EXPECT_TRUE(c.name_matches(1, "Software Developer"));
  EXPECT_TRUE(c.name_matches(20, "Physician"));
  EXPECT_TRUE(c.name_matches(20, "medical practitioner"));
  EXPECT_TRUE(c.name_matches(21, "CA"));
  EXPECT_TRUE(c.name_matches(22, "Advocate"));
  EXPECT_FALSE(c.name_matches(1, "Doctor"));
}

TEST(ShippedProfessionCatalogueTest, EveryTypeIsPresentAndNamesAreUnambiguous) {
  std::map<EmploymentType, int> per_type;
  // Every name and alias (compared as name_matches compares) belongs to exactly one profession,
  // so a name typed by a customer never fits two ids.
  std::map<std::string, int> owner;
  auto key = [](std::string s) {
    for (char& ch : s) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    return s;
  };
  for (const Profession& p : shipped().all()) {
    ++per_type[p.type];
    std::vector<std::string> names = p.aliases;
    names.push_back(p.name);
    for (const std::string& n : names) {
      const auto [it, inserted] = owner.emplace(key(n), p.id);
      EXPECT_TRUE(inserted || it->second == p.id)
          << "\"" << n << "\" is used by professions " << it->second << " and " << p.id;
      EXPECT_TRUE(shipped().name_matches(p.id, n)) << n;
    }
  }
  EXPECT_GE(per_type[EmploymentType::salaried], 10);
  EXPECT_GE(per_type[EmploymentType::self_employed_professional], 8);
  EXPECT_GE(per_type[EmploymentType::self_employed_business], 8);
}

}  // namespace
}  // namespace leadgate
