#pragma once
// How the server applies its limits while it reads a request (server.cpp), written once so that
// the fuzz target (fuzz/fuzz_http_request.cpp) reads requests exactly as the server does.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>

#include "http/server.h"

namespace leadgate {

// The read buffer's capacity: the headers, then at most line_limit bytes ahead of the parser.
// The body streams through it, and no chunk-size line (with its extensions) or trailer line can
// grow past it: Beast's read then fails with buffer_overflow, answered 400.
std::size_t request_buffer_limit(const ServerOptions& options);

// Sets up a new request's parser: the header limit, and the largest body limit, which the parser
// checks a Content-Length against as the headers end, before the route is known. Returns that
// limit.
std::size_t configure_request_parser(http::request_parser<http::string_body>& parser,
                                     const ServerOptions& options);

// Once the headers are read, how the body is framed: the route's own body limit (large_body_limit
// under large_body_prefix, else body_limit) goes on the parser, so that a chunked body is counted
// against it as it arrives; a Content-Length over it sets `ec` to http::error::body_limit (413).
// A Transfer-Encoding other than one field "chunked" sets http::error::bad_transfer_encoding (400):
// not ending in chunked, Beast would read the request as bodiless and its body as the next request
// (RFC 9112 6.3 says 400); several fields may be combined one way here and another by a proxy in
// front; and no other transfer coding is decoded (RFC 9112 6.1 suggests 501; 400 is answered, as
// for the rest of the framing). Returns the limit.
std::size_t check_body_framing(http::request_parser<http::string_body>& parser,
                               const ServerOptions& options, boost::system::error_code& ec);

// The status of the answer to a request that could not be read (HttpServer answers it outside the
// middleware chain, then closes): 413 past the body limit, 400 when malformed (including a header
// over header_limit and a line longer than the read buffer); 0 when there is no one to answer
// (end of stream, timeout, reset, cancelled by shutdown).
unsigned rejection_status(const boost::system::error_code& ec);

}  // namespace leadgate
