#include "http/client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cstdint>
#include <memory>
#include <string_view>

namespace leadgate {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
namespace urls = boost::urls;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::uint64_t kMaxResponseBody = 4 * 1024 * 1024;
// Upper bound for the TLS close_notify exchange once the response is complete.
constexpr std::chrono::seconds kShutdownGrace{1};
constexpr std::string_view kUserAgent = "leadgate/0.1";

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);

struct Target {
  bool tls = false;
  std::string host;         // for resolve, SNI and certificate verification (no brackets)
  std::string host_header;  // value of the Host header
  std::uint16_t port = 0;
  bool host_is_ip = false;
  std::string path;   // origin-form: path + optional query
  std::string where;  // "host:port" for error messages
};

// `request_sent`: see TransportError (true only once the request is fully written).
[[noreturn]] void fail(const Target& t, std::string_view what, const error_code& ec,
                       bool request_sent = false) {
  throw TransportError(std::string(what) + " " + t.where + " failed: " + ec.message(),
                       ec == beast::error::timeout, request_sent);
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

Target parse_target(const std::string& url) {
  auto bad = [&url](std::string_view why) -> TransportError {
    return TransportError("invalid URL '" + url + "': " + std::string(why), false);
  };
  auto parsed = urls::parse_uri(url);
  if (!parsed) throw bad(parsed.error().message());
  const urls::url_view& u = *parsed;

  Target t;
  if (u.scheme_id() == urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() != urls::scheme::http) {
    throw bad("scheme must be http or https");
  }

  switch (u.host_type()) {
    case urls::host_type::name: {
      t.host = u.host_name();
      if (t.host.empty()) throw bad("missing host");
      const bool ok = std::all_of(t.host.begin(), t.host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
      });
      if (!ok) throw bad("invalid host name");
      t.host_header = t.host;
      break;
    }
    case urls::host_type::ipv4:
      t.host = u.host_ipv4_address().to_string();
      t.host_header = t.host;
      t.host_is_ip = true;
      break;
    case urls::host_type::ipv6:
      t.host = u.host_ipv6_address().to_string();
      t.host_header = "[" + t.host + "]";
      t.host_is_ip = true;
      break;
    default:
      throw bad("missing or unsupported host");
  }

  const std::uint16_t default_port = t.tls ? 443 : 80;
  t.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    // port_number() silently wraps values above 65535, so parse the digits here.
    unsigned long port = 0;
    for (const char c : std::string_view(u.port())) {
      port = port * 10 + static_cast<unsigned long>(c - '0');  // the grammar guarantees digits
      if (port > 65535) throw bad("invalid port");
    }
    if (port == 0) throw bad("invalid port");
    t.port = static_cast<std::uint16_t>(port);
  }
  if (t.port != default_port) t.host_header += ":" + std::to_string(t.port);
  t.where = (u.host_type() == urls::host_type::ipv6 ? "[" + t.host + "]" : t.host) + ":" +
            std::to_string(t.port);

  t.path = u.encoded_path();
  if (t.path.empty()) t.path = "/";
  if (t.path.front() != '/') throw bad("path must be absolute");
  if (u.has_query()) {
    t.path += '?';
    t.path += std::string_view(u.encoded_query());
  }
  return t;
}

http::request<http::string_body> build_request(ClientRequest& req, const Target& t) {
  http::request<http::string_body> msg;
  if (!is_token(req.method))
    throw TransportError("invalid HTTP method '" + req.method + "'", false);
  const http::verb verb = http::string_to_verb(req.method);
  if (verb == http::verb::unknown) {
    msg.method_string(req.method);
  } else {
    msg.method(verb);
  }
  msg.target(t.path);
  msg.version(11);
  msg.set(http::field::host, t.host_header);
  msg.set(http::field::user_agent, kUserAgent);
  for (const auto& [name, value] : req.headers) {
    if (!is_token(name) || !is_field_value(value)) {
      throw TransportError("invalid request header '" + name + "'", false);
    }
    msg.set(name, value);
  }
  if (!req.content_type.empty()) {
    if (!is_field_value(req.content_type)) throw TransportError("invalid content type", false);
    msg.set(http::field::content_type, req.content_type);
  }
  msg.set(http::field::connection, "close");
  msg.body() = std::move(req.body);
  msg.prepare_payload();
  return msg;
}

