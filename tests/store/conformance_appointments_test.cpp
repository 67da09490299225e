// Store conformance, AppointmentStore: relationship managers and appointments.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

// ---- Relationship managers ----

RmRow make_rm(const std::string& env, const std::string& name, const std::string& name_key) {
  RmRow r;
  r.environment = env;
  r.name = name;
  r.name_key = name_key;
  r.phone_enc = "v1:phone-" + name_key;
  r.location = "Branch of " + name;
  r.created_at = 1'700'000'000'000;
  return r;
}

TEST_P(StoreConformanceTest, RmInsertFindAndListActiveByNameKey) {
  EXPECT_TRUE(store_->list_rms("orbit").empty());
  const auto zoe = store_->insert_rm(make_rm("orbit", "Zoe  Khan", "zoe khan"));
  const auto amit = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  RmRow gone = make_rm("orbit", "Bela Das", "bela das");
  gone.active = false;
  const auto bela = store_->insert_rm(gone);
  const auto other = store_->insert_rm(make_rm("homfinity", "Carl Dsouza", "carl dsouza"));
  EXPECT_GT(zoe, 0);
  EXPECT_NE(zoe, amit);

  const auto listed = store_->list_rms("orbit");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, amit);
  EXPECT_EQ(listed[1].id, zoe);
  EXPECT_EQ(store_->list_rms("homfinity").size(), 1u);
  EXPECT_TRUE(store_->list_rms("uat").empty());

  const auto found = store_->find_rm(zoe);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, zoe);
  EXPECT_EQ(found->environment, "orbit");
  EXPECT_EQ(found->name, "Zoe  Khan");
  EXPECT_EQ(found->name_key, "zoe khan");
  EXPECT_EQ(found->phone_enc, "v1:phone-zoe khan");
  EXPECT_EQ(found->location, "Branch of Zoe  Khan");
  EXPECT_TRUE(found->active);
  EXPECT_EQ(found->created_at, 1'700'000'000'000);
  // An inactive RM is off the roster but still found by id (its appointments name it).
  const auto inactive = store_->find_rm(bela);
  ASSERT_TRUE(inactive.has_value());
  EXPECT_FALSE(inactive->active);
  EXPECT_EQ(store_->find_rm(other)->environment, "homfinity");
  EXPECT_FALSE(store_->find_rm(other + 1'000).has_value());
}

TEST_P(StoreConformanceTest, DuplicateRmNameKeyConflictsInOneEnvironmentOnly) {
  const auto first = store_->insert_rm(make_rm("orbit", "John Smith", "john smith"));
  EXPECT_THROW(store_->insert_rm(make_rm("orbit", "JOHN  SMITH", "john smith")), StoreConflict);
  RmRow inactive = make_rm("orbit", "John Smith", "john smith");
  inactive.active = false;
  EXPECT_THROW(store_->insert_rm(inactive), StoreConflict);
  const auto listed = store_->list_rms("orbit");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, first);
  EXPECT_EQ(listed[0].name, "John Smith");
  // The same name in another environment is another RM.
  EXPECT_NO_THROW(store_->insert_rm(make_rm("homfinity", "John Smith", "john smith")));
  EXPECT_EQ(store_->list_rms("homfinity").size(), 1u);
  EXPECT_EQ(count_rows("rms"), 2);
}

// ---- Appointments ----

AppointmentWrite make_booking(const std::string& env, const std::string& id,
                              const std::string& lead_ref, std::int64_t rm_id,
                              std::int64_t slot_start, std::int64_t created_at = 1'000) {
  AppointmentWrite w;
  w.appointment.id = id;
  w.appointment.environment = env;
  w.appointment.lead_ref = lead_ref;
  w.appointment.rm_id = rm_id;
  w.appointment.slot_start = slot_start;
  w.appointment.slot_minutes = 30;
  w.appointment.request_id = "req-" + id;
  w.appointment.created_at = created_at;
  w.audit.push_back(make_audit(env, lead_ref, "appointment", "appointment_booked"));
  w.outbox.push_back(make_outbox(env, lead_ref, created_at));
  return w;
}

