#pragma once
// book_appointment, appointment_slots, cancel_appointment and the .ics export (api-wireframes 3,
// docs/api.md "Appointments"). The database's unique index over booked (RM, slot) rows is what
// prevents double booking; this layer picks the RM and explains refusals.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/trace.h"
#include "domain/tracking_requests.h"
#include "http/types.h"
#include "services/service_deps.h"
#include "store/store.h"

namespace leadgate {

// The RMs of `roster` free at slot_start (no booked appointment in `booked` for it), best first:
// fewest booked appointments on `day` (IST), then fewest in all of `booked`, then by name_key.
std::vector<const RmRow*> rank_free_rms(const std::vector<RmRow>& roster,
                                        const std::vector<AppointmentRow>& booked,
                                        std::int64_t slot_start, CivilDate day);

// {appointment_id, date, time, rm_name, location, duration_minutes, timezone, status}.
boost::json::object appointment_details(const AppointmentRow& appointment, const RmRow& rm);
// {name, location}: an RM as the slot lists show it.
boost::json::object rm_json(const RmRow& rm);

// The appointment as an RFC 5545 calendar (CRLF lines, folded at 75 octets). `now` is DTSTAMP.
std::string appointment_ics(const AppointmentRow& appointment, const RmRow& rm,
                            const std::string& rm_phone, const std::string& basic_application_id,
                            const EnvironmentConfig& env, std::int64_t now);

// Blocking (call through BlockingPool): the lead's booked appointment and its RM, if any.
struct ActiveAppointment {
  AppointmentRow appointment;
  RmRow rm;
};
std::optional<ActiveAppointment> active_appointment(AppointmentStore& store,
                                                    const std::string& environment,
                                                    const std::string& lead_ref);

// A booked or cancelled appointment (its row's status says which), its RM and its application.
struct LeadAppointment {
  std::string basic_application_id;
  AppointmentRow appointment;
  RmRow rm;
};

// One bookable slot of a day and the RMs free for it, best first.
struct FreeSlot {
  int minute = 0;  // IST minute of the day
  std::vector<RmRow> rms;
};

struct DaySlots {
  std::string business_hours;  // describe_business_hours
  int slot_minutes = 0;
  std::vector<FreeSlot> slots;
  std::optional<std::string> note;  // why there are none (only when `slots` is empty)
};

struct AppointmentCalendar {
  std::string environment;
  std::string ics;  // appointment_ics
};

class AppointmentBook {
 public:
  AppointmentBook(LeadStore& leads, AppointmentStore& appointments, const ServiceDeps& deps,
                  std::function<void()> notify_outbox)
      : leads_(leads),
        appointments_(appointments),
        deps_(deps),
        notify_outbox_(std::move(notify_outbox)) {}

  // Throw ApiError (404/409/422) unless booked / cancelled; 401/403 when `access` (an app
  // key's) does not prove the lead's mobile (services/customer_tokens.h).
  boost::asio::awaitable<LeadAppointment> book(const BookingRequest& req,
                                               const std::string& environment,
                                               const CustomerAccess& access, const Trace& trace);
  boost::asio::awaitable<DaySlots> slots(CivilDate date, const std::optional<RmName>& rm,
                                         const std::string& environment);
  boost::asio::awaitable<LeadAppointment> cancel(const CancelRequest& req,
                                                 const std::string& environment,
                                                 const CustomerAccess& access, const Trace& trace);
  // 404 unless the appointment exists in an environment the caller's key is scoped for; 401/403
  // as for book.
  boost::asio::awaitable<AppointmentCalendar> ics(const std::string& appointment_id,
                                                  const std::optional<Caller>& caller,
                                                  const CustomerAccess& access);

 private:
  struct Booking;  // what book() has loaded and decided so far
  // The write that books `rm` for the request's slot, with its audit and both messages.
  AppointmentWrite booking_write(const Booking& b, const RmRow& rm, const Trace& trace) const;
  // 409 SLOT_UNAVAILABLE with what could be booked instead, from `booked` (a fresh view).
  ApiError unavailable(const Booking& b, const std::vector<AppointmentRow>& booked) const;

  LeadStore& leads_;
  AppointmentStore& appointments_;
  ServiceDeps deps_;
  std::function<void()> notify_outbox_;  // wakes the outbox dispatcher: a message is due
};

}  // namespace leadgate
