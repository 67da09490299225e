#include "services/erasure.h"

#include <algorithm>
#include <cctype>

#include "core/errors.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "services/customer_tokens.h"

namespace leadgate {
namespace {

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool held(const EnvironmentConfig& env, const std::string& status) {
  return std::any_of(env.legal_hold_statuses.begin(), env.legal_hold_statuses.end(),
                     [&](const std::string& s) { return same_text(s, status); });
}

// What the erasure leaves on record, with no PII: the ledger's event and the audit entry.
PersonErasure erasure_write(const EnvironmentConfig& env, const std::string& environment,
                            const std::string& phone_bidx, const std::string& erasure_id,
                            const std::string& reason, const std::string& source,
                            const Trace& trace) {
  PersonErasure e;
  e.environment = environment;
  e.phone_bidx = phone_bidx;
  e.tombstone = "erased:" + erasure_id;
  e.at = now_ms();
  e.ledger.environment = environment;
  e.ledger.phone_bidx = e.tombstone;
  e.ledger.purpose = "loan_processing";
  e.ledger.action = "erased";
  e.ledger.notice_version = env.consent_notice_version;
  e.ledger.source = source;
  e.ledger.at = e.at;
  e.ledger.request_id = trace.request_id;
  e.audit.environment = environment;
  e.audit.entity = "person";
  e.audit.entity_ref = e.tombstone;
  e.audit.operation = "erased";
  e.audit.field = source;
  e.audit.new_value = scrub_pii(reason);
  e.audit.request_id = trace.request_id;
  e.audit.duration_ms = trace.elapsed_ms();
  e.audit.created_at = e.at;
  return e;
}

}  // namespace

Eraser::Eraser(LeadStore& leads, PrivacyStore& privacy, const ServiceDeps& deps,
               BasicAppClient& los)
    : leads_(leads), privacy_(privacy), deps_(deps), los_(los) {
  deps_.metrics.describe(
      {{"leadgate_privacy_erasures_total", "counter",
        "Erasures by environment, source (api, retention) and outcome (erased, legal_hold, "
        "los_unavailable)"}});
}

void Eraser::count_outcome(const std::string& environment, const std::string& source,
                           const char* outcome) {
  deps_.metrics.count("leadgate_privacy_erasures_total",
                      {{"environment", environment}, {"source", source}, {"outcome", outcome}});
}

boost::asio::awaitable<std::size_t> Eraser::check_legal_hold(const std::vector<LeadRow>& leads,
                                                             const std::string& source,
                                                             const Trace& trace) {
  std::size_t asked = 0;
  for (const auto& lead : leads) {
    if (lead.basic_application_id.empty()) continue;  // never reached the LOS: no partner status
    const auto& env = deps_.config.env(lead.environment);
    PartnerStatusReport report;
    try {
      report = co_await los_.application_status(env, lead.basic_application_id, trace.request_id);
    } catch (const PartnerError& e) {
      count_outcome(lead.environment, source, "los_unavailable");
      log_warn("erasure_los_unavailable", {{"request_id", trace.request_id},
                                           {"environment", lead.environment},
                                           {"basic_application_id", lead.basic_application_id},
                                           {"error", e.what()}});
      throw ApiError(503, "LOS_UNAVAILABLE",
                     "The Basic Application API could not say whether application " +
                         lead.basic_application_id +
                         " is under legal hold, so nothing was erased. Retry later.",
                     {}, 30);
    }
    ++asked;
    if (held(env, report.status)) {
      count_outcome(lead.environment, source, "legal_hold");
      ApiError e(409, "LEGAL_HOLD",
                 "Application " + lead.basic_application_id + " is '" + report.status +
                     "': the law requires keeping its records (LEGAL_HOLD_STATUSES), so nothing "
                     "was erased");
      e.extra = {{"basic_application_id", lead.basic_application_id},
                 {"partner_status", report.status}};
      throw e;
    }
  }
  co_return asked;
}

boost::asio::awaitable<ErasureDone> Eraser::erase_by_index(const std::string& environment,
                                                           const std::string& phone_bidx,
                                                           const std::string& reason,
                                                           const std::string& source,
                                                           const Trace& trace) {
  const auto leads =
      co_await deps_.pool.run([&] { return leads_.find_leads_by_mobile(environment, phone_bidx); });
  ErasureDone done;
  done.applications_checked = co_await check_legal_hold(leads, source, trace);
  done.erasure_id = uuid_v4();
  const PersonErasure write = erasure_write(deps_.config.env(environment), environment, phone_bidx,
                                            done.erasure_id, reason, source, trace);
  done.counts = co_await deps_.pool.run([&] { return privacy_.erase_person(write); });
  for (const auto& lead : leads) deps_.cipher.forget_data_key(sealed_data_key_id(lead.mobile_enc));
  count_outcome(environment, source, "erased");
  log_info("person_erased", {{"request_id", trace.request_id},
                             {"environment", environment},
                             {"erasure_id", done.erasure_id},
                             {"source", source},
                             {"leads", done.counts.leads},
                             {"messages_cancelled", done.counts.messages_cancelled},
                             {"conversation_texts", done.counts.conversation_texts},
                             {"data_keys", done.counts.data_keys}});
  co_return done;
}

boost::asio::awaitable<ErasureDone> Eraser::erase(const std::string& environment,
                                                  const std::string& mobile,
                                                  const std::string& reason,
                                                  const std::string& source, const Trace& trace) {
  co_return co_await erase_by_index(environment, deps_.cipher.blind_index("mobile", mobile), reason,
                                    source, trace);
}

boost::asio::awaitable<ErasureDone> Eraser::erase_request(const std::string& environment,
                                                          const PrivacyRequest& request,
                                                          const CustomerAccess& access,
                                                          const Trace& trace) {
  require_customer(access, environment, deps_.cipher.blind_index("mobile", request.mobile));
  ErasureDone done = co_await erase(environment, request.mobile, request.reason, "api", trace);
  deps_.metrics.count("leadgate_privacy_requests_total",
                      {{"environment", environment}, {"kind", "erase"}});
  co_return done;
}

boost::asio::awaitable<SweepCounts> Eraser::sweep(
    std::int64_t inactive_before, const Trace& trace,
    const std::function<void(const SweepCounts&)>& progress) {
  constexpr int kPage = 100;
  SweepCounts n;
  PersonRef after;
  for (;;) {
    const auto page = co_await deps_.pool.run(
        [&] { return privacy_.inactive_people(inactive_before, after, kPage); });
    for (const auto& person : page) {
      ++n.candidates;
      try {
        co_await erase_by_index(person.environment, person.phone_bidx,
                                "no activity since " + iso_utc(person.last_active_at), "retention",
                                trace);
        ++n.erased;
      } catch (const ApiError& e) {
        if (e.code() == "LEGAL_HOLD") {
          ++n.held;
        } else if (e.code() == "LOS_UNAVAILABLE") {
          ++n.unanswered;
        } else {
          throw;
        }
      }
      if (progress) progress(n);
    }
    if (static_cast<int>(page.size()) < kPage) break;
    after = page.back();
  }
  log_info("retention_sweep", {{"request_id", trace.request_id},
                               {"inactive_before", iso_utc(inactive_before)},
                               {"candidates", n.candidates},
                               {"erased", n.erased},
                               {"held", n.held},
                               {"unanswered", n.unanswered}});
  co_return n;
}

}  // namespace leadgate
