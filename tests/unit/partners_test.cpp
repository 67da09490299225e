#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <set>
#include <string>

#include "core/metrics.h"
#include "http/client.h"
#include "partners/basic_app.h"
#include "partners/partner_call.h"
#include "partners/whatsapp.h"

namespace leadgate {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// The PartnerError `f` throws; fails the test when it throws nothing.
template <typename F>
PartnerError partner_error(F&& f) {
  try {
    f();
  } catch (const PartnerError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a PartnerError";
  return PartnerError("none", "none", false);
}

LeadInput sample_lead() {
  LeadInput in;
  in.environment = "orbit";
  in.first_name = "Priya";
  in.last_name = "Sharma";
  in.mobile = "9876543210";
  in.email = "priya.sharma@example.com";
  in.pan = "ABCPE1234F";
  in.loan_type = "LAP";
  in.loan_amount_req = 2'500'000;
  in.loan_tenure = 120;
  in.credit_score = 780;
  in.pincode = "400001";
  in.date_of_birth = "1990-07-15";
  return in;
}

// ---- fbb_payload ----

TEST(FbbPayload, RequiredFieldsInPartnerNames) {
  const auto p = fbb_payload(sample_lead(), "LG-REF-1");
  EXPECT_EQ(p.at("referenceId"), "LG-REF-1");
  EXPECT_EQ(p.at("firstName"), "Priya");
  EXPECT_EQ(p.at("lastName"), "Sharma");
  EXPECT_EQ(p.at("mobileNumber"), "9876543210");
  EXPECT_EQ(p.at("emailId"), "priya.sharma@example.com");
  EXPECT_EQ(p.at("panNumber"), "ABCPE1234F");
  EXPECT_EQ(p.at("productCode"), "LAP");
  EXPECT_EQ(p.at("productName"), "Loan Against Property");
  EXPECT_EQ(p.at("loanAmount"), 2'500'000);
  EXPECT_EQ(p.at("loanTenureMonths"), 120);
  EXPECT_EQ(p.at("creditScore"), 780);
  EXPECT_EQ(p.at("includeCreditScore"), true);
  EXPECT_EQ(p.at("isLeadPrefilled"), false);
  EXPECT_EQ(p.at("pincode"), "400001");
}

TEST(FbbPayload, DateOfBirthAsDdMmYyyy) {
  EXPECT_EQ(fbb_payload(sample_lead(), "r").at("dateOfBirth"), "15-07-1990");
  LeadInput in = sample_lead();
  in.date_of_birth = "2000-01-02";
  EXPECT_EQ(fbb_payload(in, "r").at("dateOfBirth"), "02-01-2000");
}

TEST(FbbPayload, EveryLoanTypeHasItsProductName) {
  const std::pair<const char*, const char*> names[] = {
      {"HL", "Home Loan"},     {"LAP", "Loan Against Property"},
      {"PL", "Personal Loan"}, {"BL", "Business Loan"},
      {"CL", "Car Loan"},      {"EL", "Education Loan"}};
  for (const auto& [code, name] : names) {
    LeadInput in = sample_lead();
    in.loan_type = code;
    const auto p = fbb_payload(in, "r");
    EXPECT_EQ(p.at("productCode"), code);
    EXPECT_EQ(p.at("productName"), name);
  }
}

TEST(FbbPayload, AbsentOptionalsOmitted) {
  const auto p = fbb_payload(sample_lead(), "r");
  for (const char* key :
       {"state", "gender", "rmName", "remarks", "customerId", "qrShortCode", "annualIncome"}) {
    EXPECT_FALSE(p.contains(key)) << key;
  }
}

TEST(FbbPayload, PresentOptionalsMapped) {
  LeadInput in = sample_lead();
  in.state = "Maharashtra";
  in.gender = "Female";
  in.application_assigned_to_rm = "Ravi Kumar";
  in.remarks = "Prefers evening calls";
  in.customer_id = "CUST-77";
  in.qr_short_code = "QR9";
  in.annual_income = 1'800'000;
  in.include_credit_score = false;
  in.is_lead_prefilled = true;
  const auto p = fbb_payload(in, "r");
  EXPECT_EQ(p.at("state"), "Maharashtra");
  EXPECT_EQ(p.at("gender"), "Female");
  EXPECT_EQ(p.at("rmName"), "Ravi Kumar");
  EXPECT_EQ(p.at("remarks"), "Prefers evening calls");
  EXPECT_EQ(p.at("customerId"), "CUST-77");
  EXPECT_EQ(p.at("qrShortCode"), "QR9");
  EXPECT_EQ(p.at("annualIncome"), 1'800'000);
  EXPECT_EQ(p.at("includeCreditScore"), false);
  EXPECT_EQ(p.at("isLeadPrefilled"), true);
}

TEST(FbbPayload, SerialisesToJson) {
  const auto text = boost::json::serialize(fbb_payload(sample_lead(), "r"));
  EXPECT_TRUE(boost::json::parse(text).is_object());
}

// ---- parse_fbb_answer ----

TEST(ParseFbbAnswer, Success) {
  const auto created = parse_fbb_answer(
      R"({"success": true, "data": {"basic_application_id": "B002BJF",
          "applicationId": "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c", "extra": 1}})");
  EXPECT_EQ(created.basic_application_id, "B002BJF");
  EXPECT_EQ(created.application_id, "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f3a2b1c");
}

