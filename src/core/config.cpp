#include "core/config.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>

#include "core/log.h"
#include "crypto/crypto.h"
#include "domain/assistant_replies.h"
#include "domain/text.h"

extern char** environ;

namespace leadgate {
namespace {

constexpr std::string_view kPrefix = "LEADGATE_";

const std::set<std::string>& global_keys() {
  static const std::set<std::string> kKeys{"LISTEN",
                                           "DATABASE_URL",
                                           "BASIC_APP_URL",
                                           "GUPSHUP_URL",
                                           "WEBHOOK_VERIFY_TOKEN",
                                           "META_APP_SECRET",
                                           "GUPSHUP_WEBHOOK_TOKEN",
                                           "GUPSHUP_WEBHOOK_IPS",
                                           "PII_KEY",
                                           "PII_PREVIOUS_KEYS",
                                           "OTP_TTL_SECONDS",
                                           "CONFIG",
                                           "DATA_DIR",
                                           "LOG_LEVEL",
                                           "THREADS",
                                           "DB_THREADS",
                                           "CA_FILE",
                                           "PARTNER_POOL_SIZE",
                                           "BASIC_APP_TIMEOUT_MS",
                                           "BASIC_APP_ATTEMPTS",
                                           "BASIC_APP_BACKOFF_MS",
                                           "GUPSHUP_TIMEOUT_MS",
                                           "OUTBOX_POLL_MS",
                                           "OUTBOX_MAX_ATTEMPTS",
                                           "OUTBOX_BACKOFF_MS",
                                           "SHUTDOWN_GRACE_MS",
                                           "SELF_FULFILMENT_TIMEOUT_MS",
                                           "SELF_FULFILMENT_ATTEMPTS",
                                           "SELF_FULFILMENT_DELAY_MS",
                                           "PUBLIC_BASE_URL",
                                           "OTP_SEND_TIMEOUT_MS",
                                           "OTP_MAX_ATTEMPTS",
                                           "OTP_RESEND_COOLDOWN_SECONDS",
                                           "OTP_MAX_SENDS",
                                           "OTP_SEND_WINDOW_SECONDS",
                                           "OTP_KEY_SENDS_PER_MINUTE",
                                           "CONSENT_TTL_SECONDS",
                                           "STATUS_TIMEOUT_MS",
                                           "STATUS_ATTEMPTS",
                                           "STATUS_RETRY_DELAY_MS",
                                           "ASSISTANT_MAX_REPLIES",
                                           "INBOX_POLL_MS",
                                           "METRICS_FLUSH_MS",
                                           "KEY_REQUESTS_PER_MINUTE",
                                           "STATUS_TTL_SECONDS",
                                           "MAX_CONNECTIONS",
                                           "LOS_RECOVERY_AFTER_SECONDS",
                                           "LOS_RECOVERY_POLL_MS",
                                           "STATUS_NOTIFY_INTERVAL_SECONDS",
                                           "BOOKINGS_PER_LEAD_PER_DAY",
                                           "CUSTOMER_MESSAGES_PER_DAY",
                                           "API_KEY_CACHE_SECONDS",
                                           "CUSTOMER_TOKEN_TTL_SECONDS",
                                           "RETENTION_DAYS"};
  return kKeys;
}

// Per-environment keys settable as LEADGATE_<ENV>_<KEY> or in the file's "environments".
const std::set<std::string>& env_keys() {
  static const std::set<std::string> kKeys{"BRAND_NAME",
                                           "BASIC_APP_API_KEY",
                                           "BASIC_APP_USER_ID",
                                           "GUPSHUP_API_KEY",
                                           "GUPSHUP_SOURCE",
                                           "GUPSHUP_APP_NAME",
                                           "OPT_OUT_TEXT",
                                           "SUPPORT_PHONE",
                                           "SUPPORT_EMAIL",
                                           "SUPPORT_HOURS",
                                           "TEMPLATES",
                                           "LAP_MAX_LTV",
                                           "MAX_AGE_AT_MATURITY",
                                           "FOIR_LIMIT",
                                           "REFERENCE_RATES",
                                           "COMFORT_CREDIT_SCORES",
                                           "BUSINESS_HOURS",
                                           "HOLIDAYS",
                                           "USUAL_MAX_TENURES",
                                           "GRIEVANCE_CONTACT",
                                           "CONSENT_NOTICE_VERSION",
                                           "LEGAL_HOLD_STATUSES"};
  return kKeys;
}

[[noreturn]] void bad(const std::string& name, const std::string& why) {
  throw ConfigError("configuration error: " + name + " " + why);
}

long long parse_int(const std::string& name, const std::string& value, long long min,
                    long long max) {
  long long out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    bad(name, "must be an integer, got '" + value + "'");
  }
  if (out < min || out > max) {
    bad(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return out;
}

std::string parse_base_url(const std::string& name, std::string value) {
  // The scheme and "//" are checked first: Boost.URL 1.81 asserts on some rootless paths
  // ("http:\"", "l:[", boostorg/url#665, fixed in 1.82), which aborts a Debug build instead of
  // refusing the setting; with an authority it does not take that path.
  if (!value.starts_with("http://") && !value.starts_with("https://")) {
    bad(name, "must be an absolute http:// or https:// URL");
  }
  auto parsed = boost::urls::parse_absolute_uri(value);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty()) {
    bad(name, "must be an absolute http:// or https:// URL");
  }
  while (!value.empty() && value.back() == '/') value.pop_back();
  return value;
}

}  // namespace

// Flattens the JSON file into LEADGATE_* style keys so one code path validates both sources.
void read_config_text(std::string_view text, const std::string& path,
                      std::map<std::string, std::string>& out) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) bad("LEADGATE_CONFIG", "file " + path + " is not a JSON object");
  auto scalar = [&](const std::string& key, const boost::json::value& v) -> std::string {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    bad(key + " (in " + path + ")", "must be a string or an integer");
  };
  for (const auto& kv : value.get_object()) {
    const std::string key = std::string(kv.key());
    if (key == "environments") {
      if (!kv.value().is_object()) bad("environments (in " + path + ")", "must be an object");
      for (const auto& ekv : kv.value().get_object()) {
        const std::string env = std::string(ekv.key());
        if (!is_environment(env)) bad("environments." + env, "is not orbit or homfinity");
        if (!ekv.value().is_object()) bad("environments." + env, "must be an object");
        for (const auto& fkv : ekv.value().get_object()) {
          const std::string field = upper(std::string(fkv.key()));
          const std::string full = "environments." + env + "." + std::string(fkv.key());
          if (!env_keys().contains(field)) bad(full, "is not a known setting");
          std::string var = std::string(kPrefix) + upper(env) + "_" + field;
          const bool map_field = field == "TEMPLATES" || field == "REFERENCE_RATES" ||
                                 field == "COMFORT_CREDIT_SCORES" || field == "USUAL_MAX_TENURES";
          if ((map_field || field == "BUSINESS_HOURS" || field == "ASSISTANT_TEXTS") &&
              !fkv.value().is_object()) {
            bad(full, "must be a JSON object");
          }
          if (field == "HOLIDAYS" && !fkv.value().is_array()) bad(full, "must be a JSON array");
          if (fkv.value().is_object() || fkv.value().is_array() || fkv.value().is_double()) {
            // TEMPLATES, BUSINESS_HOURS and the per-loan-type maps are objects, HOLIDAYS an
            // array; ratios are numbers.
            out.emplace(var, boost::json::serialize(fkv.value()));
          } else {
            out.emplace(var, scalar(full, fkv.value()));
          }
        }
      }
      continue;
    }
    const std::string field = upper(key);
    if (!global_keys().contains(field) || field == "CONFIG") {
      bad(key + " (in " + path + ")", "is not a known setting");
    }
    out.emplace(std::string(kPrefix) + field, scalar(key, kv.value()));
  }
}

