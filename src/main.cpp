// leadgate: CLI entry point (interfaces.md §1).
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "app/app.h"
#include "core/config.h"
#include "core/log.h"

namespace {

constexpr const char* kUsage = R"(usage:
  leadgate [serve]                                   run the HTTP service
  leadgate migrate                                   apply database migrations and exit
  leadgate apikey create --name NAME --env ENV[,ENV] [--kind server|app]
                                                     create an API key (printed once, last line)
  leadgate apikey list                               the API keys (never the keys themselves)
  leadgate apikey revoke --id ID                     revoke a key (refused everywhere within 30 s)
  leadgate outbox list [--status dead|pending|sent] [--limit N]
                                                     list outbox messages (default: dead)
  leadgate outbox requeue --id N | --all-dead        retry dead messages now
  leadgate consent list --env ENV --phone MOBILE     a customer's consent requests and grants
  leadgate privacy export --env ENV --phone MOBILE   everything held about a person (JSON)
  leadgate privacy erase --env ENV --phone MOBILE --reason TEXT
                                                     erase a person (crypto-shredding)
  leadgate pii rotate                                re-seal everything under LEADGATE_PII_KEY
  leadgate privacy sweep [--older-than DURATION]     erase people inactive that long (0s, 30d;
                                                     default LEADGATE_RETENTION_DAYS)
  leadgate rm add --env ENV --name NAME --phone MOBILE --location TEXT
                                                     add a relationship manager to the roster
  leadgate rm list --env ENV                         the environment's relationship managers
  leadgate version
Configuration: LEADGATE_* environment variables (see README.md), LEADGATE_CONFIG file.
)";

// --flag value pairs after the sub-command words.
std::map<std::string, std::string> flags(const std::vector<std::string>& args, std::size_t from) {
  std::map<std::string, std::string> out;
  for (std::size_t i = from; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) != 0 || i + 1 >= args.size()) {
      throw std::invalid_argument("unexpected argument '" + args[i] + "'");
    }
    out[args[i].substr(2)] = args[i + 1];
    ++i;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string command = args.empty() ? "serve" : args[0];
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << "leadgate " << LEADGATE_VERSION << "\n";
    return 0;
  }
  try {
    const leadgate::Config config = leadgate::load_config();
    leadgate::set_log_level(leadgate::parse_log_level(config.log_level));
    if (command == "serve") return leadgate::run_server(config);
    if (command == "migrate") return leadgate::run_migrate(config);
    if (command == "apikey" && args.size() >= 2 && args[1] == "create") {
      auto f = flags(args, 2);
      if (!f.contains("name") || !f.contains("env")) {
        std::cerr << "leadgate apikey create: --name and --env are required\n" << kUsage;
        return 2;
      }
      return leadgate::run_apikey_create(config, f["name"], f["env"],
                                         f.contains("kind") ? f["kind"] : "server");
    }
    if (command == "apikey" && args.size() == 2 && args[1] == "list") {
      return leadgate::run_apikey_list(config);
    }
    if (command == "apikey" && args.size() >= 2 && args[1] == "revoke") {
      auto f = flags(args, 2);
      if (!f.contains("id") || f["id"].empty()) {
        std::cerr << "leadgate apikey revoke: --id ID is required (leadgate apikey list shows "
                     "the ids)\n";
        return 2;
      }
      return leadgate::run_apikey_revoke(config, f["id"]);
    }
    if (command == "consent" && args.size() >= 2 && args[1] == "list") {
      auto f = flags(args, 2);
      return leadgate::run_consent_list(config, f["env"], f["phone"]);
    }
    if (command == "privacy" && args.size() >= 2 && args[1] == "export") {
      auto f = flags(args, 2);
      return leadgate::run_privacy_export(config, f["env"], f["phone"]);
    }
    if (command == "privacy" && args.size() >= 2 && args[1] == "erase") {
      auto f = flags(args, 2);
      return leadgate::run_privacy_erase(config, f["env"], f["phone"], f["reason"]);
    }
    if (command == "pii" && args.size() == 2 && args[1] == "rotate") {
      return leadgate::run_pii_rotate(config);
    }
    if (command == "privacy" && args.size() >= 2 && args[1] == "sweep") {
      auto f = flags(args, 2);
      return leadgate::run_privacy_sweep(config, f["older-than"]);
    }
    if (command == "rm" && args.size() >= 2 && args[1] == "add") {
      auto f = flags(args, 2);
      return leadgate::run_rm_add(config, f["env"], f["name"], f["phone"], f["location"]);
    }
    if (command == "rm" && args.size() >= 2 && args[1] == "list") {
      auto f = flags(args, 2);
      return leadgate::run_rm_list(config, f["env"]);
    }
    if (command == "outbox" && args.size() >= 2 && args[1] == "list") {
      auto f = flags(args, 2);
      const int limit = f.contains("limit") ? std::stoi(f["limit"]) : 100;
      return leadgate::run_outbox_list(config, f.contains("status") ? f["status"] : "dead", limit);
    }
    if (command == "outbox" && args.size() >= 2 && args[1] == "requeue") {
      if (args.size() == 3 && args[2] == "--all-dead")
        return leadgate::run_outbox_requeue(config, 0);
      auto f = flags(args, 2);
      if (!f.contains("id")) {
        std::cerr << "leadgate outbox requeue: --id N or --all-dead is required\n";
        return 2;
      }
      return leadgate::run_outbox_requeue(config, std::stoll(f["id"]));
    }
    std::cerr << "leadgate: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const leadgate::ConfigError& e) {
    std::cerr << "leadgate: " << e.what() << "\n";
    return 78;  // EX_CONFIG
  } catch (const std::invalid_argument& e) {
    std::cerr << "leadgate: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "leadgate: fatal: " << e.what() << "\n";
    return 1;
  }
}
