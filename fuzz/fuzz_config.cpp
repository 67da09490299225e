// The LEADGATE_CONFIG file (core/config.h): its text as read_config_text flattens it, then every
// setting validated by load_config, as at start. A bad file must end in ConfigError (the process
// then exits 78 naming the setting); any other exception, a crash or UB is a finding.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadgate;
  std::map<std::string, std::string> vars;
  try {
    read_config_text(fuzz::text_of(data, size), "fuzz.json", vars);
    // A file cannot name another file ("config" is refused), so this reads no file.
    fuzz::check(!vars.contains("LEADGATE_CONFIG"), "the file set LEADGATE_CONFIG");
    const Config config = load_config(vars);
    fuzz::check(config.envs.size() == environments().size(), "an environment is missing");
    fuzz::check(config.threads >= 1 && config.db_threads >= 1, "no threads");
  } catch (const ConfigError&) {
    // A refused configuration: the documented outcome.
  }
  return 0;
}
