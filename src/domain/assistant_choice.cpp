#include "domain/assistant_choice.h"

#include "domain/assistant_replies.h"

namespace leadgate {

AssistantQuestion assistant_question(const std::string& text) {
  AssistantQuestion q;
  q.textual = !text.empty();
  if (q.textual) q.classification = classify_message(text);
  return q;
}

namespace {

bool is_intent(const AssistantQuestion& q, Intent intent) {
  return q.textual && q.classification.intent == intent;
}

}  // namespace

bool counts_against_reply_limit(const AssistantQuestion& q) {
  return !is_intent(q, Intent::opt_out) && !is_intent(q, Intent::opt_in);
}

AssistantPlan plan_reply(const AssistantQuestion& q, bool throttled) {
  AssistantPlan plan;
  plan.classification =
      q.textual ? std::string(intent_name(q.classification.intent)) : "unsupported";
  if (is_intent(q, Intent::opt_out) || is_intent(q, Intent::opt_in)) {
    plan.opted_out = is_intent(q, Intent::opt_out);
    plan.reply_kind = *plan.opted_out ? "opt_out" : "opt_in";
    return plan;
  }
  if (throttled) {
    plan.classification = "throttled:" + plan.classification;
    return plan;
  }
  if (!q.textual) {
    plan.reply_kind = "unsupported";
  } else if (q.classification.intent == Intent::help) {
    plan.reply_kind = "help";
  } else if (q.classification.intent == Intent::fallback) {
    plan.reply_kind = "fallback";
  } else {
    plan.needs_applications = true;  // status / application_id
  }
  return plan;
}

ApplicationChoice choose_application(const std::optional<std::string>& named,
                                     const std::vector<ApplicationRef>& applications,
                                     const std::vector<ConversationMention>& recent,
                                     std::int64_t now) {
  std::string wanted = named.value_or("");
  if (wanted.empty()) {
    // "status" right after asking about one application means that application.
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
      if (now - it->at > kAssistantContextMs) break;
      if (!it->application_id.empty()) {
        wanted = it->application_id;
        break;
      }
    }
  }
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < applications.size(); ++i) {
    const auto& a = applications[i];
    if (wanted.empty() || a.basic_application_id == wanted || a.application_id == wanted) {
      found = i;
      break;
    }
  }
  if (!found && !named && !applications.empty()) found = 0;
  ApplicationChoice choice;
  if (!found) {
    choice.reply_kind = "error";
    choice.application_id = named.value_or("");
    return choice;
  }
  choice.reply_kind = "status";
  choice.application = found;
  choice.application_id = customer_application_id(applications[*found]);
  return choice;
}

std::map<std::string, std::string> status_values(const StatusFacts& facts) {
  return {{"name", facts.first_name},
          {"product", product_phrase(facts.loan_type)},
          {"id", facts.id},
          {"status", status_phrase(facts.status)},
          {"expected", expected_sentence(facts.stage)},
          {"others", facts.applications > 1
                         ? " You have " + std::to_string(facts.applications) +
                               " applications: reply with an application ID to hear about another."
                         : ""}};
}

std::string customer_application_id(const ApplicationRef& application) {
  return application.basic_application_id.empty() ? application.reference_id
                                                  : application.basic_application_id;
}

}  // namespace leadgate
