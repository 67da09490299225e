// The operator commands: migrate, apikey, outbox, consent and rm (main.cpp parses the arguments).
#include <algorithm>
#include <iostream>
#include <sstream>

#include "app/app.h"

#include "core/log.h"
#include "crypto/crypto.h"
#include "domain/application_progress.h"
#include "domain/mobile.h"
#include "domain/tracking_requests.h"
#include "services/auth.h"
#include "services/privacy_export.h"

namespace leadgate {

int run_migrate(const Config& config) {
  PiiCipher cipher = make_pii_cipher(config);
  auto store = open_migrate_and_seal(config, cipher);
  log_info("migrated", {{"database", store->kind()}, {"schema_version", store->schema_version()}});
  return 0;
}

int run_apikey_create(const Config& config, const std::string& name, const std::string& envs,
                      const std::string& kind) {
  std::vector<std::string> scopes;
  std::stringstream in(envs);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) scopes.push_back(part);
  }
  NewApiKey key;
  try {
    key = make_api_key(name, scopes, kind);
  } catch (const std::invalid_argument& e) {
    std::cerr << "leadgate apikey create: " << e.what() << "\n";
    return 2;
  }
  auto store = open_and_migrate(config);
  store->insert_api_key(key.row);
  log_info("api_key_created", {{"key_id", key.row.id}, {"kind", kind}, {"environments", envs}});
  std::cout << "Created " << kind << " API key " << key.row.id << " (" << name << ") for " << envs
            << ". It is shown once; store it now:\n"
            << key.key << std::endl;
  return 0;
}

int run_apikey_list(const Config& config) {
  auto store = open_and_migrate(config);
  const auto keys = store->list_api_keys();
  std::cout << "id\tname\tenvironments\tkind\tstate\tcreated\tlast_used\n";
  std::size_t active = 0;
  for (const auto& k : keys) {
    if (!k.revoked) ++active;
    std::string envs;
    for (const auto& e : k.environments) envs += (envs.empty() ? "" : ",") + e;
    std::cout << k.id << '\t' << k.name << '\t' << envs << '\t' << k.kind << '\t'
              << (k.revoked ? "revoked" : "active") << '\t' << iso_utc(k.created_at) << '\t'
              << (k.last_used_at ? iso_utc(k.last_used_at) : "never") << '\n';
  }
  std::cout << keys.size() << " API key(s), " << active << " active" << std::endl;
  return 0;
}

int run_apikey_revoke(const Config& config, const std::string& id) {
  auto store = open_and_migrate(config);
  const auto keys = store->list_api_keys();
  const auto key =
      std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.id == id; });
  if (key == keys.end()) {
    std::cerr << "leadgate apikey revoke: no API key with id '" << id
              << "' (leadgate apikey list shows them)\n";
    return 1;
  }
  if (!store->revoke_api_key(id)) {
    std::cout << "API key " << id << " (" << key->name << ") was already revoked; nothing changed"
              << std::endl;
    return 1;
  }
  log_info("api_key_revoked", {{"key_id", id}});
  std::cout << "Revoked API key " << id << " (" << key->name
            << "). Every instance refuses it (401) within " << config.api_key_cache.count() << " s."
            << std::endl;
  return 0;
}

int run_outbox_list(const Config& config, const std::string& status, int limit) {
  auto store = open_and_migrate(config);
  const auto rows = store->list_outbox(status, limit);
  std::cout << "id\tenvironment\tkind\tstatus\tattempts\tlead_ref\tlast_error\n";
  for (const auto& m : rows) {
    std::cout << m.id << '\t' << m.environment << '\t' << m.kind << '\t' << m.status << '\t'
              << m.attempts << '\t' << m.lead_ref << '\t' << m.last_error << '\n';
  }
  std::cout << rows.size() << " message(s) in status " << status << std::endl;
  return 0;
}

int run_outbox_requeue(const Config& config, std::int64_t id) {
  auto store = open_and_migrate(config);
  const auto n = store->requeue_outbox(id, now_ms());
  std::cout << "requeued " << n << " dead message(s)" << std::endl;
  return n > 0 ? 0 : 1;
}

