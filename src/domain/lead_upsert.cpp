#include "domain/lead_upsert.h"

namespace leadgate {

LeadUpsert decide_lead_upsert(const std::optional<StoredLeadState>& existing, std::int64_t now_ms,
                              std::int64_t max_los_exchange_ms) {
  if (!existing) return LeadUpsert::insert;
  if (existing->status == "created") return LeadUpsert::update_fields;
  if (existing->status == "los_failed") return LeadUpsert::retry_los;
  if (existing->status == "pending_los") {
    return now_ms - existing->updated_at > max_los_exchange_ms ? LeadUpsert::take_over
                                                               : LeadUpsert::in_progress;
  }
  return LeadUpsert::duplicate;
}

FlashStart decide_flash_start(const StoredLeadState& lead, std::int64_t now_ms,
                              std::int64_t max_flash_exchange_ms) {
  if (lead.status == "created" || lead.status == "flash_failed") return FlashStart::claim;
  if (lead.status == "flash_pending") {
    return now_ms - lead.updated_at > max_flash_exchange_ms ? FlashStart::take_over
                                                            : FlashStart::in_progress;
  }
  return FlashStart::invalid_state;
}

}  // namespace leadgate
