#pragma once
// Section 3 of the wireframes: POST /api_v1/lead_status, /api_v1/track_application,
// /api_v1/book_appointment, /api_v1/cancel_appointment, GET /api_v1/appointment_slots and
// GET /api_v1/appointments/{file} ({id}.ics). Parse, resolve the environment, hand over.
#include "http/types.h"
#include "services/appointments.h"
#include "services/tracking.h"

namespace leadgate {

Handler lead_status_handler(ApplicationTracker& tracker);
Handler track_application_handler(ApplicationTracker& tracker);
Handler book_appointment_handler(AppointmentBook& book, const Config& config);
Handler cancel_appointment_handler(AppointmentBook& book);
Handler appointment_slots_handler(AppointmentBook& book);
Handler appointment_ics_handler(AppointmentBook& book);

}  // namespace leadgate
