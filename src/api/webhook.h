#pragma once
// GET/POST /api_v1/whatsapp/webhook (api-wireframes 4): the verification handshake and the
// callback intake (no API key: the providers authenticate by token, signature or path secret).
#include "http/types.h"
#include "services/webhook_intake.h"

namespace leadgate {

Handler webhook_verify_handler(const Config& config);
Handler webhook_intake_handler(WebhookIntake& intake);

}  // namespace leadgate
