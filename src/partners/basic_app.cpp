#include "partners/basic_app.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/log.h"
#include "crypto/crypto.h"

namespace leadgate {
namespace {

constexpr const char* kPartner = "basic_app";

std::string to_partner_date(const std::string& iso) {  // YYYY-MM-DD -> DD-MM-YYYY
  if (iso.size() != 10) return iso;
  return iso.substr(8, 2) + "-" + iso.substr(5, 2) + "-" + iso.substr(0, 4);
}

class HttpBasicAppClient final : public BasicAppClient {
 public:
  HttpBasicAppClient(BasicAppOptions options, HttpClient& http, Metrics& metrics)
      : options_(std::move(options)), http_(http), metrics_(metrics) {}
  bool sandboxed() const override { return false; }

  boost::asio::awaitable<FbbCreated> create_fbb(const EnvironmentConfig& env,
                                                boost::json::object payload,
                                                const std::string& request_id) override {
    payload["environment"] = env.name;
    const Policy policy{options_.timeout, options_.attempts,
                        [this](int attempt) { return backoff_delay(options_.backoff, attempt); }};
    std::optional<FbbCreated> created;
    // Named, not temporaries in the co_await expression (see core/offload.h on g++ 12).
    const Accept accept = [&](const std::string& body) { created = parse_fbb_answer(body); };
    co_await exchange(env, "CreateFBBByBasicUser", payload, request_id, policy, accept);
    co_return *created;
  }

  boost::asio::awaitable<SelfFulfilment> create_self_fulfilment(
      const EnvironmentConfig& env, boost::json::object payload,
      const std::string& request_id) override {
    payload["environment"] = env.name;
    // Fixed delay between attempts, as the wireframe gives it (2 attempts, 5 s apart).
    const Policy policy{options_.self_fulfilment_timeout, options_.self_fulfilment_attempts,
                        [this](int) { return options_.self_fulfilment_delay; }};
    std::optional<SelfFulfilment> done;
    const Accept accept = [&](const std::string& body) {
      done = parse_self_fulfilment_answer(body);
    };
    co_await exchange(env, "CreateSelfFullfilmentLead", payload, request_id, policy, accept);
    co_return *done;
  }

  boost::asio::awaitable<PartnerStatusReport> application_status(
      const EnvironmentConfig& env, const std::string& basic_application_id,
      const std::string& request_id) override {
    const Policy policy{options_.status_timeout, options_.status_attempts,
                        [this](int) { return options_.status_delay; }};
    std::optional<PartnerStatusReport> report;
    const Accept accept = [&](const std::string& body) {
      report = parse_status_answer(body, basic_application_id);
    };
    const std::string query = "?basic_application_id=" + form_encode(basic_application_id);
    co_await exchange(env, "GetApplicationStatus", std::nullopt, request_id, policy, accept, query);
    co_return *report;
  }

 private:
  using Accept = std::function<void(const std::string&)>;
  struct Policy {
    std::chrono::milliseconds timeout;
    int attempts;
    std::function<std::chrono::milliseconds(int)> delay_after;  // attempt number -> wait
  };

