#pragma once
// Where an application stands (issue 6: lead_status, track_application): the status text shown
// to clients, the stage derived from our own status and the partner's free-text status, the next
// steps for the customer, and whether a status the partner just reported should replace the
// stored one. Pure functions; time is a parameter.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leadgate {

// The text shown as `status` for a lead whose partner has not reported a status yet, from our
// own lead status: pending_los -> "Submission Pending", los_failed -> "Submission Failed",
// created -> "Application Created", flash_pending -> "Processing Details", flash_failed ->
// "Details Pending", completed -> "Application Completed"; anything else as given.
std::string lead_status_text(std::string_view lead_status);

enum class Stage {
  submission_pending,
  submission_failed,
  details_pending,
  processing,
  completed,
  documents_pending,
  valuation,
  under_review,
  approved,
  disbursed,
  rejected,
  on_hold
};

std::string_view stage_name(Stage stage);          // "under_review"
std::string stage_description(Stage stage);        // one customer-facing sentence
std::vector<std::string> next_steps(Stage stage);  // what the customer does / can expect next

// Our status decides until the LOS has the application; after that a recognised partner status
// (case-insensitive keywords, checked in this order: reject/declin -> rejected, disburs ->
// disbursed, approv/sanction -> approved, hold/query -> on_hold, document/kyc ->
// documents_pending, valuation/technical/legal/property -> valuation,
// review/assess/underwrit/credit/process -> under_review) wins; an empty or unrecognised
// partner status falls back to our own (created/flash_failed -> details_pending, flash_pending ->
// processing, completed -> completed).
Stage derive_stage(std::string_view lead_status, std::string_view partner_status);

// What the LOS answered about one application.
struct PartnerStatusReport {
  std::string status;
  std::string stage;
  std::int64_t updated_at = 0;  // the partner's updated_at, unix ms (0 when it gave none)
};

// The stored view of the partner's status on a lead.
struct StoredPartnerStatus {
  std::string status;
  std::string stage;
  std::int64_t updated_at = 0;
};

// Whether `report` should replace `stored`: it differs (status or stage) and is not older than
// the stored one (an unknown time on either side does not block it).
bool partner_status_changed(const StoredPartnerStatus& stored, const PartnerStatusReport& report);

// ISO 8601 in UTC with milliseconds: "2026-11-25T10:15:02.120Z".
std::string iso_utc(std::int64_t utc_ms);
// "YYYY-MM-DDTHH:MM:SS" with optional fraction and an optional "Z" or "+HH:MM"/"-HH:MM" offset
// (none = UTC); also a space instead of 'T'. Unix ms, or nullopt when malformed.
std::optional<std::int64_t> parse_iso_utc(std::string_view text);

}  // namespace leadgate
