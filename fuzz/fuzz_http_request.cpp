// The HTTP request reader as HttpServer::session runs it: Beast's request_parser<string_body> set
// up by http/request_limits.h (header limit, the largest body limit, then the route's body limit
// and its Content-Length check), fed by Beast's read_header/read through a flat_buffer bounded as
// the server's (header_limit + line_limit, which bounds chunk-size lines with their extensions and
// trailers), one request after another while the client keeps the connection alive. Each request
// read then meets what every route does with it before its handler's own work: its request id
// (X-Request-ID or a new one), the route table (http/router.h), and the query string and form
// body readers the handlers use (http/middleware.h query_object, form_object).
//
// The input is the byte stream a client sends. It is read four times: with the server's limits
// and with the same limits scaled down (so that short inputs reach them too), each once with the
// whole input available and once arriving in small pieces. Checks besides ASan/UBSan: the body
// never exceeds the route's limit; a Transfer-Encoding is one field, chunked; a failed read is
// answered unless the input ended; a path with an empty segment ("//") matches no route; a matched
// path is exactly its route's pattern with the parameters put in; and how the bytes are split
// into reads changes nothing (the same requests, the same error).
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/system/system_error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "fuzz_support.h"
#include "http/middleware.h"
#include "http/request_limits.h"
#include "http/router.h"

namespace leadgate {
namespace {

namespace beast = boost::beast;

// The route table of app/routes.cpp (method and pattern; the handlers are not called).
Router route_table() {
  const std::pair<http::verb, const char*> routes[] = {
      {http::verb::get, "/healthz"},
      {http::verb::get, "/readyz"},
      {http::verb::get, "/metrics"},
      {http::verb::get, "/openapi.json"},
      {http::verb::get, "/docs"},
      {http::verb::get, "/docs/{asset}"},
      {http::verb::get, "/dashboard"},
      {http::verb::get, "/dashboard/login"},
      {http::verb::post, "/dashboard/login"},
      {http::verb::post, "/dashboard/logout"},
      {http::verb::get, "/dashboard/data"},
      {http::verb::get, "/dashboard/assets/{asset}"},
      {http::verb::post, "/api_v1/create_lead"},
      {http::verb::post, "/api_v1/otp_send"},
      {http::verb::post, "/api_v1/otp_resend"},
      {http::verb::post, "/api_v1/otp_verify"},
      {http::verb::get, "/api_v1/consent/{token}"},
      {http::verb::post, "/api_v1/consent/{token}"},
      {http::verb::post, "/api_v1/lead_flash"},
      {http::verb::post, "/api_v1/lead_status"},
      {http::verb::post, "/api_v1/track_application"},
      {http::verb::post, "/api_v1/book_appointment"},
      {http::verb::post, "/api_v1/cancel_appointment"},
      {http::verb::get, "/api_v1/appointment_slots"},
      {http::verb::get, "/api_v1/whatsapp/webhook"},
      {http::verb::post, "/api_v1/whatsapp/webhook"},
      {http::verb::post, "/api_v1/whatsapp/webhook/{token}"},
      {http::verb::get, "/api_v1/appointments/{file}"},
  };
  Router router;
  for (const auto& [method, pattern] : routes) {
    Route route;
    route.method = method;
    route.pattern = pattern;
    router.add(std::move(route));
  }
  return router;
}

// The server's options as app/server.cpp server_options sets them (the limits are ServerOptions'
// defaults; Config's body_limit default is the same 64 KiB).
ServerOptions server_limits() {
  ServerOptions options;
  options.large_body_prefix = "/api_v1/whatsapp/webhook";
  return options;
}

// The same shape, small enough for short inputs to reach every limit.
ServerOptions scaled_down_limits() {
  ServerOptions options = server_limits();
  options.body_limit = 512;
  options.large_body_limit = 2048;
  options.header_limit = 256;
  options.line_limit = 128;
  return options;
}

// A SyncReadStream over the input, handing out at most `step` bytes per read_some.
class MemoryStream {
 public:
  MemoryStream(std::string_view input, std::size_t step)
      : size_(input.size()), rest_(input), step_(step) {}

