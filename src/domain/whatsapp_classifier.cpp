#include "domain/whatsapp_classifier.h"
#include "domain/enum_table.h"
#include "domain/text.h"

#include <algorithm>
#include <array>

namespace leadgate {

namespace {

constexpr std::size_t kFuzzyMinLength = 5;
constexpr std::size_t kBasicIdLength = 7;  // "B" + 6
constexpr std::size_t kUuidLength = 36;

// Lower-cased runs of ASCII letters and digits.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (is_alnum(c)) {
      current.push_back(to_lower(c));
    } else if (!current.empty()) {
      out.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != kUuidLength) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool is_basic_id(std::string_view s) {
  if (s.size() != kBasicIdLength || to_upper(s.front()) != 'B') return false;
  bool digit = false;
  for (char c : s.substr(1)) {
    if (!is_alnum(c)) return false;
    digit = digit || is_digit(c);
  }
  return digit;
}

void add_unique(std::vector<std::string>& ids, std::string id) {
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
}

// One run of letters, digits and '-': UUIDs start at the run's start or after a '-' and end at
// its end or before a '-'; the '-'-separated pieces outside them may be B-ids.
void ids_in_run(std::string_view run, std::vector<std::string>& ids) {
  std::size_t pos = 0;
  while (pos < run.size()) {
    if (run.size() - pos >= kUuidLength && is_uuid(run.substr(pos, kUuidLength)) &&
        (pos + kUuidLength == run.size() || run[pos + kUuidLength] == '-')) {
      std::string id(run.substr(pos, kUuidLength));
      std::transform(id.begin(), id.end(), id.begin(), to_lower);
      add_unique(ids, std::move(id));
      pos += kUuidLength + 1;
      continue;
    }
    std::size_t end = run.find('-', pos);
    if (end == std::string_view::npos) end = run.size();
    const std::string_view piece = run.substr(pos, end - pos);
    if (is_basic_id(piece)) {
      std::string id(piece);
      std::transform(id.begin(), id.end(), id.begin(), to_upper);
      add_unique(ids, std::move(id));
    }
    pos = end + 1;
  }
}

struct Keyword {
  std::string_view word;
  bool fuzzy = true;
};

bool matches(std::string_view word, const Keyword& keyword) {
  if (word == keyword.word) return true;
  if (!keyword.fuzzy || word.size() < kFuzzyMinLength || keyword.word.size() < kFuzzyMinLength) {
    return false;
  }
  return within_one_edit(word, keyword.word);
}

template <std::size_t N>
bool any_keyword(const std::vector<std::string>& words, const std::array<Keyword, N>& keywords) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    for (const Keyword& k : keywords) {
      if (matches(words[i], k)) return true;
      // Two words that together spell the keyword exactly: "stat us", "help line".
      if (i + 1 < words.size() && words[i].size() + words[i + 1].size() == k.word.size() &&
          words[i] + words[i + 1] == k.word) {
        return true;
      }
    }
  }
  return false;
}

template <std::size_t N>
bool any_exact(const std::vector<std::string>& words, const std::array<std::string_view, N>& set) {
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::find(set.begin(), set.end(), w) != set.end();
  });
}

// Some word of `firsts` immediately followed by some word of `seconds`.
template <std::size_t N, std::size_t M>
bool any_pair(const std::vector<std::string>& words, const std::array<std::string_view, N>& firsts,
              const std::array<std::string_view, M>& seconds) {
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (std::find(firsts.begin(), firsts.end(), words[i]) != firsts.end() &&
        std::find(seconds.begin(), seconds.end(), words[i + 1]) != seconds.end()) {
      return true;
    }
  }
  return false;
}

constexpr auto kStatusKeywords = std::to_array<Keyword>({
    {"status"},
    {"check"},
    {"checked"},
    {"checking"},
    {"track"},
    {"tracked"},
    {"tracking"},
    {"progress"},
    {"update"},
    {"updates"},
    {"application"},
    {"applications"},
});

constexpr auto kLoanWords = std::to_array<std::string_view>({"loan", "loans", "laon"});

// With "loan", these make a status question: "loan details", "kya hua mere loan ka".
constexpr auto kLoanQuestionWords = std::to_array<std::string_view>({
    "details",      "detail",   "info",     "information", "kya",        "hua",       "kahan",
    "kaha",         "kab",      "batao",    "bataye",      "bataiye",    "pata",      "where",
    "when",         "approved", "approval", "sanction",    "sanctioned", "disbursed", "disbursal",
    "disbursement", "my",       "mera",     "mere",        "meri",       "stage",
});

