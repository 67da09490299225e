// parse_lead (create_lead's body) and parse_webhook (a Gupshup and a Meta delivery).
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <string_view>

#include "domain/lead_validation.h"
#include "domain/pincode_directory.h"
#include "domain/webhook_payloads.h"

namespace leadgate {
namespace {

const PincodeDirectory& pins() {
  static const PincodeDirectory dir =
      PincodeDirectory::from_rows({{"400001", "Maharashtra"}, {"110001", "Delhi"}});
  return dir;
}

boost::json::object lead_body() {
  return boost::json::object{
      {"environment", "orbit"}, {"firstName", "Ravi"},         {"lastName", "Kumar"},
      {"mobile", "9876543210"}, {"email", "ravi@example.com"}, {"pan", "ABCPE1234F"},
      {"loanType", "HL"},       {"loanAmountReq", 2'500'000},  {"loanTenure", 240},
      {"creditScore", 750},     {"pincode", "400001"},         {"dateOfBirth", "1990-05-20"},
  };
}

void BM_ParseLeadValid(benchmark::State& state) {
  const auto body = lead_body();
  for (auto _ : state) benchmark::DoNotOptimize(parse_lead(body, pins(), {2025, 6, 15}));
}
BENCHMARK(BM_ParseLeadValid);

void BM_ParseLeadInvalid(benchmark::State& state) {
  auto body = lead_body();
  body["mobile"] = "12345";
  body["pan"] = "nope";
  body["pincode"] = "000001";
  for (auto _ : state) benchmark::DoNotOptimize(parse_lead(body, pins(), {2025, 6, 15}));
}
BENCHMARK(BM_ParseLeadInvalid);

constexpr std::string_view kGupshupDelivered = R"({
  "app": "OrbitLoans", "timestamp": 1764000005000, "version": 2, "type": "message-event",
  "payload": { "id": "gBEGkZlgQyWAAglNMEFv1sCAxN8", "gsId": "9b71295f-f7af-4c1f-b2b4-31b4a4867bad",
               "type": "delivered", "destination": "919876543210", "payload": { "ts": 1764000004 } }
})";

constexpr std::string_view kMetaText = R"({
  "object": "whatsapp_business_account",
  "entry": [ { "id": "102290129340398", "changes": [ { "field": "messages", "value": {
    "messaging_product": "whatsapp",
    "metadata": { "display_phone_number": "917834811114", "phone_number_id": "106540352242922" },
    "contacts": [ { "profile": { "name": "John" }, "wa_id": "919876543210" } ],
    "messages": [ { "from": "919876543210", "id": "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0VCMDRGNzQ5",
                    "timestamp": "1764000000", "type": "text",
                    "text": { "body": "status B002BJF" } } ] } } ] } ]
})";

void BM_ParseWebhookGupshup(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parse_webhook(kGupshupDelivered));
}
BENCHMARK(BM_ParseWebhookGupshup);

void BM_ParseWebhookMeta(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parse_webhook(kMetaText));
}
BENCHMARK(BM_ParseWebhookMeta);

}  // namespace
}  // namespace leadgate
