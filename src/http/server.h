#pragma once
// HTTP/1.1 server on Beast + Asio coroutines: keep-alive, a body limit (413), header/body/write
// timeouts, and a graceful stop (no new connections; idle keep-alive connections are closed;
// in-flight requests finish and are answered with Connection: close).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "http/types.h"

namespace leadgate {

struct ServerOptions {
  std::size_t body_limit = 64 * 1024;
  // Paths starting with `large_body_prefix` (the WhatsApp webhook: Meta batches callbacks) may
  // carry up to large_body_limit.
  std::string large_body_prefix;
  std::size_t large_body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  // Bytes buffered ahead of the parser: bounds a chunk-size line with its extensions and a
  // trailer line (a longer one is answered 400 and the connection closed).
  std::size_t line_limit = 8 * 1024;
  // Open connections at most; one more is answered 503 and closed (0: no cap).
  std::size_t max_connections = 0;
  std::chrono::milliseconds header_timeout{10000};  // first byte to end of headers/body
  std::chrono::milliseconds idle_timeout{30000};    // between keep-alive requests
  std::chrono::milliseconds write_timeout{10000};
};

using Dispatch = std::function<boost::asio::awaitable<Response>(Request&, const std::string&)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, ServerOptions options, Dispatch dispatch);
  // Binds and starts accepting; throws std::system_error when the address cannot be bound.
  void start(const std::string& host, unsigned short port);
  unsigned short port() const { return port_; }
  void begin_shutdown();
  std::size_t open_connections() const { return open_.load(); }

  struct Connection;  // per-connection state, visible to the session coroutine

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  // Past max_connections: a canned 503 with Connection: close, then the socket is closed.
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  ServerOptions options_;
  Dispatch dispatch_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_{0};
  std::atomic<bool> refused_logged_{false};  // connection_limit_reached is logged once
  std::mutex mutex_;
  std::set<std::shared_ptr<Connection>> connections_;
};

}  // namespace leadgate
