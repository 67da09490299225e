// Store conformance, LeadStore: leads with their audit and outbox children, partner status,
// timeline reads.
// The fixture, its parameterisation and the shared helpers: conformance.h.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "conformance.h"

namespace leadgate::conformance {
namespace {

// Inserts make_lead("orbit", ref, bidx) without children; returns it with the id it was given.
LeadRow add_lead(Store& store, const std::string& ref, const std::string& bidx = "bidx",
                 const std::string& loan_type = "HL") {
  LeadWrite w;
  w.lead = make_lead("orbit", ref, bidx, loan_type);
  w.lead.id = store.insert_lead(w);
  return w.lead;
}

// A write of `lead` with one audit entry (`field`, `operation`) and one outbox message due at 0.
LeadWrite with_children(const LeadRow& lead, const std::string& field = "mobile",
                        const std::string& operation = "created") {
  LeadWrite w;
  w.lead = lead;
  w.audit.push_back(make_audit(lead.environment, lead.reference_id, field, operation));
  w.outbox.push_back(make_outbox(lead.environment, lead.reference_id, 0));
  return w;
}

// Expects no audit entry and no outbox message for orbit's `ref`.
void expect_no_children(Store& store, const std::string& ref) {
  EXPECT_TRUE(store.audit_for("orbit", ref).empty());
  EXPECT_TRUE(store.outbox_for("orbit", ref).empty());
}

// ---- Leads ----

TEST_P(StoreConformanceTest, InsertAndFindLeadRoundTripsEveryColumn) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  w.lead.basic_application_id = "B002BJF";
  w.lead.application_id = "0f8e2c1a-1111-4222-8333-444455556666";
  w.lead.state = "Maharashtra";
  w.lead.gender = "Female";
  w.lead.application_assigned_to_rm = "Ravi";
  w.lead.remarks_enc = "it's \"quoted\"\nand multi-line \xE2\x82\xB9 50%_";
  w.lead.customer_id = "CUST-9";
  w.lead.qr_short_code = "QR1";
  w.lead.annual_income_enc = "v1:income";
  w.lead.include_credit_score = false;
  w.lead.is_lead_prefilled = true;
  w.lead.los_error = "timeout";
  const std::int64_t id = store_->insert_lead(w);
  EXPECT_GT(id, 0);

  auto found = store_->find_lead_for_customer("orbit", "bidx-1", "HL");
  ASSERT_TRUE(found.has_value());
  const LeadRow& r = *found;
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.environment, "orbit");
  EXPECT_EQ(r.reference_id, "LG-1");
  EXPECT_EQ(r.basic_application_id, "B002BJF");
  EXPECT_EQ(r.application_id, w.lead.application_id);
  EXPECT_EQ(r.status, "pending_los");
  EXPECT_EQ(r.first_name_enc, "v1:first");
  EXPECT_EQ(r.last_name_enc, "v1:last");
  EXPECT_EQ(r.mobile_enc, "v1:mobile");
  EXPECT_EQ(r.email_enc, "v1:email");
  EXPECT_EQ(r.pan_enc, "v1:pan");
  EXPECT_EQ(r.dob_enc, "v1:dob");
  EXPECT_EQ(r.mobile_bidx, "bidx-1");
  EXPECT_EQ(r.pan_bidx, "pan-bidx-1");
  EXPECT_EQ(r.loan_type, "HL");
  EXPECT_EQ(r.loan_amount_req, 2'500'000);
  EXPECT_EQ(r.loan_tenure, 240);
  EXPECT_EQ(r.credit_score_enc, "v1:credit-score");
  EXPECT_EQ(r.pincode, "400001");
  EXPECT_EQ(r.state, std::optional<std::string>("Maharashtra"));
  EXPECT_EQ(r.gender, std::optional<std::string>("Female"));
  EXPECT_EQ(r.application_assigned_to_rm, std::optional<std::string>("Ravi"));
  EXPECT_EQ(r.remarks_enc, w.lead.remarks_enc);
  EXPECT_EQ(r.customer_id, std::optional<std::string>("CUST-9"));
  EXPECT_EQ(r.qr_short_code, std::optional<std::string>("QR1"));
  EXPECT_EQ(r.annual_income_enc, std::optional<std::string>("v1:income"));
  EXPECT_FALSE(r.include_credit_score);
  EXPECT_TRUE(r.is_lead_prefilled);
  EXPECT_EQ(r.los_error, "timeout");
  EXPECT_EQ(r.request_id, "req-LG-1");
  EXPECT_EQ(r.user_agent, "unit-test");
  EXPECT_EQ(r.created_at, 1'700'000'000'000);
  EXPECT_EQ(r.updated_at, 1'700'000'000'000);