constexpr std::int64_t kSlot = 1'767'258'000'000;  // 2026-01-01 09:00 UTC
constexpr std::int64_t kHalfHour = 1'800'000;

TEST_P(StoreConformanceTest, BookFindAndListAnAppointment) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  EXPECT_FALSE(store_->find_appointment("a-1").has_value());
  EXPECT_TRUE(store_->appointments_for_lead("orbit", "LG-1").empty());
  AppointmentWrite w =
      make_booking("orbit", "6f1c2b3a-0000-4000-8000-000000000001", "LG-1", rm, kSlot, 1'234);
  w.appointment.slot_minutes = 45;
  w.appointment.status = "cancelled";  // ignored: a new appointment is booked
  w.appointment.cancelled_at = 5;
  w.appointment.cancel_reason = "ignored";
  EXPECT_EQ(store_->book_appointment(w), BookOutcome::booked);

  const auto a = store_->find_appointment("6f1c2b3a-0000-4000-8000-000000000001");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->id, "6f1c2b3a-0000-4000-8000-000000000001");
  EXPECT_EQ(a->environment, "orbit");
  EXPECT_EQ(a->lead_ref, "LG-1");
  EXPECT_EQ(a->rm_id, rm);
  EXPECT_EQ(a->slot_start, kSlot);
  EXPECT_EQ(a->slot_minutes, 45);
  EXPECT_EQ(a->status, "booked");
  EXPECT_EQ(a->request_id, "req-6f1c2b3a-0000-4000-8000-000000000001");
  EXPECT_EQ(a->created_at, 1'234);
  EXPECT_EQ(a->cancelled_at, 0);
  EXPECT_EQ(a->cancel_reason, "");
  EXPECT_FALSE(store_->find_appointment("6f1c2b3a-0000-4000-8000-00000000000").has_value());

  const auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].operation, "appointment_booked");
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
  const auto of_lead = store_->appointments_for_lead("orbit", "LG-1");
  ASSERT_EQ(of_lead.size(), 1u);
  EXPECT_EQ(of_lead[0].id, a->id);
  EXPECT_TRUE(store_->appointments_for_lead("homfinity", "LG-1").empty());
  const auto booked = store_->booked_appointments("orbit", kSlot, kSlot + 1);
  ASSERT_EQ(booked.size(), 1u);
  EXPECT_EQ(booked[0].id, a->id);
}

TEST_P(StoreConformanceTest, BookingATakenSlotIsRefusedAndWritesNothing) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  const auto rm2 = store_->insert_rm(make_rm("orbit", "Bela Das", "bela das"));
  ASSERT_EQ(store_->book_appointment(make_booking("orbit", "a-1", "LG-1", rm, kSlot)),
            BookOutcome::booked);
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-2", "LG-2", rm, kSlot)),
            BookOutcome::slot_taken);
  EXPECT_FALSE(store_->find_appointment("a-2").has_value());
  EXPECT_TRUE(store_->appointments_for_lead("orbit", "LG-2").empty());
  EXPECT_TRUE(store_->audit_for("orbit", "LG-2").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-2").empty());
  EXPECT_EQ(count_rows("appointments"), 1);
  EXPECT_EQ(count_rows("audit_log"), 1);
  EXPECT_EQ(count_rows("outbox"), 1);

  // The RM's next slot, or another RM at the same time, is free.
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-3", "LG-2", rm, kSlot + kHalfHour)),
            BookOutcome::booked);
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-4", "LG-3", rm2, kSlot)),
            BookOutcome::booked);
  EXPECT_EQ(count_rows("appointments"), 3);
  EXPECT_EQ(store_->audit_for("orbit", "LG-2").size(), 1u);
}

