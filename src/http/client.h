#pragma once
// Outbound HTTP/1.1 client for partner calls: plain HTTP or HTTPS (certificates verified, SNI),
// a single deadline covering resolve+connect+handshake+write+read.
//
// Connections are kept alive: after a cleanly framed answer without `Connection: close`, the
// connection waits in a small pool per scheme+host+port (at most max_idle_per_host idle ones,
// each for at most max_idle_time or the server's `Keep-Alive: timeout`, whichever is shorter)
// for the next request to that host. A new TLS connection resumes the host's last TLS session.
// A request is sent again, once, on a new connection only when a reused connection turned out
// to be closed by the server and the request cannot have been processed (see client.cpp,
// send_on); a timeout is never retried. Threads and lifetimes: http/client_pool.h.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace leadgate {

class Metrics;
namespace client_detail {
class ConnectionPool;
}

struct ClientRequest {
  std::string method = "GET";  // GET, POST, ...
  std::string url;             // http://host:port/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;  // set as Content-Type when non-empty
  std::chrono::milliseconds timeout{30000};
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};

// Raised for transport failures: DNS, connect, TLS, timeout, malformed response, bad URL.
// `request_sent`: the whole request had been written when it failed (no answer, or an unreadable
// one), so the partner may have acted on it: the outcome is unknown. False for failures before
// that point (resolve, connect, TLS, the write itself): the request was certainly not processed.
struct TransportError : std::runtime_error {
  bool timed_out = false;
  bool request_sent = false;
  TransportError(const std::string& what, bool timeout, bool sent = false)
      : std::runtime_error(what), timed_out(timeout), request_sent(sent) {}
};

struct HttpClientOptions {
  std::string ca_file;  // extra CA bundle; empty: the system's default verify paths
  // Idle kept-alive connections kept per scheme+host+port (LEADGATE_PARTNER_POOL_SIZE).
  // 0: one connection per request, sent with `Connection: close`.
  std::size_t max_idle_per_host = 8;
  std::chrono::milliseconds max_idle_time{30000};
  // When set: leadgate_partner_connections_total{outcome="new|reused"}.
  Metrics* metrics = nullptr;
};

class HttpClient {
 public:
  explicit HttpClient(const std::string& ca_file = {});
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Callable from any executor and thread; never blocks the thread (the exchange itself runs on
  // the connection's strand). Throws TransportError.
  boost::asio::awaitable<ClientResponse> send(ClientRequest req);

  struct ConnectionCounts {
    std::uint64_t opened = 0;       // new connections (TCP connect, TLS handshake)
    std::uint64_t reused = 0;       // requests sent on a kept-alive connection
    std::uint64_t tls_resumed = 0;  // new TLS connections that resumed a session
  };
  ConnectionCounts connection_counts() const;

 private:
  HttpClientOptions options_;
  boost::asio::ssl::context ssl_;
  std::shared_ptr<client_detail::ConnectionPool> pool_;
};

// application/x-www-form-urlencoded encoding of one value.
std::string form_encode(std::string_view value);

}  // namespace leadgate