  auto by_ref = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(by_ref.has_value());
  EXPECT_EQ(by_ref->id, id);
  EXPECT_EQ(by_ref->remarks_enc, w.lead.remarks_enc);
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_EQ(store_->count_leads("homfinity"), 0);
}

TEST_P(StoreConformanceTest, AbsentOptionalsStayAbsent) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  store_->insert_lead(w);
  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->basic_application_id.empty());
  EXPECT_TRUE(r->application_id.empty());
  EXPECT_FALSE(r->state.has_value());
  EXPECT_FALSE(r->gender.has_value());
  EXPECT_FALSE(r->application_assigned_to_rm.has_value());
  EXPECT_FALSE(r->remarks_enc.has_value());
  EXPECT_FALSE(r->customer_id.has_value());
  EXPECT_FALSE(r->qr_short_code.has_value());
  EXPECT_FALSE(r->annual_income_enc.has_value());
  EXPECT_TRUE(r->include_credit_score);
  EXPECT_FALSE(r->is_lead_prefilled);
  EXPECT_EQ(r->los_error, "");
}

TEST_P(StoreConformanceTest, LookupsAreIsolatedByEnvironment) {
  store_->insert_lead(with_children(make_lead("orbit", "LG-1", "shared-bidx")));
  EXPECT_TRUE(store_->find_lead_for_customer("orbit", "shared-bidx", "HL").has_value());
  EXPECT_FALSE(store_->find_lead_for_customer("homfinity", "shared-bidx", "HL").has_value());
  EXPECT_FALSE(store_->find_lead_by_reference("homfinity", "LG-1").has_value());
  EXPECT_FALSE(store_->find_lead_for_customer("orbit", "shared-bidx", "PL").has_value());
  EXPECT_FALSE(store_->find_lead_for_customer("orbit", "other-bidx", "HL").has_value());
  EXPECT_FALSE(store_->find_lead_by_reference("orbit", "LG-2").has_value());

  // The same customer may hold the same loan type in another environment.
  LeadWrite other;
  other.lead = make_lead("homfinity", "LG-2", "shared-bidx");
  EXPECT_NO_THROW(store_->insert_lead(other));
  auto hom = store_->find_lead_for_customer("homfinity", "shared-bidx", "HL");
  ASSERT_TRUE(hom.has_value());
  EXPECT_EQ(hom->reference_id, "LG-2");
  auto orb = store_->find_lead_for_customer("orbit", "shared-bidx", "HL");
  ASSERT_TRUE(orb.has_value());
  EXPECT_EQ(orb->reference_id, "LG-1");
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_EQ(store_->count_leads("homfinity"), 1);

  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 1u);
  EXPECT_TRUE(store_->audit_for("homfinity", "LG-1").empty());
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
  EXPECT_TRUE(store_->outbox_for("homfinity", "LG-1").empty());
}

TEST_P(StoreConformanceTest, SameCustomerDifferentLoanTypeAllowed) {
  add_lead(*store_, "LG-1", "bidx", "HL");
  EXPECT_NO_THROW(add_lead(*store_, "LG-2", "bidx", "PL"));
  EXPECT_EQ(store_->count_leads("orbit"), 2);
  EXPECT_EQ(store_->find_lead_for_customer("orbit", "bidx", "PL")->reference_id, "LG-2");
}

TEST_P(StoreConformanceTest, DuplicateCustomerLoanTypeConflictsAndWritesNothing) {
  add_lead(*store_, "LG-1", "bidx", "HL");
  EXPECT_THROW(store_->insert_lead(with_children(make_lead("orbit", "LG-2", "bidx", "HL"))),
               StoreConflict);
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_FALSE(store_->find_lead_by_reference("orbit", "LG-2").has_value());
  expect_no_children(*store_, "LG-2");
  EXPECT_TRUE(store_->claim_outbox(1'000, 10, "w", 2'000).empty());
  // The store stays usable after the rolled-back transaction.
  EXPECT_NO_THROW(add_lead(*store_, "LG-3", "bidx-3"));
  EXPECT_EQ(store_->count_leads("orbit"), 2);
}

TEST_P(StoreConformanceTest, DuplicateReferenceIdConflictsAndWritesNothing) {
  add_lead(*store_, "LG-1", "bidx-1");
  EXPECT_THROW(store_->insert_lead(with_children(make_lead("orbit", "LG-1", "bidx-2"))),
               StoreConflict);
  EXPECT_EQ(store_->count_leads("orbit"), 1);
  EXPECT_FALSE(store_->find_lead_for_customer("orbit", "bidx-2", "HL").has_value());
  expect_no_children(*store_, "LG-1");
}

