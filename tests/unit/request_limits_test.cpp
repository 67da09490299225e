#include "http/request_limits.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <string>
#include <string_view>

namespace leadgate {
namespace {

ServerOptions webhook_options() {
  ServerOptions options;
  options.large_body_prefix = "/api_v1/whatsapp/webhook";
  return options;
}

// How the server meets `head` (the start line and fields): the parser's error, else
// check_body_framing's.
boost::system::error_code framing_error(std::string_view head,
                                        const ServerOptions& options = webhook_options()) {
  http::request_parser<http::string_body> parser;
  configure_request_parser(parser, options);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (!ec && !parser.is_header_done()) return http::error::need_more;
  if (!ec) check_body_framing(parser, options, ec);
  return ec;
}

TEST(RequestLimits, BufferHoldsTheHeaderAndOneLine) {
  const ServerOptions options;
  EXPECT_EQ(request_buffer_limit(options), options.header_limit + options.line_limit);
}

TEST(RequestLimits, WellFramedRequestsPass) {
  EXPECT_FALSE(framing_error("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_FALSE(framing_error("POST /api_v1/lead_status HTTP/1.1\r\nContent-Length: 10\r\n\r\n"));
  EXPECT_FALSE(
      framing_error("POST /api_v1/lead_status HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_FALSE(
      framing_error("POST /api_v1/lead_status HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"));
}

TEST(RequestLimits, ContentLengthOverTheRoutesLimitIs413) {
  const std::string over_small = std::to_string(64 * 1024 + 1);
  const auto ec = framing_error(
      "POST /api_v1/lead_status HTTP/1.1\r\nContent-Length: " + over_small + "\r\n\r\n");
  EXPECT_EQ(ec, http::error::body_limit);
  EXPECT_EQ(rejection_status(ec), 413u);
  // The webhook takes up to large_body_limit.
  EXPECT_FALSE(framing_error(
      "POST /api_v1/whatsapp/webhook HTTP/1.1\r\nContent-Length: " + over_small + "\r\n\r\n"));
  const std::string over_large = std::to_string(1024 * 1024 + 1);
  EXPECT_EQ(rejection_status(framing_error("POST /api_v1/whatsapp/webhook HTTP/1.1\r\n"
                                           "Content-Length: " +
                                           over_large + "\r\n\r\n")),
            413u);
}

// Found by fuzz/fuzz_http_request.cpp: framing that can be read two ways closed the connection
// without an answer; a Transfer-Encoding not ending in chunked was read as a bodiless request (its
// body then read as the next request); two Transfer-Encoding fields, the last one chunked, were
// read as chunked.
TEST(RequestLimits, AmbiguousFramingIs400) {
  for (const char* head : {
           "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST /x HTTP/1.1\r\nTransfer-Encoding:chunked\r\nTransfer-Encoding:\r\n\r\n",
           "POST /x HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
           "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
           "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
           "POST /x HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
           "POST /x HTTP/1.1\r\nTransfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       }) {
    const auto ec = framing_error(head);
    EXPECT_TRUE(ec) << head;
    EXPECT_EQ(rejection_status(ec), 400u) << head << ": " << ec.message();
  }
}

TEST(RequestLimits, MalformedRequestsAre400) {
  for (const char* head :
       {"G@T / HTTP/1.1\r\n\r\n", "GET / HTTP/9.1\r\n\r\n", "GET / HTTP/1.1\r\nNo Colon\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    const auto ec = framing_error(head);
    EXPECT_EQ(rejection_status(ec), 400u) << head << ": " << ec.message();
  }
  ServerOptions small = webhook_options();
  small.header_limit = 64;
  EXPECT_EQ(rejection_status(
                framing_error("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", small)),
            400u);
  EXPECT_EQ(rejection_status(http::error::buffer_overflow), 400u);
  EXPECT_EQ(rejection_status(boost::asio::error::no_buffer_space), 400u);
}

TEST(RequestLimits, NoAnswerWhenTheClientIsGone) {
  EXPECT_EQ(rejection_status(http::error::end_of_stream), 0u);
  EXPECT_EQ(rejection_status(http::error::partial_message), 0u);
  EXPECT_EQ(rejection_status(boost::asio::error::operation_aborted), 0u);
  EXPECT_EQ(rejection_status(boost::asio::error::connection_reset), 0u);
}

}  // namespace
}  // namespace leadgate