namespace {

void read_file(const std::string& path, std::map<std::string, std::string>& out) {
  std::ifstream in(path);
  if (!in) bad("LEADGATE_CONFIG", "names a file that cannot be read: " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  read_config_text(buffer.str(), path, out);
}

double parse_fraction(const std::string& name, const std::string& value) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !(v > 0.0) || v > 1.0) {
    bad(name, "must be a fraction in (0, 1], e.g. 0.65, got '" + value + "'");
  }
  return v;
}

// {"HL": 8.5, ...}: a JSON object from loan type to a number; unknown loan types are refused.
template <class T>
void read_loan_type_map(const std::string& name, const std::string& text,
                        std::map<std::string, T>& out) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) bad(name, "must be a JSON object of loan type: number");
  for (const auto& kv : v.get_object()) {
    const std::string type(kv.key());
    if (!out.contains(type)) bad(name + "." + type, "is not a loan type (HL, LAP, PL, BL, CL, EL)");
    if (!kv.value().is_number()) bad(name + "." + type, "must be a number");
    const double number = kv.value().to_number<double>();
    // Converting a double beyond the int range is undefined: such a number is refused here (the
    // loan policy checks the actual bounds).
    if constexpr (std::is_integral_v<T>) {
      if (!(number >= std::numeric_limits<T>::min() && number <= std::numeric_limits<T>::max())) {
        bad(name + "." + type, "is out of range");
      }
    }
    out[type] = static_cast<T>(number);
  }
}

