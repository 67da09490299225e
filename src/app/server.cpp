// `leadgate serve`: the wiring, in the order it happens. Open the store, build the partner
// clients, the services, the routes and the background jobs, listen, and on SIGTERM/SIGINT drain
// the connections and the jobs before the process ends.
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>
#include <thread>

#include "app/app.h"
#include "app/routes.h"
#include "core/log.h"
#include "core/log_sink.h"
#include "crypto/crypto.h"
#include "jobs/inbox_processor.h"
#include "jobs/maintenance.h"
#include "jobs/outbox_dispatcher.h"
#include "jobs/periodic_job.h"
#include "partners/basic_app.h"
#include "partners/whatsapp.h"
#include "services/erasure.h"
#include "services/idempotency.h"
#include "services/monitoring.h"
#include "services/privacy.h"
#include "services/privacy_export.h"
#include "services/service_deps.h"
#include "services/whatsapp_assistant.h"

namespace leadgate {

namespace asio = boost::asio;

namespace {

// Store calls queued at most (a memory bound): requests are shed earlier, when their estimated
// queue wait exceeds their route's objective (load_shedding_middleware).
constexpr int kMaxQueuedStoreCalls = 16384;

// The embedded store starts with a key, so that a developer can call the API at once.
void ensure_development_key(const Config& config, Store& store) {
  if (!config.embedded_store() || store.count_api_keys() != 0) return;
  auto key = make_api_key("development", environments());
  store.insert_api_key(key.row);
  std::cout << "Development API key (orbit, homfinity) — shown once, store it now:\n"
            << key.key << std::endl;
  log_warn("development_api_key_created", {{"key_id", key.row.id}});
}

// The files under the data directory, loaded once.
struct StaticData {
  explicit StaticData(const std::string& data_dir)
      : pincodes(PincodeDirectory::load(data_dir + "/pincodes.csv")),
        professions(ProfessionCatalogue::load(data_dir + "/professions.csv")),
        docs(DocsAssets::load(data_dir + "/www")) {}
  PincodeDirectory pincodes;
  ProfessionCatalogue professions;
  DocsAssets docs;
};

// Kept-alive partner connections, LEADGATE_PARTNER_POOL_SIZE idle ones per host.
// Where the background loops run their store calls: their own threads and, on PostgreSQL, their
// own connections, so that a burst of outbox or inbox work never queues behind or ahead of a
// request (issue 19). SQLite has one connection whatever the threads.
struct Background {
  Background(const Config& config, Store& request_store, Metrics& metrics)
      : own(config.embedded_store() ? nullptr
                                    : open_store(config.database_url, kBackgroundThreads)),
        store(own ? *own : request_store),
        pool(kBackgroundThreads, kMaxQueuedStoreCalls, &metrics) {}
  static constexpr int kBackgroundThreads = 2;
  std::unique_ptr<Store> own;
  Store& store;
  BlockingPool pool;
};

// The use cases and the loops they feed (the outbox and the inbox). The outbox, the inbox and
// the WhatsApp assistant the inbox drives work on `background`.
struct Services {
  Services(asio::io_context& ioc, const Config& config, Store& store, BlockingPool& pool,
           Background& background, Partners& partners, const PiiCipher& cipher,
           const StaticData& data, Metrics& metrics)
      : deps{pool, cipher, config, metrics},
        background_deps{background.pool, cipher, config, metrics},
        outbox(ioc.get_executor(), background.store, background.store, background.store,
               background.pool, *partners.whatsapp, cipher, config, metrics),
        intake(store, store, deps, *partners.los, wake_outbox()),
        recovery(background.store, background.store, background_deps, *partners.los, wake_outbox()),
        flash(store, deps, *partners.los, wake_outbox(), data.pincodes, data.professions),
        tracker(store, store, store, store, deps, *partners.los, wake_outbox()),
        assistant(background.store, background.store, background.store, background.store,
                  background_deps, tracker, wake_outbox()),
        inbox(ioc.get_executor(), background.store, background.pool,
              {[this](const std::vector<InboxEvent>& batch) {
                 return assistant.apply_receipts(batch);
               },
               [this](const InboxEvent& event) { return assistant.handle(event); }},
              config),
        webhook(store, deps, [this] { inbox.notify(); }),
        appointments(store, store, deps, wake_outbox()),
        otp(store, deps, *partners.otp_sender),
        privacy(store, deps),
        privacy_export(store, deps),
        eraser(store, store, deps, *partners.los),
        retention(background.store, background.store, background_deps, *partners.los),
        auth(store, pool, config.api_key_cache, config.key_requests_per_minute),
        customers(store, pool),
        idempotency(store, pool, cipher),
        recorder(background.store, metrics, make_instance_id()) {}

