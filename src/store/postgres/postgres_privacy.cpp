// PrivacyStore on PostgreSQL: the consent ledger (issue 21).
#include <cstdint>
#include <string>
#include <vector>

#include "store/postgres/postgres_db.h"
#include "store/postgres/postgres_store.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

namespace pg {

bool insert_consent_event(Connection& c, const ConsentEvent& e, bool only_if_changed) {
  Params p;
  sql::bind_consent_event(p, e, only_if_changed);
  return exec(c, sql::kInsertConsentEvent, p).affected() == 1;
}

}  // namespace pg

bool PostgresStore::record_consent(const ConsentEvent& e, bool only_if_changed) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const bool appended = insert_consent_event(c, e, only_if_changed);
  if (appended && e.purpose == "whatsapp_updates") {
    exec(c, sql::kUpsertOptOut,
         Params().bind(e.environment).bind(e.phone_bidx).bind(e.action == "withdrawn").bind(e.at));
  }
  tx.commit();
  return appended;
}

std::vector<ConsentEvent> PostgresStore::consent_events(const std::string& environment,
                                                        const std::string& phone_bidx) {
  return query_all(sql::kSelectConsentEvents, sql::read_consent_event<Result::Row>, environment,
                   phone_bidx);
}

RetentionCounts PostgresStore::purge_transient(const RetentionCutoffs& cutoffs) {
  return sql::purge_transient(
      [this](const std::string& statement, std::int64_t cutoff) { return run(statement, cutoff); },
      cutoffs);
}

}  // namespace leadgate
