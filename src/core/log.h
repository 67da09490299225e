#pragma once
// Structured logs: one JSON object per line on stderr. Callers pass masked values only
// (see crypto/crypto.h mask_*); the logger never sees raw PII.
#include <boost/json/object.hpp>
#include <string_view>

namespace leadgate {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

void set_log_level(LogLevel level);
LogLevel parse_log_level(std::string_view text);  // throws std::invalid_argument
void log_event(LogLevel level, std::string_view event, boost::json::object fields = {});

inline void log_info(std::string_view event, boost::json::object fields = {}) {
  log_event(LogLevel::info, event, std::move(fields));
}
inline void log_warn(std::string_view event, boost::json::object fields = {}) {
  log_event(LogLevel::warn, event, std::move(fields));
}
inline void log_error(std::string_view event, boost::json::object fields = {}) {
  log_event(LogLevel::error, event, std::move(fields));
}

}  // namespace leadgate