  std::size_t consumed() const { return size_ - rest_.size(); }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    if (rest_.empty()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    const std::size_t n = boost::asio::buffer_copy(
        buffers, boost::asio::buffer(rest_.data(), std::min(step_, rest_.size())));
    rest_.remove_prefix(n);
    return n;
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::size_t size_;
  std::string_view rest_;
  std::size_t step_;
};

// The pattern with each "{name}" segment replaced by its parameter.
std::string expand(std::string_view pattern, const std::map<std::string, std::string>& params) {
  std::string out;
  std::size_t pos = 1;  // patterns start with '/'
  while (pos <= pattern.size()) {
    std::size_t next = std::min(pattern.find('/', pos), pattern.size());
    const std::string_view segment = pattern.substr(pos, next - pos);
    out += '/';
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
      const auto it = params.find(std::string(segment.substr(1, segment.size() - 2)));
      fuzz::check(it != params.end(), "a pattern parameter without a value");
      fuzz::check(!it->second.empty(), "an empty parameter");
      out += it->second;
    } else {
      out += segment;
    }
    pos = next + 1;
  }
  return out;
}

// The request id, the query string and a form body, as the middleware and handlers read them.
void check_request_readers(const Request& req) {
  const std::string id = request_id_for(req);
  fuzz::check(!id.empty() && id.size() <= 128, "a request id out of bounds");
  try {
    (void)query_object(req);
  } catch (const ApiError& e) {
    fuzz::check(e.status() == 400, "the query string refused with another status than 400");
  }
  (void)form_object(req.body());
}

void check_route(const Router& router, const Request& req) {
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const Router::Match m = router.match(req.method(), target);
  if (path.find("//") != std::string_view::npos) {
    fuzz::check(m.route == nullptr && m.allowed.empty(), "a path with // matched a route");
  }
  // Nor any other alias (a trailing '/', no leading '/'): the path is the pattern filled in.
  if (m.route == nullptr) return;
  fuzz::check(m.route->method == req.method(), "a route of another method");
  fuzz::check(expand(m.route->pattern, m.params) == path, "the path is not the route's pattern");
}

// What was read: each complete request (method, target, version, fields, body), then the error
// that ended the reading (none when the last request closed the connection) and where the request
// it ended began in the input.
struct Reading {
  std::vector<std::string> requests;
  boost::system::error_code error;
  std::size_t error_offset = 0;
};

std::string describe(const Request& req) {
  std::string out(req.method_string());
  out += ' ';
  out += req.target();
  out += ' ' + std::to_string(req.version()) + '\n';
  for (const auto& field : req) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += '\n';
  }
  out += '\n';
  out += req.body();
  return out;
}

// HttpServer::session's reading loop, without the socket and the answers.
Reading read_requests(std::string_view input, std::size_t step, const ServerOptions& options,
                      const Router& router) {
  MemoryStream stream(input, step);
  beast::flat_buffer buffer(request_buffer_limit(options));
  Reading out;
  for (;;) {
    const std::size_t offset = stream.consumed() - buffer.size();
    http::request_parser<http::string_body> parser;
    configure_request_parser(parser, options);
    boost::system::error_code ec;
    const std::size_t header_size = http::read_header(stream, buffer, parser, ec);
    std::size_t body_limit = 0;
    if (!ec) body_limit = check_body_framing(parser, options, ec);
    if (!ec) http::read(stream, buffer, parser, ec);
    if (ec) {
      out.error = ec;
      out.error_offset = offset;
      return out;
    }
    const Request req = parser.release();
    fuzz::check(req.body().size() <= body_limit, "a body over the route's limit");
    // Beast applies header_limit to the part of the header it has not parsed yet: the start line
    // ("METHOD SP target SP HTTP/1.x CRLF"), and in some splits the first fields, may come on top.
    const std::size_t start_line = req.method_string().size() + req.target().size() + 12;
    fuzz::check(header_size <= start_line + 2 * options.header_limit,
                "a header far over the limit");
    // Transfer-Encoding is one field, chunked (check_body_framing): otherwise its body may be taken
    // for the next request, here or by a proxy in front.
    const std::size_t encodings = req.count(http::field::transfer_encoding);
    fuzz::check(encodings == 0 || (encodings == 1 && req.chunked()),
                "a request with another Transfer-Encoding than chunked was read");
    check_request_readers(req);
    check_route(router, req);
    out.requests.push_back(describe(req));
    if (!req.keep_alive()) return out;
  }
}

// A read size from 1 to 64 bytes picked by the input's FNV-1a hash, so that the pieces vary with
// the input; at most about 4096 reads.
std::size_t piece_size(std::string_view input) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : input) hash = (hash ^ c) * 1099511628211ULL;
  return std::max<std::size_t>(1 + hash % 64, input.size() / 4096 + 1);
}