TEST_P(StoreConformanceTest, InsertWritesAuditAndOutboxInOrder) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit = {make_audit("orbit", "LG-1", "firstName"), make_audit("orbit", "LG-1", "mobile"),
             make_audit("orbit", "LG-1", "pan")};
  w.outbox = {make_outbox("orbit", "LG-1", 5), make_outbox("orbit", "LG-1", 3)};
  w.outbox[1].kind = "whatsapp_text";
  store_->insert_lead(w);

  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].field, "firstName");
  EXPECT_EQ(audit[1].field, "mobile");
  EXPECT_EQ(audit[2].field, "pan");
  EXPECT_EQ(audit[0].environment, "orbit");
  EXPECT_EQ(audit[0].entity, "lead");
  EXPECT_EQ(audit[0].entity_ref, "LG-1");
  EXPECT_EQ(audit[0].operation, "created");
  EXPECT_EQ(audit[0].old_value, "");
  EXPECT_EQ(audit[0].new_value, "XXfirstName");
  EXPECT_EQ(audit[0].request_id, "req-1");
  EXPECT_EQ(audit[0].duration_ms, 12);
  EXPECT_EQ(audit[0].created_at, 1'700'000'000'000);

  auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_GT(outbox[0].id, 0);
  EXPECT_LT(outbox[0].id, outbox[1].id);
  expect_made_outbox(outbox[0], "orbit", "LG-1", "pending", 0);
  EXPECT_EQ(outbox[0].next_attempt_at, 5);
  EXPECT_EQ(outbox[0].provider_message_id, "");
  EXPECT_EQ(outbox[0].last_error, "");
  EXPECT_EQ(outbox[0].created_at, 5);
  EXPECT_EQ(outbox[1].kind, "whatsapp_text");
  EXPECT_EQ(outbox[1].next_attempt_at, 3);
}

// The store owns a new message's delivery state, whatever the caller put in it.
TEST_P(StoreConformanceTest, NewOutboxMessagesStartPendingWithNoAttempts) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  OutboxMessage m = make_outbox("orbit", "LG-1", 7);
  m.status = "sent";
  m.attempts = 4;
  m.delivery_status = "read";
  m.delivery_status_at = 9;
  m.delivery_error = "x";
  w.outbox.push_back(m);
  store_->insert_lead(w);
  const auto row = row_of("LG-1");
  EXPECT_EQ(row.status, "pending");
  EXPECT_EQ(row.attempts, 0);
  EXPECT_EQ(row.delivery_status, "");
  EXPECT_EQ(row.delivery_status_at, 0);
  EXPECT_EQ(row.delivery_error, "");
  EXPECT_EQ(store_->claim_outbox(7, 10, "w", 100).size(), 1u);
}

TEST_P(StoreConformanceTest, UpdateLeadAppliesChangesAndChildren) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit.push_back(make_audit("orbit", "LG-1", "mobile"));
  w.lead.id = store_->insert_lead(w);

  LeadWrite u;
  u.lead = w.lead;
  u.lead.status = "created";
  u.lead.basic_application_id = "B00ABCD";
  u.lead.remarks_enc = "updated";
  u.lead.annual_income_enc = "v1:900000";
  u.lead.updated_at = 1'700'000'000'999;
  u.expected_status = "pending_los";
  u.audit.push_back(make_audit("orbit", "LG-1", "status", "status_changed"));
  u.outbox.push_back(make_outbox("orbit", "LG-1", 10));
  EXPECT_TRUE(store_->update_lead(u));

  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, w.lead.id);
  EXPECT_EQ(r->status, "created");
  EXPECT_EQ(r->basic_application_id, "B00ABCD");
  EXPECT_EQ(r->remarks_enc, std::optional<std::string>("updated"));
  EXPECT_EQ(r->annual_income_enc, std::optional<std::string>("v1:900000"));
  EXPECT_EQ(r->created_at, 1'700'000'000'000);
  EXPECT_EQ(r->updated_at, 1'700'000'000'999);
  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].operation, "created");
  EXPECT_EQ(audit[1].operation, "status_changed");
  auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].status, "pending");
  EXPECT_EQ(outbox[0].next_attempt_at, 10);
}

TEST_P(StoreConformanceTest, UpdateCanClearOptionalColumns) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.lead.remarks_enc = "to be removed";
  w.lead.annual_income_enc = "v1:5";
  w.lead.basic_application_id = "B1";
  w.lead.id = store_->insert_lead(w);
  LeadWrite u;
  u.lead = w.lead;
  u.lead.remarks_enc.reset();
  u.lead.annual_income_enc.reset();
  u.lead.basic_application_id.clear();
  ASSERT_TRUE(store_->update_lead(u));
  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->remarks_enc.has_value());
  EXPECT_FALSE(r->annual_income_enc.has_value());
  EXPECT_EQ(r->basic_application_id, "");
}

