#pragma once
// What the fuzz targets share: an invariant check that stops the run (libFuzzer keeps the input
// as crash-*), reading the input as a JSON object, and the data files the parsers need.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "domain/lead_validation.h"

namespace leadgate::fuzz {

// Aborts with `what` unless `ok`: a broken invariant is reported like a crash.
inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input parsed as the API handlers parse a body (http/middleware.cpp parse_json_object:
// boost::json::parse with default options); nullopt when it is not JSON or not an object.
inline std::optional<boost::json::object> json_object(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text_of(data, size), ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// parse_lead's and parse_flash's refusal: at least one error, and at most one per field.
inline void check_field_errors(const std::vector<FieldError>& errors) {
  check(!errors.empty(), "a refused body names no field");
  std::set<std::string> fields;
  for (const auto& e : errors) {
    check(!e.field.empty() && !e.message.empty(), "an error without field or message");
    check(fields.insert(e.field).second, "two errors for one field");
  }
}

// A file of the repository's data/ folder (pincodes.csv, professions.csv).
inline std::string data_file(const char* name) {
  return std::string(LEADGATE_SOURCE_DATA_DIR) + "/" + name;
}

}  // namespace leadgate::fuzz
