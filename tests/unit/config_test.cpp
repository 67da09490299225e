#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crypto/crypto.h"

namespace leadgate {
namespace {

using ::testing::HasSubstr;
using Vars = std::map<std::string, std::string>;

// The ConfigError message load_config throws for `vars`, or a marker when it throws nothing.
std::string config_error(const Vars& vars) {
  try {
    load_config(vars);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

std::string valid_pii_key() {
  return base64_encode(std::string(32, '\x5a'));
}

// Every setting a non-sandbox configuration needs, with both partner URLs set.
Vars production_vars() {
  return {{"LEADGATE_BASIC_APP_URL", "https://los.example.com/api"},
          {"LEADGATE_GUPSHUP_URL", "https://api.gupshup.example"},
          {"LEADGATE_PII_KEY", valid_pii_key()},
          {"LEADGATE_WEBHOOK_VERIFY_TOKEN", "verify-me"},
          {"LEADGATE_ORBIT_BASIC_APP_API_KEY", "orbit-key"},
          {"LEADGATE_ORBIT_BASIC_APP_USER_ID", "orbit-user"},
          {"LEADGATE_ORBIT_GUPSHUP_API_KEY", "orbit-gs-key"},
          {"LEADGATE_ORBIT_GUPSHUP_SOURCE", "919800000001"},
          {"LEADGATE_HOMFINITY_BASIC_APP_API_KEY", "hom-key"},
          {"LEADGATE_HOMFINITY_BASIC_APP_USER_ID", "hom-user"},
          {"LEADGATE_HOMFINITY_GUPSHUP_API_KEY", "hom-gs-key"},
          {"LEADGATE_HOMFINITY_GUPSHUP_SOURCE", "919800000002"}};
}

// A JSON config file in the temp directory, removed when the test ends.
class TempConfigFile {
 public:
  explicit TempConfigFile(const std::string& contents) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("leadgate_config_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter.fetch_add(1)) + "_" + random_token(8) + ".json");
    std::ofstream out(path_);
    out << contents;
  }
  ~TempConfigFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempConfigFile(const TempConfigFile&) = delete;
  TempConfigFile& operator=(const TempConfigFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// ---- Defaults ----

TEST(ConfigDefaults, EmptyMapGivesSandboxDefaults) {
  const Config c = load_config(Vars{});
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.database_url, "sqlite:var/leadgate.db");
  EXPECT_TRUE(c.embedded_store());
  EXPECT_EQ(c.sqlite_path(), "var/leadgate.db");
  EXPECT_TRUE(c.basic_app_url.empty());
  EXPECT_TRUE(c.gupshup_url.empty());
  EXPECT_TRUE(c.basic_app_sandboxed());
  EXPECT_TRUE(c.gupshup_sandboxed());
  EXPECT_TRUE(c.sandbox());
  EXPECT_TRUE(c.pii_key_b64.empty());
  EXPECT_FALSE(c.webhook_verify_token.empty()) << "sandbox gets a dev verify token";
  EXPECT_EQ(c.otp_ttl_seconds, 180);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.basic_app_timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(c.basic_app_attempts, 3);
  EXPECT_TRUE(c.config_file.empty());
}

TEST(ConfigDefaults, BothEnvironmentsPresentWithBrandAndDefaultTemplate) {
  const Config c = load_config(Vars{});
  ASSERT_EQ(c.envs.size(), 2u);
  EXPECT_EQ(c.env("orbit").name, "orbit");
  EXPECT_EQ(c.env("orbit").brand_name, "Orbit");
  EXPECT_EQ(c.env("homfinity").brand_name, "Homfinity");
  EXPECT_EQ(c.env("orbit").templates.at("lead_confirmation"), "orbit_lead_confirmation");
  EXPECT_EQ(c.env("homfinity").templates.at("lead_confirmation"), "homfinity_lead_confirmation");
  EXPECT_EQ(c.env("orbit").gupshup_app_name, "Orbit") << "src.name defaults to the brand";
}

TEST(ConfigDefaults, IsEnvironment) {
  EXPECT_TRUE(is_environment("orbit"));
  EXPECT_TRUE(is_environment("homfinity"));
  EXPECT_FALSE(is_environment("Orbit"));
  EXPECT_FALSE(is_environment(""));
  EXPECT_FALSE(is_environment("mars"));
}

// ---- LEADGATE_LISTEN ----

TEST(ConfigListen, HostAndPort) {
  const Config c = load_config({{"LEADGATE_LISTEN", "0.0.0.0:9090"}});
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9090);
}

TEST(ConfigListen, BracketedIpv6) {
  const Config c = load_config({{"LEADGATE_LISTEN", "[::1]:8081"}});
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 8081);
}

TEST(ConfigListen, MalformedValuesNameTheSetting) {
  for (const char* bad : {"localhost", ":8080", "localhost:", "localhost:http", "localhost:65536",
                          "localhost:-1", "localhost:80x", "[::1]", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(config_error({{"LEADGATE_LISTEN", bad}}), HasSubstr("LEADGATE_LISTEN"));
  }
}

// ---- LEADGATE_DATABASE_URL ----

TEST(ConfigDatabaseUrl, SqlitePath) {
  const Config c = load_config({{"LEADGATE_DATABASE_URL", "sqlite:/tmp/x/lead.db"}});
  EXPECT_TRUE(c.embedded_store());
  EXPECT_EQ(c.sqlite_path(), "/tmp/x/lead.db");
}

TEST(ConfigDatabaseUrl, Postgresql) {
  const Config c =
      load_config({{"LEADGATE_DATABASE_URL", "postgresql://lead:pw@db.internal:5432/leadgate"}});
  EXPECT_FALSE(c.embedded_store());
  EXPECT_EQ(c.database_url, "postgresql://lead:pw@db.internal:5432/leadgate");
}

TEST(ConfigDatabaseUrl, BadSchemeOrMissingPathNamesTheSetting) {
  for (const char* bad : {"mysql://db/leadgate", "sqlite:", "leadgate.db", "", "SQLITE:x.db"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(config_error({{"LEADGATE_DATABASE_URL", bad}}), HasSubstr("LEADGATE_DATABASE_URL"));
  }
}

// ---- Partner URLs ----

TEST(ConfigPartnerUrls, TrailingSlashesTrimmed) {
  Vars v = production_vars();
  v["LEADGATE_BASIC_APP_URL"] = "https://los.example.com/api//";
  v["LEADGATE_GUPSHUP_URL"] = "http://127.0.0.1:9999/";
  const Config c = load_config(v);
  EXPECT_EQ(c.basic_app_url, "https://los.example.com/api");
  EXPECT_EQ(c.gupshup_url, "http://127.0.0.1:9999");
  EXPECT_FALSE(c.basic_app_sandboxed());
  EXPECT_FALSE(c.gupshup_sandboxed());
  EXPECT_FALSE(c.sandbox());
}

TEST(ConfigPartnerUrls, EmptyValueMeansSandbox) {
  const Config c = load_config({{"LEADGATE_BASIC_APP_URL", ""}, {"LEADGATE_GUPSHUP_URL", ""}});
  EXPECT_TRUE(c.sandbox());
}

TEST(ConfigPartnerUrls, InvalidUrlsNameTheSetting) {
  for (const char* bad :
       {"ftp://los.example.com", "los.example.com", "not a url", "http://", "/relative/path",
        // Found by fuzz/fuzz_config.cpp: Boost.URL 1.81 asserts on the first three
        // (boostorg/url#665).
        "http:\"", "http:\\", "l:[", "HTTP://los.example.com", "https://los.example.com/a\"b"}) {
    SCOPED_TRACE(bad);
    Vars v = production_vars();
    v["LEADGATE_BASIC_APP_URL"] = bad;
    EXPECT_THAT(config_error(v), HasSubstr("LEADGATE_BASIC_APP_URL"));
    v = production_vars();
    v["LEADGATE_GUPSHUP_URL"] = bad;
    EXPECT_THAT(config_error(v), HasSubstr("LEADGATE_GUPSHUP_URL"));
  }
}

TEST(ConfigPartnerUrls, ProductionConfigurationLoads) {
  const Config c = load_config(production_vars());
  EXPECT_EQ(c.env("orbit").basic_app_api_key, "orbit-key");
  EXPECT_EQ(c.env("orbit").basic_app_user_id, "orbit-user");
  EXPECT_EQ(c.env("homfinity").gupshup_api_key, "hom-gs-key");
  EXPECT_EQ(c.env("homfinity").gupshup_source, "919800000002");
  EXPECT_EQ(c.webhook_verify_token, "verify-me");
  EXPECT_EQ(c.pii_key_b64, valid_pii_key());
}

TEST(ConfigPartnerUrls, BasicAppUrlWithoutPerEnvironmentCredentials) {
  for (const char* missing :
       {"LEADGATE_ORBIT_BASIC_APP_API_KEY", "LEADGATE_ORBIT_BASIC_APP_USER_ID",
        "LEADGATE_HOMFINITY_BASIC_APP_API_KEY", "LEADGATE_HOMFINITY_BASIC_APP_USER_ID"}) {
    SCOPED_TRACE(missing);
    Vars v = production_vars();
    v.erase(missing);
    EXPECT_THAT(config_error(v), HasSubstr(missing));
  }
}

TEST(ConfigPartnerUrls, GupshupUrlWithoutPerEnvironmentCredentials) {
  for (const char* missing :
       {"LEADGATE_ORBIT_GUPSHUP_API_KEY", "LEADGATE_ORBIT_GUPSHUP_SOURCE",
        "LEADGATE_HOMFINITY_GUPSHUP_API_KEY", "LEADGATE_HOMFINITY_GUPSHUP_SOURCE"}) {
    SCOPED_TRACE(missing);
    Vars v = production_vars();
    v.erase(missing);
    EXPECT_THAT(config_error(v), HasSubstr(missing));
  }
}

TEST(ConfigPartnerUrls, OnlyBasicAppUrlNeedsOnlyBasicAppCredentials) {
  const Config c = load_config({{"LEADGATE_BASIC_APP_URL", "http://127.0.0.1:1"},
                                {"LEADGATE_PII_KEY", valid_pii_key()},
                                {"LEADGATE_WEBHOOK_VERIFY_TOKEN", "t"},
                                {"LEADGATE_ORBIT_BASIC_APP_API_KEY", "k1"},
                                {"LEADGATE_ORBIT_BASIC_APP_USER_ID", "u1"},
                                {"LEADGATE_HOMFINITY_BASIC_APP_API_KEY", "k2"},
                                {"LEADGATE_HOMFINITY_BASIC_APP_USER_ID", "u2"}});
  EXPECT_FALSE(c.basic_app_sandboxed());
  EXPECT_TRUE(c.gupshup_sandboxed());
  EXPECT_FALSE(c.sandbox());
}

TEST(ConfigPartnerUrls, MissingCredentialMessageNamesTheUrlSetting) {
  Vars v = production_vars();
  v.erase("LEADGATE_ORBIT_BASIC_APP_API_KEY");
  EXPECT_THAT(config_error(v), HasSubstr("LEADGATE_BASIC_APP_URL"));
}

// ---- Secrets ----

TEST(ConfigSecrets, PiiKeyMustBeBase64Of32Bytes) {
  const std::string ok = valid_pii_key();
  EXPECT_EQ(load_config({{"LEADGATE_PII_KEY", ok}}).pii_key_b64, ok);
  for (const std::string& bad :
       {base64_encode(std::string(31, 'a')), base64_encode(std::string(33, 'a')),
        std::string("not base64 at all!"), ok.substr(0, ok.size() - 1) + "*",
        std::string(32, 'a')}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(config_error({{"LEADGATE_PII_KEY", bad}}), HasSubstr("LEADGATE_PII_KEY"));
  }
}

TEST(ConfigSecrets, OutsideSandboxPiiKeyRequired) {
  Vars v = production_vars();
  v.erase("LEADGATE_PII_KEY");
  EXPECT_THAT(config_error(v), HasSubstr("LEADGATE_PII_KEY"));
  v["LEADGATE_PII_KEY"] = "";
  EXPECT_THAT(config_error(v), HasSubstr("LEADGATE_PII_KEY"));
}

TEST(ConfigSecrets, OutsideSandboxWebhookTokenRequired) {
  Vars v = production_vars();
  v.erase("LEADGATE_WEBHOOK_VERIFY_TOKEN");
  EXPECT_THAT(config_error(v), HasSubstr("LEADGATE_WEBHOOK_VERIFY_TOKEN"));
  v["LEADGATE_WEBHOOK_VERIFY_TOKEN"] = "";
  EXPECT_THAT(config_error(v), HasSubstr("LEADGATE_WEBHOOK_VERIFY_TOKEN"));
}

TEST(ConfigSecrets, SandboxKeepsAnExplicitWebhookToken) {
  const Config c = load_config({{"LEADGATE_WEBHOOK_VERIFY_TOKEN", "mine"}});
  EXPECT_EQ(c.webhook_verify_token, "mine");
}

// ---- Numbers ----

TEST(ConfigNumbers, OtpTtlInRange) {
  EXPECT_EQ(load_config({{"LEADGATE_OTP_TTL_SECONDS", "30"}}).otp_ttl_seconds, 30);
  EXPECT_EQ(load_config({{"LEADGATE_OTP_TTL_SECONDS", "600"}}).otp_ttl_seconds, 600);
  EXPECT_EQ(load_config({{"LEADGATE_OTP_TTL_SECONDS", "3600"}}).otp_ttl_seconds, 3600);
}

TEST(ConfigNumbers, OtpTtlMalformedOrOutOfRangeNamesTheSetting) {
  // 1 s is the floor (tests use a 2-second TTL); production keeps the 180 s default.
  for (const char* bad :
       {"abc", "0", "3601", "-180", "", " 180", "180 ", "1.5", "180s", "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(config_error({{"LEADGATE_OTP_TTL_SECONDS", bad}}),
                HasSubstr("LEADGATE_OTP_TTL_SECONDS"));
  }
}

TEST(ConfigNumbers, DurationsAndCounts) {
  const Config c = load_config({{"LEADGATE_BASIC_APP_TIMEOUT_MS", "1500"},
                                {"LEADGATE_BASIC_APP_ATTEMPTS", "5"},
                                {"LEADGATE_BASIC_APP_BACKOFF_MS", "0"},
                                {"LEADGATE_GUPSHUP_TIMEOUT_MS", "2500"},
                                {"LEADGATE_OUTBOX_POLL_MS", "50"},
                                {"LEADGATE_OUTBOX_MAX_ATTEMPTS", "7"},
                                {"LEADGATE_OUTBOX_BACKOFF_MS", "100"},
                                {"LEADGATE_SHUTDOWN_GRACE_MS", "0"},
                                {"LEADGATE_THREADS", "4"},
                                {"LEADGATE_DB_THREADS", "8"}});
  EXPECT_EQ(c.basic_app_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.basic_app_attempts, 5);
  EXPECT_EQ(c.basic_app_backoff, std::chrono::milliseconds(0));
  EXPECT_EQ(c.gupshup_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.outbox_poll, std::chrono::milliseconds(50));
  EXPECT_EQ(c.outbox_max_attempts, 7);
  EXPECT_EQ(c.outbox_backoff, std::chrono::milliseconds(100));
  EXPECT_EQ(c.shutdown_grace, std::chrono::milliseconds(0));
  EXPECT_EQ(c.threads, 4);
  EXPECT_EQ(c.db_threads, 8);
}

TEST(ConfigNumbers, OtherNumericSettingsNameThemselves) {
  const std::map<std::string, std::string> bad{{"LEADGATE_THREADS", "0"},
                                               {"LEADGATE_DB_THREADS", "x"},
                                               {"LEADGATE_BASIC_APP_TIMEOUT_MS", "5"},
                                               {"LEADGATE_BASIC_APP_ATTEMPTS", "11"},
                                               {"LEADGATE_BASIC_APP_BACKOFF_MS", "-1"},
                                               {"LEADGATE_GUPSHUP_TIMEOUT_MS", "300001"},
                                               {"LEADGATE_OUTBOX_POLL_MS", "9"},
                                               {"LEADGATE_OUTBOX_MAX_ATTEMPTS", "0"},
                                               {"LEADGATE_OUTBOX_BACKOFF_MS", "1e3"},
                                               {"LEADGATE_SHUTDOWN_GRACE_MS", "600001"}};
  for (const auto& [name, value] : bad) {
    SCOPED_TRACE(name + "=" + value);
    EXPECT_THAT(config_error({{name, value}}), HasSubstr(name));
  }
}

TEST(ConfigNumbers, AbuseLimitsDefaultsValuesAndErrors) {
  const Config defaults = load_config({});
  EXPECT_EQ(defaults.status_notify_interval_seconds, 3600);
  EXPECT_EQ(defaults.bookings_per_lead_per_day, 5);
  EXPECT_EQ(defaults.customer_messages_per_day, 10);
  const Config c = load_config({{"LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS", "60"},
                                {"LEADGATE_BOOKINGS_PER_LEAD_PER_DAY", "2"},
                                {"LEADGATE_CUSTOMER_MESSAGES_PER_DAY", "3"}});
  EXPECT_EQ(c.status_notify_interval_seconds, 60);
  EXPECT_EQ(c.bookings_per_lead_per_day, 2);
  EXPECT_EQ(c.customer_messages_per_day, 3);
  const std::vector<std::pair<std::string, std::string>> bad{
      {"LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS", "0"},
      {"LEADGATE_STATUS_NOTIFY_INTERVAL_SECONDS", "1h"},
      {"LEADGATE_BOOKINGS_PER_LEAD_PER_DAY", "0"},
      {"LEADGATE_CUSTOMER_MESSAGES_PER_DAY", "-1"},
      {"LEADGATE_CUSTOMER_MESSAGES_PER_DAY", "10001"}};
  for (const auto& [name, value] : bad) {
    SCOPED_TRACE(name + "=" + value);
    EXPECT_THAT(config_error({{name, value}}), HasSubstr(name));
  }
}

TEST(ConfigEnvironmentVars, UnknownLeadgateVariableNamesIt) {
  try {
    load_config({{"LEADGATE_LISTN", "127.0.0.1:1"}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("LEADGATE_LISTN"), std::string::npos);
  }
  EXPECT_NO_THROW(load_config({{"HOME", "/root"}, {"LEADGATE_ORBIT_SUPPORT_PHONE", "1800"}}));
}

TEST(ConfigLogLevel, KnownAndUnknown) {
  EXPECT_EQ(load_config({{"LEADGATE_LOG_LEVEL", "debug"}}).log_level, "debug");
  EXPECT_THAT(config_error({{"LEADGATE_LOG_LEVEL", "verbose"}}), HasSubstr("LEADGATE_LOG_LEVEL"));
}

// ---- Per-environment settings from variables ----

TEST(ConfigEnvironmentVars, TemplatesJsonMergedOverDefault) {
  const Config c = load_config(
      {{"LEADGATE_ORBIT_TEMPLATES", R"({"otp": "orbit_otp_v2", "lead_confirmation": "lc_v3"})"},
       {"LEADGATE_HOMFINITY_BRAND_NAME", "Homfinity Home Loans"}});
  EXPECT_EQ(c.env("orbit").templates.at("otp"), "orbit_otp_v2");
  EXPECT_EQ(c.env("orbit").templates.at("lead_confirmation"), "lc_v3");
  EXPECT_EQ(c.env("homfinity").templates.at("lead_confirmation"), "homfinity_lead_confirmation");
  EXPECT_EQ(c.env("homfinity").brand_name, "Homfinity Home Loans");
  EXPECT_EQ(c.env("homfinity").gupshup_app_name, "Homfinity Home Loans");
}

TEST(ConfigEnvironmentVars, BadTemplatesNameTheSetting) {
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_TEMPLATES", "not json"}}),
              HasSubstr("LEADGATE_ORBIT_TEMPLATES"));
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_TEMPLATES", R"(["a"])"}}),
              HasSubstr("LEADGATE_ORBIT_TEMPLATES"));
  EXPECT_THAT(config_error({{"LEADGATE_HOMFINITY_TEMPLATES", R"({"otp": 5})"}}),
              HasSubstr("LEADGATE_HOMFINITY_TEMPLATES"));
  EXPECT_THAT(config_error({{"LEADGATE_HOMFINITY_TEMPLATES", R"({"otp": ""})"}}),
              HasSubstr("LEADGATE_HOMFINITY_TEMPLATES"));
}

// ---- Config file ----

TEST(ConfigFile, ValuesRead) {
  TempConfigFile file(R"({
    "listen": "0.0.0.0:9001",
    "otp_ttl_seconds": 240,
    "database_url": "sqlite:/tmp/from_file.db",
    "log_level": "warn",
    "environments": {
      "orbit": {
        "brand_name": "Orbit Finance",
        "support_phone": "1800-000-000",
        "templates": {"lead_confirmation": "orbit_lc_v7", "otp": "orbit_otp"}
      },
      "homfinity": {"support_email": "help@homfinity.example"}
    }
  })");
  const Config c = load_config({{"LEADGATE_CONFIG", file.path()}});
  EXPECT_EQ(c.config_file, file.path());
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9001);
  EXPECT_EQ(c.otp_ttl_seconds, 240);
  EXPECT_EQ(c.sqlite_path(), "/tmp/from_file.db");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.env("orbit").brand_name, "Orbit Finance");
  EXPECT_EQ(c.env("orbit").support_phone, "1800-000-000");
  EXPECT_EQ(c.env("orbit").templates.at("lead_confirmation"), "orbit_lc_v7");
  EXPECT_EQ(c.env("orbit").templates.at("otp"), "orbit_otp");
  EXPECT_EQ(c.env("homfinity").support_email, "help@homfinity.example");
  EXPECT_EQ(c.env("homfinity").templates.at("lead_confirmation"), "homfinity_lead_confirmation");
}

TEST(ConfigFile, EnvironmentVariablesWinOverFile) {
  TempConfigFile file(R"({
    "listen": "0.0.0.0:9001",
    "otp_ttl_seconds": "240",
    "environments": {"orbit": {"brand_name": "From File"}}
  })");
  const Config c = load_config({{"LEADGATE_CONFIG", file.path()},
                                {"LEADGATE_LISTEN", "127.0.0.1:7000"},
                                {"LEADGATE_ORBIT_BRAND_NAME", "From Env"}});
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 7000);
  EXPECT_EQ(c.otp_ttl_seconds, 240) << "settings not overridden still come from the file";
  EXPECT_EQ(c.env("orbit").brand_name, "From Env");
}