TEST_P(StoreConformanceTest, UpdateWithoutExpectedStatusAlwaysApplies) {
  const LeadRow lead = add_lead(*store_, "LG-1");
  LeadWrite u;
  u.lead = lead;
  u.lead.status = "los_failed";
  EXPECT_TRUE(store_->update_lead(u));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-1")->status, "los_failed");
  u.lead.remarks_enc = "checked";
  EXPECT_TRUE(store_->update_lead(u));  // an unchanged status is no obstacle either
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-1")->remarks_enc,
            std::optional<std::string>("checked"));
}

TEST_P(StoreConformanceTest, UpdateWithStaleExpectedStatusChangesNothing) {
  const LeadRow lead = add_lead(*store_, "LG-1");

  LeadWrite u = with_children(lead, "status", "status_changed");
  u.lead.status = "completed";
  u.lead.remarks_enc = "should not land";
  u.expected_status = "created";  // stored status is pending_los
  EXPECT_FALSE(store_->update_lead(u));

  auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, "pending_los");
  EXPECT_FALSE(r->remarks_enc.has_value());
  expect_no_children(*store_, "LG-1");
  EXPECT_TRUE(store_->claim_outbox(1'000, 10, "w", 2'000).empty());
}

// Two writers read pending_los; the first moves it on, the second's expectation is now stale.
TEST_P(StoreConformanceTest, SecondTransitionFromTheSameStatusLoses) {
  const LeadRow lead = add_lead(*store_, "LG-1");

  LeadWrite first;
  first.lead = lead;
  first.lead.status = "created";
  first.lead.basic_application_id = "BA-77";
  first.lead.updated_at = 2'000;
  first.expected_status = "pending_los";
  first.audit.push_back(make_audit("orbit", "LG-1", "status", "status_changed"));
  first.outbox.push_back(make_outbox("orbit", "LG-1", 2'000));
  EXPECT_TRUE(store_->update_lead(first));

  LeadWrite second = first;
  second.lead.status = "los_failed";
  second.lead.basic_application_id.clear();
  second.lead.updated_at = 3'000;
  EXPECT_FALSE(store_->update_lead(second));

  const auto r = store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, "created");
  EXPECT_EQ(r->basic_application_id, "BA-77");
  EXPECT_EQ(r->updated_at, 2'000);
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 1u);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
}

TEST_P(StoreConformanceTest, UpdateOfUnknownIdReturnsFalse) {
  const LeadRow lead = add_lead(*store_, "LG-1");

  LeadWrite u = with_children(make_lead("orbit", "LG-404", "bidx-404"), "status");
  u.lead.id = lead.id + 1'000;
  EXPECT_FALSE(store_->update_lead(u));
  u.expected_status = "pending_los";
  EXPECT_FALSE(store_->update_lead(u));
  expect_no_children(*store_, "LG-404");
  EXPECT_FALSE(store_->find_lead_by_reference("orbit", "LG-404").has_value());
  EXPECT_EQ(store_->count_leads("orbit"), 1);
}

TEST_P(StoreConformanceTest, UpdateIntoAnotherCustomersSlotConflicts) {
  add_lead(*store_, "LG-1", "bidx-a");
  LeadWrite u = with_children(add_lead(*store_, "LG-2", "bidx-b"), "mobile", "updated");
  u.lead.mobile_bidx = "bidx-a";
  EXPECT_THROW(store_->update_lead(u), StoreConflict);
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-2")->mobile_bidx, "bidx-b");
  expect_no_children(*store_, "LG-2");
  // The store stays usable after the rolled-back transaction.
  u.lead.mobile_bidx = "bidx-c";
  EXPECT_TRUE(store_->update_lead(u));
  EXPECT_EQ(store_->find_lead_by_reference("orbit", "LG-2")->mobile_bidx, "bidx-c");
}

TEST_P(StoreConformanceTest, AuditForKeepsInsertionOrderAcrossWrites) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx");
  w.audit = {make_audit("orbit", "LG-1", "b"), make_audit("orbit", "LG-1", "a")};
  w.lead.id = store_->insert_lead(w);
  for (const char* field : {"z", "c", "m"}) {
    LeadWrite u;
    u.lead = w.lead;
    u.audit.push_back(make_audit("orbit", "LG-1", field, "updated"));
    ASSERT_TRUE(store_->update_lead(u));
  }
  LeadWrite two;
  two.lead = w.lead;
  two.audit = {make_audit("orbit", "LG-1", "y", "status_changed"),
               make_audit("orbit", "LG-1", "x", "updated")};
  ASSERT_TRUE(store_->update_lead(two));

  auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 7u);
  std::string order;
  for (const auto& a : audit) order += a.field;
  EXPECT_EQ(order, "bazcmyx");
  EXPECT_EQ(audit[5].operation, "status_changed");
}

// ---- Partner status, timeline reads (schema 4) ----

