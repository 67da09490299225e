#pragma once
// book_appointment, appointment_slots, cancel_appointment and the .ics export (api-wireframes 3,
// docs/api.md "Appointments"). The database's unique index over booked (RM, slot) rows is what
// prevents double booking; this layer picks the RM and explains refusals.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/offload.h"
#include "crypto/crypto.h"
#include "domain/tracking_requests.h"
#include "jobs/outbox_dispatcher.h"
#include "store/store.h"

namespace leadgate {

struct RequestContext;

// The RMs of `roster` free at slot_start (no booked appointment in `booked` for it), best first:
// fewest booked appointments on `day` (IST), then fewest in all of `booked`, then by name_key.
std::vector<const RmRow*> rank_free_rms(const std::vector<RmRow>& roster,
                                        const std::vector<AppointmentRow>& booked,
                                        std::int64_t slot_start, CivilDate day);

// {appointment_id, date, time, rm_name, location, duration_minutes, timezone, status}.
boost::json::object appointment_details(const AppointmentRow& appointment, const RmRow& rm);

// The appointment as an RFC 5545 calendar (CRLF lines, folded at 75 octets). `now` is DTSTAMP.
std::string appointment_ics(const AppointmentRow& appointment, const RmRow& rm,
                            const std::string& rm_phone, const std::string& basic_application_id,
                            const EnvironmentConfig& env, std::int64_t now);

// Blocking (call through BlockingPool): the lead's booked appointment and its RM, if any.
struct ActiveAppointment {
  AppointmentRow appointment;
  RmRow rm;
};
std::optional<ActiveAppointment> active_appointment(Store& store, const std::string& environment,
                                                    const std::string& lead_ref);

class AppointmentBook {
 public:
  AppointmentBook(Store& store, BlockingPool& pool, const PiiCipher& cipher, const Config& config,
                  OutboxDispatcher& outbox)
      : store_(store), pool_(pool), cipher_(cipher), config_(config), outbox_(outbox) {}

  boost::asio::awaitable<boost::json::object> book(const BookingRequest& req,
                                                   const std::string& environment,
                                                   RequestContext& ctx);
  boost::asio::awaitable<boost::json::object> slots(CivilDate date, const std::optional<RmName>& rm,
                                                    const std::string& environment,
                                                    RequestContext& ctx);
  boost::asio::awaitable<boost::json::object> cancel(const CancelRequest& req,
                                                     const std::string& environment,
                                                     RequestContext& ctx);
  // 404 unless the appointment exists in an environment the caller's key is scoped for.
  boost::asio::awaitable<std::string> ics(const std::string& appointment_id, RequestContext& ctx);

 private:
  Store& store_;
  BlockingPool& pool_;
  const PiiCipher& cipher_;
  const Config& config_;
  OutboxDispatcher& outbox_;
};

}  // namespace leadgate
