// One conformance suite for every Store implementation (issue 3: both stores pass one suite),
// one file per role interface of store/store.h:
//   conformance_leads_test.cpp           LeadStore
//   conformance_appointments_test.cpp    AppointmentStore
//   conformance_outbox_test.cpp          OutboxStore
//   conformance_whatsapp_inbox_test.cpp  WhatsAppStore: the webhook inbox
//   conformance_whatsapp_test.cpp        WhatsAppStore: conversations, receipts, opt-outs
//   conformance_verification_test.cpp    VerificationStore
//   conformance_access_test.cpp          AccessStore
//   conformance_ops_test.cpp             OpsStore
// This header holds what they share: the fixture StoreConformanceTest (instantiated once, in
// conformance.cpp) and the helpers that build rows and set up common states.
//
// Each test runs once per store kind through the public Store interface only, on a fresh,
// migrated database:
//   sqlite      a new file in a private temporary directory, removed afterwards;
//   postgresql  a new schema in the server named by LEADGATE_TEST_PG_URL (start one with
//               tests/pg/start_pg.sh and export the URL it prints), selected for the store's
//               connections through the URL (`options=-csearch_path%3D<schema>`, a startup
//               parameter, so it holds on every pooled connection) and dropped afterwards.
//               Without the variable these instantiations are skipped; CI always sets it.
// Store-specific behaviour (pools, lost connections, concurrency, query plans, files) lives in
// sqlite_store_test.cpp and postgres_store_test.cpp next to this file.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace leadgate::conformance {

// A lead of `env` with every required column filled, in status pending_los.
LeadRow make_lead(const std::string& env, const std::string& reference, const std::string& bidx,
                  const std::string& loan_type = "HL");
AuditEntry make_audit(const std::string& env, const std::string& ref, const std::string& field,
                      const std::string& operation = "created");
// A whatsapp_template message, due and created at `due`.
OutboxMessage make_outbox(const std::string& env, const std::string& ref, std::int64_t due);
// An attempt that was accepted (HTTP 202) or, for any other outcome, answered HTTP 503.
OutboxAttempt make_attempt(std::int64_t outbox_id, int attempt, const std::string& outcome);
std::vector<std::int64_t> ids_of(const std::vector<OutboxMessage>& rows);
// Expects `m` to be a message make_outbox made for `env` and `ref`, now in `status` after
// `attempts` attempts.
void expect_made_outbox(const OutboxMessage& m, const std::string& env, const std::string& ref,
                        const std::string& status, int attempts);
// A webhook event of kind "message", due when received.
InboxEvent make_inbox(const std::string& provider, const std::string& event_id,
                      std::int64_t received_at, const std::string& env = "orbit");
ConversationMessage make_message(const std::string& env, const std::string& bidx,
                                 const std::string& direction, const std::string& provider_id,
                                 std::int64_t at);
// An inbound message without reply, opt-out or inbox row.
ConversationWrite inbound_only(const std::string& env, const std::string& bidx,
                               const std::string& provider_id, std::int64_t at);

// Runs body(t, store) for every t at once, on a thread each (a latch releases them together),
// with stores[t]; an exception a body lets out is a test failure. Returns how many did.
int run_at_once(const std::vector<Store*>& stores, const std::function<void(int, Store&)>& body);

struct PgFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};

class StoreConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgresql"; }

  void SetUp() override;
  void TearDown() override;

  // A store of this test's kind on a new, empty (never migrated) database.
  std::unique_ptr<Store> open_fresh();

  // Another store object on store_'s database, as a second instance of the service would open
  // it (its own connection pool, or its own SQLite connection to the same file).
  std::unique_ptr<Store> open_same();

  // One store per thread for run_at_once: `threads` further instances on store_'s database; with
  // `share_half`, the even-numbered threads use store_ itself (its pool, or its mutex) instead.
  // The fixture owns them.
  std::vector<Store*> thread_stores(int threads, bool share_half = false);

  // Rows in one table of store_'s database, read behind the store's back (for tables the
  // interface has no reader for, such as outbox_attempts).
  std::int64_t count_rows(const std::string& table);
  // One number computed over a table the same way, e.g. number_from("rate_events", "SUM(n)").
  std::int64_t number_from(const std::string& table, const std::string& expression);

  // Inserts a lead with one outbox message due at `due` and returns the message's id.
  std::int64_t insert_with_outbox(const std::string& ref, const std::string& bidx, std::int64_t due,
                                  const std::string& env = "orbit");

  // The one outbox row of a lead inserted by insert_with_outbox.
  OutboxMessage row_of(const std::string& ref, const std::string& env = "orbit");

  // The delivery worker gives up on a row after `attempts` failures; it would be due far in the
  // future if it were ever retried.
  void give_up(std::int64_t id, int attempts = 5);

  // The delivery worker's accepted attempt: the row is sent, with the provider's message id.
  void mark_sent(std::int64_t id, const std::string& provider_id, int attempt = 1,
                 std::int64_t next_attempt_at = 0);

  // Expects the inbox event's processing state.
  void expect_inbox(const std::string& provider, const std::string& event_id,
                    const std::string& state, int attempts, std::int64_t processed_at,
                    const std::string& last_error);

  std::unique_ptr<Store> store_;

 private:
  // Runs a statement on the admin connection; returns the first column of every row.
  std::vector<std::string> pg_exec(const std::string& sql);

  // The server's URL with every connection's search_path set to `schema`.
  std::string pg_url(const std::string& schema) const;

  std::vector<std::unique_ptr<Store>> thread_stores_;  // opened by thread_stores()
  std::string pg_base_url_;
  std::unique_ptr<PGconn, PgFinish> pg_admin_;
  std::filesystem::path sqlite_dir_;
  std::vector<std::string> locations_;  // PostgreSQL schemas or SQLite files opened so far
  std::string location_;                // store_'s
};

}  // namespace leadgate::conformance
