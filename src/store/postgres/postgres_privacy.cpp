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

DataKeyRow PostgresStore::person_data_key(const std::string& environment,
                                          const std::string& phone_bidx,
                                          const std::string& wrapped_if_new, std::int64_t now) {
  if (auto found = query_first(sql::kSelectPersonKey, sql::read_data_key<Result::Row>, environment,
                               phone_bidx)) {
    return *found;
  }
  // A new person: one statement. A concurrent first call inserts too: ON CONFLICT keeps one,
  // and the other reads it back.
  if (auto inserted = query_first(sql::kInsertPersonKey, sql::read_data_key<Result::Row>,
                                  environment, phone_bidx, wrapped_if_new, now)) {
    return *inserted;
  }
  return query_first(sql::kSelectPersonKey, sql::read_data_key<Result::Row>, environment,
                     phone_bidx)
      .value();
}

std::optional<std::string> PostgresStore::wrapped_data_key(std::int64_t id) {
  return query_first(
      sql::kSelectWrappedKey, [](const Result::Row& r) { return r.text(0); }, id);
}

ErasureCounts PostgresStore::erase_person(const PersonErasure& e) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  const ErasureCounts n = sql::erase_person(
      [&c](const std::string& statement, const auto&... args) {
        return exec(c, statement, params(args...)).affected();
      },
      e);
  insert_consent_event(c, e.ledger, false);
  write_children(c, {e.audit}, {});
  tx.commit();
  return n;
}

std::vector<PersonRef> PostgresStore::inactive_people(std::int64_t inactive_before,
                                                      const PersonRef& after, int limit) {
  return query_all(sql::kSelectInactivePeople, sql::read_person_ref<Result::Row>, inactive_before,
                   after.environment, after.phone_bidx, limit);
}

}  // namespace leadgate
