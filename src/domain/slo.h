#pragma once
// The service-level objectives of api-wireframes "Response Time Targets": which routes each
// covers, the latency threshold and the share of requests that must meet it. The dashboard
// (services/dashboard.cpp) and docs/prometheus use the same sets; load shedding
// (http/middleware.h) refuses a request whose queue wait alone would exceed its route's threshold.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leadgate {

struct SloDef {
  const char* name;
  std::vector<std::string> routes;
  double threshold;  // seconds
  double objective;  // e.g. 0.995
};

inline const std::vector<SloDef>& slo_defs() {
  static const std::vector<SloDef> defs{
      {"OTP send/verify",
       {"/api_v1/otp_send", "/api_v1/otp_verify", "/api_v1/otp_resend"},
       2,
       0.995},
      {"Lead creation", {"/api_v1/create_lead"}, 5, 0.99},
      {"Status lookup", {"/api_v1/lead_status", "/api_v1/track_application"}, 3, 0.995},
      {"WhatsApp webhook",
       {"/api_v1/whatsapp/webhook", "/api_v1/whatsapp/webhook/{token}"},
       1,
       0.999},
  };
  return defs;
}

// The latency threshold (seconds) of the objective that covers `route`, if one does.
inline std::optional<double> slo_threshold(std::string_view route) {
  for (const auto& def : slo_defs()) {
    for (const auto& r : def.routes) {
      if (r == route) return def.threshold;
    }
  }
  return std::nullopt;
}

}  // namespace leadgate