TEST(ConfigFile, ProductionCredentialsFromFile) {
  Vars env = production_vars();
  env.erase("LEADGATE_ORBIT_BASIC_APP_API_KEY");
  TempConfigFile file(R"({"environments": {"orbit": {"basic_app_api_key": "file-key"}}})");
  env["LEADGATE_CONFIG"] = file.path();
  EXPECT_EQ(load_config(env).env("orbit").basic_app_api_key, "file-key");
}

TEST(ConfigFile, UnknownKeyNamesIt) {
  TempConfigFile file(R"({"listen": "127.0.0.1:8080", "bogus_setting": "x"})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", file.path()}}), HasSubstr("bogus_setting"));
}

TEST(ConfigFile, ConfigKeyInsideFileIsUnknown) {
  TempConfigFile file(R"({"config": "/elsewhere.json"})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", file.path()}}), HasSubstr("config"));
}

TEST(ConfigFile, UnknownEnvironmentFieldNamesIt) {
  TempConfigFile file(R"({"environments": {"orbit": {"colour": "blue"}}})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", file.path()}}),
              HasSubstr("environments.orbit.colour"));
}

TEST(ConfigFile, BadEnvironmentNameIsAnError) {
  TempConfigFile file(R"({"environments": {"mars": {"brand_name": "Mars"}}})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", file.path()}}), HasSubstr("environments.mars"));
}

