#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"

namespace leadgate {
using sqlite::insert_outbox;
using sqlite::Stmt;
using sqlite::Transaction;

// ---- webhook inbox ----

namespace {

// Sets an inbox event's state after an attempt (see WhatsAppStore::finish_inbox); inside the
// caller's transaction when there is one.
void update_inbox_state(sqlite3* db, std::int64_t id, const std::string& state, std::int64_t now,
                        std::int64_t next_attempt_at, const std::string& error) {
  Stmt s(db,
         "UPDATE whatsapp_inbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, "
         "processed_at = CASE WHEN ? IN ('done', 'failed') THEN ? ELSE processed_at END, "
         "last_error = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?");
  s.bind(state).bind(next_attempt_at).bind(state).bind(now).bind(error).bind(id).run();
}

}  // namespace

// ON CONFLICT DO NOTHING skips a stored (provider, event_id), also one stored by another
// instance meanwhile (BEGIN IMMEDIATE serialises writers on the file); sqlite3_changes counts
// only rows really inserted.
int SqliteStore::insert_inbox(const std::vector<InboxEvent>& events, std::vector<char>* fresh) {
  if (fresh) fresh->assign(events.size(), 0);
  if (events.empty()) return 0;
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  int inserted = 0;
  for (const auto& e : events) {
    Stmt s(db_,
           "INSERT INTO whatsapp_inbox (provider, event_id, environment, kind, payload_enc, "
           "received_at, state, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', "
           "0, ?) ON CONFLICT (provider, event_id) DO NOTHING");
    s.bind(e.provider).bind(e.event_id).bind(e.environment).bind(e.kind).bind(e.payload_enc);
    s.bind(e.received_at).bind(e.received_at).run();
    const int changed = sqlite3_changes(db_);
    if (fresh) (*fresh)[static_cast<std::size_t>(&e - events.data())] = changed > 0 ? 1 : 0;
    inserted += changed;
  }
  tx.commit();
  return inserted;
}

std::vector<InboxEvent> SqliteStore::claim_inbox(std::int64_t now, int limit,
                                                 const std::string& owner,
                                                 std::int64_t lease_until) {
  std::lock_guard lock(mutex_);
  std::vector<InboxEvent> out =
      sqlite::claim(db_,
                    "UPDATE whatsapp_inbox SET lease_owner = ?, lease_until = ? WHERE id IN "
                    "(SELECT id FROM whatsapp_inbox WHERE state = 'pending' AND "
                    "next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
                    "ORDER BY next_attempt_at, id LIMIT ?) RETURNING " +
                        sql::kInboxColumns,
                    sql::read_inbox<Stmt>, owner, lease_until, now, now, limit);
  // RETURNING yields rows in no defined order.
  std::sort(out.begin(), out.end(), [](const InboxEvent& a, const InboxEvent& b) {
    return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at
                                                  : a.id < b.id;
  });
  return out;
}

void SqliteStore::finish_inbox(std::int64_t id, const std::string& state, std::int64_t now,
                               std::int64_t next_attempt_at, const std::string& error) {
  std::lock_guard lock(mutex_);
  update_inbox_state(db_, id, state, now, next_attempt_at, error);
}

std::optional<InboxEvent> SqliteStore::find_inbox(const std::string& provider,
                                                  const std::string& event_id) {
  return query_first(sql::kSelectInbox, sql::read_inbox<Stmt>, provider, event_id);
}

// ---- conversations, delivery receipts, opt-outs ----

namespace {

void insert_conversation(sqlite3* db, const ConversationMessage& m) {
  Stmt s(db, sql::kInsertConversation);
  sql::bind_conversation(s, m);
  s.run();
}

// One statement: the row's current time is compared under the write lock.
void upsert_opt_out(sqlite3* db, const std::string& environment, const std::string& phone_bidx,
                    bool opted_out, std::int64_t at) {
  Stmt s(db, sql::kUpsertOptOut);
  s.bind(environment).bind(phone_bidx).bind(opted_out).bind(at).run();
}

}  // namespace

void SqliteStore::record_conversation(const ConversationWrite& w) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  insert_conversation(db_, w.inbound);  // a duplicate inbound id: StoreConflict, rolled back
  if (w.reply_outbox) {
    const std::int64_t outbox_id = insert_outbox(db_, *w.reply_outbox);
    if (w.reply) {
      ConversationMessage reply = *w.reply;
      reply.outbox_id = outbox_id;
      insert_conversation(db_, reply);
    }
  }
  if (w.opted_out) {
    upsert_opt_out(db_, w.inbound.environment, w.inbound.phone_bidx, *w.opted_out, w.now);
  }
  if (w.consent) sqlite::insert_consent_event(db_, *w.consent, true);
  if (w.inbox_id != 0) update_inbox_state(db_, w.inbox_id, "done", w.now, 0, "");
  tx.commit();
}

