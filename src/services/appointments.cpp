#include "services/appointments.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <string_view>

#include "core/log.h"
#include "domain/application_progress.h"
#include "domain/rolling_window.h"
#include "services/customer_tokens.h"
#include "services/lead_records.h"

namespace leadgate {
namespace {

constexpr std::size_t kAlternatives = 5;
constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

std::int64_t day_start_utc(CivilDate day) {
  return slot_start_utc_ms(day, 0);
}

std::string rm_phone(const PiiCipher& cipher, const RmRow& rm) {
  return cipher.open("rm_phone", rm.phone_enc);
}

const RmRow* find_rm_by_key(const std::vector<RmRow>& roster, const std::string& key) {
  for (const auto& rm : roster) {
    if (rm.name_key == key) return &rm;
  }
  return nullptr;
}

bool rm_booked_at(const std::vector<AppointmentRow>& booked, std::int64_t rm_id,
                  std::int64_t slot_start) {
  return std::any_of(booked.begin(), booked.end(), [&](const AppointmentRow& a) {
    return a.rm_id == rm_id && a.slot_start == slot_start;
  });
}

// Bookings and cancellations message the customer and the RM: at most `max` of each per lead in
// a rolling 24 h (LEADGATE_BOOKINGS_PER_LEAD_PER_DAY), counted from the lead's stored
// appointments, so the limit holds across instances and restarts. Concurrent requests cannot
// pass it together: a lead has at most one booked appointment (the store's unique rule), so
// bookings and cancellations alternate. `what`: "bookings" | "cancellations".
void enforce_daily_limit(const std::vector<AppointmentRow>& history, const char* what, int max,
                         std::int64_t now) {
  const bool bookings = std::string_view(what) == "bookings";
  std::vector<std::int64_t> times;
  for (const auto& a : history) {
    if (bookings) {
      times.push_back(a.created_at);
    } else if (a.cancelled_at > 0) {
      times.push_back(a.cancelled_at);
    }
  }
  const WindowDecision d = check_rolling_window(times, now, kDayMs, max);
  if (d.allowed) return;
  const auto seconds = static_cast<int>((d.retry_after_ms + 999) / 1000);
  throw ApiError(429, "RATE_LIMITED",
                 "This application already had " + std::to_string(max) + " " + what +
                     " in the last 24 hours; retry in " + std::to_string(seconds) + " seconds",
                 {}, seconds);
}

}  // namespace

boost::json::object rm_json(const RmRow& rm) {
  return {{"name", rm.name}, {"location", rm.location}};
}

std::vector<const RmRow*> rank_free_rms(const std::vector<RmRow>& roster,
                                        const std::vector<AppointmentRow>& booked,
                                        std::int64_t slot_start, CivilDate day) {
  const std::int64_t from = day_start_utc(day);
  const std::int64_t to = day_start_utc(add_days(day, 1));
  std::map<std::int64_t, std::pair<int, int>> load;  // rm id -> (that day, all)
  for (const auto& a : booked) {
    auto& l = load[a.rm_id];
    if (a.slot_start >= from && a.slot_start < to) ++l.first;
    ++l.second;
  }
  std::vector<const RmRow*> out;
  for (const auto& rm : roster) {
    if (rm.active && !rm_booked_at(booked, rm.id, slot_start)) out.push_back(&rm);
  }
  std::sort(out.begin(), out.end(), [&](const RmRow* a, const RmRow* b) {
    const auto la = load[a->id];
    const auto lb = load[b->id];
    if (la != lb) return la < lb;
    return a->name_key < b->name_key;
  });
  return out;
}

boost::json::object appointment_details(const AppointmentRow& a, const RmRow& rm) {
  return {{"appointment_id", a.id},
          {"date", format_dd_mm_yyyy(ist_date(a.slot_start))},
          {"time", format_clock_12h(ist_minute_of_day(a.slot_start))},
          {"rm_name", rm.name},
          {"location", rm.location},
          {"duration_minutes", a.slot_minutes},
          {"timezone", "Asia/Kolkata"},
          {"status", a.status}};
}

std::string appointment_ics(const AppointmentRow& a, const RmRow& rm, const std::string& phone,
                            const std::string& basic_application_id, const EnvironmentConfig& env,
                            std::int64_t now) {
  const bool cancelled = a.status == "cancelled";
  const std::vector<std::string> lines{
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//leadgate//appointments//EN",
      "CALSCALE:GREGORIAN",
      cancelled ? "METHOD:CANCEL" : "METHOD:PUBLISH",
      "BEGIN:VEVENT",
      "UID:" + a.id + "@leadgate",
      "DTSTAMP:" + ics_utc(now),
      "DTSTART:" + ics_utc(a.slot_start),
      "DTEND:" + ics_utc(a.slot_start + static_cast<std::int64_t>(a.slot_minutes) * 60'000),
      std::string("SEQUENCE:") + (cancelled ? "1" : "0"),
      std::string("STATUS:") + (cancelled ? "CANCELLED" : "CONFIRMED"),
      "SUMMARY:" + ics_escape(env.brand_name + " loan appointment with " + rm.name),
      "LOCATION:" + ics_escape(rm.location),
      "DESCRIPTION:" +
          ics_escape("Application " + basic_application_id + ". Relationship manager: " + rm.name +
                     " (" + phone + ")." +
                     (env.support_phone.empty() ? "" : " Support: " + env.support_phone + ".")),
      "END:VEVENT",
      "END:VCALENDAR"};
  std::string out;
  for (const auto& line : lines) out += ics_fold(line) + "\r\n";
  return out;
}

std::optional<ActiveAppointment> active_appointment(AppointmentStore& store,
                                                    const std::string& environment,
                                                    const std::string& lead_ref) {
  for (const auto& a : store.appointments_for_lead(environment, lead_ref)) {
    if (a.status != "booked") continue;
    if (auto rm = store.find_rm(a.rm_id)) return ActiveAppointment{a, *rm};
  }
  return std::nullopt;
}

struct AppointmentBook::Booking {
  const BookingRequest& req;
  const std::string& environment;
  const EnvironmentConfig& env;
  LeadRow lead;
  std::vector<RmRow> roster;
  LeadInput customer;
  const RmRow* named = nullptr;  // the RM asked for (in `roster`), if any
  std::int64_t slot = 0;         // UTC ms
};

boost::asio::awaitable<LeadAppointment> AppointmentBook::book(const BookingRequest& req,
                                                              const std::string& environment,
                                                              const CustomerAccess& access,
                                                              const Trace& trace) {
  const auto& env = deps_.config.env(environment);
  const CivilDate today = ist_date(now_ms());
  const std::int64_t window_from = day_start_utc(today);
  const std::int64_t window_to =
      day_start_utc(add_days(today, env.business_hours.max_days_ahead + 1));
  struct Loaded {
    std::optional<LeadRow> lead;
    std::vector<RmRow> roster;
    std::optional<ActiveAppointment> existing;
    std::vector<AppointmentRow> history;
  };
  auto loaded = co_await deps_.pool.run([&] {
    Loaded l;
    l.lead = leads_.find_lead_by_reference(environment, req.reference_id);
    if (l.lead) {
      l.roster = appointments_.list_rms(environment);
      l.existing = active_appointment(appointments_, environment, req.reference_id);
      l.history = appointments_.appointments_for_lead(environment, req.reference_id);
    }
    return l;
  });
  if (!loaded.lead) {
    throw ApiError(404, "NOT_FOUND", "No lead " + req.reference_id + " in " + environment);
  }
  require_customer(access, environment, loaded.lead->mobile_bidx);
  Booking b{req, environment, env, std::move(*loaded.lead), std::move(loaded.roster),
            {},  nullptr,     0};
  if (b.lead.basic_application_id.empty()) {
    ApiError e(409, "INVALID_STATE",
               "The application has not been accepted by the loan system yet (status '" +
                   b.lead.status + "'); book once it has a basic_application_id");
    e.extra = {{"application_status", b.lead.status}};
    throw e;
  }
  auto exists = [&](const ActiveAppointment& a) {
    ApiError e(409, "APPOINTMENT_EXISTS",
               "This application already has a booked appointment; cancel it first to rebook");
    e.extra = {{"appointment", appointment_details(a.appointment, a.rm)},
               {"basic_app_id", b.lead.basic_application_id}};
    return e;
  };
  if (loaded.existing) throw exists(*loaded.existing);
  if (req.rm) {
    b.named = find_rm_by_key(b.roster, req.rm->key);
    if (!b.named) {
      throw_field_errors({{"rm_name", "No relationship manager named '" + req.rm->display +
                                          "' in " + environment}});
    }
  }
  enforce_daily_limit(loaded.history, "bookings", deps_.config.bookings_per_lead_per_day, now_ms());
  b.slot = slot_start_utc_ms(req.date, req.minute);
  b.customer = open_lead(b.lead, deps_.cipher);
  for (int round = 0; round < 3; ++round) {
    auto booked = co_await deps_.pool.run(
        [&] { return appointments_.booked_appointments(environment, window_from, window_to); });
    std::vector<const RmRow*> candidates;
    if (b.named) {
      if (!rm_booked_at(booked, b.named->id, b.slot)) candidates.push_back(b.named);
    } else {
      candidates = rank_free_rms(b.roster, booked, b.slot, req.date);
    }
    if (candidates.empty()) throw unavailable(b, booked);
    bool lost_race = false;
    for (const RmRow* rm : candidates) {
      const AppointmentWrite w = booking_write(b, *rm, trace);
      const BookOutcome outcome =
          co_await deps_.pool.run([&] { return appointments_.book_appointment(w); });
      if (outcome == BookOutcome::booked) {
        notify_outbox_();
        log_info("appointment_booked", {{"request_id", trace.request_id},
                                        {"environment", environment},
                                        {"reference_id", b.lead.reference_id},
                                        {"appointment_id", w.appointment.id},
                                        {"rm_id", rm->id},
                                        {"slot", iso_utc(b.slot)}});
        co_return LeadAppointment{b.lead.basic_application_id, w.appointment, *rm};
      }
      if (outcome == BookOutcome::lead_has_appointment) {
        auto again = co_await deps_.pool.run(
            [&] { return active_appointment(appointments_, environment, b.lead.reference_id); });
        if (again) throw exists(*again);
        lost_race = true;  // cancelled meanwhile: try again
        break;
      }
      lost_race = true;  // slot_taken: a concurrent booking won this RM; try the next one
      if (b.named) break;
    }
    if (!lost_race) break;
  }
  auto booked = co_await deps_.pool.run(
      [&] { return appointments_.booked_appointments(environment, window_from, window_to); });
  throw unavailable(b, booked);
}

AppointmentWrite AppointmentBook::booking_write(const Booking& b, const RmRow& rm,
                                                const Trace& trace) const {
  AppointmentWrite w;
  auto& a = w.appointment;
  a.id = uuid_v4();
  a.environment = b.environment;
  a.lead_ref = b.lead.reference_id;
  a.rm_id = rm.id;
  a.slot_start = b.slot;
  a.slot_minutes = b.env.business_hours.slot_minutes;
  a.request_id = trace.request_id;
  a.created_at = now_ms();
  const std::string date = format_dd_mm_yyyy(b.req.date);
  const std::string time = format_clock_12h(b.req.minute);
  AuditEntry audit;
  audit.environment = b.environment;
  audit.operation = "appointment_booked";
  audit.field = "appointment";
  audit.new_value = boost::json::serialize(appointment_details(a, rm));
  w.audit = stamp_audit({audit}, trace, b.lead.reference_id);
  const LeadInput& customer = b.customer;
  w.outbox.push_back(whatsapp_template_message(
      deps_.cipher, b.environment, b.lead.reference_id, customer.mobile,
      b.env.templates.at("appointment_confirmation"),
      {customer.first_name, date, time, rm.name, rm.location}, a.created_at));
  w.outbox.push_back(
      whatsapp_template_message(deps_.cipher, b.environment, b.lead.reference_id,
                                rm_phone(deps_.cipher, rm), b.env.templates.at("rm_appointment"),
                                {rm.name, customer.first_name + " " + customer.last_name,
                                 customer.mobile, b.lead.basic_application_id, date, time},
                                a.created_at, Recipient::staff));
  return w;
}

ApiError AppointmentBook::unavailable(const Booking& b,
                                      const std::vector<AppointmentRow>& booked) const {
  const auto now = now_ms();
  const auto& hours = b.env.business_hours;
  const auto& req = b.req;
  boost::json::array next;
  boost::json::array free_now;
  if (b.named) {
    const auto taken = [&](CivilDate d, int m) {
      return rm_booked_at(booked, b.named->id, slot_start_utc_ms(d, m));
    };
    for (const auto& [d, m] :
         next_free_slots(req.date, req.minute, now, hours, taken, kAlternatives)) {
      next.push_back({{"date", format_dd_mm_yyyy(d)},
                      {"time", format_clock_12h(m)},
                      {"rm_name", b.named->name}});
    }
    for (const RmRow* rm : rank_free_rms(b.roster, booked, b.slot, req.date)) {
      free_now.push_back(rm_json(*rm));
    }
  } else {
    const auto taken = [&](CivilDate d, int m) {
      return rank_free_rms(b.roster, booked, slot_start_utc_ms(d, m), d).empty();
    };
    for (const auto& [d, m] :
         next_free_slots(req.date, req.minute, now, hours, taken, kAlternatives)) {
      const auto best = rank_free_rms(b.roster, booked, slot_start_utc_ms(d, m), d);
      next.push_back({{"date", format_dd_mm_yyyy(d)},
                      {"time", format_clock_12h(m)},
                      {"rm_name", best.front()->name}});
    }
  }
  ApiError e(409, "SLOT_UNAVAILABLE",
             b.roster.empty() ? "No relationship managers are on the " + b.environment + " roster"
             : b.named ? b.named->name + " is not free on " + format_dd_mm_yyyy(req.date) + " at " +
                             format_clock_12h(req.minute)
                       : "No relationship manager is free on " + format_dd_mm_yyyy(req.date) +
                             " at " + format_clock_12h(req.minute));
  e.extra = {{"next_free_slots", next}, {"available_rms", free_now}};
  return e;
}

boost::asio::awaitable<DaySlots> AppointmentBook::slots(CivilDate date,
                                                        const std::optional<RmName>& rm,
                                                        const std::string& environment) {
  const auto& hours = deps_.config.env(environment).business_hours;
  const auto from = day_start_utc(date);
  const auto to = day_start_utc(add_days(date, 1));
  struct Loaded {
    std::vector<RmRow> roster;
    std::vector<AppointmentRow> booked;
  };
  auto loaded = co_await deps_.pool.run([&] {
    return Loaded{appointments_.list_rms(environment),
                  appointments_.booked_appointments(environment, from, to)};
  });
  const RmRow* named = nullptr;
  if (rm) {
    named = find_rm_by_key(loaded.roster, rm->key);
    if (!named) {
      throw_field_errors(
          {{"rm_name", "No relationship manager named '" + rm->display + "' in " + environment}});
    }
  }
  const auto now = now_ms();
  DaySlots day{describe_business_hours(hours), hours.slot_minutes, {}, std::nullopt};
  for (int minute : slots_of_day(date, now, hours)) {
    const auto start = slot_start_utc_ms(date, minute);
    FreeSlot free{minute, {}};
    for (const RmRow* r : rank_free_rms(loaded.roster, loaded.booked, start, date)) {
      if (!named || r == named) free.rms.push_back(*r);
    }
    if (!free.rms.empty()) day.slots.push_back(std::move(free));
  }
  if (day.slots.empty()) {
    const SlotProblem problem = check_slot(date, hours.open_minute, now, hours);
    day.note = problem == SlotProblem::none || problem == SlotProblem::in_past
                   ? (date == ist_date(now) || problem == SlotProblem::in_past
                          ? std::string("No free slots are left on this day")
                          : std::string("Every slot of this day is booked"))
                   : slot_problem_message(problem, hours);
    if (loaded.roster.empty()) {
      day.note = "No relationship managers are on the " + environment + " roster";
    }
  }
  co_return day;
}

boost::asio::awaitable<LeadAppointment> AppointmentBook::cancel(const CancelRequest& req,
                                                                const std::string& environment,
                                                                const CustomerAccess& access,
                                                                const Trace& trace) {
  struct Loaded {
    std::optional<AppointmentRow> appointment;
    std::optional<RmRow> rm;
    std::optional<LeadRow> lead;
    std::vector<AppointmentRow> history;
  };
  auto loaded = co_await deps_.pool.run([&] {
    Loaded l;
    l.appointment = appointments_.find_appointment(req.appointment_id);
    if (l.appointment && l.appointment->environment == environment) {
      l.rm = appointments_.find_rm(l.appointment->rm_id);
      l.lead = leads_.find_lead_by_reference(environment, l.appointment->lead_ref);
      l.history = appointments_.appointments_for_lead(environment, l.appointment->lead_ref);
    }
    return l;
  });
  if (!loaded.appointment || loaded.appointment->environment != environment || !loaded.rm ||
      !loaded.lead) {
    throw ApiError(404, "NOT_FOUND", "No appointment " + req.appointment_id + " in " + environment);
  }
  const auto& a = *loaded.appointment;
  const auto& rm = *loaded.rm;
  const auto& lead = *loaded.lead;
  require_customer(access, environment, lead.mobile_bidx);
  const auto now = now_ms();
  const auto details = appointment_details(a, rm);
  if (a.status != "booked") {
    ApiError e(409, "APPOINTMENT_NOT_ACTIVE", "The appointment is already " + a.status);
    e.extra = {{"appointment", details}};
    throw e;
  }
  if (a.slot_start <= now) {
    ApiError e(409, "APPOINTMENT_STARTED", "The appointment has already started");
    e.extra = {{"appointment", details}};
    throw e;
  }
  enforce_daily_limit(loaded.history, "cancellations", deps_.config.bookings_per_lead_per_day, now);
  const auto& env = deps_.config.env(environment);
  const LeadInput customer = open_lead(lead, deps_.cipher);
  const std::string date = details.at("date").as_string().c_str();
  const std::string time = details.at("time").as_string().c_str();
  AuditEntry audit;
  audit.environment = environment;
  audit.operation = "appointment_cancelled";
  audit.field = "appointment";
  audit.old_value = boost::json::serialize(details);
  audit.new_value = "cancelled";
  const auto audits = stamp_audit({audit}, trace, lead.reference_id);
  std::vector<OutboxMessage> messages{
      whatsapp_template_message(deps_.cipher, environment, lead.reference_id, customer.mobile,
                                env.templates.at("appointment_cancelled"),
                                {customer.first_name, date, time}, now),
      whatsapp_template_message(deps_.cipher, environment, lead.reference_id,
                                rm_phone(deps_.cipher, rm),
                                env.templates.at("rm_appointment_cancelled"),
                                {rm.name, customer.first_name + " " + customer.last_name,
                                 lead.basic_application_id, date, time},
                                now, Recipient::staff)};
  const std::string reason = req.reason.value_or("");
  const bool cancelled = co_await deps_.pool.run(
      [&] { return appointments_.cancel_appointment(a.id, now, reason, audits, messages); });
  if (!cancelled) {
    ApiError e(409, "APPOINTMENT_NOT_ACTIVE", "The appointment is no longer booked");
    e.extra = {{"appointment", details}};
    throw e;
  }
  notify_outbox_();
  log_info(
      "appointment_cancelled",
      {{"request_id", trace.request_id}, {"environment", environment}, {"appointment_id", a.id}});
  LeadAppointment done{lead.basic_application_id, a, rm};
  done.appointment.status = "cancelled";
  co_return done;
}

boost::asio::awaitable<AppointmentCalendar> AppointmentBook::ics(
    const std::string& appointment_id, const std::optional<Caller>& caller,
    const CustomerAccess& access) {
  struct Loaded {
    std::optional<AppointmentRow> appointment;
    std::optional<RmRow> rm;
    std::optional<LeadRow> lead;
  };
  const auto id = normalize_uuid(appointment_id);
  Loaded loaded;
  if (id) {
    loaded = co_await deps_.pool.run([&] {
      Loaded l;
      l.appointment = appointments_.find_appointment(*id);
      if (l.appointment && caller && caller->allows(l.appointment->environment)) {
        l.rm = appointments_.find_rm(l.appointment->rm_id);
        l.lead = leads_.find_lead_by_reference(l.appointment->environment, l.appointment->lead_ref);
      }
      return l;
    });
  }
  if (!loaded.appointment || !loaded.rm || !loaded.lead) {
    throw ApiError(404, "NOT_FOUND", "No such appointment");
  }
  const std::string& environment = loaded.appointment->environment;
  require_customer(access, environment, loaded.lead->mobile_bidx);
  co_return AppointmentCalendar{
      environment,
      appointment_ics(*loaded.appointment, *loaded.rm, rm_phone(deps_.cipher, *loaded.rm),
                      loaded.lead->basic_application_id, deps_.config.env(environment), now_ms())};
}

}  // namespace leadgate
