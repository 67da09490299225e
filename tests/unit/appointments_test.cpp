// Pure parts of tracking and appointments: the timeline, RM ranking, the .ics file.
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "services/appointments.h"
#include "services/timeline.h"

namespace leadgate {
namespace {

AuditEntry audit(std::int64_t at, const std::string& op, const std::string& field,
                 const std::string& from, const std::string& to, const std::string& req = "r1") {
  AuditEntry a;
  a.environment = "orbit";
  a.entity_ref = "ref";
  a.operation = op;
  a.field = field;
  a.old_value = from;
  a.new_value = to;
  a.request_id = req;
  a.created_at = at;
  return a;
}

std::vector<std::string> names(const std::vector<TimelineEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.event);
  return out;
}

TEST(Timeline, CreateLeadFlashAndMessagesInTimeOrder) {
  const std::vector<AuditEntry> trail{
      audit(100, "created", "first_name", "", "JXXn"),
      audit(100, "created", "pan", "", "XXXXX1234X"),
      audit(100, "status_changed", "status", "", "pending_los"),
      audit(150, "status_changed", "status", "pending_los", "created"),
      audit(150, "partner_submitted", "basic_application_id", "", "B002BJF"),
      audit(300, "updated", "loan_amount_req", "1", "2", "r2"),
      audit(300, "flash_updated", "propertyValue", "", "9", "r2"),
      audit(300, "status_changed", "status", "created", "flash_pending", "r2"),
      audit(400, "status_changed", "status", "flash_pending", "completed", "r2"),
      audit(400, "flash_completed", "completion_reference", "", "SF-1", "r2"),
      audit(500, "partner_status_changed", "partner_status", "", "Under Review", "r3"),
      audit(600, "appointment_booked", "appointment", "",
            R"({"date":"03-03-2026","time":"6:00 PM","rm_name":"John"})", "r4")};
  OutboxMessage m;
  m.id = 7;
  m.created_at = 150;
  m.status = "sent";
  OutboxAttempt failed;
  failed.outbox_id = 7;
  failed.attempt = 1;
  failed.started_at = 160;
  failed.duration_ms = 10;
  failed.outcome = "failed";
  failed.error = "HTTP 503";
  failed.http_status = 503;
  OutboxAttempt ok = failed;
  ok.attempt = 2;
  ok.started_at = 250;
  ok.outcome = "accepted";
  ok.provider_message_id = "gs-1";
  const auto events = build_timeline(trail, {m}, {failed, ok}, [](const OutboxMessage&) {
    return std::string("lead_confirmation");
  });
  EXPECT_EQ(names(events),
            (std::vector<std::string>{"lead_created", "partner_submitted", "whatsapp_queued",
                                      "whatsapp_attempt_failed", "whatsapp_sent", "details_updated",
                                      "lead_flash_started", "lead_flash_completed",
                                      "partner_status_changed", "appointment_booked"}));
  EXPECT_EQ(events[0].details.at("fields").as_array().size(), 2u);
  EXPECT_EQ(events[5].details.at("fields").as_array().size(), 2u);  // one event per request
  EXPECT_EQ(events[4].details.at("provider_message_id"), "gs-1");
  EXPECT_EQ(events[4].details.at("purpose"), "lead_confirmation");
  EXPECT_EQ(events[8].details.at("to"), "Under Review");
  EXPECT_EQ(events[9].description, "Appointment booked for 03-03-2026 6:00 PM with John");
  const auto json = timeline_json(events);
  EXPECT_EQ(json[0].at("at"), "1970-01-01T00:00:00.100Z");
  // Values are never shown: only field names.
  EXPECT_EQ(boost::json::serialize(json).find("JXXn"), std::string::npos);
}

TEST(Timeline, ASuppressedMessageIsShownAsSuchWithItsReason) {
  OutboxMessage m;
  m.id = 7;
  m.created_at = 100;
  m.status = "suppressed";
  OutboxAttempt a;
  a.outbox_id = 7;
  a.attempt = 1;
  a.started_at = 150;
  a.outcome = "suppressed";
  a.error = "customer message limit reached (10 notifications in 24 hours)";
  const auto events = build_timeline(
      {}, {m}, {a}, [](const OutboxMessage&) { return std::string("status_update"); });
  ASSERT_EQ(names(events), (std::vector<std::string>{"whatsapp_queued", "whatsapp_suppressed"}));
  EXPECT_EQ(events[1].details.at("reason").as_string(), a.error);
  EXPECT_EQ(events[1].details.at("purpose"), "status_update");
  EXPECT_EQ(events[1].description, "WhatsApp message not sent: status update");
}

TEST(Timeline, FailuresAndDeadMessages) {
  OutboxMessage m;
  m.id = 1;
  m.created_at = 10;
  m.status = "dead";
  m.last_error = "HTTP 400";
  const auto events =
      build_timeline({audit(5, "status_changed", "status", "pending_los", "los_failed"),
                      audit(20, "status_changed", "status", "flash_pending", "flash_failed")},
                     {m}, {}, [](const OutboxMessage&) { return std::string(); });
  EXPECT_EQ(names(events), (std::vector<std::string>{"partner_submission_failed", "whatsapp_queued",
                                                     "whatsapp_failed", "lead_flash_failed"}));
  EXPECT_EQ(events[1].description, "WhatsApp message queued: notification");
}

RmRow rm(std::int64_t id, const std::string& key) {
  RmRow r;
  r.id = id;
  r.name = key;
  r.name_key = key;
  r.location = "Branch " + key;
  return r;
}

AppointmentRow booked(std::int64_t rm_id, std::int64_t slot) {
  AppointmentRow a;
  a.rm_id = rm_id;
  a.slot_start = slot;
  return a;
}

TEST(RankFreeRms, FreeOnesFewestThatDayThenOverallThenName) {
  const CivilDate day{2026, 3, 3};
  const auto s10 = slot_start_utc_ms(day, 600);
  const auto s11 = slot_start_utc_ms(day, 660);
  const auto next_day = slot_start_utc_ms({2026, 3, 4}, 600);
  const std::vector<RmRow> roster{rm(1, "asha"), rm(2, "bala"), rm(3, "chitra")};
  // asha: busy at 10:00; bala: one that day; chitra: none that day but two later.
  const std::vector<AppointmentRow> taken{booked(1, s10), booked(2, s11), booked(3, next_day),
                                          booked(3, next_day + 1'800'000)};
  auto ranked = rank_free_rms(roster, taken, s10, day);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0]->id, 3);
  EXPECT_EQ(ranked[1]->id, 2);
  // At 12:00 everyone is free: asha and bala have one that day; asha's total is lower? equal
  // (1 each) -> by name.
  ranked = rank_free_rms(roster, taken, slot_start_utc_ms(day, 720), day);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0]->id, 3);
  EXPECT_EQ(ranked[1]->id, 1);
  EXPECT_EQ(ranked[2]->id, 2);
  EXPECT_TRUE(rank_free_rms({}, taken, s10, day).empty());
}