TEST(ParseFbbAnswer, NotJsonIsInvalidResponseNotRetried) {
  for (const char* body : {"", "<html>oops</html>", "{", "[1,2]", "\"text\"", "null"}) {
    SCOPED_TRACE(body);
    const auto e = partner_error([&] { parse_fbb_answer(body); });
    EXPECT_EQ(e.outcome, "invalid_response");
    EXPECT_FALSE(e.retryable);
  }
}

TEST(ParseFbbAnswer, SuccessFalseIsRejectedWithPartnersMessage) {
  const auto e =
      partner_error([] { parse_fbb_answer(R"({"success": false, "message": "Duplicate PAN"})"); });
  EXPECT_EQ(e.outcome, "rejected");
  EXPECT_FALSE(e.retryable);
  EXPECT_EQ(e.partner_message, "Duplicate PAN");
  EXPECT_THAT(e.what(), HasSubstr("Duplicate PAN"));

  const auto err = partner_error([] { parse_fbb_answer(R"({"success": false, "error": "E42"})"); });
  EXPECT_EQ(err.outcome, "rejected");
  EXPECT_EQ(err.partner_message, "E42");
}

TEST(ParseFbbAnswer, PartnerMessageTruncated) {
  const std::string long_message(1000, 'm');
  const auto e = partner_error(
      [&] { parse_fbb_answer(R"({"success": false, "message": ")" + long_message + R"("})"); });
  EXPECT_EQ(e.partner_message.size(), 300u);
}

TEST(ParseFbbAnswer, MissingOrNonBooleanSuccessIsRejected) {
  for (const char* body :
       {R"({"data": {"basic_application_id": "B1", "applicationId": "u"}})",
        R"({"success": "true", "data": {"basic_application_id": "B1", "applicationId": "u"}})",
        R"({"success": 1, "data": {"basic_application_id": "B1", "applicationId": "u"}})"}) {
    SCOPED_TRACE(body);
    const auto e = partner_error([&] { parse_fbb_answer(body); });
    EXPECT_EQ(e.outcome, "rejected");
    EXPECT_FALSE(e.retryable);
  }
}

TEST(ParseFbbAnswer, MissingIdsIsInvalidResponse) {
  for (const char* body :
       {R"({"success": true})", R"({"success": true, "data": null})",
        R"({"success": true, "data": "B1"})", R"({"success": true, "data": {}})",
        R"({"success": true, "data": {"basic_application_id": "B1"}})",
        R"({"success": true, "data": {"applicationId": "u"}})",
        R"({"success": true, "data": {"basic_application_id": "", "applicationId": "u"}})",
        R"({"success": true, "data": {"basic_application_id": "B1", "applicationId": ""}})",
        R"({"success": true, "data": {"basic_application_id": 12, "applicationId": "u"}})",
        R"({"success": true, "data": {"basic_application_id": "B1", "applicationId": 7}})"}) {
    SCOPED_TRACE(body);
    const auto e = partner_error([&] { parse_fbb_answer(body); });
    EXPECT_EQ(e.outcome, "invalid_response");
    EXPECT_FALSE(e.retryable) << "the LOS may already have created the application";
  }
}

// ---- parse_gupshup_answer ----

ClientResponse answer(int status, std::string body) {
  ClientResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = "application/json";
  return r;
}

TEST(ParseGupshupAnswer, SubmittedReturnsMessageId) {
  EXPECT_EQ(parse_gupshup_answer(
                answer(202, R"({"status": "submitted", "messageId": "ee4a68a0-1203-4c85"})")),
            "ee4a68a0-1203-4c85");
  EXPECT_EQ(parse_gupshup_answer(answer(200, R"({"status":"submitted","messageId":"m1"})")), "m1");
}

TEST(ParseGupshupAnswer, ErrorStatusWithMessageIsRejected) {
  const auto e = partner_error([] {
    parse_gupshup_answer(answer(200, R"({"status": "error", "message": "Invalid Destination"})"));
  });
  EXPECT_EQ(e.outcome, "rejected");
  EXPECT_EQ(e.partner_message, "Invalid Destination");
  EXPECT_EQ(e.http_status, 200);
}