// async_resolve is not covered by the stream timeout and a resolve already running in the
// resolver's worker cannot be interrupted, so race it against the deadline instead of awaiting
// it directly; on timeout the pending resolve is cancelled and abandoned (it owns its state).
net::awaitable<tcp::resolver::results_type> resolve(const Target& t, Clock::time_point deadline) {
  struct State {
    explicit State(const net::any_io_executor& ex) : resolver(ex), wake(ex) {}
    tcp::resolver resolver;
    net::steady_timer wake;
    bool done = false;
    error_code ec;
    tcp::resolver::results_type results;
  };
  auto state = std::make_shared<State>(co_await net::this_coro::executor);
  state->wake.expires_at(deadline);
  auto flags = tcp::resolver::numeric_service;
  if (t.host_is_ip) flags |= tcp::resolver::numeric_host;
  state->resolver.async_resolve(t.host, std::to_string(t.port), flags,
                                [state](const error_code& ec, tcp::resolver::results_type results) {
                                  state->done = true;
                                  state->ec = ec;
                                  state->results = std::move(results);
                                  state->wake.cancel();
                                });
  co_await state->wake.async_wait(kAsTuple);
  if (!state->done) {
    state->resolver.cancel();
    fail(t, "resolve", beast::error::timeout);
  }
  if (state->ec) fail(t, "resolve", state->ec);
  co_return std::move(state->results);
}

template <class Stream>
net::awaitable<ClientResponse> exchange(Stream& stream, const http::request<http::string_body>& msg,
                                        const Target& t, Clock::time_point deadline) {
  auto& lowest = beast::get_lowest_layer(stream);

  lowest.expires_at(deadline);
  if (auto [ec, n] = co_await http::async_write(stream, msg, kAsTuple); ec) {
    fail(t, "write request to", ec);
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  lowest.expires_at(deadline);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAsTuple); ec) {
    fail(t, "read response from", ec, /*request_sent=*/true);  // the partner may have acted
  }

  http::response<http::string_body> res = parser.release();
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

HttpClient::HttpClient(const std::string& ca_file) : ssl_(ssl::context::tls_client) {
  if (SSL_CTX_set_min_proto_version(ssl_.native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("HttpClient: cannot set minimum TLS version");
  }
  ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ssl_.set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (ca_file.empty()) {
    ssl_.set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("HttpClient: cannot load default CA paths: " + ec.message());
  } else {
    ssl_.load_verify_file(ca_file, ec);
    if (ec) {
      throw std::runtime_error("HttpClient: cannot load CA file '" + ca_file +
                               "': " + ec.message());
    }
  }
}

boost::asio::awaitable<ClientResponse> HttpClient::send(ClientRequest req) {
  const Clock::time_point deadline = Clock::now() + req.timeout;
  const Target t = parse_target(req.url);
  const http::request<http::string_body> msg = build_request(req, t);
  const auto ex = co_await net::this_coro::executor;

  const tcp::resolver::results_type endpoints = co_await resolve(t, deadline);

  if (!t.tls) {
    beast::tcp_stream stream(ex);
    stream.expires_at(deadline);
    if (auto [ec, ep] = co_await stream.async_connect(endpoints, kAsTuple); ec) {
      fail(t, "connect to", ec);
    }
    ClientResponse res = co_await exchange(stream, msg, t, deadline);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
    co_return res;
  }

  beast::ssl_stream<beast::tcp_stream> stream(ex, ssl_);
  if (!t.host_is_ip) {  // RFC 6066: no SNI for IP literals
    // SSL_set_tlsext_host_name expands to an old-style cast; call SSL_ctrl directly.
    if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(t.host.c_str())) != 1) {
      fail(t, "set SNI for",
           error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
    }
  }
  stream.set_verify_callback(ssl::host_name_verification(t.host));

  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(deadline);
  if (auto [ec, ep] = co_await lowest.async_connect(endpoints, kAsTuple); ec) {
    fail(t, "connect to", ec);
  }
  lowest.expires_at(deadline);
  if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, kAsTuple); ec) {
    fail(t, "TLS handshake with", ec);
  }

  ClientResponse res = co_await exchange(stream, msg, t, deadline);

  // Graceful close_notify exchange; the response is complete, so any error here
  // (stream_truncated, not_connected, timeout, ...) is irrelevant.
  lowest.expires_at(std::min(deadline, Clock::now() + kShutdownGrace));
  co_await stream.async_shutdown(kAsTuple);
  error_code ignored;
  lowest.socket().close(ignored);
  co_return res;
}

std::string form_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (const char c : value) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '_' || b == '.' || b == '*') {
      out += c;
    } else if (b == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0x0F];
    }
  }
  return out;
}

}  // namespace leadgate
