#include "api/tracking.h"

#include "api/leads.h"
#include "http/middleware.h"
#include "http/problem.h"
#include "services/lead_records.h"

namespace leadgate {
namespace {

template <class Request, class Parse>
Request parsed_or_422(Parse&& result) {
  if (auto* errors = std::get_if<std::vector<FieldError>>(&result)) throw_field_errors(*errors);
  return std::get<Request>(std::move(result));
}

// A JSON request's environment and its body as `parse` reads it (a 422 with the field errors).
template <class Parsed>
struct ParsedBody {
  Parsed request;
  std::string environment;
};

template <class Parsed, class Parse>
ParsedBody<Parsed> parse_body(const Request& req, RequestContext& ctx, Parse&& parse) {
  const auto body = parse_json_object(req);
  std::string environment = resolve_environment(body, ctx);
  return {parsed_or_422<Parsed>(parse(body)), std::move(environment)};
}

}  // namespace

Handler lead_status_handler(ApplicationTracker& tracker) {
  return [&tracker](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] =
        parse_body<LeadStatusRequest>(req, ctx, parse_lead_status_request);
    co_return json_response(req, http::status::ok,
                            co_await tracker.lead_status(request, environment, ctx.customer, ctx));
  };
}

Handler track_application_handler(ApplicationTracker& tracker) {
  return [&tracker](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] = parse_body<TrackRequest>(req, ctx, parse_track_request);
    co_return json_response(req, http::status::ok,
                            co_await tracker.track(request, environment, ctx.customer, ctx));
  };
}

Handler book_appointment_handler(AppointmentBook& book, const Config& config) {
  return [&book, &config](const Request& req,
                          RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto body = parse_json_object(req);
    const std::string environment = resolve_environment(body, ctx);
    const auto request = parsed_or_422<BookingRequest>(
        parse_booking_request(body, now_ms(), config.env(environment).business_hours));
    const auto done = co_await book.book(request, environment, ctx.customer, ctx);
    const std::string& id = done.appointment.id;
    co_return json_response(
        req, http::status::ok,
        boost::json::object{{"success", true},
                            {"message", "Appointment booked successfully"},
                            {"basic_app_id", done.basic_application_id},
                            {"appointment_id", id},
                            {"appointment_details", appointment_details(done.appointment, done.rm)},
                            {"calendar_url", "/api_v1/appointments/" + id + ".ics"}});
  };
}

Handler cancel_appointment_handler(AppointmentBook& book) {
  return [&book](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto [request, environment] = parse_body<CancelRequest>(req, ctx, parse_cancel_request);
    const auto done = co_await book.cancel(request, environment, ctx.customer, ctx);
    co_return json_response(req, http::status::ok,
                            boost::json::object{{"success", true},
                                                {"message", "Appointment cancelled successfully"},
                                                {"appointment_id", done.appointment.id},
                                                {"basic_app_id", done.basic_application_id},
                                                {"status", "cancelled"},
                                                {"appointment_details",
                                                 appointment_details(done.appointment, done.rm)}});
  };
}

Handler appointment_slots_handler(AppointmentBook& book) {
  return [&book](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const auto query = query_object(req);
    const std::string environment = resolve_environment(query, ctx);
    std::vector<FieldError> errors;
    std::optional<CivilDate> date;
    const auto* d = query.if_contains("date");
    if (!d) {
      errors.push_back({"date", "date is required (DD-MM-YYYY)"});
    } else if (date = parse_dd_mm_yyyy(d->as_string()); !date) {
      errors.push_back({"date", "date must be a real date in the format DD-MM-YYYY"});
    }
    std::optional<RmName> rm;
    if (const auto* r = query.if_contains("rm_name"); r && !r->as_string().empty()) {
      rm = normalize_rm_name(r->as_string());
      if (!rm) errors.push_back({"rm_name", "rm_name must be at most 100 characters of text"});
    }
    if (!errors.empty()) throw_field_errors(errors);
    const auto day = co_await book.slots(*date, rm, environment);
    boost::json::array slots;
    for (const auto& slot : day.slots) {
      boost::json::array free;
      for (const auto& r : slot.rms) free.push_back(rm_json(r));
      slots.push_back(
          {{"time", format_clock_12h(slot.minute)}, {"available_rms", std::move(free)}});
    }
    boost::json::object body{{"success", true},
                             {"environment", environment},
                             {"date", format_dd_mm_yyyy(*date)},
                             {"business_hours", day.business_hours},
                             {"slot_minutes", day.slot_minutes},
                             {"slots", slots}};
    if (day.note) body["note"] = *day.note;
    co_return json_response(req, http::status::ok, body);
  };
}

Handler appointment_ics_handler(AppointmentBook& book) {
  return [&book](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const std::string file = ctx.path_params["file"];
    constexpr std::string_view kSuffix = ".ics";
    if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) {
      throw ApiError(404, "NOT_FOUND",
                     "No such appointment file; use /api_v1/appointments/<id>.ics");
    }
    const std::string id = file.substr(0, file.size() - kSuffix.size());
    auto calendar = co_await book.ics(id, ctx.caller, ctx.customer);
    ctx.environment = calendar.environment;  // for the access log
    auto res = text_response(req, http::status::ok, std::move(calendar.ics),
                             "text/calendar; charset=utf-8");
    res.set(http::field::content_disposition,
            "attachment; filename=\"appointment-" + id + ".ics\"");
    co_return res;
  };
}

}  // namespace leadgate
