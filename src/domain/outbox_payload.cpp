#include "domain/outbox_payload.h"

#include <boost/json.hpp>

namespace leadgate {

std::string outbox_template_payload(const std::string& destination, const std::string& template_id,
                                    const std::vector<std::string>& params, Recipient to) {
  boost::json::array p;
  for (const auto& v : params) p.emplace_back(v);
  return boost::json::serialize(
      boost::json::object{{"destination", destination},
                          {"template_id", template_id},
                          {"params", p},
                          {"customer_notification", to == Recipient::customer}});
}

std::string outbox_text_payload(const std::string& destination, const std::string& text,
                                bool exempt_opt_out) {
  return boost::json::serialize(boost::json::object{
      {"destination", destination}, {"text", text}, {"exempt_opt_out", exempt_opt_out}});
}

OutboxPayload parse_outbox_payload(std::string_view kind, std::string_view json) {
  const auto value = boost::json::parse(json);
  const auto& o = value.as_object();
  OutboxPayload p;
  p.destination = std::string(o.at("destination").as_string());
  if (kind == "whatsapp_template") {
    for (const auto& v : o.at("params").as_array()) p.params.emplace_back(v.as_string());
    p.template_id = std::string(o.at("template_id").as_string());
    const auto* customer = o.if_contains("customer_notification");
    p.customer_notification = customer && customer->is_bool() && customer->get_bool();
  } else {
    p.text = std::string(o.at("text").as_string());
    const auto* exempt = o.if_contains("exempt_opt_out");
    p.exempt_opt_out = exempt && exempt->is_bool() && exempt->get_bool();
  }
  return p;
}

}  // namespace leadgate