void expect_partner(const std::optional<LeadRow>& lead, const std::string& status,
                    const std::string& stage, std::int64_t updated_at, std::int64_t refreshed_at) {
  ASSERT_TRUE(lead.has_value());
  EXPECT_EQ(lead->partner_status, status);
  EXPECT_EQ(lead->partner_stage, stage);
  EXPECT_EQ(lead->partner_updated_at, updated_at);
  EXPECT_EQ(lead->status_refreshed_at, refreshed_at);
}

PartnerStatusWrite make_partner_write(std::int64_t lead_id, const std::string& expected,
                                      const std::string& status, const std::string& stage,
                                      std::int64_t partner_updated_at, std::int64_t refreshed_at) {
  PartnerStatusWrite w;
  w.lead_id = lead_id;
  w.expected_status = expected;
  w.status = status;
  w.stage = stage;
  w.partner_updated_at = partner_updated_at;
  w.refreshed_at = refreshed_at;
  return w;
}

// expect_partner for orbit's lead `ref`.
void expect_partner(Store& store, const std::string& ref, const std::string& status,
                    const std::string& stage, std::int64_t updated_at, std::int64_t refreshed_at) {
  expect_partner(store.find_lead_by_reference("orbit", ref), status, stage, updated_at,
                 refreshed_at);
}

// The lead LG-1 with a first partner status recorded; returns its id.
std::int64_t add_lead_with_partner(Store& store, const std::string& status,
                                   const std::string& stage, std::int64_t partner_updated_at,
                                   std::int64_t refreshed_at) {
  const std::int64_t id = add_lead(store, "LG-1").id;
  EXPECT_TRUE(store.record_partner_status(
      make_partner_write(id, "", status, stage, partner_updated_at, refreshed_at)));
  return id;
}

// Records `p` for LG-1 with an audit entry and an outbox message (due at its refresh time) and
// expects no change: false, and neither of them written.
void expect_no_change(Store& store, PartnerStatusWrite p) {
  p.audit.push_back(make_audit("orbit", "LG-1", "partner_status", "status_changed"));
  p.outbox.push_back(make_outbox("orbit", "LG-1", p.refreshed_at));
  EXPECT_FALSE(store.record_partner_status(p));
  expect_no_children(store, "LG-1");
}

TEST_P(StoreConformanceTest, PartnerColumnsDefaultEmptyAndInsertStoresThemAsGiven) {
  LeadWrite plain;
  plain.lead = make_lead("orbit", "LG-1", "bidx-1");
  store_->insert_lead(plain);
  expect_partner(*store_, "LG-1", "", "", 0, 0);

  LeadWrite w;
  w.lead = make_lead("orbit", "LG-2", "bidx-2");
  w.lead.basic_application_id = "B0002";
  w.lead.application_id = "0f8e2c1a-1111-4222-8333-444455556666";
  w.lead.partner_status = "Under Review";
  w.lead.partner_stage = "Credit \"check\" \xE2\x82\xB9";
  w.lead.partner_updated_at = 12'000'000'000'000;
  w.lead.status_refreshed_at = 12'000'000'000'500;
  store_->insert_lead(w);
  const std::string stage = w.lead.partner_stage;
  // Every lead read returns them.
  expect_partner(*store_, "LG-2", "Under Review", stage, 12'000'000'000'000, 12'000'000'000'500);
  expect_partner(store_->find_lead_for_customer("orbit", "bidx-2", "HL"), "Under Review", stage,
                 12'000'000'000'000, 12'000'000'000'500);
  expect_partner(store_->find_lead_by_application_id("orbit", w.lead.application_id),
                 "Under Review", stage, 12'000'000'000'000, 12'000'000'000'500);
  expect_partner(store_->find_lead_by_basic_id("orbit", "B0002"), "Under Review", stage,
                 12'000'000'000'000, 12'000'000'000'500);
  const auto by_mobile = store_->find_leads_by_mobile("orbit", "bidx-2");
  ASSERT_EQ(by_mobile.size(), 1u);
  expect_partner(by_mobile[0], "Under Review", stage, 12'000'000'000'000, 12'000'000'000'500);
}

// update_lead writes every column but the partner ones: a refresh that landed after the caller
// read the row is not overwritten by its older copy.
TEST_P(StoreConformanceTest, UpdateLeadLeavesPartnerColumnsAlone) {
  const LeadRow lead = add_lead(*store_, "LG-1");
  const LeadRow stale_copy = *store_->find_lead_by_reference("orbit", "LG-1");
  ASSERT_TRUE(
      store_->record_partner_status(make_partner_write(lead.id, "", "Approved", "Sanction", 5, 6)));

  LeadWrite u;
  u.lead = stale_copy;
  u.lead.status = "completed";
  u.lead.updated_at = 7;
  ASSERT_TRUE(store_->update_lead(u));
  const auto r = store_->find_lead_by_reference("orbit", "LG-1");
  expect_partner(r, "Approved", "Sanction", 5, 6);
  EXPECT_EQ(r->status, "completed");

  // Nor does an update that carries other partner values.
  u.lead.partner_status = "Rejected";
  u.lead.partner_stage = "x";
  u.lead.partner_updated_at = 99;
  u.lead.status_refreshed_at = 99;
  ASSERT_TRUE(store_->update_lead(u));
  expect_partner(*store_, "LG-1", "Approved", "Sanction", 5, 6);
}

