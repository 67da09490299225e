#include "domain/whatsapp_classifier.h"

#include <gtest/gtest.h>

#include <ostream>

namespace leadgate {
namespace {

struct Phrasing {
  const char* text;
  Intent intent;
  const char* id = nullptr;  // expected application id, only for Intent::application_id
};

std::ostream& operator<<(std::ostream& os, const Phrasing& p) {
  return os << '"' << p.text << "\" -> " << intent_name(p.intent);
}

class ClassifyPhrasing : public ::testing::TestWithParam<Phrasing> {};

TEST_P(ClassifyPhrasing, GivesTheExpectedIntent) {
  const Phrasing& p = GetParam();
  const Classification c = classify_message(p.text);
  EXPECT_EQ(intent_name(c.intent), intent_name(p.intent)) << p.text;
  if (p.id != nullptr) {
    EXPECT_EQ(c.application_id, std::optional<std::string>(p.id)) << p.text;
  } else {
    EXPECT_EQ(c.application_id, std::nullopt) << p.text;
  }
}

constexpr Intent kStatus = Intent::status;
constexpr Intent kHelp = Intent::help;
constexpr Intent kId = Intent::application_id;
constexpr Intent kOut = Intent::opt_out;
constexpr Intent kIn = Intent::opt_in;
constexpr Intent kFallback = Intent::fallback;

const Phrasing kPhrasings[] = {
    // Plain status keywords, any case, with punctuation.
    {"status", kStatus},
    {"STATUS", kStatus},
    {"Status?!", kStatus},
    {"status.", kStatus},
    {"  status  ", kStatus},
    {"check", kStatus},
    {"Check", kStatus},
    {"application", kStatus},
    {"loan status", kStatus},
    {"Track application", kStatus},
    {"my application", kStatus},
    {"loan details", kStatus},
    {"Loan Details please", kStatus},
    // Real phrasings with extra words.
    {"What is my loan status?", kStatus},
    {"Hi, can you check my application status", kStatus},
    {"any update on my loan?", kStatus},
    {"Where is my application??", kStatus},
    {"I want to track my loan", kStatus},
    {"when will my loan be approved", kStatus},
    {"Hello! Status of my home loan application please 🙏", kStatus},
    {"what's the progress", kStatus},
    // Hinglish.
    {"mera loan status kya hai", kStatus},
    {"loan ka status batao", kStatus},
    {"application kahan tak pahuchi", kStatus},
    {"kya hua mere loan ka", kStatus},
    {"Mera loan kab approve hoga?", kStatus},
    {"bhai loan ki details bhejo", kStatus},
    // Typos.
    {"stauts", kStatus},
    {"staus", kStatus},
    {"statsu", kStatus},
    {"aplication status", kStatus},
    {"applicaton", kStatus},
    {"stat us", kStatus},
    {"Statuss?", kStatus},
    {"trak my aplication", kStatus},
    // Help.
    {"help", kHelp},
    {"HELP!!!", kHelp},
    {"I need support", kHelp},
    {"contact", kHelp},
    {"customer care number", kHelp},
    {"helpline", kHelp},
    {"help line", kHelp},
    {"madad chahiye", kHelp},
    {"I want to talk to someone", kHelp},
    {"please call me", kHelp},
    {"connect me to an agent", kHelp},
    {"suport", kHelp},
    {"kisi se baat karni hai", kHelp},
    // Both help and status words: status wins.
    {"help me check my status", kStatus},
    {"I need help with my application", kStatus},
    // Application ids, alone and inside text; an id wins over status / help words.
    {"B002BJF", kId, "B002BJF"},
    {"b002bjf", kId, "B002BJF"},
    {"what about B002BJF?", kId, "B002BJF"},
    {"status B002BJF", kId, "B002BJF"},
    {"help with application b002bjf please", kId, "B002BJF"},
    {"My application id is B12ABC3.", kId, "B12ABC3"},
    {"(B002BJF)", kId, "B002BJF"},
    {"#B002BJF", kId, "B002BJF"},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c3301", kId, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
    {"ref 3F2504E0-4F89-11D3-9A0C-0305E82C3301 status?", kId,
     "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
    {"id-3f2504e0-4f89-11d3-9a0c-0305e82c3301", kId, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
    {"B002BJF and B003XYZ", kId, "B002BJF"},
    // Opt-out / opt-in: only the whole message.
    {"STOP", kOut},
    {"stop", kOut},
    {"Stop.", kOut},
    {"STOP ALL", kOut},
    {"stopall", kOut},
    {"Please stop!", kOut},
    {"unsubscribe", kOut},
    {"Unsubscribe me", kOut},
    {"stop messages", kOut},
    {"opt out", kOut},
    {"Opt-out", kOut},
    {"OPTOUT", kOut},
    {"STOP 🛑", kOut},
    {"message band karo", kOut},
    {"START", kIn},
    {"start", kIn},
    {"subscribe", kIn},
    {"opt in", kIn},
    {"Opt-In", kIn},
    {"optin", kIn},
    {"UNSTOP", kIn},
    {"don't stop my application", kStatus},
    {"stop my loan application", kStatus},
    {"can you stop calling me", kFallback},
    {"when do I start paying emi", kFallback},
    {"STOP B002BJF", kId, "B002BJF"},
    // Negatives.
    {"", kFallback},
    {"   ", kFallback},
    {"hi", kFallback},
    {"Hello", kFallback},
    {"hello madam", kFallback},
    {"thanks", kFallback},
    {"Thank you!", kFallback},
    {"ok", kFallback},
    {"👍", kFallback},
    {"🙏🙏", kFallback},
    {"?", kFallback},
    {"asdfghjkl", kFallback},
    {"9876543210", kFallback},
    {"+91 98765 43210", kFallback},
    {"B12", kFallback},
    {"B0012345", kFallback},
    {"BJFABCD", kFallback},
    {"because the balance is between", kFallback},
    {"I want a new loan", kFallback},
    {"loan", kFallback},
    {"good morning", kFallback},
    {"3f2504e0-4f89-11d3-9a0c", kFallback},
};

INSTANTIATE_TEST_SUITE_P(RealWorld, ClassifyPhrasing, ::testing::ValuesIn(kPhrasings));

TEST(IntentName, EveryIntent) {
  EXPECT_EQ(intent_name(Intent::status), "status");
  EXPECT_EQ(intent_name(Intent::help), "help");
  EXPECT_EQ(intent_name(Intent::application_id), "application_id");
  EXPECT_EQ(intent_name(Intent::opt_out), "opt_out");
  EXPECT_EQ(intent_name(Intent::opt_in), "opt_in");
  EXPECT_EQ(intent_name(Intent::fallback), "fallback");
}

TEST(ExtractApplicationIds, InOrderWithoutDuplicates) {
  EXPECT_EQ(extract_application_ids("B002BJF, b003xyz and B002BJF again"),
            (std::vector<std::string>{"B002BJF", "B003XYZ"}));
  EXPECT_EQ(extract_application_ids("x 3F2504E0-4F89-11D3-9A0C-0305E82C3301 / B002BJF / "
                                    "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
            (std::vector<std::string>{"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "B002BJF"}));
  EXPECT_TRUE(extract_application_ids("").empty());
  EXPECT_TRUE(extract_application_ids("no ids here 9876543210").empty());
}

TEST(ExtractApplicationIds, WholeWordsOnly) {
  EXPECT_TRUE(extract_application_ids("XB002BJF").empty());
  EXPECT_TRUE(extract_application_ids("B002BJFX").empty());
  EXPECT_TRUE(extract_application_ids("B002BJ").empty());
  // A UUID glued to more hex is not a UUID.
  EXPECT_TRUE(extract_application_ids("3f2504e0-4f89-11d3-9a0c-0305e82c3301a").empty());
  EXPECT_TRUE(extract_application_ids("a3f2504e0-4f89-11d3-9a0c-0305e82c3301").empty());
  // A non-hex digit group is not a UUID.
  EXPECT_TRUE(extract_application_ids("3f2504e0-4f89-11d3-9a0c-0305e82c330g").empty());
  // '-' separates B-ids like any punctuation.
  EXPECT_EQ(extract_application_ids("id-B002BJF-ok"), (std::vector<std::string>{"B002BJF"}));
  EXPECT_EQ(extract_application_ids("B002BJF's status"), (std::vector<std::string>{"B002BJF"}));
}

TEST(ExtractApplicationIds, NeedsADigitAfterTheB) {
  EXPECT_TRUE(extract_application_ids("Balance Because Between").empty());
  EXPECT_EQ(extract_application_ids("B123456"), (std::vector<std::string>{"B123456"}));
  EXPECT_EQ(extract_application_ids("BABCDE1"), (std::vector<std::string>{"BABCDE1"}));
}

TEST(WithinOneEdit, DamerauLevenshteinAtMostOne) {
  EXPECT_TRUE(within_one_edit("status", "status"));
  EXPECT_TRUE(within_one_edit("stauts", "status"));   // transposition
  EXPECT_TRUE(within_one_edit("statsu", "status"));   // transposition at the end
  EXPECT_TRUE(within_one_edit("tsatus", "status"));   // transposition at the start
  EXPECT_TRUE(within_one_edit("staus", "status"));    // deletion
  EXPECT_TRUE(within_one_edit("statuss", "status"));  // insertion at the end
  EXPECT_TRUE(within_one_edit("sstatus", "status"));  // insertion at the start
  EXPECT_TRUE(within_one_edit("statis", "status"));   // substitution
  EXPECT_TRUE(within_one_edit("", "a"));
  EXPECT_FALSE(within_one_edit("satuts", "status"));  // two edits
  EXPECT_FALSE(within_one_edit("sta", "status"));
  EXPECT_FALSE(within_one_edit("stutas", "status"));  // not adjacent
  EXPECT_FALSE(within_one_edit("stuats", "status"));  // a rotation, not a swap
}

TEST(ClassifyMessage, ShortWordsAreNeverFuzzy) {
  // "hepl" is one transposition from "help" but shorter than five letters.
  EXPECT_EQ(classify_message("hepl").intent, Intent::fallback);
  EXPECT_EQ(classify_message("chek").intent, Intent::fallback);
  // Opt-out is exact: a typo'd "stop" is not an opt-out.
  EXPECT_EQ(classify_message("stpo").intent, Intent::fallback);
  EXPECT_EQ(classify_message("unsubscrbe").intent, Intent::fallback);
}

TEST(ClassifyMessage, LongMessagesStayCheap) {
  std::string text(100'000, 'a');
  text += " status";
  EXPECT_EQ(classify_message(text).intent, Intent::status);
  std::string many;
  for (int i = 0; i < 20'000; ++i) many += "blah ";
  EXPECT_EQ(classify_message(many).intent, Intent::fallback);
}

TEST(ClassifyMessage, NonAsciiBytesSeparateWords) {
  EXPECT_EQ(classify_message("status\xE2\x9C\x85").intent, Intent::status);
  EXPECT_EQ(
      classify_message("\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA5\xE0\xA4\xBF\xE0\xA4\xA4\xE0\xA4\xBF")
          .intent,
      Intent::fallback);
  EXPECT_EQ(classify_message(std::string_view("sto\0p", 5)).intent, Intent::fallback);
}

}  // namespace
}  // namespace leadgate