// Why a reading ended must be answered (rejection_status: 400 or 413) unless the input ran out.
void check_answered(const boost::system::error_code& error) {
  if (!error || error == http::error::end_of_stream || error == http::error::partial_message) {
    return;
  }
  if (rejection_status(error) == 0) {
    std::fprintf(stderr, "unanswered: %s\n", error.message().c_str());
  }
  fuzz::check(rejection_status(error) != 0, "a malformed request is closed without an answer");
}

// How the bytes arrive changes what Beast's parser (not ours) does in three ways, all answers the
// server may give:
//  - once it has seen an incomplete start line or header, it waits for the header's end before
//    parsing again, so malformed bytes that one reading sees at once (400) may still be waiting
//    in the other when the input ends (partial message: nothing to answer). The whole input too
//    can meet a start line cut short: the next request's first bytes left over from the last
//    read of a body;
//  - it applies header_limit to the part of the header not parsed yet, and what it has parsed when
//    it checks depends on the pieces: a header longer than header_limit (read_requests checks by
//    how much) may be read one way and refused (header_limit, 400) the other;
//  - it takes a chunk's size off the body limit before it parses the chunk's extensions, and again
//    each time a malformed extension (one running past the end of its line) makes it ask for
//    more bytes: a request refused for a bad chunk extension (400) one way may run out of body
//    limit first (413) the other. A well-formed extension never asks for more.
bool deferred(const Reading& a, const Reading& b) {
  return a.error == http::error::partial_message && a.requests == b.requests &&
         rejection_status(b.error) == 400;
}

// The same quirk when the malformed extension is still open where the input ends, or runs past
// the read buffer: one reading waits for the rest of its line (partial message, nothing to
// answer) or finds it overlong (400) while the other has already taken the chunk's size off the
// body limit more than once (413).
bool bad_chunk_extension(const Reading& a, const Reading& b) {
  const bool line_trouble = a.error == http::error::bad_chunk_extension ||
                            a.error == http::error::partial_message ||
                            a.error == http::error::buffer_overflow;
  return line_trouble && b.error == http::error::body_limit && a.requests == b.requests;
}

// `a` refused request n for the size of its header, `b` agreeing on the requests before: then `b`
// may do anything with it when that header (to its blank line, or to the end of the input) is
// longer than the limit.
bool header_over_limit(std::string_view input, const Reading& a, const Reading& b,
                       const ServerOptions& options) {
  const std::size_t n = a.requests.size();
  if (a.error != http::error::header_limit || b.requests.size() < n ||
      !std::equal(a.requests.begin(), a.requests.end(), b.requests.begin())) {
    return false;
  }
  const std::size_t end = input.find("\r\n\r\n", a.error_offset);
  const std::size_t length =
      (end == std::string_view::npos ? input.size() : end + 4) - a.error_offset;
  return length > options.header_limit;
}

// The same requests, and the same answer to the failed one, however the bytes arrive (but see
// above).
void check_same(std::string_view input, const Reading& whole, const Reading& pieces,
                const ServerOptions& options, std::size_t step) {
  const bool same = (whole.requests == pieces.requests &&
                     rejection_status(whole.error) == rejection_status(pieces.error)) ||
                    deferred(whole, pieces) || deferred(pieces, whole) ||
                    bad_chunk_extension(whole, pieces) || bad_chunk_extension(pieces, whole) ||
                    header_over_limit(input, whole, pieces, options) ||
                    header_over_limit(input, pieces, whole, options);
  if (!same) {
    std::fprintf(stderr, "whole: %zu requests, %s; in pieces of %zu: %zu requests, %s\n",
                 whole.requests.size(), whole.error.message().c_str(), step, pieces.requests.size(),
                 pieces.error.message().c_str());
  }
  fuzz::check(same, "the requests read depend on how the bytes arrive");
}

}  // namespace
}  // namespace leadgate

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadgate;
  static const Router router = route_table();
  static const ServerOptions limits[] = {server_limits(), scaled_down_limits()};
  const std::string_view input = fuzz::text_of(data, size);
  const std::size_t step = piece_size(input);
  for (const auto& options : limits) {
    const Reading whole = read_requests(input, input.size() + 1, options, router);
    const Reading pieces = read_requests(input, step, options, router);
    check_answered(whole.error);
    check_answered(pieces.error);
    check_same(input, whole, pieces, options, step);
  }
  return 0;
}