template <class Get>
void read_loan_policy(const std::string& env, const Get& eget, LoanPolicy& p) {
  const std::string pre = "LEADGATE_" + env + "_";
  if (auto v = eget("LAP_MAX_LTV")) p.lap_max_ltv = parse_fraction(pre + "LAP_MAX_LTV", *v);
  if (auto v = eget("FOIR_LIMIT")) p.foir_limit = parse_fraction(pre + "FOIR_LIMIT", *v);
  if (auto v = eget("MAX_AGE_AT_MATURITY")) {
    p.max_age_at_maturity = static_cast<int>(parse_int(pre + "MAX_AGE_AT_MATURITY", *v, 18, 100));
  }
  if (auto v = eget("REFERENCE_RATES")) {
    read_loan_type_map(pre + "REFERENCE_RATES", *v, p.reference_rate_pct);
  }
  if (auto v = eget("COMFORT_CREDIT_SCORES")) {
    read_loan_type_map(pre + "COMFORT_CREDIT_SCORES", *v, p.comfort_credit_score);
  }
  if (auto v = eget("USUAL_MAX_TENURES")) {
    read_loan_type_map(pre + "USUAL_MAX_TENURES", *v, p.usual_max_tenure_months);
  }
  for (const auto& problem : loan_policy_problems(p)) bad(pre + "loan policy", problem);
}