TEST_P(StoreConformanceTest, FindLeadsByMobileNewestFirstAndIsolated) {
  EXPECT_TRUE(store_->find_leads_by_mobile("orbit", "bidx").empty());
  LeadWrite hl;
  hl.lead = make_lead("orbit", "LG-HL", "bidx", "HL");
  hl.lead.created_at = 2'000;
  LeadWrite pl;
  pl.lead = make_lead("orbit", "LG-PL", "bidx", "PL");
  pl.lead.created_at = 3'000;
  LeadWrite lap;  // same created_at as hl, inserted later: larger id, so before hl
  lap.lead = make_lead("orbit", "LG-LAP", "bidx", "LAP");
  lap.lead.created_at = 2'000;
  LeadWrite other_env;
  other_env.lead = make_lead("homfinity", "LG-H", "bidx", "HL");
  other_env.lead.created_at = 9'000;
  LeadWrite other_customer;
  other_customer.lead = make_lead("orbit", "LG-O", "bidx-other", "HL");
  other_customer.lead.created_at = 9'000;
  for (const LeadWrite* w : {&hl, &pl, &lap, &other_env, &other_customer}) store_->insert_lead(*w);

  const auto rows = store_->find_leads_by_mobile("orbit", "bidx");
  std::vector<std::string> refs;
  for (const auto& r : rows) refs.push_back(r.reference_id);
  EXPECT_EQ(refs, (std::vector<std::string>{"LG-PL", "LG-LAP", "LG-HL"}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_GT(rows[1].id, rows[2].id);
  EXPECT_EQ(rows[0].loan_type, "PL");
  EXPECT_EQ(rows[0].mobile_enc, "v1:mobile");
  const auto hom = store_->find_leads_by_mobile("homfinity", "bidx");
  ASSERT_EQ(hom.size(), 1u);
  EXPECT_EQ(hom[0].reference_id, "LG-H");
  EXPECT_TRUE(store_->find_leads_by_mobile("uat", "bidx").empty());
}

TEST_P(StoreConformanceTest, FindLeadByBasicIdIsIsolatedByEnvironment) {
  LeadWrite w;
  w.lead = make_lead("orbit", "LG-1", "bidx-1");
  w.lead.basic_application_id = "B002BJF";
  store_->insert_lead(w);
  LeadWrite without;
  without.lead = make_lead("orbit", "LG-2", "bidx-2");
  store_->insert_lead(without);

  const auto found = store_->find_lead_by_basic_id("orbit", "B002BJF");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->reference_id, "LG-1");
  EXPECT_FALSE(store_->find_lead_by_basic_id("homfinity", "B002BJF").has_value());
  EXPECT_FALSE(store_->find_lead_by_basic_id("orbit", "B002BJ").has_value());
  // A lead the LOS has not accepted yet has no basic id: an empty one matches nothing.
  EXPECT_FALSE(store_->find_lead_by_basic_id("orbit", "").has_value());
}

TEST_P(StoreConformanceTest, RecordPartnerStatusAppliesAChangeWithItsChildren) {
  const LeadRow lead = add_lead(*store_, "LG-1");

  PartnerStatusWrite p = make_partner_write(lead.id, "", "Under Review", "Login", 1'000, 1'100);
  p.audit.push_back(make_audit("orbit", "LG-1", "partner_status", "status_changed"));
  p.outbox.push_back(make_outbox("orbit", "LG-1", 1'100));
  EXPECT_TRUE(store_->record_partner_status(p));
  const auto r = store_->find_lead_by_reference("orbit", "LG-1");
  expect_partner(r, "Under Review", "Login", 1'000, 1'100);
  EXPECT_EQ(r->status, "pending_los");  // the lead's own columns are untouched
  EXPECT_EQ(r->updated_at, lead.updated_at);
  const auto audit = store_->audit_for("orbit", "LG-1");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].field, "partner_status");
  const auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].status, "pending");

  // A stage change alone is a change; so is a later report with the same partner time.
  p = make_partner_write(lead.id, "Under Review", "Under Review", "Credit", 1'000, 1'200);
  p.audit.push_back(make_audit("orbit", "LG-1", "partner_stage", "status_changed"));
  EXPECT_TRUE(store_->record_partner_status(p));
  expect_partner(*store_, "LG-1", "Under Review", "Credit", 1'000, 1'200);
  EXPECT_EQ(store_->audit_for("orbit", "LG-1").size(), 2u);
}

