#include "services/idempotency.h"

#include "core/log.h"
#include "crypto/crypto.h"

namespace leadgate {

Middleware Idempotency::middleware(std::chrono::milliseconds stale_after) {
  return [this, stale_after](const Request& req, RequestContext& ctx,
                             const Handler& next) -> boost::asio::awaitable<Response> {
    const std::string key(req["Idempotency-Key"]);
    if (key.empty()) co_return co_await next(req, ctx);
    if (key.size() > 255) {
      throw ApiError(422, "VALIDATION_ERROR", "Idempotency-Key must be at most 255 characters",
                     {{"Idempotency-Key", "Idempotency-Key must be at most 255 characters"}});
    }
    // An app key serves many customers: each customer's records are its own, so a stored answer
    // is never replayed to another customer's token (issue 20 §2).
    std::string scope = (ctx.caller ? ctx.caller->key_id : std::string()) + " " + ctx.route;
    if (ctx.customer.required)
      scope += " " + ctx.customer.environment + ":" + ctx.customer.mobile_bidx;
    const std::string fingerprint = hex_encode(sha256(req.body()));
    const auto now = now_ms();
    const auto stale_before = now - stale_after.count();
    auto rec = co_await pool_.run(
        [&] { return store_.begin_idempotent(scope, key, fingerprint, now, stale_before); });
    switch (rec.state) {
      case IdempotencyRecord::State::mismatch:
        throw ApiError(422, "IDEMPOTENCY_KEY_REUSED",
                       "This Idempotency-Key was already used with a different request body");
      case IdempotencyRecord::State::in_progress:
        throw ApiError(409, "IDEMPOTENCY_IN_PROGRESS",
                       "A request with this Idempotency-Key is still being processed");
      case IdempotencyRecord::State::replay: {
        Response res = text_response(req, static_cast<http::status>(rec.status),
                                     open_idempotent_response(cipher_, rec.body), rec.content_type);
        res.set("Idempotent-Replayed", "true");
        co_return res;
      }
      case IdempotencyRecord::State::started:
        break;
    }
    // Only successes are kept: after an error the key is released, so the client's retry runs
    // afresh (e.g. retries the partner call after a 400 from the loan origination system).
    std::exception_ptr failure;
    Response res;
    try {
      res = co_await next(req, ctx);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure || res.result_int() >= 300) {
      co_await pool_.run([&] { store_.abandon_idempotent(scope, key); });
      if (failure) std::rethrow_exception(failure);
      co_return res;
    }
    const std::string content_type(res[http::field::content_type]);
    const std::string sealed = seal_idempotent_response(cipher_, res.body());
    bool recorded = true;
    try {
      co_await pool_.run([&] {
        store_.complete_idempotent(scope, key, res.result_int(), sealed, content_type, now_ms());
      });
    } catch (const std::exception& e) {
      recorded = false;  // the work is done: report it; a retry finds the key stale later
      log_warn("idempotency_record_failed", {{"request_id", ctx.request_id}, {"error", e.what()}});
    }
    if (!recorded) res.set("Idempotency-Recorded", "false");
    co_return res;
  };
}

std::string seal_idempotent_response(const PiiCipher& cipher, std::string_view body) {
  return cipher.seal(kIdempotentResponsePurpose, body);
}

std::string open_idempotent_response(const PiiCipher& cipher, const std::string& stored) {
  return is_sealed(stored) ? cipher.open(kIdempotentResponsePurpose, stored) : stored;
}

}  // namespace leadgate
