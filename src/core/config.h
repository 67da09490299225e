#pragma once
// Configuration: LEADGATE_* environment variables, optionally a JSON file named by
// LEADGATE_CONFIG (keys are the variable names without the prefix, lower-cased, plus
// "environments"); environment variables win. Every value is validated at start: a bad one
// stops the process with a message naming the setting (ConfigError).
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/environments.h"
#include "domain/loan_rules.h"
#include "domain/otp_policy.h"
#include "domain/slot_calendar.h"

namespace leadgate {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Per-brand settings: partner credentials, WhatsApp templates, customer-facing texts.
struct EnvironmentConfig {
  std::string name;
  std::string brand_name;
  std::string basic_app_api_key;
  std::string basic_app_user_id;
  std::string gupshup_api_key;
  std::string gupshup_source;                    // the business WhatsApp number, 91XXXXXXXXXX
  std::string gupshup_app_name;                  // src.name
  std::map<std::string, std::string> templates;  // purpose -> Gupshup template id
  std::string opt_out_text;
  std::string support_phone;
  std::string support_email;
  std::string support_hours;
  // Data protection (issue 21): who handles grievances (DPDP Act §8(10)), shown on the consent
  // page; the version of the privacy notice a consent is given against (the consent ledger).
  std::string grievance_contact;
  std::string consent_notice_version;
  // Erasure is refused while one of the person's applications has one of these partner statuses
  // (compared without case): RBI's record-keeping for sanctioned loans (issue 21 §3).
  std::vector<std::string> legal_hold_statuses{"Sanctioned", "Disbursed"};
  LoanPolicy loan_policy;        // lead_flash limits and rates (domain/loan_rules.h defaults)
  BusinessHours business_hours;  // appointments (domain/slot_calendar.h defaults)
  std::map<std::string, std::string> assistant_texts;  // WhatsApp assistant replies by kind
};

struct Config {
  std::string listen_host = "127.0.0.1";
  unsigned short listen_port = 8080;
  std::string database_url = "sqlite:var/leadgate.db";
  std::string basic_app_url;  // empty: sandbox simulator
  std::string gupshup_url;    // empty: sandbox simulator
  std::string webhook_verify_token;
  std::string meta_app_secret;
  // Gupshup does not sign callbacks: a secret in the webhook path (/api_v1/whatsapp/webhook/TOKEN)
  // or the X-Webhook-Token header, optionally plus a source allow-list (addresses, IPv4 CIDR).
  std::string gupshup_webhook_token;
  std::string gupshup_webhook_ips;
  std::string pii_key_b64;  // empty in sandbox: generated into the data dir
  // Master keys before LEADGATE_PII_KEY (issue 21 §5): they still open, never seal.
  std::vector<std::string> pii_previous_keys;
  int otp_ttl_seconds = 180;
  std::string data_dir;  // pincode directory etc.; empty: auto-detect
  std::string log_level = "info";
  int threads = 2;      // I/O threads
  int db_threads = 0;   // threads (= PostgreSQL connections) for store calls; 0: SQLite 2, PG 16
  std::string ca_file;  // extra CA bundle for partner HTTPS
  // Idle kept-alive connections per partner host (http/client.h); 0: a connection per call.
  int partner_pool_size = 8;
  std::chrono::milliseconds basic_app_timeout{30000};
  int basic_app_attempts = 3;
  std::chrono::milliseconds basic_app_backoff{500};
  std::chrono::milliseconds gupshup_timeout{10000};
  std::chrono::milliseconds outbox_poll{500};
  int outbox_max_attempts = 10;
  std::chrono::milliseconds outbox_backoff{2000};
  std::chrono::milliseconds shutdown_grace{10000};
  std::chrono::milliseconds self_fulfilment_timeout{45000};
  int self_fulfilment_attempts = 2;
  std::chrono::milliseconds self_fulfilment_delay{5000};
  OtpPolicy otp;  // ttl from LEADGATE_OTP_TTL_SECONDS; limits from LEADGATE_OTP_*
  std::chrono::milliseconds otp_send_timeout{1500};
  // GetApplicationStatus (lead_status, track_application): short, the stored status is the
  // fallback.
  std::chrono::milliseconds status_timeout{3000};
  int status_attempts = 2;
  // How old a stored partner status may be before a read refreshes it in the background
  // (stale-while-revalidate); 0: every read asks the LOS.
  std::chrono::milliseconds status_ttl{60000};
  // The retention sweep (issue 21 §4) erases people with no activity for this many days.
  int retention_days = 730;
  // A lead left pending_los this long (and longer than max_los_exchange) is re-driven by the
  // recovery job; how often the job looks.
  std::chrono::milliseconds los_recovery_after{120000};
  std::chrono::milliseconds los_recovery_poll{30000};
  std::chrono::milliseconds status_retry_delay{250};
  // The WhatsApp assistant: automatic replies per sender per 10 minutes, inbox poll interval.
  int assistant_max_replies = 10;
  // Requests per API key per minute on one instance (bursts up to the same number), then 429.
  int key_requests_per_minute = 6000;
  // What a key can make the service send (issue 20): one status_update message per lead per
  // interval (lead_status notify), bookings and as many cancellations per lead in a rolling 24 h
  // (then 429), and notifications per customer (environment + mobile) in a rolling 24 h (beyond:
  // suppressed, never sent).
  int status_notify_interval_seconds = 3600;
  int bookings_per_lead_per_day = 5;
  int customer_messages_per_day = 10;
  // How long an API key lookup (known or unknown) is answered from memory: also the longest a
  // revoked key keeps working on an instance (services/auth.h). 1-30 s.
  std::chrono::seconds api_key_cache{30};
  // Validity of the customer token otp_verify answers (issue 20 §2; services/customer_tokens.h).
  int customer_token_ttl_seconds = 900;
  std::chrono::milliseconds inbox_poll{200};
  // How often each instance writes its current minute of monitoring aggregates (docs/dashboard.md).
  std::chrono::milliseconds metrics_flush{10000};
  int consent_ttl_seconds = 86400;
  std::string public_base_url;  // for links sent to customers; default http://LISTEN
  std::size_t body_limit = 64 * 1024;
  // Open HTTP connections at most (LEADGATE_MAX_CONNECTIONS); 0: the open-file limit less a
  // reserve for the database, logs and partner connections.
  int max_connections = 0;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};
  std::string config_file;
  std::map<std::string, EnvironmentConfig> envs;

