#pragma once
// What the use cases are built with besides their store roles and partners: the pool their
// store calls run on, the PII cipher, the configuration and the metrics.
#include "core/config.h"
#include "core/metrics.h"
#include "core/offload.h"
#include "crypto/crypto.h"

namespace leadgate {

struct ServiceDeps {
  BlockingPool& pool;
  const PiiCipher& cipher;
  const Config& config;
  Metrics& metrics;
};

}  // namespace leadgate
