#pragma once
// Between a validated lead and its stored row: sealing PII, blind indexes, and the masked
// field-by-field view the audit trail records.
#include <string>
#include <vector>

#include "core/trace.h"
#include "crypto/crypto.h"
#include "domain/lead_validation.h"
#include "domain/outbox_payload.h"
#include "store/store.h"

namespace leadgate {

// Seals the lead's PII into `row` and copies the other fields; ids and status are left alone.
// The values are sealed by `seal` (the person's data key, services/person_keys.h), the blind
// indexes made by `cipher` (always the master key); the first form seals under the master key.
void seal_lead_fields(const LeadInput& in, const PiiCipher& cipher, LeadRow& row);
void seal_lead_fields(const LeadInput& in, const PiiCipher& cipher, const Sealer& seal,
                      LeadRow& row);
LeadInput open_lead(const LeadRow& row, const PiiCipher& cipher);
// The fields schema 13 seals (credit score, annual income, remarks), with any still in plaintext
// sealed as seal_lead_fields would (services/pii_backfill.h).
SealedLeadFields seal_plaintext_fields(const PiiCipher& cipher, SealedLeadFields stored);
std::string mobile_blind_index(const PiiCipher& cipher, const std::string& mobile);

struct FieldValue {
  std::string field;   // JSON name
  std::string value;   // plain, for comparison only
  std::string masked;  // what the audit trail may keep
};
std::vector<FieldValue> lead_field_values(const LeadInput& in);

// Fills in who/when for audit entries of one request: the entity, request id, the processing
// duration so far and the time.
std::vector<AuditEntry> stamp_audit(std::vector<AuditEntry> audit, const Trace& trace,
                                    const std::string& entity_ref);

// An audit entry for a status change (or, with another operation/field, a single value change).
AuditEntry status_audit(const std::string& environment, const std::string& from,
                        const std::string& to);

// A WhatsApp template message for the outbox, its payload sealed. `to`: the lead's customer
// (counted against the per-customer daily cap) or staff (the RM).
OutboxMessage whatsapp_template_message(const Sealer& cipher, const std::string& environment,
                                        const std::string& lead_ref, const std::string& mobile,
                                        const std::string& template_id,
                                        const std::vector<std::string>& params, std::int64_t now,
                                        Recipient to = Recipient::customer);

// The 400 BASIC_APP_API_ERROR problem for a failed partner call; `next` says what happens now.
struct PartnerError;
[[noreturn]] void throw_partner_failure(const PartnerError& failure,
                                        const std::string& reference_id, const std::string& next);

// The 422 VALIDATION_ERROR problem, one entry per invalid field.
[[noreturn]] void throw_field_errors(const std::vector<FieldError>& errors);

// Audit entries for every field whose value differs (all fields when `before` is null).
std::vector<AuditEntry> diff_audit(const LeadInput* before, const LeadInput& after,
                                   const std::string& operation);

}  // namespace leadgate