// BUSINESS_HOURS {"days": ["Mon", ...], "open": "10:00", "close": "19:00", "slot_minutes": 30,
// "max_days_ahead": 30} (every member optional) and HOLIDAYS ["2026-12-25", ...].
template <class Get>
void read_business_hours(const std::string& env, const Get& eget, BusinessHours& h) {
  const std::string pre = "LEADGATE_" + env + "_";
  if (auto text = eget("BUSINESS_HOURS")) {
    const std::string name = pre + "BUSINESS_HOURS";
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_object()) bad(name, "must be a JSON object");
    auto clock = [&](const char* key, int& out) {
      const auto* c = v.as_object().if_contains(key);
      if (!c) return;
      const std::string t = c->is_string() ? std::string(c->get_string()) : "";
      if (t.size() != 5 || t[2] != ':' || !std::isdigit(static_cast<unsigned char>(t[0])) ||
          !std::isdigit(static_cast<unsigned char>(t[1])) ||
          !std::isdigit(static_cast<unsigned char>(t[3])) ||
          !std::isdigit(static_cast<unsigned char>(t[4]))) {
        bad(name + "." + key, "must be a 24-hour time \"HH:MM\"");
      }
      const int hh = std::stoi(t.substr(0, 2));
      const int mm = std::stoi(t.substr(3, 2));
      if (hh > 24 || mm > 59 || (hh == 24 && mm != 0)) bad(name + "." + key, "is not a time");
      out = hh * 60 + mm;
    };
    for (const auto& kv : v.as_object()) {
      const std::string key(kv.key());
      if (key == "days") {
        static const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        if (!kv.value().is_array()) bad(name + ".days", "must be an array like [\"Mon\", ...]");
        h.open_days.fill(false);
        for (const auto& d : kv.value().as_array()) {
          std::string day = d.is_string() ? upper(std::string(d.get_string())) : "";
          bool found = false;
          for (int i = 0; i < 7; ++i) {
            if (!day.empty() && day == upper(kDays[i])) {
              h.open_days[static_cast<std::size_t>(i)] = true;
              found = true;
            }
          }
          if (!found) bad(name + ".days", "has an entry that is not Mon, Tue, ... Sun");
        }
      } else if (key == "open") {
        clock("open", h.open_minute);
      } else if (key == "close") {
        clock("close", h.close_minute);
      } else if (key == "slot_minutes" || key == "max_days_ahead") {
        if (!kv.value().is_int64()) bad(name + "." + key, "must be an integer");
        const auto n = kv.value().get_int64();
        if (n < 0 || n > 366) bad(name + "." + key, "is out of range");
        (key == "slot_minutes" ? h.slot_minutes : h.max_days_ahead) = static_cast<int>(n);
      } else {
        bad(name + "." + key,
            "is not a known member (days, open, close, slot_minutes, "
            "max_days_ahead)");
      }
    }
  }
  if (auto text = eget("HOLIDAYS")) {
    const std::string name = pre + "HOLIDAYS";
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_array()) bad(name, "must be a JSON array of dates \"YYYY-MM-DD\"");
    for (const auto& d : v.as_array()) {
      const auto date = d.is_string() ? parse_iso_date(d.get_string()) : std::nullopt;
      if (!date) bad(name, "has an entry that is not a date \"YYYY-MM-DD\"");
      h.holidays.push_back(*date);
    }
  }
  if (auto problem = validate_business_hours(h)) bad(pre + "BUSINESS_HOURS", *problem);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    out.push_back(item.substr(b, item.find_last_not_of(" \t") - b + 1));
  }
  return out;
}

// Every LEADGATE_* name must be a setting: a misspelt one would otherwise be silently ignored.
void check_names_known(const std::map<std::string, std::string>& vars) {
  for (const auto& [name, value] : vars) {
    if (name.rfind(kPrefix, 0) != 0) continue;
    std::string rest = name.substr(kPrefix.size());
    bool known = global_keys().contains(rest);
    for (const auto& env : environments()) {
      const std::string p = upper(env) + "_";
      if (rest.rfind(p, 0) == 0 && env_keys().contains(rest.substr(p.size()))) known = true;
    }
    if (!known) bad(name, "is not a known setting");
  }
}

// The merged settings (environment and file), by name without the LEADGATE_ prefix.
class Settings {
 public:
  explicit Settings(const std::map<std::string, std::string>& vars) : vars_(vars) {}

  std::optional<std::string> get(const std::string& key) const {
    auto it = vars_.find(std::string(kPrefix) + key);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }
  // A whole number in [min, max] into `out` (milliseconds for a duration), when set.
  void ms(const std::string& key, std::chrono::milliseconds& out, long long min,
          long long max) const {
    if (auto v = get(key)) {
      out = std::chrono::milliseconds(parse_int("LEADGATE_" + key, *v, min, max));
    }
  }
  template <class T>
  void count(const std::string& key, long long min, long long max, T& out) const {
    if (auto v = get(key)) out = static_cast<T>(parse_int("LEADGATE_" + key, *v, min, max));
  }

 private:
  const std::map<std::string, std::string>& vars_;
};

void read_listen(const std::string& value, Config& c) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) bad("LEADGATE_LISTEN", "must be host:port");
  std::string host = value.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  c.listen_host = host;
  c.listen_port = static_cast<unsigned short>(
      parse_int("LEADGATE_LISTEN port", value.substr(colon + 1), 0, 65535));
}

