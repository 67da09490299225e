#pragma once
// Wiring: builds the store, partner clients, the outbox dispatcher and the routes from a Config,
// then runs the server until SIGTERM/SIGINT.
#include <string>

#include "core/config.h"

namespace leadgate {

// `leadgate serve`. Returns the process exit code.
int run_server(const Config& config);
// `leadgate migrate`.
int run_migrate(const Config& config);
// `leadgate apikey create`: prints the key alone on the last line of stdout.
int run_apikey_create(const Config& config, const std::string& name, const std::string& envs);

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

// Where data/pincodes.csv lives: LEADGATE_DATA_DIR, ./data, the source tree, or next to the binary.
std::string find_data_dir(const Config& config);
// The PII master key: LEADGATE_PII_KEY, or in the sandbox a key generated once into the data
// directory (mode 0600).
std::string load_pii_key(const Config& config);

}  // namespace leadgate
