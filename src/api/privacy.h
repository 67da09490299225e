#pragma once
// The data-protection endpoints (issue 21, docs/privacy.md): POST /api_v1/privacy/consents and
// POST /api_v1/privacy/consent/withdraw, POST /api_v1/privacy/export, POST /api_v1/privacy/erase. A
// server key scoped to the environment, or an app key with the person's customer token. Each
// request is logged with the key's name and request id.
#include "http/types.h"
#include "services/erasure.h"
#include "services/privacy.h"
#include "services/privacy_export.h"

namespace leadgate {

Handler privacy_consents_handler(ConsentLedger& ledger);
// Withdrawing loan_processing also erases the person (their data is processed for nothing else).
Handler privacy_withdraw_handler(ConsentLedger& ledger, Eraser& eraser);
Handler privacy_export_handler(PersonalDataExport& exporter);
Handler privacy_erase_handler(Eraser& eraser);

}  // namespace leadgate