TEST(ParseGupshupAnswer, MalformedSuccessIsInvalidResponse) {
  for (const char* body :
       {"", "not json", "[]", R"({"status": "submitted"})",
        R"({"status": "submitted", "messageId": ""})", R"({"status": "submitted", "messageId": 5})",
        R"({"status": "queued", "messageId": "m1"})", R"({"messageId": "m1"})"}) {
    SCOPED_TRACE(body);
    const auto e = partner_error([&] { parse_gupshup_answer(answer(200, body)); });
    EXPECT_EQ(e.outcome, "invalid_response");
  }
}

TEST(ParseGupshupAnswer, HttpFailuresClassified) {
  const auto server = partner_error(
      [] { parse_gupshup_answer(answer(503, R"({"status":"submitted","messageId":"m1"})")); });
  EXPECT_EQ(server.outcome, "http_5xx");
  EXPECT_TRUE(server.retryable);
  EXPECT_EQ(server.http_status, 503);

  const auto client =
      partner_error([] { parse_gupshup_answer(answer(401, R"({"message":"Bad apikey"})")); });
  EXPECT_EQ(client.outcome, "http_4xx");
  EXPECT_FALSE(client.retryable);
  EXPECT_EQ(client.partner_message, "Bad apikey");
}

// ---- check_http_status ----

TEST(CheckHttpStatus, SuccessStatusesPass) {
  for (int status : {200, 201, 202, 204, 299}) {
    EXPECT_NO_THROW(check_http_status(answer(status, "not even json"), "X")) << status;
  }
}

TEST(CheckHttpStatus, RetryableStatuses) {
  for (int status : {500, 502, 503, 504, 408, 429}) {
    SCOPED_TRACE(status);
    const auto e = partner_error([&] { check_http_status(answer(status, ""), "CreateFBB"); });
    EXPECT_TRUE(e.retryable);
    EXPECT_EQ(e.http_status, status);
    EXPECT_EQ(e.outcome, status >= 500 ? "http_5xx" : "http_4xx");
    EXPECT_THAT(e.what(), HasSubstr("CreateFBB"));
    EXPECT_THAT(e.what(), HasSubstr(std::to_string(status)));
  }
}

TEST(CheckHttpStatus, NonRetryableClientErrors) {
  for (int status : {400, 401, 403, 404, 409, 422}) {
    SCOPED_TRACE(status);
    const auto e = partner_error([&] { check_http_status(answer(status, "{}"), "X"); });
    EXPECT_FALSE(e.retryable);
    EXPECT_EQ(e.outcome, "http_4xx");
    EXPECT_EQ(e.http_status, status);
  }
}

TEST(CheckHttpStatus, PartnerMessageTakenFromBody) {
  EXPECT_EQ(partner_error([] {
              check_http_status(answer(400, R"({"message":"bad pan"})"), "X");
            }).partner_message,
            "bad pan");
  EXPECT_EQ(partner_error([] {
              check_http_status(answer(400, R"({"error":"nope"})"), "X");
            }).partner_message,
            "nope");
  EXPECT_EQ(partner_error([] {
              check_http_status(answer(400, R"({"detail":"d"})"), "X");
            }).partner_message,
            "d");
  EXPECT_EQ(partner_error([] { check_http_status(answer(500, "<html>"), "X"); }).partner_message,
            "");
  EXPECT_EQ(partner_error([] {
              check_http_status(answer(500, R"({"message": 5})"), "X");
            }).partner_message,
            "");
  const std::string long_message(500, 'x');
  EXPECT_EQ(partner_error([&] {
              check_http_status(answer(500, R"({"message":")" + long_message + R"("})"), "X");
            }).partner_message.size(),
            300u);
}

// ---- backoff_delay ----

TEST(BackoffDelay, WithinExponentialJitterBounds) {
  const milliseconds base(500);
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const long long high = 500LL << (attempt - 1);
    for (int i = 0; i < 200; ++i) {
      const auto d = backoff_delay(base, attempt).count();
      ASSERT_GE(d, high / 2) << "attempt " << attempt;
      ASSERT_LE(d, high) << "attempt " << attempt;
    }
  }
}

TEST(BackoffDelay, ActuallyJittered) {
  std::set<long long> seen;
  for (int i = 0; i < 100; ++i) seen.insert(backoff_delay(milliseconds(1000), 3).count());
  EXPECT_GT(seen.size(), 10u);
}

