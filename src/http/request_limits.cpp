#include "http/request_limits.h"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>

namespace leadgate {

namespace beast = boost::beast;

std::size_t request_buffer_limit(const ServerOptions& options) {
  return options.header_limit + options.line_limit;
}

std::size_t configure_request_parser(http::request_parser<http::string_body>& parser,
                                     const ServerOptions& options) {
  const std::size_t largest = std::max(options.body_limit, options.large_body_limit);
  parser.body_limit(largest);
  parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
  return largest;
}

std::size_t check_body_framing(http::request_parser<http::string_body>& parser,
                               const ServerOptions& options, boost::system::error_code& ec) {
  std::size_t limit = options.body_limit;
  if (!options.large_body_prefix.empty() &&
      parser.get().target().starts_with(options.large_body_prefix)) {
    limit = options.large_body_limit;
  }
  parser.body_limit(limit);
  const auto& fields = parser.get();
  const std::size_t encodings = fields.count(http::field::transfer_encoding);
  if (encodings > 0 &&
      (encodings > 1 || !beast::iequals(fields[http::field::transfer_encoding], "chunked"))) {
    ec = http::error::bad_transfer_encoding;
  } else if (const auto length = parser.content_length(); length && *length > limit) {
    ec = http::error::body_limit;
  }
  return limit;
}

unsigned rejection_status(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) return 413;
  // A line longer than the read buffer (a chunk extension, a trailer): malformed.
  const bool overlong =
      ec == http::error::buffer_overflow || ec == boost::asio::error::no_buffer_space;
  // Framing that could be read two ways (two Transfer-Encodings, Transfer-Encoding with
  // Content-Length, two different Content-Lengths) is malformed too, never just dropped.
  if (ec == http::error::header_limit || ec == http::error::bad_target ||
      ec == http::error::bad_method || ec == http::error::bad_version ||
      ec == http::error::bad_field || ec == http::error::bad_value ||
      ec == http::error::bad_line_ending || ec == http::error::bad_content_length ||
      ec == http::error::multiple_content_length || ec == http::error::bad_transfer_encoding ||
      ec == http::error::bad_obs_fold || ec == http::error::bad_chunk ||
      ec == http::error::bad_chunk_extension || overlong) {
    return 400;
  }
  return 0;
}

}  // namespace leadgate
