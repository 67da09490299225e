#pragma once
// The status assistant's decisions (issue 7): given the classified inbound message and what was
// looked up for it, which reply it gets, which application it is about and the reply's
// placeholder values. Pure; services/whatsapp_assistant.cpp gathers the facts (the reply limit,
// the sender's applications, the live status) between the steps and stores the outcome in one
// record_conversation call. Each rule is pinned by tests/unit/assistant_choice_test.cpp.
//  - STOP / START (opt_out / opt_in) are always confirmed and change the opt-out; they do not
//    count against the per-sender reply limit. Every other message does, and when the limit
//    refuses it is recorded ("throttled:<classification>") but not answered.
//  - A message without text (media, location, ...) gets "unsupported"; help gets "help"; anything
//    not understood "fallback". A status question or an application id needs the sender's
//    applications: then choose_application decides between "status" and "error".
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/application_progress.h"
#include "domain/whatsapp_classifier.h"

namespace leadgate {

// The inbound message as the assistant sees it.
struct AssistantQuestion {
  bool textual = false;           // it has a text (or a button / list title) to classify
  Classification classification;  // of the text; ignored when !textual
};

AssistantQuestion assistant_question(const std::string& text);  // classified when not empty

// Whether answering counts against the per-sender reply limit (all but STOP / START).
bool counts_against_reply_limit(const AssistantQuestion& q);

struct AssistantPlan {
  std::string classification;     // the inbound row's: intent name, "unsupported", "throttled:..."
  std::optional<bool> opted_out;  // STOP: true, START: false
  std::string reply_kind;         // "" when not answered (throttled)
  bool needs_applications = false;  // reply_kind is decided by choose_application
};

// The plan before any lookup. `throttled`: the reply limit refused (only asked when
// counts_against_reply_limit).
AssistantPlan plan_reply(const AssistantQuestion& q, bool throttled);

// How long a conversation remembers the application it was about, and how many recent messages
// are looked at for it.
inline constexpr std::int64_t kAssistantContextMs = 24 * 60 * 60 * 1000;
inline constexpr int kAssistantContextMessages = 10;

// One of the sender's applications in the environment, as the store lists them (newest first).
struct ApplicationRef {
  std::string reference_id;
  std::string basic_application_id;  // "" until the LOS accepted it
  std::string application_id;
};

// A message of the sender's recent conversation (oldest first): the application it named or
// answered about ("" none) and when.
struct ConversationMention {
  std::int64_t at = 0;
  std::string application_id;
};

struct ApplicationChoice {
  std::string reply_kind;                  // status | error
  std::optional<std::size_t> application;  // index into the applications (status)
  std::string application_id;              // the id answered about, or the unknown id named
};

// Which application a status question or application id is about: the one the message names
// (basic_application_id or application_id); without one, the one the conversation was last about
// within kAssistantContextMs (a name that matches none falls back to the first); else the first.
// An id that names none of them, or no applications at all: "error".
ApplicationChoice choose_application(const std::optional<std::string>& named,
                                     const std::vector<ApplicationRef>& applications,
                                     const std::vector<ConversationMention>& recent,
                                     std::int64_t now);

// What a status reply says about the chosen application.
struct StatusFacts {
  std::string first_name;
  std::string loan_type;
  std::string id;      // the application's id as the customer knows it
  std::string status;  // as shown (the partner's text, or ours)
  Stage stage = Stage::processing;
  std::size_t applications = 1;  // how many the sender has
};

// The status reply's placeholders: name, product, id, status, expected, others.
std::map<std::string, std::string> status_values(const StatusFacts& facts);

// The id a customer knows an application by: basic_application_id, else our reference_id.
std::string customer_application_id(const ApplicationRef& application);

}  // namespace leadgate
