#include "services/pii_backfill.h"

#include <string>

#include "services/idempotency.h"
#include "services/lead_records.h"

namespace leadgate {

namespace {
constexpr int kBatch = 200;
}  // namespace

PlaintextSealed seal_plaintext_at_rest(
    OpsStore& store, const PiiCipher& cipher,
    const std::function<void(const PlaintextSealed&)>& progress) {
  PlaintextSealed done;
  for (;;) {
    const auto n = store.seal_plaintext_leads(kBatch, [&](SealedLeadFields row) {
      return seal_plaintext_fields(cipher, std::move(row));
    });
    if (n == 0) break;
    done.leads += n;
    if (progress) progress(done);
  }
  for (;;) {
    const auto n = store.seal_plaintext_idempotency(
        kBatch, [&](std::string body) { return seal_idempotent_response(cipher, body); });
    if (n == 0) break;
    done.idempotency_records += n;
    if (progress) progress(done);
  }
  return done;
}

}  // namespace leadgate
