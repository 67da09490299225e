#pragma once
// POST /api_v1/otp_send, /api_v1/otp_resend, /api_v1/otp_verify (api-wireframes 2) and the
// consent link of the consent message (no API key): GET /api_v1/consent/{token} shows the request
// with an "I agree" button, which POSTs to the same URL and records the consent.
#include "core/config.h"
#include "http/types.h"
#include "services/otp_service.h"

namespace leadgate {

Handler otp_send_handler(OtpService& otp);
Handler otp_resend_handler(OtpService& otp);
Handler otp_verify_handler(OtpService& otp);
Handler consent_page_handler(OtpService& otp, const Config& config);
Handler consent_grant_handler(OtpService& otp);

}  // namespace leadgate
