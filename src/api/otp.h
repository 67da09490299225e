#pragma once
// POST /api_v1/otp_send, /api_v1/otp_resend, /api_v1/otp_verify (api-wireframes 2) and
// GET /api_v1/consent/{token} (the link in the consent message; no API key).
#include "app/otp_service.h"
#include "http/types.h"

namespace leadgate {

Handler otp_send_handler(OtpService& otp);
Handler otp_resend_handler(OtpService& otp);
Handler otp_verify_handler(OtpService& otp);
Handler consent_page_handler(OtpService& otp);

}  // namespace leadgate
