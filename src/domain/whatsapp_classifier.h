#pragma once
// The status assistant (issue 7): what a customer's inbound WhatsApp text asks for. Customers
// write short, mixed-case, punctuated, often Hinglish and often misspelt messages, so the rules
// read words, not the raw string. Pure functions. Decisions (each pinned by
// tests/unit/whatsapp_classifier_test.cpp):
//  - Words are the maximal runs of ASCII letters and digits, lower-cased; everything else
//    (punctuation, emoji, other scripts) separates words and is otherwise ignored.
//  - Priority when several rules match: opt_out / opt_in > application_id > status > help >
//    fallback. "help me check my status" is a status question: the customer is asking for the
//    one thing the assistant can answer, and the status reply itself says how to reach support.
//  - opt_out / opt_in only when the WHOLE message is the request, after dropping politeness
//    fillers (please, pls, plz, kindly, now, it): "STOP", "stop all", "Stop please!",
//    "unsubscribe", "stop messages", "opt out" / "opt-out" / "optout", Hinglish "band karo" /
//    "message band karo" / "msg mat bhejo"; opt-in: "START", "unstop", "subscribe",
//    "resubscribe", "opt in" / "optin", "start again". A sentence that merely contains "stop"
//    ("don't stop my application") is not an opt-out. Opt-out words are never matched fuzzily:
//    a consequential request should be explicit.
//  - An application id is a whole word "B" + 6 letters/digits with at least one digit
//    ("B002BJF", any case, returned upper-cased) or a UUID 8-4-4-4-12 hex (returned lower-cased).
//    The digit requirement keeps seven-letter English words that start with b ("because",
//    "balance", "between") from being read as ids. "B12" and "B0012345" are not ids; neither is a
//    phone number. An id anywhere in the text wins over status / help words.
//  - status: any of status, check(ed/ing), track(ed/ing), progress, update(s), application(s),
//    or "loan" together with a question word (details, kya, hua, kahan, kab, batao, pata,
//    where, when, approved, sanction, disbursed, my, mera, mere, ...): "loan details", "kya hua
//    mere loan ka". "loan" alone, or "I want a new loan", is not a status question.
//  - help: help, helpline, support, contact, madad, sahayata, agent, executive, human, assist /
//    assistance, complaint, callback, or the pairs customer care / customer service, call me /
//    call back, talk / speak to / with, baat karni / karna / karo.
//  - Typos: a word of 5 or more letters matches a status or help keyword of 5 or more letters at
//    Damerau-Levenshtein distance <= 1 (one insertion, deletion, substitution or adjacent
//    transposition: "stauts", "staus", "aplication"); shorter words must match exactly. Two
//    adjacent words that together spell a keyword count as it ("stat us", "help line").
//    "madad" is exact-only ("madam" is a greeting, not a call for help).
//  - Empty text, greetings, thanks, emoji, numbers and anything else: fallback.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leadgate {

enum class Intent { status, help, application_id, opt_out, opt_in, fallback };

// "status", "help", "application_id", "opt_out", "opt_in", "fallback".
std::string_view intent_name(Intent intent);

struct Classification {
  Intent intent = Intent::fallback;
  std::optional<std::string> application_id;  // set exactly when intent == application_id
};

Classification classify_message(std::string_view text);

// Every application id in `text`, normalised (B-ids upper-cased, UUIDs lower-cased), in order of
// first appearance, without duplicates.
std::vector<std::string> extract_application_ids(std::string_view text);

// Whether two words are at Damerau-Levenshtein (optimal string alignment) distance <= 1.
bool within_one_edit(std::string_view a, std::string_view b);

}  // namespace leadgate