TEST(ConfigFile, EnvironmentsMustBeObjects) {
  TempConfigFile not_object(R"({"environments": ["orbit"]})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", not_object.path()}}), HasSubstr("environments"));
  TempConfigFile env_not_object(R"({"environments": {"orbit": "x"}})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", env_not_object.path()}}),
              HasSubstr("environments.orbit"));
  TempConfigFile templates_not_object(R"({"environments": {"orbit": {"templates": "x"}}})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", templates_not_object.path()}}),
              HasSubstr("environments.orbit.templates"));
}

TEST(ConfigFile, NonScalarValueNamesTheKey) {
  TempConfigFile file(R"({"otp_ttl_seconds": true})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", file.path()}}), HasSubstr("otp_ttl_seconds"));
}

TEST(ConfigFile, ValuesFromFileAreValidatedLikeVariables) {
  TempConfigFile file(R"({"otp_ttl_seconds": 0})");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", file.path()}}),
              HasSubstr("LEADGATE_OTP_TTL_SECONDS"));
}

TEST(ConfigFile, MissingOrMalformedFileNamesLeadgateConfig) {
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", "/nonexistent/leadgate/definitely-missing.json"}}),
              HasSubstr("LEADGATE_CONFIG"));
  TempConfigFile not_json("{ this is not json");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", not_json.path()}}), HasSubstr("LEADGATE_CONFIG"));
  TempConfigFile array("[1, 2]");
  EXPECT_THAT(config_error({{"LEADGATE_CONFIG", array.path()}}), HasSubstr("LEADGATE_CONFIG"));
}