// The caller read a partner_status that another refresh has replaced meanwhile.
TEST_P(StoreConformanceTest, RecordPartnerStatusWithStaleExpectationOnlyRefreshes) {
  const std::int64_t id = add_lead_with_partner(*store_, "Under Review", "Login", 1'000, 1'000);

  expect_no_change(*store_, make_partner_write(id, "", "Rejected", "Closed", 2'000, 2'500));
  expect_partner(*store_, "LG-1", "Under Review", "Login", 1'000, 2'500);
  EXPECT_EQ(count_rows("audit_log"), 0);
  EXPECT_EQ(count_rows("outbox"), 0);
}

// Reports can arrive out of order: one about an older LOS state never replaces a newer one.
TEST_P(StoreConformanceTest, RecordPartnerStatusIgnoresAnOlderPartnerUpdate) {
  const std::int64_t id = add_lead_with_partner(*store_, "Approved", "Sanction", 5'000, 5'100);

  expect_no_change(*store_,
                   make_partner_write(id, "Approved", "Under Review", "Credit", 4'999, 6'000));
  expect_partner(*store_, "LG-1", "Approved", "Sanction", 5'000, 6'000);
}

TEST_P(StoreConformanceTest, RecordPartnerStatusWithoutAChangeOnlyRefreshes) {
  const std::int64_t id = add_lead_with_partner(*store_, "Under Review", "Login", 1'000, 1'000);

  expect_no_change(*store_,
                   make_partner_write(id, "Under Review", "Under Review", "Login", 3'000, 3'000));
  expect_partner(*store_, "LG-1", "Under Review", "Login", 1'000, 3'000);

  // The very first report of an empty status (nothing known) is no change either.
  const std::int64_t fresh = add_lead(*store_, "LG-2", "bidx-2").id;
  EXPECT_FALSE(store_->record_partner_status(make_partner_write(fresh, "", "", "", 0, 50)));
  expect_partner(*store_, "LG-2", "", "", 0, 50);
}

