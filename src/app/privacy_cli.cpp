// The operator's data-protection commands that change data: `privacy erase`, `privacy sweep`
// (issue 21 §3, §4) and `pii rotate` (§5). They run the same use case as the API
// (services/erasure.h), with the LOS asked first, on an io_context of their own.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <iostream>
#include <optional>

#include "app/app.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/offload.h"
#include "domain/environments.h"
#include "domain/privacy_requests.h"
#include "services/erasure.h"
#include "services/key_rotation.h"

namespace leadgate {
namespace {

// What the commands share: the store, the partners, and an Eraser over them.
struct EraserRun {
  explicit EraserRun(const Config& config)
      : cipher(make_pii_cipher(config)),
        store(open_migrate_and_seal(config, cipher)),
        pool(2, 64, &metrics),
        partners(config, metrics),
        eraser(*store, *store, {pool, cipher, config, metrics}, *partners.los) {}

  // Runs `work` to its end on this thread; rethrows what it throws.
  template <class T>
  T run(boost::asio::awaitable<T> work) {
    boost::asio::io_context ioc;
    std::optional<T> result;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(work), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) result = std::move(value);
    });
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }

  Metrics metrics;
  PiiCipher cipher;
  std::unique_ptr<Store> store;
  BlockingPool pool;
  Partners partners;
  Eraser eraser;
};

Trace cli_trace(const char* what) {
  Trace trace;
  trace.request_id = std::string(what) + "-" + uuid_v4();
  return trace;
}

}  // namespace

int run_privacy_erase(const Config& config, const std::string& environment,
                      const std::string& phone, const std::string& reason) {
  auto parsed = parse_privacy_request(
      boost::json::object{{"mobile_number", phone}, {"reason", reason}}, false, true);
  if (!is_environment(environment) || std::holds_alternative<std::vector<FieldError>>(parsed)) {
    std::cerr << "leadgate privacy erase: --env orbit|homfinity, a valid --phone and a --reason "
                 "(1-500 characters) are required\n";
    return 2;
  }
  const PrivacyRequest request = std::get<PrivacyRequest>(std::move(parsed));
  EraserRun r(config);
  const Trace trace = cli_trace("cli-erase");
  try {
    const ErasureDone done =
        r.run(r.eraser.erase(environment, request.mobile, request.reason, "api", trace));
    std::cout << "Erased " << mask_mobile(request.mobile) << " in " << environment << " (erasure "
              << done.erasure_id << "): " << done.counts.leads << " lead(s) tombstoned, "
              << done.counts.messages_cancelled << " queued message(s) cancelled, "
              << done.counts.conversation_texts << " conversation text(s) deleted, "
              << done.counts.data_keys << " data key(s) destroyed; " << done.applications_checked
              << " application(s) checked with the LOS." << std::endl;
    return 0;
  } catch (const ApiError& e) {
    std::cerr << "leadgate privacy erase: " << e.code() << ": " << e.what() << std::endl;
    return 1;
  }
}

int run_privacy_sweep(const Config& config, const std::string& older_than) {
  std::int64_t inactive_ms = 86400000LL * config.retention_days;
  if (!older_than.empty()) {
    const auto parsed = parse_duration_ms(older_than);
    if (!parsed) {
      std::cerr << "leadgate privacy sweep: --older-than must be a whole number and s, m, h or d "
                   "(e.g. 0s, 30d)\n";
      return 2;
    }
    inactive_ms = *parsed;
  }
  EraserRun r(config);
  const Trace trace = cli_trace("cli-sweep");
  std::int64_t last_report = now_ms();
  const SweepCounts n =
      r.run(r.eraser.sweep(now_ms() - inactive_ms, trace, [&](const SweepCounts& so_far) {
        if (now_ms() - last_report < 2000) return;
        last_report = now_ms();
        std::cerr << "  ... " << so_far.candidates << " checked, " << so_far.erased << " erased"
                  << std::endl;
      }));
  std::cout << "Retention sweep: " << n.candidates << " inactive person(s), " << n.erased
            << " erased, " << n.held << " kept under legal hold, " << n.unanswered
            << " kept because the LOS did not answer (tried again next sweep)." << std::endl;
  return n.unanswered > 0 ? 1 : 0;
}

int run_pii_rotate(const Config& config) {
  PiiCipher cipher = make_pii_cipher(config);
  auto store = open_migrate_and_seal(config, cipher);
  std::cerr << "leadgate pii rotate: re-sealing under master key " << cipher.key_id() << std::endl;
  std::int64_t last_report = now_ms();
  RotationCounts n;
  try {
    n = rotate_master_key(*store, cipher, [&](const RotationCounts& so_far) {
      if (now_ms() - last_report < 2000) return;
      last_report = now_ms();
      std::cerr << "  ... " << so_far.columns << " column(s) done, " << so_far.examined
                << " value(s) read, " << so_far.resealed << " re-sealed" << std::endl;
    });
  } catch (const std::exception& e) {
    std::cerr << "leadgate pii rotate: stopped: " << e.what()
              << " (is the key it was sealed under in LEADGATE_PII_PREVIOUS_KEYS?). What was "
                 "re-sealed so far stays; run it again."
              << std::endl;
    return 1;
  }
  std::cout << "Rotated to master key " << cipher.key_id() << ": " << n.columns << " column(s), "
            << n.examined << " value(s) read, " << n.resealed
            << " re-sealed. Every value now opens with LEADGATE_PII_KEY alone; "
               "LEADGATE_PII_PREVIOUS_KEYS can be removed."
            << std::endl;
  return 0;
}

}  // namespace leadgate