TEST(ConfigFile, EmptyConfigVariableMeansNoFile) {
  const Config c = load_config({{"LEADGATE_CONFIG", ""}});
  EXPECT_TRUE(c.config_file.empty());
}

TEST(ConfigBusinessHours, DefaultsAndOverrides) {
  const auto defaults = load_config(Vars{});
  const auto& h = defaults.env("orbit").business_hours;
  EXPECT_EQ(h.open_minute, 600);
  EXPECT_EQ(h.close_minute, 1140);
  EXPECT_FALSE(h.open_days[6]);
  EXPECT_EQ(defaults.env("orbit").templates.at("rm_appointment"), "orbit_rm_appointment");

  const auto c = load_config(Vars{
      {"LEADGATE_HOMFINITY_BUSINESS_HOURS",
       R"({"days": ["Mon", "tue", "WED"], "open": "09:30", "close": "17:00", "slot_minutes": 45,
           "max_days_ahead": 14})"},
      {"LEADGATE_HOMFINITY_HOLIDAYS", R"(["2026-12-25", "2027-01-26"])"}});
  const auto& hh = c.env("homfinity").business_hours;
  EXPECT_EQ(hh.open_minute, 570);
  EXPECT_EQ(hh.close_minute, 1020);
  EXPECT_EQ(hh.slot_minutes, 45);
  EXPECT_EQ(hh.max_days_ahead, 14);
  EXPECT_TRUE(hh.open_days[2]);
  EXPECT_FALSE(hh.open_days[3]);
  ASSERT_EQ(hh.holidays.size(), 2u);
  EXPECT_EQ(hh.holidays[1], (CivilDate{2027, 1, 26}));
  EXPECT_EQ(c.env("orbit").business_hours.slot_minutes, 30);  // the other brand untouched
}

