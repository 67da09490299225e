#pragma once
// HttpClient's internals: one partner connection, and the pool of idle kept-alive connections
// per scheme+host+port with the last TLS session of each host (client.cpp uses these only).
//
// Threads. Each connection gets its own strand when it is opened; its stream, the stream's
// timers and every completion handler run on that strand, and HttpClient::send runs the whole
// exchange there (co_spawn onto the strand), whichever strand or thread the caller is on. The
// pool hands a connection to one caller at a time, under its mutex; that hand-over orders the
// previous user's last access before the next user's first one (sequential use from different
// threads, which Asio allows). An idle connection has no operation pending, so the pool may
// close it from any thread.
//
// Lifetime. A connection belongs to the execution context (io_context) its strand runs on and
// is only handed to callers on that context. The pool registers a service in each such context
// whose shutdown() closes that context's idle connections, so they never outlive their
// io_context whichever of the two is destroyed first.
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace leadgate::client_detail {

using Clock = std::chrono::steady_clock;

// A new strand on the execution context of `executor` (the caller's), for a new connection.
boost::asio::any_io_executor new_strand(const boost::asio::any_io_executor& executor);

struct Connection {
  // `on_strand`: from new_strand(), or the strand of the connection this one replaces.
  explicit Connection(boost::asio::any_io_executor on_strand);

  boost::asio::execution_context* context;  // where `strand` runs
  boost::asio::any_io_executor strand;
  std::optional<boost::beast::tcp_stream> plain;                          // http://
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;  // https://
  Clock::time_point idle_until{};  // the pool drops it after this
  bool reused = false;             // it answered a request before
  bool session_saved = false;      // its TLS session went to the pool

  bool open() const { return plain.has_value() || tls.has_value(); }
  boost::asio::ip::tcp::socket& socket();
  // Nothing to read and no FIN/RST: the server has not closed it (a non-blocking peek).
  bool looks_alive();
};

class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
 public:
  explicit ConnectionPool(std::size_t max_idle_per_host) : max_idle_(max_idle_per_host) {}
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  bool enabled() const { return max_idle_ > 0; }
  // The most recently used idle connection to `key` on `context` that has not passed its idle
  // time and that the server has not closed, or nullptr.
  std::unique_ptr<Connection> take(const std::string& key, boost::asio::execution_context& context);
  // Keeps `conn` (reused = true) until conn->idle_until; beyond max_idle_per_host idle
  // connections to `key`, the oldest is closed.
  void put(const std::string& key, std::unique_ptr<Connection> conn);
  // Closes every idle connection of `context` (its shutdown; see the header comment).
  void drop_context(boost::asio::execution_context& context);

  // The last resumable TLS session of `key` with a reference for the caller, or nullptr.
  SSL_SESSION* session(const std::string& key);
  // Keeps `session` (takes its reference) for the next new connection to `key`.
  void save_session(const std::string& key, SSL_SESSION* session);

  std::atomic<std::uint64_t> opened{0}, reused{0}, tls_resumed{0};

 private:
  using Idle = std::vector<std::unique_ptr<Connection>>;  // oldest first
  const std::size_t max_idle_;
  std::mutex mu_;
  std::map<std::string, Idle> idle_;
  std::map<std::string, SSL_SESSION*> sessions_;
  std::set<boost::asio::execution_context*> watched_;  // contexts whose shutdown calls us
};

}  // namespace leadgate::client_detail
