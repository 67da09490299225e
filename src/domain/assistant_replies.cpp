#include "domain/assistant_replies.h"

#include <cctype>

#include "domain/lead_validation.h"

namespace leadgate {

std::map<std::string, std::string> default_assistant_texts() {
  return {
      {"status",
       "Hi {name}! Your {product} application {id} is currently {status}. {expected}{others} Need "
       "help? Reply 'help'"},
      {"error",
       "Sorry, we could not find a loan application for this WhatsApp number. If you applied with "
       "another number, reply with your application ID (for example B002BJF), or call us on "
       "{support_phone}."},
      {"fallback",
       "Sorry, I did not understand that. Reply 'status' to check your loan application or "
       "'help' to reach {brand} support."},
      {"unsupported",
       "Sorry, I can only read text messages. Reply 'status' to check your loan application or "
       "'help' to reach {brand} support."},
      {"help",
       "{brand} support: call {support_phone} or email {support_email} ({support_hours}). Reply "
       "'status' to check your application, or send your application ID."},
      {"opt_out",
       "You will no longer receive WhatsApp updates from {brand}. Reply START to subscribe "
       "again."},
      {"opt_in",
       "Welcome back! You will receive WhatsApp updates from {brand} again. Reply STOP "
       "to unsubscribe."}};
}

std::string fill_placeholders(const std::string& text,
                              const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size() + 64);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      const auto close = text.find('}', i + 1);
      if (close != std::string::npos) {
        const auto it = values.find(text.substr(i + 1, close - i - 1));
        if (it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

std::string expected_sentence(Stage stage) {
  if (stage == Stage::under_review) return "Expected completion: 3-5 business days.";
  const auto steps = next_steps(stage);
  if (steps.empty()) return "";
  std::string s = "Next: " + steps.front();
  if (!s.empty() && s.back() != '.') s.push_back('.');
  return s;
}

std::string product_phrase(const std::string& loan_type) {
  const char* name = loan_type_name(loan_type);
  if (!name) return "loan";
  std::string out(name);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string status_phrase(const std::string& status) {
  // "Under Review" -> "under review"; "KYC Pending" stays (an acronym would read wrongly).
  bool simple = !status.empty();
  bool word_start = true;
  for (char c : status) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ') {
      word_start = true;
      continue;
    }
    if (!std::isalpha(u) || (!word_start && std::isupper(u))) {
      simple = false;
      break;
    }
    word_start = false;
  }
  if (!simple) return status;
  std::string out = status;
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> check_assistant_text(const std::string& kind, const std::string& text) {
  const auto defaults = default_assistant_texts();
  if (!defaults.contains(kind)) {
    return "is not a reply kind (status, error, fallback, unsupported, help, opt_out, opt_in)";
  }
  if (text.empty() || text.size() > 1000) return "must be 1-1000 characters";
  if (kind == "status") {
    for (const char* key : {"{id}", "{status}"}) {
      if (text.find(key) == std::string::npos) {
        return std::string("must contain ") + key;
      }
    }
  }
  return std::nullopt;
}

}  // namespace leadgate
