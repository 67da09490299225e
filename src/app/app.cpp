// What `serve` and the commands share: the store, the data directory and the PII key.
#include "app/app.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/log.h"
#include "crypto/crypto.h"
#include "partners/basic_app.h"
#include "partners/whatsapp.h"
#include "services/key_rotation.h"
#include "services/person_keys.h"
#include "services/pii_backfill.h"

namespace leadgate {

namespace fs = std::filesystem;

namespace {

fs::path state_dir(const Config& config) {
  if (config.embedded_store()) {
    auto parent = fs::path(config.sqlite_path()).parent_path();
    return parent.empty() ? fs::path(".") : parent;
  }
  return fs::path("var");
}

std::string exe_dir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.parent_path().string();
}

}  // namespace

std::unique_ptr<Store> open_and_migrate(const Config& config) {
  auto store = open_store(config.database_url, config.db_threads);
  store->migrate();
  return store;
}

std::unique_ptr<Store> open_migrate_and_seal(const Config& config, PiiCipher& cipher) {
  auto store = open_and_migrate(config);
  attach_data_keys(cipher, *store);
  load_index_key(*store, cipher);
  std::int64_t last_log = now_ms();
  const auto done = seal_plaintext_at_rest(*store, cipher, [&](const PlaintextSealed& so_far) {
    if (now_ms() - last_log < 2000) return;
    last_log = now_ms();
    log_info("sealing_plaintext",
             {{"leads", so_far.leads}, {"idempotency_records", so_far.idempotency_records}});
  });
  if (done.leads > 0 || done.idempotency_records > 0) {
    log_info("plaintext_sealed",
             {{"leads", done.leads}, {"idempotency_records", done.idempotency_records}});
  }
  return store;
}

std::string find_data_dir(const Config& config) {
  std::vector<fs::path> candidates;
  if (!config.data_dir.empty()) {
    candidates.emplace_back(config.data_dir);
  } else {
    candidates = {"data", LEADGATE_SOURCE_DATA_DIR, fs::path(exe_dir()) / "../share/leadgate/data"};
  }
  for (const auto& c : candidates) {
    if (fs::exists(c / "pincodes.csv")) return c.string();
  }
  throw ConfigError("configuration error: LEADGATE_DATA_DIR: no pincodes.csv found in " +
                    candidates.front().string());
}

std::string load_pii_key(const Config& config) {
  if (!config.pii_key_b64.empty()) return *base64_decode(config.pii_key_b64);
  const fs::path path = state_dir(config) / "pii.key";
  if (fs::exists(path)) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    auto key = base64_decode(text);
    if (!key || key->size() != 32) {
      throw ConfigError("configuration error: " + path.string() +
                        " is not base64 of 32 bytes (sandbox PII key)");
    }
    return *key;
  }
  fs::create_directories(path.parent_path());
  const std::string key = random_bytes(32);
  const std::string text = base64_encode(key) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw ConfigError("configuration error: cannot write sandbox PII key to " + path.string());
  }
  ::close(fd);
  log_warn("sandbox_pii_key_generated",
           {{"path", path.string()},
            {"message",
             "SANDBOX: generated a PII encryption key; set LEADGATE_PII_KEY in production "
             "and keep this file if you keep the data"}});
  return key;
}

PiiCipher make_pii_cipher(const Config& config) {
  return PiiCipher(load_pii_key(config), config.pii_previous_keys);
}

namespace {
HttpClientOptions http_options(const Config& config, Metrics& metrics) {
  HttpClientOptions options;
  options.ca_file = config.ca_file;
  options.max_idle_per_host = static_cast<std::size_t>(config.partner_pool_size);
  options.metrics = &metrics;
  return options;
}
}  // namespace

Partners::Partners(const Config& config, Metrics& metrics)
    : http(http_options(config, metrics)),
      los(make_basic_app_client(
          {config.basic_app_url, config.basic_app_timeout, config.basic_app_attempts,
           config.basic_app_backoff, config.self_fulfilment_timeout,
           config.self_fulfilment_attempts, config.self_fulfilment_delay, config.status_timeout,
           config.status_attempts, config.status_retry_delay},
          http, metrics)),
      whatsapp(make_whatsapp_sender(config.gupshup_url, config.gupshup_timeout, http, metrics)),
      // OTPs are sent synchronously, so their sender has its own short timeout.
      otp_sender(make_whatsapp_sender(config.gupshup_url, config.otp_send_timeout, http, metrics)) {
}

void Partners::warn_sandboxed() const {
  if (los->sandboxed()) {
    log_warn("sandbox_partner", {{"partner", "basic_app"},
                                 {"message",
                                  "SANDBOX: LEADGATE_BASIC_APP_URL is unset; the LOS is "
                                  "simulated and no lead reaches the lender"}});
  }
  if (whatsapp->sandboxed()) {
    log_warn("sandbox_partner", {{"partner", "gupshup"},
                                 {"message",
                                  "SANDBOX: LEADGATE_GUPSHUP_URL is unset; WhatsApp "
                                  "messages are simulated, none is sent"}});
  }
}

}  // namespace leadgate