TEST(AppointmentIcs, RequiredPropertiesCrlfAndFolding) {
  AppointmentRow a;
  a.id = "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c";
  a.slot_start = slot_start_utc_ms({2026, 3, 3}, 18 * 60);  // 6:00 PM IST = 12:30 UTC
  a.slot_minutes = 30;
  RmRow r = rm(1, "John Smith");
  r.location = "Shop 4, Andheri; Mumbai, a rather long branch address that needs folding";
  EnvironmentConfig env;
  env.brand_name = "Orbit";
  env.support_phone = "1800-000";
  const std::string ics = appointment_ics(a, r, "9876500001", "B002BJF", env, 0);
  EXPECT_NE(ics.find("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"), std::string::npos);
  EXPECT_NE(ics.find("\r\nUID:3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c@leadgate\r\n"),
            std::string::npos);
  EXPECT_NE(ics.find("\r\nDTSTART:20260303T123000Z\r\n"), std::string::npos);
  EXPECT_NE(ics.find("\r\nDTEND:20260303T130000Z\r\n"), std::string::npos);
  EXPECT_NE(ics.find("\r\nDTSTAMP:19700101T000000Z\r\n"), std::string::npos);
  EXPECT_NE(ics.find("\r\nSTATUS:CONFIRMED\r\n"), std::string::npos);
  EXPECT_NE(ics.find("LOCATION:Shop 4\\, Andheri\\; Mumbai"), std::string::npos);
  EXPECT_TRUE(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
  std::size_t start = 0;
  while (start < ics.size()) {
    const auto end = ics.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 75u);
    start = end + 2;
  }
  a.status = "cancelled";
  const std::string cancelled = appointment_ics(a, r, "9876500001", "B002BJF", env, 0);
  EXPECT_NE(cancelled.find("\r\nSTATUS:CANCELLED\r\n"), std::string::npos);
  EXPECT_NE(cancelled.find("\r\nMETHOD:CANCEL\r\n"), std::string::npos);
}

}  // namespace
}  // namespace leadgate