TEST_P(StoreConformanceTest, RecordStatusRefreshMovesOnlyTheRefreshTimeForward) {
  const std::int64_t id = add_lead_with_partner(*store_, "Under Review", "Login", 1'000, 2'000);
  store_->record_status_refresh(id, 5'000);
  expect_partner(*store_, "LG-1", "Under Review", "Login", 1'000, 5'000);
  store_->record_status_refresh(id, 4'000);  // a slower poll finishing late
  expect_partner(*store_, "LG-1", "Under Review", "Login", 1'000, 5'000);
  store_->record_status_refresh(id + 1'000, 9'000);  // no such lead: nothing happens
  EXPECT_TRUE(store_->audit_for("orbit", "LG-1").empty());
}

TEST_P(StoreConformanceTest, StatusRefreshTimeNeverGoesBackwards) {
  const std::int64_t id = add_lead_with_partner(*store_, "Under Review", "Login", 1'000, 9'000);
  // Applied change, older answer time (a slow request finishing late): the status lands, the
  // refresh time stays.
  EXPECT_TRUE(store_->record_partner_status(
      make_partner_write(id, "Under Review", "Approved", "Sanction", 2'000, 8'000)));
  expect_partner(*store_, "LG-1", "Approved", "Sanction", 2'000, 9'000);
  // Refused change, older answer time: nothing at all changes.
  EXPECT_FALSE(store_->record_partner_status(
      make_partner_write(id, "Approved", "Approved", "Sanction", 2'000, 7'000)));
  expect_partner(*store_, "LG-1", "Approved", "Sanction", 2'000, 9'000);
  // A newer answer moves it on.
  EXPECT_FALSE(store_->record_partner_status(
      make_partner_write(id, "Approved", "Approved", "Sanction", 2'000, 9'001)));
  expect_partner(*store_, "LG-1", "Approved", "Sanction", 2'000, 9'001);
}

TEST_P(StoreConformanceTest, RecordPartnerStatusOfAnUnknownLeadWritesNothing) {
  const LeadRow lead = add_lead(*store_, "LG-1");
  expect_no_change(*store_, make_partner_write(lead.id + 1'000, "", "Approved", "S", 1, 2));
  expect_partner(*store_, "LG-1", "", "", 0, 0);
  EXPECT_EQ(count_rows("audit_log"), 0);
  EXPECT_EQ(count_rows("outbox"), 0);
}

TEST_P(StoreConformanceTest, AppendEventsWritesAuditAndOutboxInOrder) {
  store_->append_events({}, {});
  EXPECT_EQ(count_rows("audit_log"), 0);
  store_->append_events({make_audit("orbit", "LG-1", "status", "status_sent"),
                         make_audit("orbit", "LG-1", "channel", "status_sent")},
                        {make_outbox("orbit", "LG-1", 40), make_outbox("orbit", "LG-1", 30)});
  store_->append_events({make_audit("orbit", "LG-1", "third", "status_sent")}, {});
  const auto audit = store_->audit_for("orbit", "LG-1");
  std::string order;
  for (const auto& a : audit) order += a.field + ",";
  EXPECT_EQ(order, "status,channel,third,");
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].operation, "status_sent");
  const auto outbox = store_->outbox_for("orbit", "LG-1");
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_EQ(outbox[0].next_attempt_at, 40);
  EXPECT_EQ(outbox[1].next_attempt_at, 30);
  EXPECT_EQ(outbox[1].status, "pending");
  EXPECT_EQ(store_->claim_outbox(40, 10, "w", 100).size(), 2u);
}

TEST_P(StoreConformanceTest, FindStalePendingLeadsAcrossEnvironmentsOldestFirst) {
  auto add = [&](const std::string& env, const std::string& ref, const std::string& status,
                 std::int64_t updated_at) {
    LeadWrite w;
    w.lead = make_lead(env, ref, "bidx-" + ref);
    w.lead.status = status;
    w.lead.updated_at = updated_at;
    store_->insert_lead(w);
  };
  add("orbit", "LG-NEW", "pending_los", 9'000);
  add("homfinity", "LG-OLD", "pending_los", 1'000);
  add("orbit", "LG-MID", "pending_los", 2'000);
  add("orbit", "LG-DONE", "created", 500);
  add("orbit", "LG-FAILED", "los_failed", 500);
  std::vector<std::string> refs;
  for (const auto& l : store_->find_stale_pending_leads(5'000, 10)) refs.push_back(l.reference_id);
  EXPECT_EQ(refs, (std::vector<std::string>{"LG-OLD", "LG-MID"}));
  const auto one = store_->find_stale_pending_leads(5'000, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].reference_id, "LG-OLD");
  EXPECT_EQ(one[0].environment, "homfinity");
  EXPECT_TRUE(store_->find_stale_pending_leads(1'000, 10).empty());  // strictly before
}

// ---- lead_status notify: one status message per lead per interval ----

TEST_P(StoreConformanceTest, StatusNotificationIsQueuedOncePerInterval) {
  const LeadRow lead = add_lead(*store_, "LG-1");
  const LeadRow other = add_lead(*store_, "LG-2", "bidx-2");
  constexpr std::int64_t kHour = 3'600'000;
  const std::int64_t t0 = 1'700'000'000'000;
  EXPECT_TRUE(
      store_->append_status_notification(lead.id, t0, kHour, {make_outbox("orbit", "LG-1", t0)}));
  // Within the interval: refused, nothing written.
  EXPECT_FALSE(store_->append_status_notification(lead.id, t0 + kHour - 1, kHour,
                                                  {make_outbox("orbit", "LG-1", t0)}));
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
  // Another lead has its own turn; an unknown lead gets none.
  EXPECT_TRUE(store_->append_status_notification(other.id, t0 + 1, kHour,
                                                 {make_outbox("orbit", "LG-2", t0)}));
  EXPECT_FALSE(store_->append_status_notification(other.id + 1'000, t0, kHour,
                                                  {make_outbox("orbit", "LG-404", t0)}));
  EXPECT_TRUE(store_->outbox_for("orbit", "LG-404").empty());
  // A lead update (which rewrites every lead column it knows) keeps the notification time.
  LeadWrite w;
  w.lead = *store_->find_lead_by_reference("orbit", "LG-1");
  w.lead.status = "completed";
  ASSERT_TRUE(store_->update_lead(w));
  EXPECT_FALSE(store_->append_status_notification(lead.id, t0 + 10, kHour, {}));
  // Once the interval has passed (the boundary included), the next one is queued.
  EXPECT_TRUE(store_->append_status_notification(lead.id, t0 + kHour, kHour,
                                                 {make_outbox("orbit", "LG-1", t0 + kHour)}));
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 2u);
  // A turn taken by a clock ahead of this one also counts.
  EXPECT_FALSE(store_->append_status_notification(lead.id, t0 + kHour - 5, 1, {}));
}

// Concurrent notify calls for one lead (threads and instances): exactly one message is queued.
TEST_P(StoreConformanceTest, ConcurrentStatusNotificationsQueueExactlyOne) {
  constexpr int kThreads = 8;
  const LeadRow lead = add_lead(*store_, "LG-1");
  const std::int64_t now = now_ms();
  std::atomic<int> queued{0};
  const int failures = run_at_once(thread_stores(kThreads, true), [&](int, Store& store) {
    if (store.append_status_notification(lead.id, now, 3'600'000,
                                         {make_outbox("orbit", "LG-1", now)})) {
      ++queued;
    }
  });
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(queued.load(), 1);
  EXPECT_EQ(store_->outbox_for("orbit", "LG-1").size(), 1u);
}

}  // namespace
}  // namespace leadgate::conformance
