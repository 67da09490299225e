#include "app/app.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/dashboard.h"
#include "api/docs.h"
#include "api/leads.h"
#include "api/ops.h"
#include "api/otp.h"
#include "api/tracking.h"
#include "api/webhook.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "domain/mobile.h"
#include "domain/pincode_directory.h"
#include "domain/tracking_requests.h"
#include "http/middleware.h"
#include "http/router.h"
#include "http/server.h"
#include "jobs/inbox_processor.h"
#include "jobs/outbox_dispatcher.h"
#include "partners/basic_app.h"
#include "partners/whatsapp.h"
#include "services/auth.h"
#include "services/idempotency.h"
#include "services/lead_flash.h"
#include "services/lead_intake.h"
#include "services/monitoring.h"
#include "services/otp_service.h"
#include "services/whatsapp_assistant.h"

namespace leadgate {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

fs::path state_dir(const Config& config) {
  if (config.embedded_store()) {
    auto parent = fs::path(config.sqlite_path()).parent_path();
    return parent.empty() ? fs::path(".") : parent;
  }
  return fs::path("var");
}

std::unique_ptr<Store> open_and_migrate(const Config& config) {
  auto store = open_store(config.database_url, config.db_threads);
  store->migrate();
  return store;
}

std::string exe_dir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.parent_path().string();
}

// Runs `work` now and then every `period` until the io_context stops. A failure is logged as
// `failure_event` and the work is tried again at the next period.
asio::awaitable<void> repeat_every(std::chrono::steady_clock::duration period,
                                   std::function<asio::awaitable<void>()> work,
                                   std::string failure_event) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    try {
      co_await work();
    } catch (const std::exception& e) {
      log_warn(failure_event, {{"error", e.what()}});
    }
    timer.expires_after(period);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace

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

int run_migrate(const Config& config) {
  auto store = open_and_migrate(config);
  log_info("migrated", {{"database", store->kind()}, {"schema_version", store->schema_version()}});
  return 0;
}

int run_apikey_create(const Config& config, const std::string& name, const std::string& envs) {
  std::vector<std::string> scopes;
  std::stringstream in(envs);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) scopes.push_back(part);
  }
  NewApiKey key;
  try {
    key = make_api_key(name, scopes);
  } catch (const std::invalid_argument& e) {
    std::cerr << "leadgate apikey create: " << e.what() << "\n";
    return 2;
  }
  auto store = open_and_migrate(config);
  store->insert_api_key(key.row);
  std::cout << "Created API key " << key.row.id << " (" << name << ") for " << envs
            << ". It is shown once; store it now:\n"
            << key.key << std::endl;
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
  const PiiCipher cipher(load_pii_key(config));
  auto store = open_and_migrate(config);
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
  const PiiCipher cipher(load_pii_key(config));
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
  const PiiCipher cipher(load_pii_key(config));
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