void check_webhook_ips(const std::string& value) {
  for (const auto& entry : split_list(value)) {
    boost::system::error_code ec;
    if (entry.find('/') != std::string::npos) {
      (void)boost::asio::ip::make_network_v4(entry, ec);
    } else {
      (void)boost::asio::ip::make_address(entry, ec);
    }
    if (ec) {
      bad("LEADGATE_GUPSHUP_WEBHOOK_IPS",
          "has an entry that is not an address or IPv4 CIDR: " + entry);
    }
  }
}

// Where the service listens, its database, the partners' URLs, the webhook's secrets and the
// PII key.
void read_endpoints(const Settings& s, Config& c) {
  if (auto v = s.get("LISTEN")) read_listen(*v, c);
  if (auto v = s.get("DATABASE_URL")) {
    if (v->rfind("sqlite:", 0) == 0) {
      if (v->size() == 7) bad("LEADGATE_DATABASE_URL", "needs a path after sqlite:");
    } else if (v->rfind("postgresql://", 0) != 0 && v->rfind("postgres://", 0) != 0) {
      bad("LEADGATE_DATABASE_URL", "must start with sqlite: or postgresql://");
    }
    c.database_url = *v;
  }
  if (auto v = s.get("BASIC_APP_URL"); v && !v->empty()) {
    c.basic_app_url = parse_base_url("LEADGATE_BASIC_APP_URL", *v);
  }
  if (auto v = s.get("GUPSHUP_URL"); v && !v->empty()) {
    c.gupshup_url = parse_base_url("LEADGATE_GUPSHUP_URL", *v);
  }
  if (auto v = s.get("WEBHOOK_VERIFY_TOKEN")) c.webhook_verify_token = *v;
  if (auto v = s.get("META_APP_SECRET")) c.meta_app_secret = *v;
  if (auto v = s.get("GUPSHUP_WEBHOOK_TOKEN")) {
    if (!v->empty() && v->size() < 16) {
      bad("LEADGATE_GUPSHUP_WEBHOOK_TOKEN", "must be at least 16 characters");
    }
    c.gupshup_webhook_token = *v;
  }
  if (auto v = s.get("GUPSHUP_WEBHOOK_IPS")) {
    check_webhook_ips(*v);
    c.gupshup_webhook_ips = *v;
  }
  if (auto v = s.get("PII_KEY"); v && !v->empty()) {
    auto raw = base64_decode(*v);
    if (!raw || raw->size() != 32) bad("LEADGATE_PII_KEY", "must be base64 of exactly 32 bytes");
    c.pii_key_b64 = *v;
  }
  if (auto v = s.get("PII_PREVIOUS_KEYS"); v && !v->empty()) {
    std::stringstream in(*v);
    std::string item;
    while (std::getline(in, item, ',')) {
      const auto raw = base64_decode(item);
      if (!raw || raw->size() != 32) {
        bad("LEADGATE_PII_PREVIOUS_KEYS",
            "must be comma-separated base64 of exactly 32 bytes each");
      }
      c.pii_previous_keys.push_back(*raw);
    }
  }
}

// The OTP lifetime, the data directory, logging and the thread counts.
void read_runtime(const Settings& s, Config& c) {
  s.count("OTP_TTL_SECONDS", 1, 3600, c.otp_ttl_seconds);
  c.otp.ttl_ms = 1000LL * c.otp_ttl_seconds;
  if (auto v = s.get("DATA_DIR")) c.data_dir = *v;
  if (auto v = s.get("LOG_LEVEL")) {
    try {
      parse_log_level(*v);
    } catch (const std::exception& e) {
      bad("LEADGATE_LOG_LEVEL", e.what());
    }
    c.log_level = *v;
  }
  s.count("THREADS", 1, 64, c.threads);
  s.count("DB_THREADS", 1, 256, c.db_threads);
  s.count("MAX_CONNECTIONS", 1, 1000000, c.max_connections);
  if (auto v = s.get("CA_FILE")) c.ca_file = *v;
  s.count("PARTNER_POOL_SIZE", 0, 256, c.partner_pool_size);
}

