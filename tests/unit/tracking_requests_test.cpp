#include "domain/tracking_requests.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace leadgate {
namespace {

boost::json::object body(const char* json) {
  return boost::json::parse(json).as_object();
}

template <class T>
std::vector<FieldError> errors_of(const std::variant<T, std::vector<FieldError>>& r) {
  if (auto* e = std::get_if<std::vector<FieldError>>(&r)) return *e;
  return {};
}

std::vector<std::string> fields(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

using Fields = std::vector<std::string>;

TEST(LeadStatusRequest, EitherIdentifier) {
  auto r = parse_lead_status_request(body(R"({"mobile_number": "+91 98765 43210"})"));
  ASSERT_TRUE(std::holds_alternative<LeadStatusRequest>(r));
  EXPECT_EQ(*std::get<LeadStatusRequest>(r).mobile, "9876543210");
  EXPECT_FALSE(std::get<LeadStatusRequest>(r).notify);

  r = parse_lead_status_request(body(R"({"basic_application_id": " B002BJF ", "notify": true})"));
  ASSERT_TRUE(std::holds_alternative<LeadStatusRequest>(r));
  EXPECT_EQ(*std::get<LeadStatusRequest>(r).basic_application_id, "B002BJF");
  EXPECT_TRUE(std::get<LeadStatusRequest>(r).notify);
}

TEST(LeadStatusRequest, ErrorsNameTheField) {
  EXPECT_EQ(fields(errors_of(parse_lead_status_request(body("{}")))), Fields{"mobile_number"});
  EXPECT_EQ(fields(errors_of(parse_lead_status_request(
                body(R"({"mobile_number": "", "basic_application_id": ""})")))),
            Fields{"mobile_number"});
  EXPECT_EQ(fields(errors_of(parse_lead_status_request(body(R"({"mobile_number": "12345"})")))),
            Fields{"mobile_number"});
  EXPECT_EQ(fields(errors_of(parse_lead_status_request(
                body(R"({"basic_application_id": "B00-2BJF", "notify": "yes"})")))),
            (Fields{"basic_application_id", "notify"}));
  EXPECT_EQ(fields(errors_of(parse_lead_status_request(body(
                R"({"basic_application_id": "B12345678901234567890123456789012345678901"})")))),
            Fields{"basic_application_id"});
}

TEST(TrackRequest, MobileRequiredApplicationIdEitherForm) {
  EXPECT_EQ(fields(errors_of(parse_track_request(body("{}")))), Fields{"mobile_number"});
  auto r = parse_track_request(body(
      R"({"mobile_number": "9876543210", "application_id": "3F1C2A9E-5B7D-4C1E-9A2B-8D6E4F3A2B1C"})"));
  ASSERT_TRUE(std::holds_alternative<TrackRequest>(r));
  EXPECT_EQ(*std::get<TrackRequest>(r).application_id, "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c");
  r = parse_track_request(body(R"({"mobile_number": "9876543210", "application_id": "B002BJF"})"));
  EXPECT_EQ(*std::get<TrackRequest>(r).application_id, "B002BJF");
  EXPECT_EQ(fields(errors_of(parse_track_request(
                body(R"({"mobile_number": "9876543210", "application_id": "B 002"})")))),
            Fields{"application_id"});
}

TEST(RmName, NormalisedAndBounded) {
  EXPECT_EQ(normalize_rm_name("  John   Smith ")->display, "John Smith");
  EXPECT_EQ(normalize_rm_name("  John \t SMITH ")->key, "john smith");
  EXPECT_FALSE(normalize_rm_name("   "));
  EXPECT_FALSE(normalize_rm_name("a\x01b"));
  EXPECT_TRUE(normalize_rm_name(std::string(100, 'x')));
  EXPECT_FALSE(normalize_rm_name(std::string(101, 'x')));
  EXPECT_TRUE(normalize_rm_name("Ä" + std::string(99, 'x')));  // characters, not bytes
}

// Monday 2 March 2026; "now" is Monday 10:05 IST (04:35 UTC).
constexpr std::int64_t kNow = 1'772'426'100'000;
const BusinessHours kHours{};

std::vector<FieldError> booking_errors(const std::string& date, const std::string& time,
                                       const char* extra = "") {
  const std::string json = R"({"reference_id": "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c", "date": ")" +
                           date + R"(", "time": ")" + time + "\"" + extra + "}";
  return errors_of(parse_booking_request(body(json.c_str()), kNow, kHours));
}

TEST(BookingRequest, NowIsWhatTheTestsAssume) {
  EXPECT_EQ(ist_date(kNow), (CivilDate{2026, 3, 2}));
  EXPECT_EQ(ist_minute_of_day(kNow), 10 * 60 + 5);
}

TEST(BookingRequest, ValidSlot) {
  auto r = parse_booking_request(
      body(R"({"reference_id": "3F1C2A9E-5B7D-4C1E-9A2B-8D6E4F3A2B1C", "date": "03-03-2026",
               "time": "6:30 PM", "rm_name": " John  Smith "})"),
      kNow, kHours);
  ASSERT_TRUE(std::holds_alternative<BookingRequest>(r));
  const auto& b = std::get<BookingRequest>(r);
  EXPECT_EQ(b.reference_id, "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c");
  EXPECT_EQ(b.date, (CivilDate{2026, 3, 3}));
  EXPECT_EQ(b.minute, 18 * 60 + 30);
  EXPECT_EQ(b.rm->key, "john smith");
}