  // POSTs `payload` (GETs {base}/{call}{query} without one) with the environment's
  // credentials, retrying transport errors, timeouts, 5xx, 408 and 429; `accept` validates a 2xx
  // body (throws PartnerError).
  boost::asio::awaitable<void> exchange(const EnvironmentConfig& env, const char* call,
                                        const std::optional<boost::json::object>& payload,
                                        const std::string& request_id, const Policy& policy,
                                        const Accept& accept, const std::string& query = {}) {
    ClientRequest req;
    req.method = payload ? "POST" : "GET";
    req.url = options_.base_url + "/" + call + query;
    req.headers = {{"X-Api-Key", env.basic_app_api_key},
                   {"X-User-Id", env.basic_app_user_id},
                   {"X-Request-ID", request_id}};
    if (payload) {
      req.content_type = "application/json";
      req.body = boost::json::serialize(*payload);
    }
    req.timeout = policy.timeout;
    std::optional<PartnerError> last;
    for (int attempt = 1; attempt <= policy.attempts; ++attempt) {
      const auto started = std::chrono::steady_clock::now();
      bool ok = false;
      try {
        ClientResponse res = co_await http_.send(req);
        check_http_status(res, call);
        accept(res.body);
        ok = true;
      } catch (const TransportError& e) {
        last = PartnerError(std::string(call) + ": " + e.what(),
                            e.timed_out ? "timeout" : "transport", true);
      } catch (const PartnerError& e) {
        last = e;
      }
      const std::string outcome = ok ? "ok" : last->outcome;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      record_partner_call(metrics_, kPartner, call, outcome, seconds);
      log_event(ok ? LogLevel::info : LogLevel::warn, "partner_call",
                {{"partner", kPartner},
                 {"call", call},
                 {"request_id", request_id},
                 {"environment", env.name},
                 {"attempt", attempt},
                 {"outcome", outcome},
                 {"duration_ms", seconds * 1000},
                 {"error", ok ? "" : last->what()}});
      if (ok) co_return;
      if (!last->retryable || attempt == policy.attempts) break;
      metrics_.count("leadgate_partner_call_retries_total",
                     {{"partner", kPartner}, {"call", call}});
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      timer.expires_after(policy.delay_after(attempt));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    throw *last;
  }

  BasicAppOptions options_;
  HttpClient& http_;
  Metrics& metrics_;
};

// SANDBOX SIMULATOR: stands in for the LOS when LEADGATE_BASIC_APP_URL is unset. It makes up
// ids in the partner's formats; nothing leaves the machine.
class SandboxBasicAppClient final : public BasicAppClient {
 public:
  explicit SandboxBasicAppClient(Metrics& metrics) : metrics_(metrics) {}
  bool sandboxed() const override { return true; }
  boost::asio::awaitable<SelfFulfilment> create_self_fulfilment(
      const EnvironmentConfig& env, boost::json::object /*payload*/,
      const std::string& request_id) override {
    record_sandbox_call(metrics_, kPartner, "CreateSelfFullfilmentLead", request_id, env.name);
    co_return SelfFulfilment{"completed", "SANDBOX-SF-" + random_token(8)};
  }

  // The simulated LOS reviews every application it has accepted.
  boost::asio::awaitable<PartnerStatusReport> application_status(
      const EnvironmentConfig& env, const std::string& /*basic_application_id*/,
      const std::string& request_id) override {
    record_sandbox_call(metrics_, kPartner, "GetApplicationStatus", request_id, env.name);
    co_return PartnerStatusReport{"Under Review", "Credit assessment", 0};
  }

  boost::asio::awaitable<FbbCreated> create_fbb(const EnvironmentConfig& env,
                                                boost::json::object /*payload*/,
                                                const std::string& request_id) override {
    std::string id = random_token(6);
    for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    FbbCreated out{"B" + id, uuid_v4()};
    record_sandbox_call(metrics_, kPartner, "CreateFBBByBasicUser", request_id, env.name);
    co_return out;
  }