  // What the use cases call when they queued a message: the dispatcher looks now.
  std::function<void()> wake_outbox() {
    return [this] { outbox.notify(); };
  }

  ServiceDeps deps;             // what every use case below is built with
  ServiceDeps background_deps;  // ... and the assistant, which the inbox drives
  OutboxDispatcher outbox;
  LeadIntake intake;
  LeadIntake recovery;  // the LOS recovery job's, on the background store and threads
  LeadFlash flash;
  ApplicationTracker tracker;
  WhatsAppAssistant assistant;
  InboxProcessor inbox;
  WebhookIntake webhook;
  AppointmentBook appointments;
  OtpService otp;
  ConsentLedger privacy;
  PersonalDataExport privacy_export;
  Eraser eraser;
  Eraser retention;  // the daily retention sweep's, on the background store and threads
  ApiKeyAuth auth;
  CustomerGuard customers;
  Idempotency idempotency;
  MinuteRecorder recorder;
};

// The retention sweep's round (issue 21 §4), at start and then daily: each person it cannot erase
// now (legal hold, the LOS down) is a candidate again the next day.
asio::awaitable<bool> sweep_inactive(Eraser& retention, const Config& config) {
  Trace trace;
  trace.request_id = "retention-" + uuid_v4();
  const std::int64_t cutoff = now_ms() - 86400000LL * config.retention_days;
  co_await retention.sweep(cutoff, trace, {});
  co_return false;
}

// The store's upkeep: the hourly purges, the backlog gauges every 15 s, and this instance's
// metric_minutes rows every LEADGATE_METRICS_FLUSH.
struct Jobs {
  Jobs(asio::io_context& ioc, const Config& config, Store& store, BlockingPool& pool,
       Metrics& metrics, MinuteRecorder& recorder, LeadIntake& recovery, Eraser& retention)
      : los_recovery(ioc.get_executor(), {"los_recovery", config.los_recovery_poll, true},
                     [&recovery] { return recovery.recover_stale(); }),
        retention_sweep(ioc.get_executor(), {"retention_sweep", std::chrono::hours(24), false},
                        [&retention, &config] { return sweep_inactive(retention, config); }),
        purge(ioc.get_executor(), pool, {"idempotency_purge", std::chrono::hours(1)},
              [&store] {
                purge_expired(
                    store, store, store,
                    std::chrono::duration_cast<std::chrono::milliseconds>(kIdempotencyRetention));
              }),
        gauges(ioc.get_executor(), pool, {"gauge_refresh", std::chrono::seconds(15)},
               [&store, &metrics] { refresh_backlog_gauges(store, metrics); }),
        minutes(ioc.get_executor(), pool, {"metric_minutes", config.metrics_flush, true},
                [&recorder] { recorder.flush(now_ms()); }) {
    describe_backlog_gauges(metrics);
  }
  void start() {
    los_recovery.start();
    retention_sweep.start();
    purge.start();
    gauges.start();
    minutes.start();
  }
  void stop() {
    los_recovery.stop();
    retention_sweep.stop();
    purge.stop();
    gauges.stop();
    minutes.stop();
  }

  PollingLoop los_recovery;     // pending_los leads a crash left behind (LeadIntake::recover_stale)
  PollingLoop retention_sweep;  // daily: people inactive for LEADGATE_RETENTION_DAYS are erased
  PeriodicJob purge, gauges, minutes;
};

// On SIGINT/SIGTERM: stop accepting, let the loops finish what they hold, and stop the
// io_context once the connections and the outbox/inbox loops are done or the grace has passed.
void drain_on_signal(asio::io_context& ioc, asio::signal_set& signals, asio::steady_timer& drain,
                     const Config& config, HttpServer& server, Services& services, Jobs& jobs) {
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log_info("shutdown_started",
             {{"signal", sig}, {"open_connections", server.open_connections()}});
    server.begin_shutdown();
    services.outbox.stop();
    services.inbox.stop();
    jobs.stop();
    const auto deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
    asio::co_spawn(
        ioc,
        [&, deadline]() -> asio::awaitable<void> {
          while ((server.open_connections() > 0 || !services.outbox.stopped() ||
                  !services.inbox.stopped()) &&
                 std::chrono::steady_clock::now() < deadline) {
            drain.expires_after(std::chrono::milliseconds(20));
            co_await drain.async_wait(asio::use_awaitable);
          }
          log_info("shutdown_complete", {{"open_connections", server.open_connections()}});
          ioc.stop();
        },
        asio::detached);
  });
}

