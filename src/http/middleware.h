#pragma once
// The middleware chain. Every request passes, in this order (outermost first):
//   1. metrics        — counts requests by route and status, observes latency by route
//   2. request id     — takes or makes X-Request-ID, echoes it, writes the access log line
//   3. error mapping  — turns ApiError / unavailability / faults into problem+json
//   4. auth           — API key (routes that need one); see services/auth.h
//   5. customer token — X-Customer-Token for app keys (customer routes); services/customer_tokens.h
//   6. idempotency    — Idempotency-Key replay (routes that opt in); see services/idempotency.h
//   7. the handler
// A middleware is `co_await next(req, ctx)` with work before and after.
#include <vector>

#include "core/metrics.h"
#include "core/offload.h"
#include "http/types.h"

namespace leadgate {

using Middleware = std::function<boost::asio::awaitable<Response>(const Request&, RequestContext&,
                                                                  const Handler&)>;

// Wraps `handler` in `chain` (chain[0] outermost).
Handler compose(const std::vector<Middleware>& chain, Handler handler);

// `environments` bounds the environment label: any other value (an invalid request's) counts as "".
Middleware metrics_middleware(Metrics& metrics, std::vector<std::string> environments);
Middleware request_id_middleware();
Middleware error_mapping_middleware();
// Load shedding: 503 SERVICE_UNAVAILABLE with Retry-After when a request's estimated wait for a
// store thread (BlockingPool::estimated_wait) already exceeds `slo_seconds`, its route's latency
// objective (domain/slo.h); a request that can still meet it is queued, however deep the queue.
Middleware load_shedding_middleware(const BlockingPool& pool, double slo_seconds);

// Parses a JSON object body: 415 unless Content-Type is application/json, 400 on malformed
// JSON or a non-object.
boost::json::object parse_json_object(const Request& req);
// The query string of a request as a JSON object of strings (a repeated name: the last one wins);
// 400 MALFORMED_REQUEST when the target is not a valid URL.
boost::json::object query_object(const Request& req);
// An application/x-www-form-urlencoded body, decoded, as a JSON object of strings.
boost::json::object form_object(std::string_view body);

// The request's X-Request-ID when it is sane (1-128 of [A-Za-z0-9._:-]), a new UUID otherwise
// (crypto/request_id.h: unique, cheap, not a secret).
std::string request_id_for(const Request& req);

// Builds a problem+json response (used by error mapping and by the server for 413/400).
Response problem_response(const Request& req, int status, const std::string& code,
                          const std::string& detail, const std::string& request_id);

}  // namespace leadgate
