#include "services/privacy.h"

#include <utility>

#include "core/errors.h"
#include "domain/application_progress.h"
#include "services/customer_tokens.h"

namespace leadgate {

ConsentEvent consent_event(const ServiceDeps& deps, const std::string& environment,
                           const std::string& mobile, const std::string& purpose,
                           const std::string& action, const std::string& source,
                           const Trace& trace) {
  ConsentEvent e;
  e.environment = environment;
  e.phone_bidx = deps.cipher.blind_index("mobile", mobile);
  e.phone_enc = deps.cipher.seal("mobile", mobile);
  e.purpose = purpose;
  e.action = action;
  e.notice_version = deps.config.env(environment).consent_notice_version;
  e.source = source;
  e.at = now_ms();
  e.request_id = trace.request_id;
  return e;
}

boost::json::object consent_event_json(const ConsentEvent& e) {
  boost::json::object o{{"purpose", e.purpose},
                        {"source", e.source},
                        {"notice_version", e.notice_version},
                        {"request_id", e.request_id}};
  o[e.action == "withdrawn" ? "withdrawn_at" : "granted_at"] = iso_utc(e.at);
  return o;
}

ConsentLedger::ConsentLedger(PrivacyStore& store, const ServiceDeps& deps)
    : store_(store), deps_(deps) {
  deps_.metrics.describe({{"leadgate_privacy_requests_total", "counter",
                           "Data-protection requests answered, by environment and kind "
                           "(consents, withdraw)"}});
}

boost::asio::awaitable<ConsentView> ConsentLedger::consents(const std::string& environment,
                                                            const PrivacyRequest& request,
                                                            const CustomerAccess& access) {
  const std::string bidx = deps_.cipher.blind_index("mobile", request.mobile);
  require_customer(access, environment, bidx);
  ConsentView view;
  view.history = co_await deps_.pool.run([&] { return store_.consent_events(environment, bidx); });
  std::vector<std::pair<std::string, std::string>> events;
  for (const auto& e : view.history) events.emplace_back(e.purpose, e.action);
  view.current = consent_states(events);
  deps_.metrics.count("leadgate_privacy_requests_total",
                      {{"environment", environment}, {"kind", "consents"}});
  co_return view;
}

boost::asio::awaitable<ConsentEvent> ConsentLedger::withdraw(const std::string& environment,
                                                             const PrivacyRequest& request,
                                                             const CustomerAccess& access,
                                                             const Trace& trace) {
  const std::string bidx = deps_.cipher.blind_index("mobile", request.mobile);
  require_customer(access, environment, bidx);
  const ConsentEvent e =
      consent_event(deps_, environment, request.mobile, request.purpose, "withdrawn", "api", trace);
  const bool recorded = co_await deps_.pool.run([&] { return store_.record_consent(e, true); });
  deps_.metrics.count("leadgate_privacy_requests_total",
                      {{"environment", environment}, {"kind", "withdraw"}});
  if (recorded) co_return e;
  // Withdrawn already: the standing withdrawal is the answer.
  const auto history =
      co_await deps_.pool.run([&] { return store_.consent_events(environment, bidx); });
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->purpose == request.purpose) co_return *it;
  }
  co_return e;  // unreachable: a refused append means a withdrawal is on record
}

}  // namespace leadgate