// Runs the io_context on `threads` threads until it stops. A handler that throws must not take
// the process down with it: log and keep running.
void run_io_threads(asio::io_context& ioc, int threads) {
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
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(run_io);
  run_io();
  for (auto& t : pool) t.join();
}

// LEADGATE_MAX_CONNECTIONS, or the open-file limit (raised to its hard maximum first) less a
// reserve for everything else the process opens: database connections, log and SQLite files,
// kept-alive partner connections.
std::size_t connection_cap(const Config& config) {
  if (config.max_connections > 0) return static_cast<std::size_t>(config.max_connections);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 1024;
  if (files.rlim_cur < files.rlim_max) {
    rlimit raised = files;
    raised.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
  }
  constexpr rlim_t kReserve = 256;
  if (files.rlim_cur == RLIM_INFINITY) return 1000000;
  return files.rlim_cur > 2 * kReserve ? static_cast<std::size_t>(files.rlim_cur - kReserve)
                                       : static_cast<std::size_t>(files.rlim_cur / 2);
}

ServerOptions server_options(const Config& config) {
  ServerOptions options;
  options.body_limit = config.body_limit;
  options.large_body_prefix = "/api_v1/whatsapp/webhook";  // Meta batches up to 1 MiB
  options.max_connections = connection_cap(config);
  options.header_timeout = config.header_timeout;
  options.idle_timeout = config.idle_timeout;
  return options;
}

void log_listening(const Config& config, const HttpServer& server, Store& store,
                   const StaticData& data, const Partners& partners,
                   std::chrono::steady_clock::time_point boot) {
  log_info("listening", {{"listen", config.listen_host + ":" + std::to_string(server.port())},
                         {"database", store.kind()},
                         {"pincodes", data.pincodes.size()},
                         {"basic_app_sandbox", partners.los->sandboxed()},
                         {"gupshup_sandbox", partners.whatsapp->sandboxed()},
                         {"version", LEADGATE_VERSION},
                         {"startup_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - boot)
                                            .count()}});
}

}  // namespace

int run_server(const Config& config) {
  const auto boot = std::chrono::steady_clock::now();
  // Log lines are buffered and written by a background thread while the server runs; everything
  // buffered is written when this goes out of scope (declared first: destroyed last).
  const AsyncLogging async_logging;
  PiiCipher cipher = make_pii_cipher(config);  // finds data keys in the store once it is open
  auto store = open_migrate_and_seal(config, cipher);
  ensure_development_key(config, *store);
  const StaticData data(find_data_dir(config));

  Metrics metrics;
  // Declared before the io_context: coroutines suspended in pool.run are destroyed with the
  // io_context and still touch the pool then.
  BlockingPool pool(config.db_threads, kMaxQueuedStoreCalls, &metrics);
  Background background(config, *store, metrics);
  asio::io_context ioc(config.threads);
  Partners partners(config, metrics);
  partners.warn_sandboxed();
  Services services(ioc, config, *store, pool, background, partners, cipher, data, metrics);
  Jobs jobs(ioc, config, background.store, background.pool, metrics, services.recorder,
            services.recovery, services.retention);

  const DashboardDeps dashboard{
      *store, *store, pool, services.auth, data.docs, secure_session_cookie(config.listen_host)};
  Router router;
  add_routes(router, {config, *store, pool, metrics, partners.los->sandboxed(),
                      partners.whatsapp->sandboxed(), data.pincodes, data.professions, data.docs,
                      dashboard, services.intake, services.flash, services.otp, services.tracker,
                      services.appointments, services.webhook, services.privacy,
                      services.privacy_export, services.eraser});
  HttpServer server(ioc, server_options(config),
                    make_dispatch(router, config, metrics, pool, services.auth, services.customers,
                                  services.idempotency));
  try {
    server.start(config.listen_host, config.listen_port);
  } catch (const std::exception& e) {
    log_error("listen_failed",
              {{"listen", config.listen_host + ":" + std::to_string(config.listen_port)},
               {"error", e.what()}});
    return 1;
  }
  services.outbox.start();
  services.inbox.start();
  jobs.start();

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer drain(ioc);
  drain_on_signal(ioc, signals, drain, config, server, services, jobs);
  log_listening(config, server, *store, data, partners, boot);

  run_io_threads(ioc, config.threads);
  services.recorder.flush_final();  // the current minute's numbers survive the restart
  pool.stop();
  background.pool.stop();
  return 0;
}

}  // namespace leadgate