// Timeouts, attempts and delays of the partner calls and the background loops.
void read_partner_calls(const Settings& s, Config& c) {
  s.ms("BASIC_APP_TIMEOUT_MS", c.basic_app_timeout, 10, 300000);
  s.count("BASIC_APP_ATTEMPTS", 1, 10, c.basic_app_attempts);
  s.ms("BASIC_APP_BACKOFF_MS", c.basic_app_backoff, 0, 60000);
  s.ms("GUPSHUP_TIMEOUT_MS", c.gupshup_timeout, 10, 300000);
  s.ms("OUTBOX_POLL_MS", c.outbox_poll, 10, 60000);
  s.count("OUTBOX_MAX_ATTEMPTS", 1, 100, c.outbox_max_attempts);
  s.ms("OUTBOX_BACKOFF_MS", c.outbox_backoff, 0, 3600000);
  s.ms("SHUTDOWN_GRACE_MS", c.shutdown_grace, 0, 600000);
  s.ms("SELF_FULFILMENT_TIMEOUT_MS", c.self_fulfilment_timeout, 10, 300000);
  s.count("SELF_FULFILMENT_ATTEMPTS", 1, 10, c.self_fulfilment_attempts);
  s.ms("SELF_FULFILMENT_DELAY_MS", c.self_fulfilment_delay, 0, 600000);
  s.ms("OTP_SEND_TIMEOUT_MS", c.otp_send_timeout, 10, 60000);
  s.ms("STATUS_TIMEOUT_MS", c.status_timeout, 10, 60000);
  s.count("STATUS_ATTEMPTS", 1, 5, c.status_attempts);
  s.ms("STATUS_RETRY_DELAY_MS", c.status_retry_delay, 0, 10000);
  s.ms("INBOX_POLL_MS", c.inbox_poll, 10, 60000);
  s.ms("METRICS_FLUSH_MS", c.metrics_flush, 100, 60000);
  s.count("ASSISTANT_MAX_REPLIES", 1, 1000, c.assistant_max_replies);
  s.count("KEY_REQUESTS_PER_MINUTE", 1, 1000000, c.key_requests_per_minute);
  if (auto v = s.get("LOS_RECOVERY_AFTER_SECONDS")) {
    c.los_recovery_after =
        std::chrono::seconds(parse_int("LEADGATE_LOS_RECOVERY_AFTER_SECONDS", *v, 1, 86400));
  }
  s.ms("LOS_RECOVERY_POLL_MS", c.los_recovery_poll, 100, 3600000);
  if (auto v = s.get("STATUS_TTL_SECONDS")) {
    c.status_ttl = std::chrono::seconds(parse_int("LEADGATE_STATUS_TTL_SECONDS", *v, 0, 86400));
  }
  s.count("STATUS_NOTIFY_INTERVAL_SECONDS", 1, 7 * 86400, c.status_notify_interval_seconds);
  s.count("BOOKINGS_PER_LEAD_PER_DAY", 1, 1000, c.bookings_per_lead_per_day);
  s.count("RETENTION_DAYS", 1, 36500, c.retention_days);
  s.count("CUSTOMER_MESSAGES_PER_DAY", 1, 10000, c.customer_messages_per_day);
  // At most 30 s: a revoked key must stop working on every instance within 30 s (issue 20 §7).
  if (auto v = s.get("API_KEY_CACHE_SECONDS")) {
    c.api_key_cache = std::chrono::seconds(parse_int("LEADGATE_API_KEY_CACHE_SECONDS", *v, 1, 30));
  }
}

