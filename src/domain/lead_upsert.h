#pragma once
// What create_lead and lead_flash do with the stored lead they find: the upsert and claim rules,
// pure (the current time is a parameter). The services execute the decision against the store.
#include <cstdint>
#include <optional>
#include <string>

namespace leadgate {

// The stored lead of one environment + mobile + loan type, as far as the rules care.
struct StoredLeadState {
  std::string status;           // pending_los | los_failed | created | completed | ...
  std::int64_t updated_at = 0;  // UTC unix ms
};

enum class LeadUpsert {
  insert,         // no lead yet: store it as pending_los, then call the LOS
  update_fields,  // created: update the fields (audited), answer "Lead updated successfully"
  retry_los,      // los_failed: update the fields, claim the lead, call the LOS again
  take_over,      // pending_los older than the longest LOS exchange: its request died with its
                  // instance; handled like retry_los
  in_progress,    // pending_los, fresh: 409 LEAD_IN_PROGRESS
  duplicate       // any other status: 409 DUPLICATE_LEAD
};

// create_lead for one customer and loan type. A pending_los lead is stale once
// now - updated_at > max_los_exchange_ms.
LeadUpsert decide_lead_upsert(const std::optional<StoredLeadState>& existing, std::int64_t now_ms,
                              std::int64_t max_los_exchange_ms);

enum class FlashStart {
  claim,         // created or flash_failed: claim it (flash_pending) and call the LOS
  take_over,     // flash_pending older than the longest flash exchange: claim it as well
  in_progress,   // flash_pending, fresh: 409 INVALID_STATE "being processed right now"
  invalid_state  // any other status: 409 INVALID_STATE "needs status 'created'"
};

// lead_flash on a found application. A flash_pending lead is stale once
// now - updated_at > max_flash_exchange_ms.
FlashStart decide_flash_start(const StoredLeadState& lead, std::int64_t now_ms,
                              std::int64_t max_flash_exchange_ms);

}  // namespace leadgate
