#pragma once
// GET /healthz (the process is alive), GET /readyz (database reachable, migrations applied;
// which partners are sandboxed; the database's error text only to an ops key), GET /metrics
// (Prometheus text format; an `ops`-scoped key).
#include "core/metrics.h"
#include "core/offload.h"
#include "http/types.h"
#include "services/auth.h"
#include "store/store.h"

namespace leadgate {

struct ReadinessInputs {
  OpsStore& store;
  BlockingPool& pool;
  ApiKeyAuth& auth;  // the database's error text is shown to an ops key only
  bool basic_app_sandboxed;
  bool gupshup_sandboxed;
};

Handler healthz_handler();
Handler readyz_handler(ReadinessInputs inputs);
Handler metrics_handler(Metrics& metrics);

}  // namespace leadgate