// OTP limits, the consent link's lifetime and the public base URL (links in messages).
void read_otp(const Settings& s, Config& c) {
  s.count("OTP_MAX_ATTEMPTS", 1, 20, c.otp.max_attempts);
  s.count("OTP_MAX_SENDS", 1, 1000, c.otp.max_sends);
  s.count("OTP_KEY_SENDS_PER_MINUTE", 1, 100000, c.otp.key_sends_per_minute);
  if (auto v = s.get("OTP_RESEND_COOLDOWN_SECONDS")) {
    c.otp.resend_cooldown_ms =
        1000 * parse_int("LEADGATE_OTP_RESEND_COOLDOWN_SECONDS", *v, 0, 3600);
  }
  if (auto v = s.get("OTP_SEND_WINDOW_SECONDS")) {
    c.otp.send_window_ms = 1000 * parse_int("LEADGATE_OTP_SEND_WINDOW_SECONDS", *v, 1, 86400);
  }
  s.count("CONSENT_TTL_SECONDS", 60, 30 * 86400, c.consent_ttl_seconds);
  s.count("CUSTOMER_TOKEN_TTL_SECONDS", 60, 86400, c.customer_token_ttl_seconds);
  if (auto v = s.get("PUBLIC_BASE_URL"); v && !v->empty()) {
    c.public_base_url = parse_base_url("LEADGATE_PUBLIC_BASE_URL", *v);
  }
}

// A setting that is a JSON object (`what` describes its members for the error message).
boost::json::object json_object_setting(const std::string& setting, const std::string& text,
                                        const std::string& what) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) bad(setting, "must be a JSON object of " + what);
  return std::move(v.as_object());
}

void read_assistant_texts(const std::string& setting, const std::string& text,
                          std::map<std::string, std::string>& texts) {
  for (const auto& kv : json_object_setting(setting, text, "reply kind: text")) {
    const std::string kind(kv.key());
    const std::string reply = kv.value().is_string() ? std::string(kv.value().get_string()) : "";
    if (auto problem = check_assistant_text(kind, reply)) bad(setting + "." + kind, *problem);
    texts[kind] = reply;
  }
}

void read_templates(const std::string& setting, const std::string& text,
                    std::map<std::string, std::string>& templates) {
  for (const auto& kv : json_object_setting(setting, text, "purpose: template id")) {
    if (!kv.value().is_string() || kv.value().get_string().empty()) {
      bad(setting + "." + std::string(kv.key()), "must be a non-empty string");
    }
    templates[std::string(kv.key())] = std::string(kv.value().get_string());
  }
}

// A configured partner needs each environment's credentials.
void require_partner_credentials(const Config& c, const EnvironmentConfig& e) {
  const std::string p = "LEADGATE_" + upper(e.name) + "_";
  if (!c.basic_app_sandboxed()) {
    if (e.basic_app_api_key.empty())
      bad(p + "BASIC_APP_API_KEY", "is required when LEADGATE_BASIC_APP_URL is set");
    if (e.basic_app_user_id.empty())
      bad(p + "BASIC_APP_USER_ID", "is required when LEADGATE_BASIC_APP_URL is set");
  }
  if (!c.gupshup_sandboxed()) {
    if (e.gupshup_api_key.empty())
      bad(p + "GUPSHUP_API_KEY", "is required when LEADGATE_GUPSHUP_URL is set");
    if (e.gupshup_source.empty())
      bad(p + "GUPSHUP_SOURCE", "is required when LEADGATE_GUPSHUP_URL is set");
  }
}

void default_templates(const std::string& name, std::map<std::string, std::string>& templates) {
  templates["lead_confirmation"] = name + "_lead_confirmation";
  templates["status_update"] = name + "_status_update";
  templates["otp"] = name + "_otp_authentication";
  templates["consent"] = name + "_consent_request";
  for (const char* purpose : {"appointment_confirmation", "rm_appointment", "appointment_cancelled",
                              "rm_appointment_cancelled"}) {
    templates[purpose] = name + "_" + purpose;
  }
}

