#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/postgres_db.h"

namespace leadgate {
using namespace pg;  // the driver plumbing of postgres_db.h

// ---- webhook inbox ----

namespace {

// The state an inbox event is given after an attempt (see WhatsAppStore::finish_inbox).
struct InboxEnd {
  std::int64_t id = 0;
  std::string state;
  std::int64_t now = 0;
  std::int64_t next_attempt_at = 0;
  std::string error;
};

// Sets inbox events' states after an attempt, in one statement; inside the caller's transaction
// when there is one.
void update_inbox_states(Connection& c, const std::vector<InboxEnd>& ends) {
  if (ends.empty()) return;
  Params p;
  for (const auto& e : ends)
    p.bind(e.id).bind(e.state).bind(e.now).bind(e.next_attempt_at).bind(e.error);
  exec(c,
       "UPDATE whatsapp_inbox i SET state = v.state, attempts = i.attempts + 1, next_attempt_at = "
       "v.next_attempt_at, processed_at = CASE WHEN v.state IN ('done', 'failed') THEN v.now "
       "ELSE i.processed_at END, last_error = v.error, lease_owner = NULL, lease_until = NULL "
       "FROM (VALUES " +
           sql::values_groups(ends.size(), {"bigint", "text", "bigint", "bigint", "text"}) +
           ") AS v (id, state, now, next_attempt_at, error) WHERE i.id = v.id",
       p);
}

void update_inbox_state(Connection& c, std::int64_t id, const std::string& state, std::int64_t now,
                        std::int64_t next_attempt_at, const std::string& error) {
  update_inbox_states(c, {InboxEnd{id, state, now, next_attempt_at, error}});
}

}  // namespace

// ON CONFLICT DO NOTHING: a concurrent insert of the same (provider, event_id) by another
// transaction waits for that one and is then skipped, never a unique violation; the command tag
// counts only rows really inserted.
// One multi-row INSERT in autocommit: atomic like the transaction it replaces, in one round trip
// instead of BEGIN + one per event + COMMIT (the webhook acknowledgement waits for it). A
// redelivered event (or one repeated inside the body) is skipped by ON CONFLICT DO NOTHING.
int PostgresStore::insert_inbox(const std::vector<InboxEvent>& events, std::vector<char>* fresh) {
  if (fresh) fresh->assign(events.size(), 0);
  if (events.empty()) return 0;
  auto lease = borrow();
  Connection& c = *lease;
  constexpr std::size_t kRowsPerStatement = 1000;
  // Several statements (a body of over 1,000 events) still commit together.
  std::optional<Transaction> tx;
  if (events.size() > kRowsPerStatement) tx.emplace(c);
  std::int64_t inserted = 0;
  for (std::size_t first = 0; first < events.size(); first += kRowsPerStatement) {
    const std::size_t rows = std::min(kRowsPerStatement, events.size() - first);
    Params p;
    std::string values;
    for (std::size_t i = 0; i < rows; ++i) {
      const auto& e = events[first + i];
      p.bind(e.provider)
          .bind(e.event_id)
          .bind(e.environment)
          .bind(e.kind)
          .bind(e.payload_enc)
          .bind(e.received_at);
      const int b = static_cast<int>(i) * 6;
      auto arg = [&](int k) { return "$" + std::to_string(b + k); };
      values += (i == 0 ? "(" : ", (") + arg(1) + ", " + arg(2) + ", " + arg(3) + ", " + arg(4) +
                ", " + arg(5) + ", " + arg(6) + "::bigint, 'pending', 0, " + arg(6) + "::bigint)";
    }
    // RETURNING names the rows inserted; rows are inserted in VALUES order, so of an event
    // repeated within `events` the first occurrence is the one stored.
    const Result r = exec(c,
                          "INSERT INTO whatsapp_inbox (provider, event_id, environment, kind, "
                          "payload_enc, received_at, state, attempts, next_attempt_at) VALUES " +
                              values +
                              " ON CONFLICT (provider, event_id) DO NOTHING RETURNING provider, "
                              "event_id",
                          p);
    inserted += r.rows();
    if (fresh) {
      std::map<std::pair<std::string, std::string>, int> stored;
      for (int i = 0; i < r.rows(); ++i) ++stored[{r.text(i, 0), r.text(i, 1)}];
      for (std::size_t i = 0; i < rows; ++i) {
        const auto& e = events[first + i];
        auto it = stored.find({e.provider, e.event_id});
        if (it != stored.end() && it->second > 0) {
          --it->second;
          (*fresh)[first + i] = 1;
        }
      }
    }
  }
  if (tx) tx->commit();
  return static_cast<int>(inserted);
}

std::vector<InboxEvent> PostgresStore::claim_inbox(std::int64_t now, int limit,
                                                   const std::string& owner,
                                                   std::int64_t lease_until) {
  // As claim_outbox: SKIP LOCKED lets concurrent claimers take different rows without waiting;
  // MATERIALIZED runs the locking subquery exactly once. The order is the index's
  // (state, next_attempt_at), so a claim reads only the rows it takes however long the backlog;
  // ordering by received_at made each claim sort every due row (190 ms at 100,000 pending).
  return claim(
      "WITH due AS MATERIALIZED (SELECT id FROM whatsapp_inbox WHERE state = 'pending' "
      "AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) ORDER BY "
      "next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED), claimed AS (UPDATE "
      "whatsapp_inbox i SET lease_owner = $1, lease_until = $2 FROM due WHERE i.id = "
      "due.id RETURNING i.*) SELECT " +
          sql::kInboxColumns + " FROM claimed ORDER BY next_attempt_at, id",
      sql::read_inbox<Result::Row>, owner, lease_until, now, limit);
}

void PostgresStore::finish_inbox(std::int64_t id, const std::string& state, std::int64_t now,
                                 std::int64_t next_attempt_at, const std::string& error) {
  auto lease = borrow();
  update_inbox_state(*lease, id, state, now, next_attempt_at, error);
}

std::optional<InboxEvent> PostgresStore::find_inbox(const std::string& provider,
                                                    const std::string& event_id) {
  return query_first(sql::kSelectInbox, sql::read_inbox<Result::Row>, provider, event_id);
}

// ---- conversations, delivery receipts, opt-outs ----

namespace {

void insert_conversation(Connection& c, const ConversationMessage& m) {
  Params p;
  sql::bind_conversation(p, m);
  exec(c, sql::kInsertConversation, p);
}

// ON CONFLICT DO UPDATE locks the existing row, so concurrent changes compare against the committed
// time.
void upsert_opt_out(Connection& c, const std::string& environment, const std::string& phone_bidx,
                    bool opted_out, std::int64_t at) {
  exec(c, sql::kUpsertOptOut, Params().bind(environment).bind(phone_bidx).bind(opted_out).bind(at));
}

}  // namespace

void PostgresStore::record_conversation(const ConversationWrite& w) {
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  insert_conversation(c, w.inbound);  // a duplicate inbound id: StoreConflict, rolled back
  if (w.reply_outbox) {
    const std::int64_t outbox_id = insert_outbox(c, *w.reply_outbox);
    if (w.reply) {
      ConversationMessage reply = *w.reply;
      reply.outbox_id = outbox_id;
      insert_conversation(c, reply);
    }
  }
  if (w.opted_out) {
    upsert_opt_out(c, w.inbound.environment, w.inbound.phone_bidx, *w.opted_out, w.now);
  }
  if (w.consent) insert_consent_event(c, *w.consent, true);
  if (w.inbox_id != 0) update_inbox_state(c, w.inbox_id, "done", w.now, 0, "");
  tx.commit();
}

std::vector<ConversationMessage> PostgresStore::conversation(const std::string& environment,
                                                             const std::string& phone_bidx,
                                                             int limit) {
  if (limit <= 0) return {};
  return query_all(sql::kSelectConversation, sql::read_conversation<Result::Row>, environment,
                   phone_bidx, limit);
}

namespace {

// Applies up to 1,000 receipts (see Store::record_deliveries) inside the caller's transaction in
// at most four statements: the outbox ids of all their provider ids, the receipts kept in one
// multi-row INSERT (in order, so receipts_for's ties keep it), the matched rows' forward-only
// moves in one UPDATE, and the inbox events' ends in one UPDATE. The forward-only rule is the
// UPDATE's WHERE clause: a concurrent receipt for the same row waits for the row lock, and the
// clause is re-checked against the row it committed. (Two instances'
// batches locking the same rows in opposite orders deadlock; PostgreSQL aborts one, and its
// caller retries receipt by receipt.)
void apply_deliveries(Connection& c, const DeliveryReceipt* receipts, std::size_t n,
                      std::int64_t* outbox_ids) {
  std::map<std::string, std::int64_t> ids;  // provider id -> its first outbox row
  {
    Params p;
    std::string list;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& id = receipts[i].provider_message_id;
      if (id.empty() || !ids.emplace(id, 0).second) continue;  // unsent rows have an empty id
      p.bind(id);
      list += (list.empty() ? "$" : ", $") + std::to_string(ids.size());
    }
    if (!list.empty()) {
      const Result found = exec(c,
                                "SELECT provider_message_id, min(id) FROM outbox WHERE "
                                "provider_message_id IN (" +
                                    list + ") GROUP BY provider_message_id",
                                p);
      for (int i = 0; i < found.rows(); ++i) ids[found.text(i, 0)] = found.i64(i, 1);
    }
  }
  Params kept;
  std::size_t kept_rows = 0;
  std::vector<InboxEnd> ends;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = receipts[i];
    const auto it = ids.find(r.provider_message_id);
    outbox_ids[i] = it == ids.end() ? 0 : it->second;
    if (outbox_ids[i] == 0 && r.retry_unmatched_at > 0) {
      if (r.inbox_id != 0) {
        ends.push_back(
            {r.inbox_id, "pending", r.processed_at, r.retry_unmatched_at, kReceiptNotMatchedYet});
      }
      continue;
    }
    sql::bind_receipt(kept, r, outbox_ids[i]);
    ++kept_rows;
    if (r.inbox_id != 0) ends.push_back({r.inbox_id, "done", r.processed_at, 0, ""});
  }
  if (kept_rows > 0) {
    exec(c, sql::insert_receipts(kept_rows), kept);
  }
  // The matched receipts' forward moves in one UPDATE: per outbox row the receipt that applying
  // them one by one would leave (the latest `at`, then the highest rank, then the first of equals)
  // is compared with the row as committed.
  Params moves;
  std::size_t moved = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (outbox_ids[i] == 0) continue;
    const auto& r = receipts[i];
    moves.bind(static_cast<std::int64_t>(i))
        .bind(outbox_ids[i])
        .bind(r.status)
        .bind(r.at)
        .bind(r.error_code);
    ++moved;
  }
  if (moved > 0) {
    exec(c,
         "UPDATE outbox o SET delivery_status = w.status, delivery_status_at = w.at, "
         "delivery_error = w.error FROM (SELECT DISTINCT ON (id) id, status, at, error FROM "
         "(VALUES " +
             sql::values_groups(moved, {"bigint", "bigint", "text", "bigint", "text"}) +
             ") AS v (ord, id, status, at, error) WHERE " + sql::delivery_rank("status") +
             " > 0 ORDER BY id, at DESC, " + sql::delivery_rank("status") +
             " DESC, ord) AS w WHERE o.id = w.id AND (o.delivery_status_at < w.at OR "
             "(o.delivery_status_at = w.at AND " +
             sql::delivery_rank("w.status") + " > " + sql::delivery_rank("o.delivery_status") +
             "))",
         moves);
  }
  update_inbox_states(c, ends);
}

}  // namespace

