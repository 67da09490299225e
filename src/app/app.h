#pragma once
// The entry points main.cpp calls: `serve` (app/server.cpp: builds the store, partner clients,
// services, routes and background jobs from a Config, then runs the server until
// SIGTERM/SIGINT) and the operator commands (app/cli.cpp).
#include <cstdint>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#include "http/client.h"
#include "partners/basic_app.h"
#include "partners/whatsapp.h"
#include "store/store.h"

namespace leadgate {

// `leadgate serve`. Returns the process exit code.
int run_server(const Config& config);
// `leadgate migrate`.
int run_migrate(const Config& config);
// `leadgate apikey create`: prints the key alone on the last line of stdout. kind: server | app.
int run_apikey_create(const Config& config, const std::string& name, const std::string& envs,
                      const std::string& kind);
// `leadgate apikey list`: id, name, environments, kind, state, created and last used (UTC); never
// the key nor its hash.
int run_apikey_list(const Config& config);
// `leadgate apikey revoke --id ID`: exit 0 when revoked now, 1 when unknown or already revoked.
int run_apikey_revoke(const Config& config, const std::string& id);

// `leadgate outbox list [--status dead]`: one line per message (no PII: the payload stays sealed).
int run_outbox_list(const Config& config, const std::string& status, int limit);
// `leadgate outbox requeue --id N | --all-dead`.
int run_outbox_requeue(const Config& config, std::int64_t id);

// `leadgate consent list --env ENV --phone MOBILE`: the consent trail of one customer.
// `leadgate rm add`: validates (environment, name 1-100 characters, Indian mobile, location
// 1-200 characters), stores the phone sealed; exit 0 and the RM's id, 1 when the name is taken,
// 2 on bad arguments. `leadgate rm list`: id, name, masked phone, location.
int run_rm_add(const Config& config, const std::string& environment, const std::string& name,
               const std::string& phone, const std::string& location);
int run_rm_list(const Config& config, const std::string& environment);
int run_consent_list(const Config& config, const std::string& environment,
                     const std::string& phone);
// `leadgate privacy export --env ENV --phone MOBILE`: everything held about the person, as the
// API's data object (services/privacy_export.h), on one line of stdout; counts on stderr.
int run_privacy_export(const Config& config, const std::string& environment,
                       const std::string& phone);
// `leadgate privacy erase --env ENV --phone MOBILE --reason TEXT`: erases the person as the API
// does (the LOS asked first); exit 0 erased, 1 refused (legal hold, LOS unavailable), 2 usage.
int run_privacy_erase(const Config& config, const std::string& environment,
                      const std::string& phone, const std::string& reason);
// `leadgate privacy sweep [--older-than DURATION]`: the retention sweep now, with people inactive
// for DURATION (e.g. 0s, 90m, 12h, 30d; default LEADGATE_RETENTION_DAYS); progress on stderr,
// the counts at the end. Safe to interrupt and run again: each person is one transaction.
int run_privacy_sweep(const Config& config, const std::string& older_than);

// Opens the configured store and applies its migrations.
std::unique_ptr<Store> open_and_migrate(const Config& config);
// The same, then seals whatever an older version left in plaintext (services/pii_backfill.h),
// logging progress at most every 2 s and the counts at the end, and makes the store the
// cipher's source of data keys (services/person_keys.h) and gives it the stored blind-index key
// (services/key_rotation.h). `serve`, `migrate`, `privacy` and `pii` use it.
std::unique_ptr<Store> open_migrate_and_seal(const Config& config, PiiCipher& cipher);
// Where data/pincodes.csv lives: LEADGATE_DATA_DIR, ./data, the source tree, or next to the binary.
std::string find_data_dir(const Config& config);
// The PII master key: LEADGATE_PII_KEY, or in the sandbox a key generated once into the data
// directory (mode 0600).
std::string load_pii_key(const Config& config);
// The PII cipher: that key seals; it and LEADGATE_PII_PREVIOUS_KEYS open.
PiiCipher make_pii_cipher(const Config& config);
// `leadgate pii rotate`: re-wraps every data key and the blind-index key and re-seals every value
// under a previous master key with LEADGATE_PII_KEY; progress on stderr, counts at the end. Safe
// to interrupt and run again.
int run_pii_rotate(const Config& config);

// The partner clients over one outbound HTTP client (pooled, TLS-reusing): the LOS, WhatsApp,
// and WhatsApp for OTPs (its own short timeout, sent synchronously). `serve` and `privacy` use it.
struct Partners {
  Partners(const Config& config, Metrics& metrics);
  void warn_sandboxed() const;

  HttpClient http;
  std::unique_ptr<BasicAppClient> los;
  std::unique_ptr<WhatsAppSender> whatsapp;
  std::unique_ptr<WhatsAppSender> otp_sender;
};

}  // namespace leadgate