int run_server(const Config& config) {
  const auto boot = std::chrono::steady_clock::now();
  const std::string pii_key = load_pii_key(config);
  const PiiCipher cipher(pii_key);
  auto store = open_and_migrate(config);
  if (config.embedded_store() && store->count_api_keys() == 0) {
    auto key = make_api_key("development", environments());
    store->insert_api_key(key.row);
    std::cout << "Development API key (orbit, homfinity) — shown once, store it now:\n"
              << key.key << std::endl;
    log_warn("development_api_key_created", {{"key_id", key.row.id}});
  }
  const std::string data_dir = find_data_dir(config);
  const auto pincodes = PincodeDirectory::load(data_dir + "/pincodes.csv");
  const auto professions = ProfessionCatalogue::load(data_dir + "/professions.csv");
  const auto docs_assets = DocsAssets::load(data_dir + "/www");

  Metrics metrics;
  // Declared before the io_context: coroutines suspended in pool.run are destroyed with the
  // io_context and still touch the pool then.
  BlockingPool pool(config.db_threads, 512, &metrics);
  asio::io_context ioc(config.threads);
  HttpClient http_client(config.ca_file);
  auto los = make_basic_app_client(
      {config.basic_app_url, config.basic_app_timeout, config.basic_app_attempts,
       config.basic_app_backoff, config.self_fulfilment_timeout, config.self_fulfilment_attempts,
       config.self_fulfilment_delay, config.status_timeout, config.status_attempts,
       config.status_retry_delay},
      http_client, metrics);
  auto whatsapp =
      make_whatsapp_sender(config.gupshup_url, config.gupshup_timeout, http_client, metrics);
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
  OutboxDispatcher outbox(ioc.get_executor(), *store, *store, pool, *whatsapp, cipher, config,
                          metrics);
  const auto notify_outbox = [&outbox] { outbox.notify(); };
  LeadIntake intake(*store, pool, *los, cipher, config, notify_outbox, metrics);
  LeadFlash flash(*store, pool, *los, cipher, config, notify_outbox, pincodes, professions,
                  metrics);
  ApplicationTracker tracker(*store, *store, *store, *store, pool, *los, cipher, config,
                             notify_outbox);
  WhatsAppAssistant assistant(*store, *store, *store, pool, tracker, cipher, config, metrics,
                              notify_outbox);
  InboxProcessor inbox(ioc.get_executor(), *store, pool,
                       {[&assistant](const std::vector<InboxEvent>& batch) {
                          return assistant.apply_receipts(batch);
                        },
                        [&assistant](const InboxEvent& event) { return assistant.handle(event); }},
                       config);
  WebhookIntake webhook(*store, pool, cipher, config, metrics, [&inbox] { inbox.notify(); });
  AppointmentBook appointments(*store, *store, pool, cipher, config, notify_outbox);
  // OTPs are sent synchronously, so their sender has its own short timeout.
  auto otp_sender =
      make_whatsapp_sender(config.gupshup_url, config.otp_send_timeout, http_client, metrics);
  OtpService otp(*store, pool, *otp_sender, cipher, config, metrics);
  ApiKeyAuth auth(*store, pool, std::chrono::seconds(30));
  Idempotency idempotency(*store, pool);
  MinuteRecorder recorder(*store, pool, metrics, make_instance_id(), config.metrics_flush);
  const DashboardDeps dashboard{*store, pool, auth, docs_assets,
                                hkdf_sha256(pii_key, "", "leadgate ops dashboard session", 32)};

  // The middleware order is fixed here and documented in http/middleware.h.
  Router router;
  router.add({http::verb::get, "/healthz", healthz_handler(), false});
  router.add({http::verb::get, "/readyz",
              readyz_handler({*store, pool, los->sandboxed(), whatsapp->sandboxed()}), false});
  router.add({http::verb::get, "/metrics", metrics_handler(metrics), true});
  router.add({http::verb::get, "/openapi.json", openapi_handler(), false});
  router.add({http::verb::get, "/docs", docs_page_handler(docs_assets), false});
  router.add({http::verb::get, "/docs/{asset}", docs_asset_handler(docs_assets), false});
  router.add({http::verb::get, "/dashboard", dashboard_page_handler(dashboard), false});
  router.add({http::verb::get, "/dashboard/login", dashboard_login_page_handler(), false});
  router.add({http::verb::post, "/dashboard/login", dashboard_login_handler(dashboard), false});
  router.add({http::verb::post, "/dashboard/logout", dashboard_logout_handler(), false});
  router.add({http::verb::get, "/dashboard/data", dashboard_data_handler(dashboard), false});
  router.add(
      {http::verb::get, "/dashboard/assets/{asset}", dashboard_asset_handler(dashboard), false});
  router.add(
      {http::verb::post, "/api_v1/create_lead", create_lead_handler(intake, pincodes), true, true});
  router.add({http::verb::post, "/api_v1/otp_send", otp_send_handler(otp), true});
  router.add({http::verb::post, "/api_v1/otp_resend", otp_resend_handler(otp), true});
  router.add({http::verb::post, "/api_v1/otp_verify", otp_verify_handler(otp), true});
  router.add(
      {http::verb::get, "/api_v1/consent/{token}", consent_page_handler(otp, config), false});
  router.add({http::verb::post, "/api_v1/consent/{token}", consent_grant_handler(otp), false});
  router.add({http::verb::post, "/api_v1/lead_flash",
              lead_flash_handler(flash, pincodes, professions), true, true});
  router.add({http::verb::post, "/api_v1/lead_status", lead_status_handler(tracker), true, true});
  router.add(
      {http::verb::post, "/api_v1/track_application", track_application_handler(tracker), true});
  router.add({http::verb::post, "/api_v1/book_appointment",
              book_appointment_handler(appointments, config), true, true});
  router.add({http::verb::post, "/api_v1/cancel_appointment",
              cancel_appointment_handler(appointments), true, true});
  router.add({http::verb::get, "/api_v1/appointment_slots", appointment_slots_handler(appointments),
              true});
  router.add({http::verb::get, "/api_v1/whatsapp/webhook", webhook_verify_handler(config), false});
  router.add(
      {http::verb::post, "/api_v1/whatsapp/webhook", webhook_intake_handler(webhook), false});
  router.add({http::verb::post, "/api_v1/whatsapp/webhook/{token}", webhook_intake_handler(webhook),
              false});
  router.add({http::verb::get, "/api_v1/appointments/{file}", appointment_ics_handler(appointments),
              true});

  const std::vector<Middleware> outer{metrics_middleware(metrics, environments()),
                                      request_id_middleware(), error_mapping_middleware()};
  std::map<const Route*, Handler> chains;
  // Build every route's chain once, at start.
  auto build = [&](const Route& r) {
    std::vector<Middleware> chain = outer;
    if (r.requires_api_key) chain.push_back(auth.middleware());
    if (r.idempotent) {
      // A key's first request is presumed dead after the route's slowest partner exchange.
      std::chrono::milliseconds horizon = config.max_status_exchange();
      if (r.pattern == "/api_v1/lead_flash") horizon = config.max_flash_exchange();
      if (r.pattern == "/api_v1/create_lead") horizon = config.max_los_exchange();
      chain.push_back(idempotency.middleware(horizon));
    }
    return compose(chain, r.handler);
  };
  for (const auto& route : router.routes()) chains[&route] = build(route);
  const Handler unmatched =
      compose(outer, [&router](const Request& req, RequestContext&) -> asio::awaitable<Response> {
        auto m = router.match(req.method(), req.target());
        if (!m.allowed.empty()) {
          std::string allow;
          for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
          ApiError e(405, "METHOD_NOT_ALLOWED", "Method not allowed; use " + allow);
          e.headers.emplace_back("Allow", allow);  // RFC 9110 §15.5.6
          throw e;
        }
        throw ApiError(404, "NOT_FOUND", "No such endpoint");
      });

  Dispatch dispatch = [&](Request& req, const std::string& ip) -> asio::awaitable<Response> {
    RequestContext ctx;
    ctx.client_ip = ip;
    auto m = router.match(req.method(), req.target());
    if (!m.route) {
      // A bounded metric label: unknown API paths apart from the rest (favicons, scanners).
      ctx.route = req.target().starts_with("/api_v1/") ? "unmatched" : "unmatched_other";
      co_return co_await unmatched(req, ctx);
    }
    ctx.route = m.route->pattern;
    ctx.path_params = std::move(m.params);
    co_return co_await chains.at(m.route)(req, ctx);
  };

  ServerOptions options;
  options.body_limit = config.body_limit;
  options.header_timeout = config.header_timeout;
  options.idle_timeout = config.idle_timeout;
  HttpServer server(ioc, options, dispatch);
  try {
    server.start(config.listen_host, config.listen_port);
  } catch (const std::exception& e) {
    log_error("listen_failed",
              {{"listen", config.listen_host + ":" + std::to_string(config.listen_port)},
               {"error", e.what()}});
    return 1;
  }
  outbox.start();
  inbox.start();
  recorder.start(ioc.get_executor());

  // Idempotency records are kept 24 hours; purge older ones hourly.
  asio::co_spawn(ioc,
                 repeat_every(
                     std::chrono::hours(1),
                     [&]() -> asio::awaitable<void> {
                       co_await pool.run([&] {
                         store->purge_rate_events(now_ms() - 24LL * 3600 * 1000);
                         store->purge_idempotent(
                             now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(
                                            kIdempotencyRetention)
                                            .count());
                       });
                     },
                     "idempotency_purge_failed"),
                 asio::detached);

  // Backlog gauges for monitoring: outbox rows by status (pending = backlog, dead, suppressed),
  // inbox events by state (failed = needs an operator), database size. Every instance reports
  // the same shared numbers; take max() across instances.
  metrics.describe("leadgate_outbox_messages", "gauge", "Outbox rows by status (all instances)");
  metrics.describe("leadgate_inbox_events", "gauge", "Webhook inbox events by state");
  metrics.describe("leadgate_database_size_bytes", "gauge", "Size of the database on disk");
  metrics.describe("leadgate_database_up", "gauge",
                   "1 when the last backlog refresh reached the database, 0 when it failed");
  asio::co_spawn(
      ioc,
      repeat_every(
          std::chrono::seconds(15),
          [&]() -> asio::awaitable<void> {
            struct Counts {
              std::map<std::string, std::int64_t> outbox, inbox;
              std::int64_t size = 0;
            };
            std::optional<Counts> counts;
            try {
              counts = co_await pool.run([&] {
                return Counts{store->outbox_counts(), store->inbox_counts(),
                              store->database_size_bytes()};
              });
            } catch (const std::exception&) {
              metrics.set_gauge("leadgate_database_up", {}, 0);
              throw;
            }
            for (const char* status : {"pending", "sent", "dead", "suppressed"}) {
              const auto it = counts->outbox.find(status);
              metrics.set_gauge("leadgate_outbox_messages", {{"status", status}},
                                it == counts->outbox.end() ? 0.0 : static_cast<double>(it->second));
            }
            for (const char* state : {"pending", "done", "failed"}) {
              const auto it = counts->inbox.find(state);
              metrics.set_gauge("leadgate_inbox_events", {{"state", state}},
                                it == counts->inbox.end() ? 0.0 : static_cast<double>(it->second));
            }
            metrics.set_gauge("leadgate_database_size_bytes", {},
                              static_cast<double>(counts->size));
            metrics.set_gauge("leadgate_database_up", {}, 1);
          },
          "gauge_refresh_failed"),
      asio::detached);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer drain(ioc);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log_info("shutdown_started",
             {{"signal", sig}, {"open_connections", server.open_connections()}});
    server.begin_shutdown();
    outbox.stop();
    inbox.stop();
    recorder.stop();
    const auto deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
    asio::co_spawn(
        ioc,
        [&, deadline]() -> asio::awaitable<void> {
          while ((server.open_connections() > 0 || !outbox.stopped() || !inbox.stopped()) &&
                 std::chrono::steady_clock::now() < deadline) {
            drain.expires_after(std::chrono::milliseconds(20));
            co_await drain.async_wait(asio::use_awaitable);
          }
          log_info("shutdown_complete", {{"open_connections", server.open_connections()}});
          ioc.stop();
        },
        asio::detached);
  });

  log_info("listening", {{"listen", config.listen_host + ":" + std::to_string(server.port())},
                         {"database", store->kind()},
                         {"pincodes", pincodes.size()},
                         {"basic_app_sandbox", los->sandboxed()},
                         {"gupshup_sandbox", whatsapp->sandboxed()},
                         {"version", LEADGATE_VERSION},
                         {"startup_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - boot)
                                            .count()}});

  // A handler that throws must not take the process down with it: log and keep running.
  auto run_io = [&ioc] {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        log_error("io_handler_failed", {{"error", e.what()}});
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i) threads.emplace_back(run_io);
  run_io();
  for (auto& t : threads) t.join();
  recorder.flush_final();  // the current minute's numbers survive the restart
  pool.stop();
  return 0;
}

}  // namespace leadgate