TEST(ConfigBusinessHours, BadValuesNameTheSetting) {
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_BUSINESS_HOURS", R"({"open": "9am"})"}}),
              HasSubstr("LEADGATE_ORBIT_BUSINESS_HOURS.open"));
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_BUSINESS_HOURS", R"({"days": ["Funday"]})"}}),
              HasSubstr("LEADGATE_ORBIT_BUSINESS_HOURS.days"));
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_BUSINESS_HOURS", R"({"lunch": "13:00"})"}}),
              HasSubstr("LEADGATE_ORBIT_BUSINESS_HOURS.lunch"));
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_BUSINESS_HOURS", R"({"open": "19:00"})"}}),
              HasSubstr("LEADGATE_ORBIT_BUSINESS_HOURS"));
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_HOLIDAYS", R"(["25-12-2026"])"}}),
              HasSubstr("LEADGATE_ORBIT_HOLIDAYS"));
  EXPECT_THAT(config_error({{"LEADGATE_STATUS_ATTEMPTS", "9"}}),
              HasSubstr("LEADGATE_STATUS_ATTEMPTS"));
}

TEST(ConfigLoanPolicy, PerLoanTypeMapsOverrideTheDefaults) {
  const auto c = load_config(Vars{{"LEADGATE_HOMFINITY_REFERENCE_RATES", R"({"HL": 8.75})"},
                                  {"LEADGATE_ORBIT_COMFORT_CREDIT_SCORES", R"({"PL": 700})"},
                                  {"LEADGATE_ORBIT_USUAL_MAX_TENURES", R"({"LAP": 240})"}});
  EXPECT_DOUBLE_EQ(c.env("homfinity").loan_policy.reference_rate_pct.at("HL"), 8.75);
  EXPECT_DOUBLE_EQ(c.env("orbit").loan_policy.reference_rate_pct.at("HL"), 8.5);
  EXPECT_EQ(c.env("orbit").loan_policy.comfort_credit_score.at("PL"), 700);
  EXPECT_EQ(c.env("orbit").loan_policy.usual_max_tenure_months.at("LAP"), 240);
}

// Found while writing fuzz/fuzz_config.cpp (UBSan: "1e+10 is outside the range of representable
// values of type 'int'"): a whole-number setting beyond int was converted before any check.
TEST(ConfigLoanPolicy, NumbersBeyondIntAreRefused) {
  for (const char* value : {R"({"HL": 1e10})", R"({"HL": -1e300})", R"({"HL": 2147483648})",
                            R"({"HL": 18446744073709551615})"}) {
    SCOPED_TRACE(value);
    EXPECT_THAT(config_error({{"LEADGATE_ORBIT_COMFORT_CREDIT_SCORES", value}}),
                HasSubstr("LEADGATE_ORBIT_COMFORT_CREDIT_SCORES.HL"));
    EXPECT_THAT(config_error({{"LEADGATE_HOMFINITY_USUAL_MAX_TENURES", value}}),
                HasSubstr("LEADGATE_HOMFINITY_USUAL_MAX_TENURES.HL"));
  }
  EXPECT_THAT(config_error({{"LEADGATE_ORBIT_COMFORT_CREDIT_SCORES", R"({"HL": 901})"}}),
              HasSubstr("comfort_credit_score for HL must be 300..900"));
}

}  // namespace
}  // namespace leadgate