 private:
  Metrics& metrics_;
};

}  // namespace

std::unique_ptr<BasicAppClient> make_basic_app_client(const BasicAppOptions& options,
                                                      HttpClient& http, Metrics& metrics) {
  if (options.base_url.empty()) return std::make_unique<SandboxBasicAppClient>(metrics);
  return std::make_unique<HttpBasicAppClient>(options, http, metrics);
}

boost::json::object fbb_payload(const LeadInput& in, const std::string& reference_id) {
  boost::json::object p{{"referenceId", reference_id},
                        {"firstName", in.first_name},
                        {"lastName", in.last_name},
                        {"mobileNumber", in.mobile},
                        {"emailId", in.email},
                        {"panNumber", in.pan},
                        {"productCode", in.loan_type},
                        {"productName", loan_type_name(in.loan_type)},
                        {"loanAmount", in.loan_amount_req},
                        {"loanTenureMonths", in.loan_tenure},
                        {"creditScore", in.credit_score},
                        {"includeCreditScore", in.include_credit_score},
                        {"isLeadPrefilled", in.is_lead_prefilled},
                        {"pincode", in.pincode},
                        {"dateOfBirth", to_partner_date(in.date_of_birth)}};
  auto opt = [&](const char* name, const std::optional<std::string>& v) {
    if (v) p[name] = *v;
  };
  opt("state", in.state);
  opt("gender", in.gender);
  opt("rmName", in.application_assigned_to_rm);
  opt("remarks", in.remarks);
  opt("customerId", in.customer_id);
  opt("qrShortCode", in.qr_short_code);
  if (in.annual_income) p["annualIncome"] = *in.annual_income;
  return p;
}

namespace {

// The `data` object of a success answer from the LOS (empty when it sent none). Throws
// PartnerError: invalid_response for a body that is not a JSON object, rejected (with the
// partner's "message" or "error" text, at most 300 characters) unless `success` is true.
boost::json::object success_data(const std::string& body, const char* call, const char* refusal) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) {
    throw PartnerError(std::string(call) + " answered with a body that is not JSON",
                       "invalid_response", false);
  }
  const auto& obj = value.as_object();
  const auto* success = obj.if_contains("success");
  if (!success || !success->is_bool() || !success->get_bool()) {
    std::string message;
    for (const char* k : {"message", "error"}) {
      if (auto* v = obj.if_contains(k); v && v->is_string()) {
        message = std::string(v->get_string()).substr(0, 300);
        break;
      }
    }
    throw PartnerError(
        std::string(call) + " " + refusal + (message.empty() ? std::string() : ": " + message),
        "rejected", false, 200, message);
  }
  const auto* data = obj.if_contains("data");
  return data && data->is_object() ? data->as_object() : boost::json::object{};
}

// A non-empty string member of `data`, or nullopt.
std::optional<std::string> text_member(const boost::json::object& data, const char* key) {
  const auto* v = data.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

}  // namespace

SelfFulfilment parse_self_fulfilment_answer(const std::string& body) {
  const auto data = success_data(body, "CreateSelfFullfilmentLead", "rejected the application");
  const auto status = text_member(data, "status");
  const auto reference = text_member(data, "reference");
  if (status != "completed" || !reference || reference->empty()) {
    throw PartnerError(
        "CreateSelfFullfilmentLead answered without status completed and a reference",
        "invalid_response", false);
  }
  return SelfFulfilment{"completed", *reference};
}

PartnerStatusReport parse_status_answer(const std::string& body,
                                        const std::string& basic_application_id) {
  const auto data = success_data(body, "GetApplicationStatus", "refused");
  const auto id = text_member(data, "basic_application_id");
  const auto status = text_member(data, "status");
  const auto stage = text_member(data, "stage");
  const auto updated = text_member(data, "updated_at");
  const auto updated_ms = updated ? parse_iso_utc(*updated) : std::nullopt;
  if (!id || *id != basic_application_id || !status || status->empty() || status->size() > 100 ||
      !stage || stage->size() > 200 || !updated_ms) {
    throw PartnerError(
        "GetApplicationStatus answered without the application's id, status, stage and an ISO "
        "8601 updated_at",
        "invalid_response", false);
  }
  return PartnerStatusReport{*status, *stage, *updated_ms};
}

FbbCreated parse_fbb_answer(const std::string& body) {
  const auto data = success_data(body, "CreateFBBByBasicUser", "rejected the lead");
  const auto bid = text_member(data, "basic_application_id");
  const auto aid = text_member(data, "applicationId");
  if (!bid || bid->empty() || !aid || aid->empty()) {
    throw PartnerError(
        "CreateFBBByBasicUser answered without basic_application_id and applicationId",
        "invalid_response", false);
  }
  return FbbCreated{*bid, *aid};
}

}  // namespace leadgate