TEST(BookingRequest, FormatsAreStrict) {
  EXPECT_EQ(fields(booking_errors("2026-03-03", "6:00 PM")), Fields{"date"});
  EXPECT_EQ(fields(booking_errors("3-3-2026", "6:00 PM")), Fields{"date"});
  EXPECT_EQ(fields(booking_errors("30-02-2026", "6:00 PM")), Fields{"date"});
  EXPECT_EQ(fields(booking_errors("03-03-2026", "18:00")), Fields{"time"});
  EXPECT_EQ(fields(booking_errors("03-03-2026", "6:00PM")), Fields{"time"});
  EXPECT_EQ(fields(booking_errors("03/03/2026", "6:00 pm")), (Fields{"date", "time"}));
  EXPECT_EQ(fields(errors_of(parse_booking_request(body("{}"), kNow, kHours))),
            (Fields{"reference_id", "date", "time"}));
  EXPECT_EQ(fields(errors_of(parse_booking_request(
                body(R"({"reference_id": "B002BJF", "date": "03-03-2026", "time": "6:00 PM",
                        "rm_name": 7})"),
                kNow, kHours))),
            (Fields{"reference_id", "rm_name"}));
}

TEST(BookingRequest, CalendarBoundaries) {
  EXPECT_TRUE(booking_errors("03-03-2026", "10:00 AM").empty());                // first slot
  EXPECT_TRUE(booking_errors("03-03-2026", "6:30 PM").empty());                 // last slot
  EXPECT_EQ(fields(booking_errors("03-03-2026", "9:30 AM")), Fields{"time"});   // before opening
  EXPECT_EQ(fields(booking_errors("03-03-2026", "7:00 PM")), Fields{"time"});   // ends after close
  EXPECT_EQ(fields(booking_errors("03-03-2026", "6:15 PM")), Fields{"time"});   // off the grid
  EXPECT_EQ(fields(booking_errors("08-03-2026", "11:00 AM")), Fields{"date"});  // Sunday
  // Today: 10:00 has started (now 10:05), 10:30 is free.
  EXPECT_EQ(fields(booking_errors("02-03-2026", "10:00 AM")), Fields{"time"});
  EXPECT_TRUE(booking_errors("02-03-2026", "10:30 AM").empty());
  EXPECT_EQ(fields(booking_errors("27-02-2026", "11:00 AM")), Fields{"date"});  // past day
  // 30 days ahead is the last bookable day (1 April 2026 is a Wednesday).
  EXPECT_TRUE(booking_errors("01-04-2026", "11:00 AM").empty());
  EXPECT_EQ(fields(booking_errors("02-04-2026", "11:00 AM")), Fields{"date"});
}

TEST(BookingRequest, Holidays) {
  BusinessHours hours;
  hours.holidays.push_back({2026, 3, 3});
  const auto r = parse_booking_request(
      body(R"({"reference_id": "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c", "date": "03-03-2026",
               "time": "11:00 AM"})"),
      kNow, hours);
  EXPECT_EQ(fields(errors_of(r)), Fields{"date"});
}

TEST(CancelRequest, IdAndReason) {
  auto r = parse_cancel_request(
      body(R"({"appointment_id": "3F1C2A9E-5B7D-4C1E-9A2B-8D6E4F3A2B1C", "reason": " travel "})"));
  ASSERT_TRUE(std::holds_alternative<CancelRequest>(r));
  EXPECT_EQ(std::get<CancelRequest>(r).appointment_id, "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c");
  EXPECT_EQ(*std::get<CancelRequest>(r).reason, "travel");
  EXPECT_EQ(fields(errors_of(parse_cancel_request(body("{}")))), Fields{"appointment_id"});
  const std::string long_reason =
      R"({"appointment_id": "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c", "reason": ")" +
      std::string(201, 'x') + "\"}";
  EXPECT_EQ(fields(errors_of(parse_cancel_request(body(long_reason.c_str())))), Fields{"reason"});
}

}  // namespace
}  // namespace leadgate
