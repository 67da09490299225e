#pragma once
// The request bodies of the tracking and appointment APIs (issue 6), validated field by field
// with create_lead's conventions (detail::FieldReader): every invalid field is reported at once,
// named. The environment is resolved by the handler before these run. Pure: "now" and the
// calendar are parameters.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/lead_validation.h"
#include "domain/slot_calendar.h"

namespace leadgate {

// A basic_application_id as the LOS issues them: 1-40 ASCII letters and digits (trimmed).
bool is_basic_application_id(std::string_view text);

struct LeadStatusRequest {
  std::optional<std::string> mobile;  // normalised, 10 digits
  std::optional<std::string> basic_application_id;
  bool notify = false;
};
// {mobile_number?, basic_application_id?, notify?}: at least one identifier ("mobile_number" is
// named when neither is given).
std::variant<LeadStatusRequest, std::vector<FieldError>> parse_lead_status_request(
    const boost::json::object& body);

struct TrackRequest {
  std::string mobile;
  std::optional<std::string> application_id;  // a basic_application_id, or a UUID (lower-cased)
};
std::variant<TrackRequest, std::vector<FieldError>> parse_track_request(
    const boost::json::object& body);

inline constexpr std::size_t kMaxRmNameChars = 100;

// An RM name as typed and its lookup key: trimmed, runs of whitespace as one space; the key is
// that, lower-cased (ASCII). nullopt when empty or longer than kMaxRmNameChars characters.
struct RmName {
  std::string display;
  std::string key;
};
std::optional<RmName> normalize_rm_name(std::string_view text);

struct BookingRequest {
  std::string reference_id;  // lower-cased UUID
  CivilDate date;
  int minute = 0;  // IST minutes after midnight
  std::optional<RmName> rm;
};
// {reference_id, date "DD-MM-YYYY", time "H:MM AM", rm_name?}, and the slot checked against the
// calendar at `now`: a problem with the time of day names "time" (off the grid, outside hours,
// already started today), one with the day names "date" (closed day, holiday, a past day, beyond
// the booking window).
std::variant<BookingRequest, std::vector<FieldError>> parse_booking_request(
    const boost::json::object& body, std::int64_t now_utc_ms, const BusinessHours& hours);

struct CancelRequest {
  std::string appointment_id;  // lower-cased UUID
  std::optional<std::string> reason;
};
inline constexpr std::size_t kMaxCancelReasonChars = 200;
std::variant<CancelRequest, std::vector<FieldError>> parse_cancel_request(
    const boost::json::object& body);

}  // namespace leadgate