// One environment's settings (LEADGATE_<ENV>_*), with its defaults.
EnvironmentConfig read_environment(const Settings& s, const Config& c, const std::string& name) {
  EnvironmentConfig e;
  e.name = name;
  const std::string env = upper(name);
  auto eget = [&](const std::string& key) { return s.get(env + "_" + key); };
  e.brand_name = eget("BRAND_NAME").value_or(name == "orbit" ? "Orbit" : "Homfinity");
  e.basic_app_api_key = eget("BASIC_APP_API_KEY").value_or("");
  e.basic_app_user_id = eget("BASIC_APP_USER_ID").value_or("");
  e.gupshup_api_key = eget("GUPSHUP_API_KEY").value_or("");
  e.gupshup_source = eget("GUPSHUP_SOURCE").value_or("");
  e.gupshup_app_name = eget("GUPSHUP_APP_NAME").value_or(e.brand_name);
  e.opt_out_text = eget("OPT_OUT_TEXT").value_or("Reply STOP to stop WhatsApp updates.");
  e.support_phone = eget("SUPPORT_PHONE").value_or("");
  e.support_email = eget("SUPPORT_EMAIL").value_or("");
  e.support_hours = eget("SUPPORT_HOURS").value_or("Mon-Sat 9:30 AM - 6:30 PM IST");
  e.grievance_contact = eget("GRIEVANCE_CONTACT")
                            .value_or(e.support_email.empty() ? e.support_phone : e.support_email);
  e.consent_notice_version = eget("CONSENT_NOTICE_VERSION").value_or("2026-12");
  if (auto v = eget("LEGAL_HOLD_STATUSES")) {
    e.legal_hold_statuses.clear();
    std::stringstream in(*v);
    std::string item;
    while (std::getline(in, item, ',')) {
      const auto first = item.find_first_not_of(' ');
      if (first == std::string::npos) continue;
      e.legal_hold_statuses.push_back(item.substr(first, item.find_last_not_of(' ') - first + 1));
    }
  }
  default_templates(name, e.templates);
  read_business_hours(env, eget, e.business_hours);
  e.assistant_texts = default_assistant_texts();
  if (auto t = eget("ASSISTANT_TEXTS")) {
    read_assistant_texts("LEADGATE_" + env + "_ASSISTANT_TEXTS", *t, e.assistant_texts);
  }
  read_loan_policy(env, eget, e.loan_policy);
  if (auto t = eget("TEMPLATES")) read_templates("LEADGATE_" + env + "_TEMPLATES", *t, e.templates);
  require_partner_credentials(c, e);
  return e;
}

// What production needs, and the defaults that depend on other settings.
void apply_defaults(Config& c) {
  if (!c.sandbox() && c.pii_key_b64.empty()) {
    bad("LEADGATE_PII_KEY", "is required when a partner URL is configured (outside the sandbox)");
  }
  if (!c.sandbox() && c.webhook_verify_token.empty()) {
    bad("LEADGATE_WEBHOOK_VERIFY_TOKEN",
        "is required when a partner URL is configured (outside the sandbox)");
  }
  if (c.public_base_url.empty()) {
    c.public_base_url = "http://" + c.listen_host + ":" + std::to_string(c.listen_port);
  }
  if (c.db_threads == 0) c.db_threads = c.embedded_store() ? 2 : 16;
  if (c.sandbox() && c.webhook_verify_token.empty()) {
    c.webhook_verify_token = "leadgate-sandbox-verify-token";
  }
}
}  // namespace

Config load_config() {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.rfind(kPrefix, 0) != 0) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return load_config(vars);
}

Config load_config(const std::map<std::string, std::string>& env_vars) {
  std::map<std::string, std::string> vars = env_vars;
  Config c;
  if (auto it = vars.find("LEADGATE_CONFIG"); it != vars.end() && !it->second.empty()) {
    c.config_file = it->second;
    read_file(it->second, vars);  // emplace: environment variables already present win
  }
  check_names_known(vars);
  const Settings settings(vars);
  read_endpoints(settings, c);
  read_runtime(settings, c);
  read_partner_calls(settings, c);
  read_otp(settings, c);
  for (const auto& name : environments()) c.envs.emplace(name, read_environment(settings, c, name));
  apply_defaults(c);
  return c;
}

}  // namespace leadgate
