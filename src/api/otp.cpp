#include "api/otp.h"

#include <boost/json.hpp>

#include "api/leads.h"
#include "domain/mobile.h"
#include "domain/otp_policy.h"
#include "domain/slot_calendar.h"
#include "http/middleware.h"
#include "services/lead_records.h"

namespace leadgate {
namespace {

// The field `name` when it is given (not null) and of the JSON kind `kind`; else nullptr, with
// "<name> is required" or "<name> must be <kind_text>" collected into `errors`.
const boost::json::value* field_of_kind(const boost::json::object& body, const std::string& name,
                                        boost::json::kind kind, std::string_view kind_text,
                                        std::vector<FieldError>& errors) {
  const auto* v = body.if_contains(name);
  if (!v || v->is_null()) {
    errors.push_back({name, name + " is required"});
  } else if (v->kind() != kind) {
    errors.push_back({name, name + " must be " + std::string(kind_text)});
  } else {
    return v;
  }
  return nullptr;
}

// What every OTP request carries: its environment and phone_number (a string that normalises to
// an Indian mobile), with the field errors so far.
struct OtpFields {
  boost::json::object body;
  std::string environment;
  std::string phone;
  std::vector<FieldError> errors;
};

OtpFields read_otp_fields(const Request& req, RequestContext& ctx) {
  OtpFields in;
  in.body = parse_json_object(req);
  in.environment = resolve_environment(in.body, ctx);
  const auto* v =
      field_of_kind(in.body, "phone_number", boost::json::kind::string, "a string", in.errors);
  if (!v) return in;
  if (auto phone = normalize_mobile(v->get_string())) {
    in.phone = *phone;
  } else {
    in.errors.push_back({"phone_number", "Invalid mobile number format"});
  }
  return in;
}

std::string escape_html(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// The consent pages: no script, nothing loaded from elsewhere, the form posts back to itself.
constexpr const char* kConsentPagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

// `title` and `text` are plain text; `extra_html` is markup appended after the text.
Response consent_page(const Request& req, http::status status, const std::string& title,
                      const std::string& text, const std::string& extra_html = "") {
  return html_response(
      req, status,
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
          escape_html(title) +
          "</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem "
          "auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}button{font-size:1.1rem;padding:"
          ".6rem 1.4rem}</style></head><body><h1>" +
          escape_html(title) + "</h1><p>" + escape_html(text) + "</p>" + extra_html +
          "</body></html>",
      kConsentPagePolicy);
}

// The privacy notice under the request (DPDP Act 2023 §5): who decides on the data, for what,
// how to withdraw, whom to complain to, and the notice's version (kept with the consent).
std::string consent_notice_html(const EnvironmentConfig& env) {
  std::string html =
      "<h2>Privacy notice</h2><ul><li>Data fiduciary: " + escape_html(env.brand_name) +
      "</li><li>Purpose: contacting you on WhatsApp about your loan application, as above.</li>"
      "<li>To withdraw: reply STOP on WhatsApp to stop its messages, or ask " +
      escape_html(env.brand_name) + " (it takes effect at once and costs you nothing).</li>";
  if (!env.grievance_contact.empty()) {
    html += "<li>Grievances: " + escape_html(env.grievance_contact) + "</li>";
  }
  html += "<li>Notice version: " + escape_html(env.consent_notice_version) + "</li></ul>";
  return html;
}

// The answer to "I agree", now (`before` false) or to a repeat of it.
Response consent_recorded(const Request& req, const ConsentRecord& consent, bool before) {
  return consent_page(req, http::status::ok, "Thank you",
                      std::string("Your consent was ") + (before ? "already " : "") +
                          "recorded on " + format_ist_timestamp(consent.granted_at) +
                          ". You can close this page.");
}

Response link_not_valid(const Request& req) {
  return consent_page(req, http::status::not_found, "Link not valid",
                      "This consent link is invalid or has expired. Please request a new one.");
}

// The caller's API key id: its own OTP send limit.
std::string key_id(const RequestContext& ctx) {
  return ctx.caller ? ctx.caller->key_id : std::string();
}

boost::json::object otp_sent(const OtpSent& sent) {
  return {
      {"success", true},
      {"message", sent.consent_requested ? "OTP sent + consent message" : "OTP sent successfully"},
      {"data", {{"phone_number", sent.phone}}}};
}

bool valid_token(const std::string& token) {
  if (token.size() != 12) return false;
  for (char c : token) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Handler otp_send_handler(OtpService& otp) {
  return [&otp](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    auto in = read_otp_fields(req, ctx);
    const auto* check =
        field_of_kind(in.body, "user_check", boost::json::kind::bool_, "a boolean", in.errors);
    if (!in.errors.empty()) throw_field_errors(in.errors);
    const auto sent =
        co_await otp.send(in.environment, in.phone, check->get_bool(), key_id(ctx), ctx);
    co_return json_response(req, http::status::ok, otp_sent(sent));
  };
}

Handler otp_resend_handler(OtpService& otp) {
  return [&otp](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    auto in = read_otp_fields(req, ctx);
    if (!in.errors.empty()) throw_field_errors(in.errors);
    const auto sent = co_await otp.resend(in.environment, in.phone, key_id(ctx), ctx);
    co_return json_response(req, http::status::ok, otp_sent(sent));
  };
}

Handler otp_verify_handler(OtpService& otp) {
  return [&otp](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    auto in = read_otp_fields(req, ctx);
    std::optional<std::string> code;
    if (const auto* v =
            field_of_kind(in.body, "otp", boost::json::kind::string, "a string", in.errors)) {
      code = normalize_otp(v->get_string());
      if (!code) in.errors.push_back({"otp", "otp must be 6 digits"});
    }
    if (!in.errors.empty()) throw_field_errors(in.errors);
    const std::string token = co_await otp.verify(in.environment, in.phone, *code, ctx);
    co_return json_response(
        req, http::status::ok,
        boost::json::object{
            {"success", true},
            {"message", std::string(verdict_message(OtpVerdict::verified))},
            {"data", {{"phone_number", in.phone}, {"verified", true}, {"customer_token", token}}}});
  };
}

Handler consent_page_handler(OtpService& otp, const Config& config) {
  return [&otp, &config](const Request& req,
                         RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const std::string token = ctx.path_params["token"];
    OtpService::ConsentLink link;
    if (valid_token(token)) link = co_await otp.consent_link(token);
    if (link.state == OtpService::ConsentLink::State::invalid) co_return link_not_valid(req);
    ctx.environment = link.record.environment;
    if (link.state == OtpService::ConsentLink::State::granted) {
      co_return consent_recorded(req, link.record, true);
    }
    // Nothing is recorded here: link previews and mail scanners open links as well.
    const auto& env = config.env(link.record.environment);
    co_return consent_page(
        req, http::status::ok, "Your consent",
        env.brand_name +
            " asks for your consent to contact you on WhatsApp about your loan application "
            "(one-time passwords, application updates and answers to your questions) and to use "
            "the details you share for it. Nothing is recorded unless you press \"I agree\". "
            "This link works until " +
            format_ist_timestamp(link.record.expires_at) + ".",
        consent_notice_html(env) +
            "<form method=\"post\"><button type=\"submit\">I agree</button></form>");
  };
}

Handler consent_grant_handler(OtpService& otp) {
  return [&otp](const Request& req, RequestContext& ctx) -> boost::asio::awaitable<Response> {
    const std::string token = ctx.path_params["token"];
    if (!valid_token(token)) co_return link_not_valid(req);
    if (auto granted = co_await otp.grant_consent(token, ctx)) {
      ctx.environment = granted->environment;
      co_return consent_recorded(req, *granted, false);
    }
    // A second tap or a reload of the "Thank you" page: say so rather than "not valid".
    const auto link = co_await otp.consent_link(token);
    if (link.state != OtpService::ConsentLink::State::granted) co_return link_not_valid(req);
    ctx.environment = link.record.environment;
    co_return consent_recorded(req, link.record, true);
  };
}

}  // namespace leadgate
