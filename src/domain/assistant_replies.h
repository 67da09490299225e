#pragma once
// The status assistant's reply texts (issue 7; api-wireframes 4 STATUS / ERROR / FALLBACK
// responses): per-environment templates with {placeholders}, filled from what the assistant
// found (services/whatsapp_assistant.cpp). Pure.
#include <map>
#include <optional>
#include <string>

#include "domain/application_progress.h"

namespace leadgate {

// Reply kinds, also the keys of the per-environment ASSISTANT_TEXTS setting.
//   status       the application's status            {name} {product} {id} {status} {expected}
//                                                    {others}
//   error        no application found for the sender {support_phone}
//   fallback     not understood                      {brand}
//   unsupported  a non-text message                  {brand}
//   help         the help menu                       {brand} {support_phone} {support_email}
//                                                    {support_hours}
//   opt_out      STOP confirmed                      {brand}
//   opt_in       START confirmed                     {brand}
// Every kind may use {brand}, {support_phone}, {support_email}, {support_hours}.
std::map<std::string, std::string> default_assistant_texts();

// Replaces each {key} of `text` with values[key]; unknown placeholders are left as they are.
std::string fill_placeholders(const std::string& text,
                              const std::map<std::string, std::string>& values);

// The sentence for {expected}: "Expected completion: 3-5 business days." while under review,
// otherwise the stage's first next step as a sentence.
std::string expected_sentence(Stage stage);

// "home loan" for "HL": the product name, lower-cased as it reads inside a sentence.
std::string product_phrase(const std::string& loan_type);

// The status text as it reads inside a sentence ("under review" for "Under Review"; text that
// is not simply capitalised words is kept as the partner wrote it).
std::string status_phrase(const std::string& status);

// The placeholders a template may not do without, per kind (for the configuration loader):
// nullopt when `text` is usable for `kind`, else the problem.
std::optional<std::string> check_assistant_text(const std::string& kind, const std::string& text);

}  // namespace leadgate
