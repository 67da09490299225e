#include "domain/assistant_choice.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace leadgate {
namespace {

constexpr std::int64_t kNow = 1'764'000'000'000;

AssistantPlan plan_for(const std::string& text, bool throttled = false) {
  return plan_reply(assistant_question(text), throttled);
}

TEST(AssistantPlan, StopAndStartAreAlwaysConfirmed) {
  EXPECT_FALSE(counts_against_reply_limit(assistant_question("STOP")));
  EXPECT_FALSE(counts_against_reply_limit(assistant_question("start")));
  const auto stop = plan_for("STOP", /*throttled=*/true);  // the limit is not asked, nor obeyed
  EXPECT_EQ(stop.reply_kind, "opt_out");
  EXPECT_EQ(stop.opted_out.value_or(false), true);
  EXPECT_EQ(stop.classification, "opt_out");
  EXPECT_FALSE(stop.needs_applications);
  const auto start = plan_for("start");
  EXPECT_EQ(start.reply_kind, "opt_in");
  EXPECT_EQ(start.opted_out.value_or(true), false);
  EXPECT_EQ(start.classification, "opt_in");
}

TEST(AssistantPlan, RepliesThatNeedNoLookup) {
  for (const char* text : {"help", "hello", "", "status", "B002BJF"}) {
    EXPECT_TRUE(counts_against_reply_limit(assistant_question(text))) << text;
  }
  EXPECT_EQ(plan_for("help").reply_kind, "help");
  EXPECT_EQ(plan_for("hello").reply_kind, "fallback");
  EXPECT_EQ(plan_for("hello").classification, "fallback");
  const auto media = plan_for("");  // an image, a location, ...: no text to read
  EXPECT_EQ(media.reply_kind, "unsupported");
  EXPECT_EQ(media.classification, "unsupported");
  EXPECT_FALSE(media.opted_out);
  EXPECT_FALSE(media.needs_applications);
}

TEST(AssistantPlan, StatusQuestionsNeedTheApplications) {
  const auto status = plan_for("status");
  EXPECT_TRUE(status.needs_applications);
  EXPECT_EQ(status.reply_kind, "");
  EXPECT_EQ(status.classification, "status");
  const auto named = plan_for("what about b002bjf");
  EXPECT_TRUE(named.needs_applications);
  EXPECT_EQ(named.classification, "application_id");
}

TEST(AssistantPlan, ThrottledIsRecordedNotAnswered) {
  const auto status = plan_for("status", /*throttled=*/true);
  EXPECT_EQ(status.reply_kind, "");
  EXPECT_FALSE(status.needs_applications);
  EXPECT_EQ(status.classification, "throttled:status");
  EXPECT_EQ(plan_for("", true).classification, "throttled:unsupported");
  EXPECT_EQ(plan_for("help", true).reply_kind, "");
}

const std::vector<ApplicationRef> kTwo{{"LG-2", "B00NEW1", "APP-2"}, {"LG-1", "B00OLD1", "APP-1"}};

TEST(ChooseApplication, NoApplication) {
  const auto none = choose_application(std::nullopt, {}, {}, kNow);
  EXPECT_EQ(none.reply_kind, "error");
  EXPECT_FALSE(none.application);
  EXPECT_EQ(none.application_id, "");
  const auto named = choose_application("B002BJF", {}, {}, kNow);
  EXPECT_EQ(named.reply_kind, "error");
  EXPECT_EQ(named.application_id, "B002BJF");  // the inbound row keeps what was asked about
}

TEST(ChooseApplication, OneOrSeveralWithoutAName) {
  const auto one = choose_application(std::nullopt, {{"LG-1", "", ""}}, {}, kNow);
  EXPECT_EQ(one.reply_kind, "status");
  EXPECT_EQ(one.application.value_or(99), 0u);
  EXPECT_EQ(one.application_id, "LG-1");  // not at the LOS yet: our reference
  const auto first = choose_application(std::nullopt, kTwo, {}, kNow);
  EXPECT_EQ(first.application.value_or(99), 0u);
  EXPECT_EQ(first.application_id, "B00NEW1");
}

TEST(ChooseApplication, TheNamedOne) {
  EXPECT_EQ(choose_application("B00OLD1", kTwo, {}, kNow).application.value_or(99), 1u);
  EXPECT_EQ(choose_application("APP-1", kTwo, {}, kNow).application.value_or(99),
            1u);  // application_id too
  EXPECT_EQ(choose_application("APP-1", kTwo, {}, kNow).application_id, "B00OLD1");
  const auto unknown = choose_application("B0ZZZZ9", kTwo, {}, kNow);
  EXPECT_EQ(unknown.reply_kind, "error");  // an id that names none: not the first instead
  EXPECT_FALSE(unknown.application);
  EXPECT_EQ(unknown.application_id, "B0ZZZZ9");
}

TEST(ChooseApplication, TheConversationRemembersWithinADay) {
  const std::vector<ConversationMention> recent{
      {kNow - 5000, "B00OLD1"}, {kNow - 4000, ""}, {kNow - 3000, ""}};
  EXPECT_EQ(choose_application(std::nullopt, kTwo, recent, kNow).application.value_or(99), 1u);
  // The newest mention wins; a named id beats the conversation.
  const std::vector<ConversationMention> both{{kNow - 5000, "B00OLD1"}, {kNow - 10, "B00NEW1"}};
  EXPECT_EQ(choose_application(std::nullopt, kTwo, both, kNow).application.value_or(99), 0u);
  EXPECT_EQ(choose_application("B00OLD1", kTwo, both, kNow).application.value_or(99), 1u);
  // Exactly a day old still counts; older does not (the first application then).
  const std::vector<ConversationMention> day{{kNow - kAssistantContextMs, "B00OLD1"}};
  EXPECT_EQ(choose_application(std::nullopt, kTwo, day, kNow).application.value_or(99), 1u);
  const std::vector<ConversationMention> stale{{kNow - kAssistantContextMs - 1, "B00OLD1"}};
  EXPECT_EQ(choose_application(std::nullopt, kTwo, stale, kNow).application.value_or(99), 0u);
  // A remembered id that is no longer among the applications: the first, not an error.
  const std::vector<ConversationMention> gone{{kNow - 10, "B0GONE1"}};
  const auto fallback = choose_application(std::nullopt, kTwo, gone, kNow);
  EXPECT_EQ(fallback.reply_kind, "status");
  EXPECT_EQ(fallback.application.value_or(99), 0u);
}

TEST(StatusValues, Placeholders) {
  const std::map<std::string, std::string> one{
      {"name", "John"},
      {"product", "home loan"},
      {"id", "B002BJF"},
      {"status", "under review"},
      {"expected", "Expected completion: 3-5 business days."},
      {"others", ""}};
  EXPECT_EQ(status_values({"John", "HL", "B002BJF", "Under Review", Stage::under_review, 1}), one);
  const auto two = status_values({"John", "HL", "B002BJF", "Under Review", Stage::under_review, 2});
  EXPECT_EQ(two.at("others"),
            " You have 2 applications: reply with an application ID to hear about another.");
}

}  // namespace
}  // namespace leadgate