constexpr auto kHelpKeywords = std::to_array<Keyword>({
    {"help"},
    {"helpline"},
    {"support"},
    {"contact"},
    {"madad", false},  // exact only: "madam" is a greeting
    {"sahayata"},
    {"agent"},
    {"executive"},
    {"human"},
    {"assist"},
    {"assistance"},
    {"complaint"},
    {"callback"},
});

constexpr auto kCustomer = std::to_array<std::string_view>({"customer"});
constexpr auto kCustomerWhat = std::to_array<std::string_view>({"care", "service", "services"});
constexpr auto kCall = std::to_array<std::string_view>({"call"});
constexpr auto kCallWhom = std::to_array<std::string_view>({"me", "back"});
constexpr auto kTalk = std::to_array<std::string_view>({"talk", "speak"});
constexpr auto kTalkTo = std::to_array<std::string_view>({"to", "with"});
constexpr auto kBaat = std::to_array<std::string_view>({"baat"});
constexpr auto kBaatKarni =
    std::to_array<std::string_view>({"karni", "karna", "karo", "karao", "karwao", "karwa"});

constexpr auto kFillers =
    std::to_array<std::string_view>({"please", "pls", "plz", "kindly", "now", "it"});

constexpr auto kOptOutPhrases = std::to_array<std::string_view>({
    "stop",
    "stop all",
    "stopall",
    "unsubscribe",
    "unsubscribe me",
    "unsub",
    "stop messages",
    "stop message",
    "stop msgs",
    "stop msg",
    "stop messaging",
    "stop sending",
    "stop sending messages",
    "opt out",
    "optout",
    "opt me out",
    "band karo",
    "message band karo",
    "messages band karo",
    "msg band karo",
    "mat bhejo",
    "message mat bhejo",
    "messages mat bhejo",
    "msg mat bhejo",
});

constexpr auto kOptInPhrases = std::to_array<std::string_view>({
    "start",
    "unstop",
    "subscribe",
    "resubscribe",
    "opt in",
    "optin",
    "opt me in",
    "start again",
    "start messages",
});

template <std::size_t N>
bool one_of(std::string_view phrase, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), phrase) != set.end();
}

// The whole message as one phrase: its words without fillers, joined by single spaces.
std::string whole_phrase(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (one_of(w, kFillers)) continue;
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

bool is_status(const std::vector<std::string>& words) {
  if (any_keyword(words, kStatusKeywords)) return true;
  return any_exact(words, kLoanWords) && any_exact(words, kLoanQuestionWords);
}

bool is_help(const std::vector<std::string>& words) {
  return any_keyword(words, kHelpKeywords) || any_pair(words, kCustomer, kCustomerWhat) ||
         any_pair(words, kCall, kCallWhom) || any_pair(words, kTalk, kTalkTo) ||
         any_pair(words, kBaat, kBaatKarni);
}

}  // namespace

constexpr auto kIntentNames = std::to_array<std::string_view>(
    {"status", "help", "application_id", "opt_out", "opt_in", "fallback"});

std::string_view intent_name(Intent intent) {
  return enum_entry<Intent::fallback>(kIntentNames, intent, "fallback");
}

bool within_one_edit(std::string_view a, std::string_view b) {
  if (a.size() < b.size()) std::swap(a, b);
  if (a.size() - b.size() > 1) return false;
  std::size_t i = 0;
  while (i < b.size() && a[i] == b[i]) ++i;
  if (i == b.size()) return true;  // equal, or one trailing insertion
  if (a.size() == b.size()) {
    // One substitution, or one transposition of adjacent letters.
    if (a.substr(i + 1) == b.substr(i + 1)) return true;
    return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           a.substr(i + 2) == b.substr(i + 2);
  }
  return a.substr(i + 1) == b.substr(i);  // one insertion in `a`
}

std::vector<std::string> extract_application_ids(std::string_view text) {
  std::vector<std::string> ids;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!is_alnum(text[pos]) && text[pos] != '-') {
      ++pos;
      continue;
    }
    std::size_t end = pos;
    while (end < text.size() && (is_alnum(text[end]) || text[end] == '-')) ++end;
    ids_in_run(text.substr(pos, end - pos), ids);
    pos = end;
  }
  return ids;
}

Classification classify_message(std::string_view text) {
  const std::vector<std::string> words = words_of(text);
  const std::string phrase = whole_phrase(words);
  if (one_of(phrase, kOptOutPhrases)) {
    return {Intent::opt_out, std::nullopt};
  }
  if (one_of(phrase, kOptInPhrases)) return {Intent::opt_in, std::nullopt};

  std::vector<std::string> ids = extract_application_ids(text);
  if (!ids.empty()) return {Intent::application_id, std::move(ids.front())};
  if (is_status(words)) return {Intent::status, std::nullopt};
  if (is_help(words)) return {Intent::help, std::nullopt};
  return {Intent::fallback, std::nullopt};
}

}  // namespace leadgate
