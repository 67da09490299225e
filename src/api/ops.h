#pragma once
// GET /healthz (the process is alive), GET /readyz (database reachable, migrations applied;
// which partners are sandboxed), GET /metrics (Prometheus text format; an `ops`-scoped key).
#include "core/metrics.h"
#include "core/offload.h"
#include "http/types.h"
#include "store/store.h"

namespace leadgate {

struct ReadinessInputs {
  OpsStore& store;
  BlockingPool& pool;
  bool basic_app_sandboxed;
  bool gupshup_sandboxed;
};

Handler healthz_handler();
Handler readyz_handler(ReadinessInputs inputs);
Handler metrics_handler(Metrics& metrics);

}  // namespace leadgate