TEST_P(StoreConformanceTest, ASecondBookingOfALeadIsRefusedAndWritesNothing) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  const auto rm2 = store_->insert_rm(make_rm("orbit", "Bela Das", "bela das"));
  const auto rm_h = store_->insert_rm(make_rm("homfinity", "Amit Rao", "amit rao"));
  ASSERT_EQ(store_->book_appointment(make_booking("orbit", "a-1", "LG-1", rm, kSlot)),
            BookOutcome::booked);
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-2", "LG-1", rm2, kSlot + kHalfHour)),
            BookOutcome::lead_has_appointment);
  EXPECT_FALSE(store_->find_appointment("a-2").has_value());
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 1u);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
  EXPECT_EQ(store_->appointments_for_lead("orbit", "LG-1").size(), 1u);
  // The same reference in another environment is another lead.
  EXPECT_EQ(store_->book_appointment(make_booking("homfinity", "a-3", "LG-1", rm_h, kSlot)),
            BookOutcome::booked);
  // A duplicate appointment id is neither refusal: a plain conflict, nothing written.
  EXPECT_THROW(store_->book_appointment(make_booking("orbit", "a-1", "LG-9", rm2, kSlot)),
               StoreConflict);
  EXPECT_TRUE(store_->audit_for("orbit", "LG-9").empty());
  EXPECT_EQ(count_rows("appointments"), 2);
}

