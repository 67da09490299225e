#pragma once
// Outbound HTTP/1.1 client for partner calls: plain HTTP or HTTPS (certificates verified, SNI),
// one request per connection, a single deadline covering resolve+connect+handshake+write+read.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace leadgate {

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

class HttpClient {
 public:
  // `ca_file` empty: the system's default verify paths.
  explicit HttpClient(const std::string& ca_file = {});
  // Runs on the caller's executor; never blocks the thread. Throws TransportError.
  boost::asio::awaitable<ClientResponse> send(ClientRequest req);

 private:
  boost::asio::ssl::context ssl_;
};

// application/x-www-form-urlencoded encoding of one value.
std::string form_encode(std::string_view value);

}  // namespace leadgate