  // The longest a create_lead's partner exchange can take: every attempt timing out, plus
  // backoff, plus a margin. A request older than this is taken to have died with its instance.
  std::chrono::milliseconds max_los_exchange() const {
    return basic_app_timeout * basic_app_attempts +
           basic_app_backoff * (1 << std::min(basic_app_attempts, 10)) +
           std::chrono::milliseconds(5000);
  }
  // The same for lead_flash's CreateSelfFullfilmentLead exchange.
  std::chrono::milliseconds max_flash_exchange() const {
    return self_fulfilment_timeout * self_fulfilment_attempts +
           self_fulfilment_delay * std::max(self_fulfilment_attempts - 1, 0) +
           std::chrono::milliseconds(5000);
  }
  // The same for GetApplicationStatus (lead_status); also the horizon of the appointment routes,
  // which call no partner.
  std::chrono::milliseconds max_status_exchange() const {
    return status_timeout * status_attempts + status_retry_delay * status_attempts +
           std::chrono::milliseconds(5000);
  }
  bool basic_app_sandboxed() const { return basic_app_url.empty(); }
  bool gupshup_sandboxed() const { return gupshup_url.empty(); }
  bool sandbox() const { return basic_app_sandboxed() && gupshup_sandboxed(); }
  bool embedded_store() const { return database_url.rfind("sqlite:", 0) == 0; }
  std::string sqlite_path() const { return database_url.substr(7); }
  const EnvironmentConfig& env(const std::string& name) const { return envs.at(name); }
};

// Reads the process environment (and the file it names). Throws ConfigError.
Config load_config();
// Same, from an explicit variable map (tests).
Config load_config(const std::map<std::string, std::string>& vars);
// The text of a LEADGATE_CONFIG file (`path` names it in messages), flattened into LEADGATE_*
// variables added to `vars`; a variable already there wins. load_config reads the file and calls
// this; the fuzz target (fuzz/fuzz_config.cpp) calls it directly. Throws ConfigError.
void read_config_text(std::string_view text, const std::string& path,
                      std::map<std::string, std::string>& vars);

}  // namespace leadgate
