#pragma once
// Erasure by crypto-shredding (issue 21 §3) and the retention sweep that uses it (§4): a person's
// data key is destroyed and their rows become tombstones without PII (PrivacyStore::erase_person),
// unless one of their applications is under legal hold, which the LOS is asked about first.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "core/trace.h"
#include "domain/customer_access.h"
#include "domain/privacy_requests.h"
#include "partners/basic_app.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

struct ErasureDone {
  std::string erasure_id;  // the tombstone's id, in the ledger and audit trail
  ErasureCounts counts;
  std::size_t applications_checked = 0;  // asked about at the LOS
};

struct SweepCounts {
  std::int64_t candidates = 0;  // people inactive since the cutoff
  std::int64_t erased = 0;
  std::int64_t held = 0;        // kept: an application under legal hold
  std::int64_t unanswered = 0;  // kept: the LOS could not answer (tried again next sweep)
};

class Eraser {
 public:
  Eraser(LeadStore& leads, PrivacyStore& privacy, const ServiceDeps& deps, BasicAppClient& los);

  // Erases the person with `mobile` in `environment` (`source`: api | retention, recorded).
  // First asks the LOS for the current status of each of their applications, whatever the
  // status cache holds: 409 LEGAL_HOLD when one is in the environment's LEGAL_HOLD_STATUSES,
  // 503 LOS_UNAVAILABLE when the LOS cannot answer; either way nothing is erased. An unknown
  // person is answered like an erased one (nothing to erase, counts 0).
  boost::asio::awaitable<ErasureDone> erase(const std::string& environment,
                                            const std::string& mobile, const std::string& reason,
                                            const std::string& source, const Trace& trace);
  // The API's side: the customer token's check, the erasure, the metric.
  boost::asio::awaitable<ErasureDone> erase_request(const std::string& environment,
                                                    const PrivacyRequest& request,
                                                    const CustomerAccess& access,
                                                    const Trace& trace);
  // The retention sweep: every person with no activity since `inactive_before` (ms) is erased
  // unless held. `progress` is called after each person.
  boost::asio::awaitable<SweepCounts> sweep(
      std::int64_t inactive_before, const Trace& trace,
      const std::function<void(const SweepCounts&)>& progress);

 private:
  boost::asio::awaitable<ErasureDone> erase_by_index(const std::string& environment,
                                                     const std::string& phone_bidx,
                                                     const std::string& reason,
                                                     const std::string& source, const Trace& trace);
  void count_outcome(const std::string& environment, const std::string& source,
                     const char* outcome);
  // Asks the LOS about each application: throws 409 LEGAL_HOLD or 503 LOS_UNAVAILABLE (counted);
  // answers how many it asked about.
  boost::asio::awaitable<std::size_t> check_legal_hold(const std::vector<LeadRow>& leads,
                                                       const std::string& source,
                                                       const Trace& trace);

  LeadStore& leads_;
  PrivacyStore& privacy_;
  ServiceDeps deps_;
  BasicAppClient& los_;
};

}  // namespace leadgate