int run_consent_list(const Config& config, const std::string& environment,
                     const std::string& phone) {
  const auto mobile = normalize_mobile(phone);
  if (!is_environment(environment) || !mobile) {
    std::cerr << "leadgate consent list: --env orbit|homfinity and a valid --phone are required\n";
    return 2;
  }
  PiiCipher cipher = make_pii_cipher(config);
  auto store = open_migrate_and_seal(config, cipher);  // the blind-index key is in the store
  const auto rows = store->consents_for(environment, cipher.blind_index("mobile", *mobile));
  std::cout << "requested_at_ms\texpires_at_ms\tgranted_at_ms\tphone\n";
  for (const auto& c : rows) {
    std::cout << c.requested_at << '\t' << c.expires_at << '\t'
              << (c.granted_at ? std::to_string(c.granted_at) : "-") << '\t'
              << mask_mobile(cipher.open("mobile", c.phone_enc)) << '\n';
  }
  std::cout << rows.size() << " consent request(s), "
            << std::count_if(rows.begin(), rows.end(), [](const auto& c) { return c.granted_at; })
            << " granted" << std::endl;
  return 0;
}

int run_privacy_export(const Config& config, const std::string& environment,
                       const std::string& phone) {
  const auto mobile = normalize_mobile(phone);
  if (!is_environment(environment) || !mobile) {
    std::cerr
        << "leadgate privacy export: --env orbit|homfinity and a valid --phone are required\n";
    return 2;
  }
  PiiCipher cipher = make_pii_cipher(config);
  auto store = open_migrate_and_seal(config, cipher);
  const auto data = export_personal_data(*store, cipher, config, environment, *mobile);
  std::cout << boost::json::serialize(data) << std::endl;
  std::cerr << "leadgate privacy export: " << data.at("leads").as_array().size() << " lead(s), "
            << data.at("consents").as_array().size() << " consent event(s), "
            << data.at("messages_received").as_array().size() << " message(s) received"
            << std::endl;
  return 0;
}

int run_rm_add(const Config& config, const std::string& environment, const std::string& name,
               const std::string& phone, const std::string& location) {
  const auto mobile = normalize_mobile(phone);
  const auto rm_name = normalize_rm_name(name);
  const auto place = normalize_rm_name(location);  // the same whitespace/control rules
  std::vector<std::string> problems;
  if (!is_environment(environment)) problems.push_back("--env must be orbit or homfinity");
  if (!rm_name) problems.push_back("--name must be 1-100 characters of text");
  if (!mobile) problems.push_back("--phone must be a valid Indian mobile number");
  if (!place || place->display.size() > 200) {
    problems.push_back("--location must be 1-200 characters of text");
  }
  if (!problems.empty()) {
    for (const auto& p : problems) std::cerr << "leadgate rm add: " << p << "\n";
    return 2;
  }
  PiiCipher cipher = make_pii_cipher(config);
  auto store = open_and_migrate(config);
  RmRow rm;
  rm.environment = environment;
  rm.name = rm_name->display;
  rm.name_key = rm_name->key;
  rm.phone_enc = cipher.seal("rm_phone", *mobile);
  rm.location = place->display;
  rm.created_at = now_ms();
  try {
    rm.id = store->insert_rm(rm);
  } catch (const StoreConflict&) {
    std::cerr << "leadgate rm add: " << environment << " already has an RM named '" << rm.name
              << "'\n";
    return 1;
  }
  log_info("rm_added", {{"environment", environment}, {"rm_id", rm.id}});
  std::cout << "Added RM " << rm.id << " to " << environment << ": " << rm.name << ", "
            << mask_mobile(*mobile) << ", " << rm.location << "\n"
            << rm.id << std::endl;
  return 0;
}

int run_rm_list(const Config& config, const std::string& environment) {
  if (!is_environment(environment)) {
    std::cerr << "leadgate rm list: --env orbit|homfinity is required\n";
    return 2;
  }
  PiiCipher cipher = make_pii_cipher(config);
  auto store = open_and_migrate(config);
  const auto rows = store->list_rms(environment);
  std::cout << "id\tname\tphone\tlocation\n";
  for (const auto& rm : rows) {
    std::cout << rm.id << '\t' << rm.name << '\t'
              << mask_mobile(cipher.open("rm_phone", rm.phone_enc)) << '\t' << rm.location << '\n';
  }
  std::cout << rows.size() << " relationship manager(s)" << std::endl;
  return 0;
}

}  // namespace leadgate