std::vector<ConversationMessage> SqliteStore::conversation(const std::string& environment,
                                                           const std::string& phone_bidx,
                                                           int limit) {
  if (limit <= 0) return {};
  return query_all(sql::kSelectConversation, sql::read_conversation<Stmt>, environment, phone_bidx,
                   limit);
}

namespace {

// The receipt is kept whatever happens to the outbox row. The forward-only rule is the UPDATE's
// WHERE clause, evaluated against the row under the database's write lock.
std::int64_t apply_delivery(sqlite3* db, const DeliveryReceipt& r) {
  std::int64_t outbox_id = 0;
  if (!r.provider_message_id.empty()) {  // unsent rows have an empty provider id
    Stmt s(db, "SELECT id FROM outbox WHERE provider_message_id = ? ORDER BY id LIMIT 1");
    s.bind(r.provider_message_id);
    if (s.step()) outbox_id = s.i64(0);
  }
  if (outbox_id == 0 && r.retry_unmatched_at > 0) {
    if (r.inbox_id != 0) {
      update_inbox_state(db, r.inbox_id, "pending", r.processed_at, r.retry_unmatched_at,
                         kReceiptNotMatchedYet);
    }
    return 0;
  }
  {
    Stmt s(db, sql::insert_receipts(1));
    sql::bind_receipt(s, r, outbox_id);
    s.run();
  }
  if (outbox_id != 0) {
    const std::string update =
        "UPDATE outbox SET delivery_status = ?, delivery_status_at = ?, delivery_error = ? "
        "WHERE id = ? AND " +
        sql::delivery_rank("?") +
        " > 0 AND (delivery_status_at < ? OR (delivery_status_at = ? AND " +
        sql::delivery_rank("?") + " > " + sql::delivery_rank("delivery_status") + "))";
    Stmt s(db, update);
    s.bind(r.status).bind(r.at).bind(r.error_code).bind(outbox_id).bind(r.status).bind(r.at);
    s.bind(r.at).bind(r.status).run();
  }
  if (r.inbox_id != 0) update_inbox_state(db, r.inbox_id, "done", r.processed_at, 0, "");
  return outbox_id;
}

}  // namespace

std::vector<std::int64_t> SqliteStore::record_deliveries(
    const std::vector<DeliveryReceipt>& receipts) {
  std::lock_guard lock(mutex_);
  Transaction tx(db_);
  std::vector<std::int64_t> out;
  out.reserve(receipts.size());
  for (const auto& r : receipts) out.push_back(apply_delivery(db_, r));
  tx.commit();
  return out;
}

std::vector<DeliveryReceipt> SqliteStore::receipts_for(const std::string& environment,
                                                       const std::string& lead_ref) {
  return query_all(sql::kSelectReceiptsForLead, sql::read_receipt<Stmt>, environment, lead_ref);
}

void SqliteStore::set_opt_out(const std::string& environment, const std::string& phone_bidx,
                              bool opted_out, std::int64_t at) {
  std::lock_guard lock(mutex_);
  upsert_opt_out(db_, environment, phone_bidx, opted_out, at);
}

bool SqliteStore::is_opted_out(const std::string& environment, const std::string& phone_bidx) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, sql::kSelectOptOut);
  s.bind(environment).bind(phone_bidx);
  return s.step() && s.boolean(0);
}

void SqliteStore::release_inbox_leases(const std::string& owner) {
  run(sql::kReleaseInboxLeases, owner);
}

}  // namespace leadgate
