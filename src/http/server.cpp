#include "http/server.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <optional>

#include "core/log.h"
#include "http/middleware.h"
#include "http/request_limits.h"

namespace leadgate {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct HttpServer::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // a request is being read past its headers, handled or written
};

HttpServer::HttpServer(asio::io_context& ioc, ServerOptions options, Dispatch dispatch)
    : ioc_(ioc), options_(options), dispatch_(std::move(dispatch)), acceptor_(ioc) {}

void HttpServer::start(const std::string& host, unsigned short port) {
  tcp::endpoint endpoint(asio::ip::make_address(host), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void HttpServer::begin_shutdown() {
  stopping_ = true;
  asio::dispatch(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::lock_guard lock(mutex_);
  for (const auto& conn : connections_) {
    if (conn->busy) continue;  // it closes itself after answering
    asio::dispatch(conn->stream.get_executor(), [conn] {
      boost::system::error_code ignored;  // the session may have closed the socket meanwhile
      if (!conn->busy) conn->stream.socket().cancel(ignored);
    });
  }
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(
        asio::make_strand(ioc_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      // E.g. out of file descriptors: the connection stays in the backlog, so retrying at once
      // would spin. Wait a little instead.
      log_warn("accept_failed", {{"error", ec.message()}});
      asio::steady_timer pause(acceptor_.get_executor());
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto executor = socket.get_executor();
    if (options_.max_connections > 0 && open_.load() >= options_.max_connections) {
      asio::co_spawn(executor, refuse(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(executor, session(std::move(socket)), asio::detached);
  }
}

namespace {

// A lingering close: after answering a request it will not read (413, 400, 503), the server stops
// sending and reads what the client still sends, for a moment and up to a bound, so that closing
// does not reset the connection before the client has read the answer.
asio::awaitable<void> linger(beast::tcp_stream& stream) {
  constexpr std::size_t kMaxBytes = 2 * 1024 * 1024;
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 16 * 1024> sink{};
  std::size_t drained = 0;
  stream.expires_after(std::chrono::seconds(1));
  while (!ec && drained < kMaxBytes) {
    drained += co_await stream.async_read_some(asio::buffer(sink),
                                               asio::redirect_error(asio::use_awaitable, ec));
  }
}

// The answer to a request that never became complete (answered here, outside the middleware
// chain; rejection_status says which): 413 past the body limit, 400 when malformed; nullopt when
// there is no one to answer (EOF, timeout, reset, cancelled by shutdown).
std::optional<Response> reject_incomplete(const http::request_parser<http::string_body>& parser,
                                          const boost::system::error_code& ec,
                                          std::size_t body_limit, const std::string& client_ip) {
  const unsigned status = rejection_status(ec);
  if (status == 0) return std::nullopt;
  Request partial;
  partial.version(11);
  if (parser.is_header_done()) partial.base() = parser.get().base();
  const std::string request_id = request_id_for(partial);
  Response res =
      status == 413
          ? problem_response(partial, 413, "PAYLOAD_TOO_LARGE",
                             "Request body exceeds " + std::to_string(body_limit) + " bytes",
                             request_id)
          : problem_response(partial, 400, "BAD_REQUEST", "Malformed HTTP request", request_id);
  res.set("X-Request-ID", request_id);
  res.keep_alive(false);
  log_info("http_request", {{"request_id", request_id},
                            {"method", std::string(partial.method_string())},
                            {"route", "rejected"},
                            {"status", res.result_int()},
                            {"duration_ms", 0},
                            {"environment", ""},
                            {"client_ip", client_ip},
                            {"error", ec.message()}});
  return res;
}

}  // namespace

asio::awaitable<void> HttpServer::session(tcp::socket socket) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  {
    std::lock_guard lock(mutex_);
    connections_.insert(conn);
  }
  ++open_;
  std::string client_ip;
  {
    boost::system::error_code ec;
    auto remote = conn->stream.socket().remote_endpoint(ec);
    if (!ec) client_ip = remote.address().to_string();
  }
  // The limits (request_limits.h): the buffer bounds the lines, the parser the header and body.
  beast::flat_buffer buffer(request_buffer_limit(options_));
  boost::system::error_code ec;
  bool first = true;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    // The largest body limit first, the route's own once the target is read.
    std::size_t body_limit = configure_request_parser(parser, options_);
    conn->stream.expires_after(first ? options_.header_timeout : options_.idle_timeout);
    first = false;
    co_await http::async_read_header(conn->stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    conn->busy = true;
    Response res;
    if (!ec) body_limit = check_body_framing(parser, options_, ec);
    bool read_ok = !ec;
    if (!ec && !parser.is_done()) {  // a request without a body is whole after its header
      conn->stream.expires_after(options_.header_timeout);
      co_await http::async_read(conn->stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      read_ok = !ec;
    }
    if (!read_ok) {
      auto rejected = reject_incomplete(parser, ec, body_limit, client_ip);
      if (!rejected) break;  // EOF, timeout, reset, cancelled by shutdown: nothing to answer
      res = std::move(*rejected);
    } else {
      Request req = parser.release();
      res = co_await dispatch_(req, client_ip);
      res.keep_alive(req.keep_alive() && !stopping_);
    }
    res.prepare_payload();
    conn->stream.expires_after(options_.write_timeout);
    co_await http::async_write(conn->stream, res, asio::redirect_error(asio::use_awaitable, ec));
    conn->busy = false;
    if (!read_ok && !ec) co_await linger(conn->stream);  // a refused request's unread rest
    if (ec || !res.keep_alive()) break;
  }
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn->stream.close();
  {
    std::lock_guard lock(mutex_);
    connections_.erase(conn);
  }
  --open_;
}

asio::awaitable<void> HttpServer::refuse(tcp::socket socket) {
  Request none;
  none.version(11);
  const std::string request_id = request_id_for(none);
  Response res = problem_response(none, 503, "TOO_MANY_CONNECTIONS",
                                  "Too many open connections; retry shortly", request_id);
  res.set("X-Request-ID", request_id);
  res.set(http::field::retry_after, "1");
  res.keep_alive(false);
  res.prepare_payload();
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(1));
  boost::system::error_code ec;
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await linger(stream);
  stream.close();
  if (!refused_logged_.exchange(true)) {
    log_warn("connection_limit_reached", {{"max_connections", options_.max_connections}});
  }
}

}  // namespace leadgate