TEST(BackoffDelay, AttemptBelowOneTreatedAsFirst) {
  for (int attempt : {0, -1, -100}) {
    for (int i = 0; i < 50; ++i) {
      const auto d = backoff_delay(milliseconds(400), attempt).count();
      ASSERT_GE(d, 200);
      ASSERT_LE(d, 400);
    }
  }
}

TEST(BackoffDelay, ZeroBaseIsZero) {
  for (int attempt : {1, 2, 10}) {
    EXPECT_EQ(backoff_delay(milliseconds(0), attempt), milliseconds(0));
  }
}

TEST(BackoffDelay, HugeAttemptIsCapped) {
  for (int i = 0; i < 50; ++i) {
    const auto d = backoff_delay(milliseconds(1), 1'000'000).count();
    ASSERT_GE(d, 1LL << 15);
    ASSERT_LE(d, 1LL << 16);
  }
}

// ---- record_partner_call ----

TEST(RecordPartnerCall, OkObservesLatencyOnly) {
  Metrics m;
  record_partner_call(m, "basic_app", "CreateFBBByBasicUser", "ok", 0.2);
  const auto text = m.render();
  EXPECT_THAT(text, HasSubstr("leadgate_partner_call_duration_seconds_count{partner=\"basic_app\","
                              "call=\"CreateFBBByBasicUser\",outcome=\"ok\"} 1"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("leadgate_partner_call_failures_total")));
}

TEST(RecordPartnerCall, FailureAlsoCounted) {
  Metrics m;
  record_partner_call(m, "gupshup", "template", "timeout", 10);
  EXPECT_THAT(m.render(), HasSubstr("leadgate_partner_call_failures_total{partner=\"gupshup\","
                                    "call=\"template\",outcome=\"timeout\"} 1"));
}

// ---- Sandbox simulators ----

template <typename T>
T run(boost::asio::awaitable<T> task) {
  boost::asio::io_context ioc;
  auto fut = boost::asio::co_spawn(ioc, std::move(task), boost::asio::use_future);
  ioc.run();
  return fut.get();
}

TEST(SandboxPartners, BasicAppSimulatorMakesPartnerShapedIds) {
  HttpClient http;
  Metrics metrics;
  auto client = make_basic_app_client(BasicAppOptions{}, http, metrics);
  ASSERT_TRUE(client->sandboxed());
  EnvironmentConfig env;
  env.name = "orbit";
  const auto created = run(client->create_fbb(env, fbb_payload(sample_lead(), "r"), "req-1"));
  ASSERT_EQ(created.basic_application_id.size(), 7u);
  EXPECT_EQ(created.basic_application_id[0], 'B');
  for (char c : created.basic_application_id) {
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c)) ||
                std::isdigit(static_cast<unsigned char>(c)))
        << created.basic_application_id;
  }
  EXPECT_EQ(created.application_id.size(), 36u);
  EXPECT_THAT(metrics.render(), HasSubstr("outcome=\"ok\""));
}

TEST(SandboxPartners, WhatsAppSimulatorAcceptsEverything) {
  HttpClient http;
  Metrics metrics;
  auto sender = make_whatsapp_sender("", milliseconds(1000), http, metrics);
  ASSERT_TRUE(sender->sandboxed());
  EnvironmentConfig env;
  env.name = "homfinity";
  EXPECT_FALSE(run(sender->send_template(env, "919876543210", "t1", {"a", "b"})).empty());
  EXPECT_FALSE(run(sender->send_text(env, "919876543210", "hello")).empty());
}

TEST(SandboxPartners, ConfiguredUrlSelectsRealClients) {
  HttpClient http;
  Metrics metrics;
  BasicAppOptions options;
  options.base_url = "http://127.0.0.1:1";
  EXPECT_FALSE(make_basic_app_client(options, http, metrics)->sandboxed());
  EXPECT_FALSE(
      make_whatsapp_sender("http://127.0.0.1:1", milliseconds(1000), http, metrics)->sandboxed());
}

// Nothing listens on port 1: the request never left, so the outcome is known (not sent).
TEST(GupshupSender, ConnectRefusedIsADefiniteFailure) {
  HttpClient http;
  Metrics metrics;
  auto sender = make_whatsapp_sender("http://127.0.0.1:1", milliseconds(1000), http, metrics);
  EnvironmentConfig env;
  env.name = "orbit";
  try {
    run(sender->send_template(env, "919876543210", "t1", {"a"}));
    FAIL() << "expected PartnerError";
  } catch (const PartnerError& e) {
    EXPECT_EQ(e.outcome, "transport") << e.what();
    EXPECT_TRUE(e.retryable);
    EXPECT_FALSE(e.outcome_unknown);
  }
}

}  // namespace
}  // namespace leadgate