TEST_P(StoreConformanceTest, CancelFreesTheSlotAndTheLeadOnce) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  ASSERT_EQ(store_->book_appointment(make_booking("orbit", "a-1", "LG-1", rm, kSlot, 1'000)),
            BookOutcome::booked);
  EXPECT_TRUE(store_->cancel_appointment(
      "a-1", 2'000, "customer asked",
      {make_audit("orbit", "LG-1", "appointment", "appointment_cancelled")},
      {make_outbox("orbit", "LG-1", 2'000)}));
  const auto a = store_->find_appointment("a-1");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, "cancelled");
  EXPECT_EQ(a->cancelled_at, 2'000);
  EXPECT_EQ(a->cancel_reason, "customer asked");
  EXPECT_EQ(a->slot_start, kSlot);
  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].operation, "appointment_cancelled");
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 2u);
  EXPECT_TRUE(store_->booked_appointments("orbit", 0, kSlot * 2).empty());

  // Twice: false, nothing written.
  EXPECT_FALSE(store_->cancel_appointment(
      "a-1", 3'000, "again", {make_audit("orbit", "LG-1", "appointment", "appointment_cancelled")},
      {make_outbox("orbit", "LG-1", 3'000)}));
  EXPECT_EQ(store_->find_appointment("a-1")->cancelled_at, 2'000);
  EXPECT_EQ(store_->find_appointment("a-1")->cancel_reason, "customer asked");
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 2u);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 2u);
  EXPECT_FALSE(store_->cancel_appointment(
      "a-404", 3'000, "unknown", {make_audit("orbit", "LG-404", "appointment", "cancelled")},
      {make_outbox("orbit", "LG-404", 3'000)}));
  EXPECT_TRUE(store_->audit_for("orbit", "LG-404").empty());
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-404").empty());

  // The slot can be booked again (by another lead), and the lead can book again.
  EXPECT_EQ(store_->book_appointment(make_booking("orbit", "a-2", "LG-2", rm, kSlot, 4'000)),
            BookOutcome::booked);
  EXPECT_EQ(
      store_->book_appointment(make_booking("orbit", "a-3", "LG-1", rm, kSlot + kHalfHour, 5'000)),
      BookOutcome::booked);
  const auto of_lead = store_->appointments_for_lead("orbit", "LG-1");
  ASSERT_EQ(of_lead.size(), 2u);
  EXPECT_EQ(of_lead[0].id, "a-1");
  EXPECT_EQ(of_lead[0].status, "cancelled");
  EXPECT_EQ(of_lead[1].id, "a-3");
  EXPECT_EQ(of_lead[1].status, "booked");
  EXPECT_EQ(store_->booked_appointments("orbit", 0, kSlot * 2).size(), 2u);
}

TEST_P(StoreConformanceTest, AppointmentsForLeadByCreationTime) {
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  for (const auto& [id, created] : std::vector<std::pair<std::string, std::int64_t>>{
           {"a-1", 3'000}, {"a-2", 1'000}, {"a-3", 2'000}}) {
    ASSERT_EQ(store_->book_appointment(make_booking("orbit", id, "LG-1", rm, kSlot, created)),
              BookOutcome::booked);
    ASSERT_TRUE(store_->cancel_appointment(id, created + 1, "moved", {}, {}));
  }
  std::string order;
  for (const auto& a : store_->appointments_for_lead("orbit", "LG-1")) order += a.id + ",";
  EXPECT_EQ(order, "a-2,a-3,a-1,");
}

TEST_P(StoreConformanceTest, BookedAppointmentsInAHalfOpenRangeBySlotThenRm) {
  const auto rm_b = store_->insert_rm(make_rm("orbit", "Bela Das", "bela das"));
  const auto rm_a = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  const auto rm_h = store_->insert_rm(make_rm("homfinity", "Carl", "carl"));
  ASSERT_LT(rm_b, rm_a);
  const std::int64_t from = kSlot;
  const std::int64_t to = kSlot + 4 * kHalfHour;
  struct Booking {
    const char* id;
    const char* lead;
    std::int64_t rm;
    std::int64_t slot;
  };
  const std::vector<Booking> bookings{
      {"before", "L1", rm_a, from - 1},  // just before the range
      {"first-a", "L2", rm_a, from},     // on the lower bound
      {"later-b", "L3", rm_b, from + kHalfHour},
      {"first-b", "L4", rm_b, from},               // same slot as first-a, smaller rm id
      {"last", "L5", rm_a, to - 1},                // just inside
      {"at-to", "L6", rm_b, to},                   // on the upper bound: excluded
      {"gone", "L7", rm_a, from + 2 * kHalfHour},  // cancelled below
  };
  for (const Booking& b : bookings) {
    ASSERT_EQ(store_->book_appointment(make_booking("orbit", b.id, b.lead, b.rm, b.slot)),
              BookOutcome::booked)
        << b.id;
  }
  ASSERT_EQ(store_->book_appointment(make_booking("homfinity", "other-env", "L8", rm_h, from)),
            BookOutcome::booked);
  ASSERT_TRUE(store_->cancel_appointment("gone", 9, "r", {}, {}));

  std::string order;
  for (const auto& a : store_->booked_appointments("orbit", from, to)) order += a.id + ",";
  EXPECT_EQ(order, "first-b,first-a,later-b,last,");
  const auto hom = store_->booked_appointments("homfinity", from, to);
  ASSERT_EQ(hom.size(), 1u);
  EXPECT_EQ(hom[0].id, "other-env");
  EXPECT_TRUE(store_->booked_appointments("orbit", from, from).empty());
  EXPECT_EQ(store_->booked_appointments("orbit", to, to + 1).size(), 1u);
}

// Threads booking one RM's slot for different leads: exactly one gets it. Half of them share
// store_ (its pool, or its mutex), the others are further instances on the same database.
TEST_P(StoreConformanceTest, ConcurrentBookingsOfOneSlotBookOnce) {
  constexpr int kThreads = 8;
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  std::atomic<int> booked{0};
  std::atomic<int> taken{0};
  const int failures = run_at_once(thread_stores(kThreads, true), [&](int t, Store& store) {
    const std::string lead = "LG-" + std::to_string(t);
    switch (
        store.book_appointment(make_booking("orbit", "a-" + std::to_string(t), lead, rm, kSlot))) {
      case BookOutcome::booked:
        ++booked;
        break;
      case BookOutcome::slot_taken:
        ++taken;
        break;
      case BookOutcome::lead_has_appointment:
        ADD_FAILURE() << lead << ": lead_has_appointment";
        break;
    }
  });
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(booked.load(), 1);
  EXPECT_EQ(taken.load(), kThreads - 1);
  EXPECT_EQ(count_rows("appointments"), 1);
  EXPECT_EQ(count_rows("audit_log"), 1);
  EXPECT_EQ(count_rows("outbox"), 1);
  const auto rows = store_->booked_appointments("orbit", kSlot, kSlot + 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(store_->audit_for("orbit", rows[0].lead_ref).size(), 1u);
}

TEST_P(StoreConformanceTest, FindLeadsWithAppointmentJoinsTheBookedOneAndItsRm) {
  LeadLookup by_mobile{"bidx", ""};
  EXPECT_TRUE(store_->find_leads_with_appointment("orbit", by_mobile).empty());
  LeadWrite older;
  older.lead = make_lead("orbit", "LG-OLD", "bidx", "HL");
  older.lead.created_at = 2'000;
  older.lead.basic_application_id = "B000OLD";
  LeadWrite newer;
  newer.lead = make_lead("orbit", "LG-NEW", "bidx", "PL");
  newer.lead.created_at = 3'000;
  LeadWrite other_env;
  other_env.lead = make_lead("homfinity", "LG-H", "bidx", "HL");
  other_env.lead.basic_application_id = "B000OLD";
  for (const LeadWrite* w : {&older, &newer, &other_env}) store_->insert_lead(*w);
  const auto rm = store_->insert_rm(make_rm("orbit", "Amit Rao", "amit rao"));
  // A cancelled appointment, then a booked one, for the older lead.
  ASSERT_EQ(store_->book_appointment(
                make_booking("orbit", "6f1c2b3a-0000-4000-8000-00000000000a", "LG-OLD", rm, kSlot)),
            BookOutcome::booked);
  ASSERT_TRUE(
      store_->cancel_appointment("6f1c2b3a-0000-4000-8000-00000000000a", 5'000, "moved", {}, {}));
  ASSERT_EQ(store_->book_appointment(make_booking("orbit", "6f1c2b3a-0000-4000-8000-00000000000b",
                                                  "LG-OLD", rm, kSlot + kHalfHour)),
            BookOutcome::booked);

  const auto rows = store_->find_leads_with_appointment("orbit", by_mobile);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].lead.reference_id, "LG-NEW");
  EXPECT_FALSE(rows[0].appointment.has_value());
  EXPECT_FALSE(rows[0].rm.has_value());
  EXPECT_EQ(rows[1].lead.reference_id, "LG-OLD");
  EXPECT_EQ(rows[1].lead.mobile_enc, "v1:mobile");
  ASSERT_TRUE(rows[1].appointment.has_value());
  EXPECT_EQ(rows[1].appointment->id, "6f1c2b3a-0000-4000-8000-00000000000b");
  EXPECT_EQ(rows[1].appointment->slot_start, kSlot + kHalfHour);
  EXPECT_EQ(rows[1].appointment->status, "booked");
  ASSERT_TRUE(rows[1].rm.has_value());
  EXPECT_EQ(rows[1].rm->id, rm);
  EXPECT_EQ(rows[1].rm->name, "Amit Rao");

  const auto by_id = store_->find_leads_with_appointment("orbit", {"", "B000OLD"});
  ASSERT_EQ(by_id.size(), 1u);
  EXPECT_EQ(by_id[0].lead.reference_id, "LG-OLD");
  EXPECT_TRUE(by_id[0].appointment.has_value());
  const auto hom = store_->find_leads_with_appointment("homfinity", {"", "B000OLD"});
  ASSERT_EQ(hom.size(), 1u);
  EXPECT_EQ(hom[0].lead.reference_id, "LG-H");
  EXPECT_FALSE(hom[0].appointment.has_value());
  EXPECT_TRUE(store_->find_leads_with_appointment("orbit", {"", "B000NONE"}).empty());
}

}  // namespace
}  // namespace leadgate::conformance