std::vector<std::int64_t> PostgresStore::record_deliveries(
    const std::vector<DeliveryReceipt>& receipts) {
  std::vector<std::int64_t> out(receipts.size(), 0);
  if (receipts.empty()) return out;
  auto lease = borrow();
  Connection& c = *lease;
  Transaction tx(c);
  constexpr std::size_t kPerRound = 1000;  // 7,000 parameters, far below libpq's 65,535
  for (std::size_t first = 0; first < receipts.size(); first += kPerRound) {
    apply_deliveries(c, receipts.data() + first, std::min(kPerRound, receipts.size() - first),
                     out.data() + first);
  }
  tx.commit();
  return out;
}

std::vector<DeliveryReceipt> PostgresStore::receipts_for(const std::string& environment,
                                                         const std::string& lead_ref) {
  return query_all(sql::kSelectReceiptsForLead, sql::read_receipt<Result::Row>, environment,
                   lead_ref);
}

void PostgresStore::set_opt_out(const std::string& environment, const std::string& phone_bidx,
                                bool opted_out, std::int64_t at) {
  auto lease = borrow();
  upsert_opt_out(*lease, environment, phone_bidx, opted_out, at);
}

bool PostgresStore::is_opted_out(const std::string& environment, const std::string& phone_bidx) {
  auto lease = borrow();
  const Result r = exec(*lease, sql::kSelectOptOut, Params().bind(environment).bind(phone_bidx));
  return r.rows() > 0 && r.boolean(0, 0);
}

void PostgresStore::release_inbox_leases(const std::string& owner) {
  run(sql::kReleaseInboxLeases, owner);
}

}  // namespace leadgate
