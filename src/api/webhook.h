#pragma once
// GET/POST /api_v1/whatsapp/webhook (api-wireframes 4): the verification handshake and the
// callback intake (no API key: the providers authenticate by token, signature or path secret).
#include "app/webhook_intake.h"
#include "http/types.h"

namespace leadgate {

Handler webhook_verify_handler(const Config& config);
Handler webhook_intake_handler(WebhookIntake& intake);

}  // namespace leadgate
