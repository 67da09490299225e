#include "http/client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
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
#include <optional>
#include <string_view>

#include "core/log.h"
#include "core/metrics.h"
#include "http/client_pool.h"

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
using client_detail::Connection;
using client_detail::ConnectionPool;

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

http::request<http::string_body> build_request(ClientRequest& req, const Target& t,
                                               bool keep_alive) {
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
  if (!keep_alive) msg.set(http::field::connection, "close");  // HTTP/1.1 keeps it by default
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

// Everything one send() needs, owned by the coroutine that runs it on the connection's strand.
struct Call {
  std::shared_ptr<ConnectionPool> pool;
  ssl::context* ssl = nullptr;
  Metrics* metrics = nullptr;
  Target target;
  std::string key;  // scheme://host:port: the key of the pool and of the TLS sessions
  http::request<http::string_body> msg;
  bool idempotent = false;  // GET or HEAD
  Clock::time_point deadline;
  std::chrono::milliseconds max_idle{0};
  std::unique_ptr<Connection> conn;
};

// How an exchange ended when it did not throw.
struct Exchanged {
  ClientResponse response;
  bool stale = false;       // a reused connection the server had closed: send again (send_on)
  bool keep_alive = false;  // cleanly framed, no `Connection: close`, nothing after the answer
  std::optional<std::chrono::seconds> server_idle;  // the answer's Keep-Alive: timeout=N
};

// How a connection the server has closed shows itself: EOF (FIN, or a TLS close_notify), a FIN
// without close_notify, a reset, or a write to a closed socket. Never a timeout.
bool closed_by_server(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::connection_aborted ||
         ec == net::error::broken_pipe || ec == ssl::error::stream_truncated;
}

// `timeout=N` of a Keep-Alive header ("timeout=5, max=100"), capped at a day.
std::optional<std::chrono::seconds> keep_alive_timeout(std::string_view header) {
  for (std::size_t at = header.find("timeout="); at != std::string_view::npos;
       at = header.find("timeout=", at + 1)) {
    if (at > 0 && header[at - 1] != ' ' && header[at - 1] != ',') continue;
    long seconds = 0;
    std::size_t i = at + 8;
    for (; i < header.size() && header[i] >= '0' && header[i] <= '9'; ++i) {
      seconds = std::min(86400L, seconds * 10 + (header[i] - '0'));
    }
    if (i == at + 8) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  return std::nullopt;
}

void count_connection(Metrics* metrics, bool reused) {
  if (metrics == nullptr) return;
  metrics->count("leadgate_partner_connections_total", {{"outcome", reused ? "reused" : "new"}});
}

// Writes the request and reads the answer. On a reused connection, a failure that shows the
// server closed it before it could have processed the request comes back as `stale` (see
// send_on for when that is); every other failure throws TransportError.
template <class Stream>
net::awaitable<Exchanged> exchange(Stream& stream, const Call& call, bool reused) {
  auto& lowest = beast::get_lowest_layer(stream);
  Exchanged out;
  lowest.expires_at(call.deadline);
  if (auto [ec, n] = co_await http::async_write(stream, call.msg, kAsTuple); ec) {
    if (reused && closed_by_server(ec)) {
      out.stale = true;
      co_return out;
    }
    fail(call.target, "write request to", ec);
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  lowest.expires_at(call.deadline);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAsTuple); ec) {
    const bool nothing_received = !parser.got_some() && buffer.size() == 0;
    if (reused && call.idempotent && nothing_received && closed_by_server(ec)) {
      out.stale = true;
      co_return out;
    }
    // The partner may have acted on it: the outcome is unknown (issue 20 section 4).
    fail(call.target, "read response from", ec, /*request_sent=*/true);
  }

  // keep_alive(): HTTP/1.1 without `Connection: close` (1.0 only with keep-alive), and a body
  // not delimited by the end of the connection. Bytes after the answer: not cleanly framed.
  out.keep_alive = parser.keep_alive() && buffer.size() == 0;
  http::response<http::string_body> res = parser.release();
  out.server_idle = keep_alive_timeout(res[http::field::keep_alive]);
  out.response.status = static_cast<int>(res.result_int());
  out.response.content_type = std::string(res[http::field::content_type]);
  out.response.body = std::move(res.body());
  co_return out;
}

// Every write is a whole request or a TLS handshake flight: waiting for the peer's ACK before
// sending the next small segment (Nagle) only adds a delayed-ACK pause (~40 ms) to handshakes.
void no_delay(Connection& c) {
  error_code ignored;
  c.socket().set_option(tcp::no_delay(true), ignored);
}

// Resolves, connects and (https) handshakes call.conn, resuming the host's last TLS session.
net::awaitable<void> open_connection(Call& call) {
  const Target& t = call.target;
  Connection& c = *call.conn;
  const tcp::resolver::results_type endpoints = co_await resolve(t, call.deadline);

  if (!t.tls) {
    beast::tcp_stream& stream = c.plain.emplace(c.strand);
    stream.expires_at(call.deadline);
    if (auto [ec, ep] = co_await stream.async_connect(endpoints, kAsTuple); ec) {
      fail(t, "connect to", ec);
    }
    no_delay(c);
    ++call.pool->opened;
    co_return;
  }

  beast::ssl_stream<beast::tcp_stream>& stream = c.tls.emplace(c.strand, *call.ssl);
  if (!t.host_is_ip) {  // RFC 6066: no SNI for IP literals
    // SSL_set_tlsext_host_name expands to an old-style cast; call SSL_ctrl directly.
    if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(t.host.c_str())) != 1) {
      fail(t, "set SNI for",
           error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
    }
  }
  stream.set_verify_callback(ssl::host_name_verification(t.host));
  // The session was verified for this same scheme+host+port; the server decides whether to
  // resume it (a full handshake otherwise). SSL_set_session takes its own reference.
  if (SSL_SESSION* session = call.pool->session(call.key)) {
    SSL_set_session(stream.native_handle(), session);
    SSL_SESSION_free(session);
  }

  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(call.deadline);
  if (auto [ec, ep] = co_await lowest.async_connect(endpoints, kAsTuple); ec) {
    fail(t, "connect to", ec);
  }
  no_delay(c);
  lowest.expires_at(call.deadline);
  if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, kAsTuple); ec) {
    fail(t, "TLS handshake with", ec);
  }
  ++call.pool->opened;
  if (SSL_session_reused(stream.native_handle()) == 1) ++call.pool->tls_resumed;
}

// After an answer: keeps the connection's TLS session for the host's next new connection, then
// puts the connection in the pool, or closes it (with a close_notify exchange for TLS).
net::awaitable<void> finish(Call& call, const Exchanged& done) {
  Connection& c = *call.conn;
  if (c.tls && !c.session_saved) {
    // Taken after the answer was read: a TLS 1.3 server sends its session tickets after the
    // handshake, so by now they have arrived and been processed.
    SSL_SESSION* session = SSL_get1_session(c.tls->native_handle());
    if (session != nullptr && SSL_SESSION_is_resumable(session) == 1) {
      call.pool->save_session(call.key, session);
    } else if (session != nullptr) {
      SSL_SESSION_free(session);
    }
    c.session_saved = true;
  }

  std::chrono::milliseconds idle = call.max_idle;
  if (done.server_idle) {  // leave the server a second: it closes at `timeout`, we must not race
    idle = std::min<std::chrono::milliseconds>(idle, *done.server_idle - std::chrono::seconds(1));
  }
  if (done.keep_alive && call.pool->enabled() && idle > std::chrono::milliseconds(0)) {
    c.idle_until = Clock::now() + idle;
    call.pool->put(call.key, std::move(call.conn));
    co_return;
  }

  error_code ignored;
  if (c.plain) {
    c.plain->socket().shutdown(tcp::socket::shutdown_both, ignored);
    c.plain->socket().close(ignored);
    co_return;
  }
  // Graceful close_notify exchange; the answer is complete, so any error here
  // (stream_truncated, not_connected, timeout, ...) is irrelevant.
  auto& lowest = beast::get_lowest_layer(*c.tls);
  lowest.expires_at(std::min(call.deadline, Clock::now() + kShutdownGrace));
  co_await c.tls->async_shutdown(kAsTuple);
  lowest.socket().close(ignored);
}

// Runs one request on call.conn, on the connection's strand (see http/client_pool.h).
//
// Sending again. A server may close an idle kept-alive connection at any moment between two
// requests, and a client must be able to recover from that (RFC 9112 §9.3.1). The pool's peek
// before reuse catches a close that has already arrived, but a close can cross our request on
// the wire. The request is then sent once more, on a new connection, only when it cannot have
// been processed or is idempotent:
// - the write failed: the request never reached the server whole, and a server does not act on
//   part of one;
// - or the method is GET or HEAD (safe: the LOS status call) and the read met EOF or a reset
//   before a single byte of answer.
// A POST (LOS lead creation, a WhatsApp send) written whole that then meets EOF may have been
// processed (a server that acted and then dropped the connection looks just the same), and RFC
// 9112 §9.3.1 forbids retrying a non-idempotent request automatically: it fails like any
// transport error and the partner adapter's own policy decides. A timeout is never sent again,
// and neither is a request that failed on a new connection, so this happens at most once.
net::awaitable<ClientResponse> send_on(Call call) {
  for (;;) {
    const bool reused = call.conn->reused;
    if (reused) {
      ++call.pool->reused;
    } else {
      co_await open_connection(call);
    }
    count_connection(call.metrics, reused);

    Connection& c = *call.conn;
    Exchanged done;
    if (c.tls) {
      done = co_await exchange(*c.tls, call, reused);
    } else {
      done = co_await exchange(*c.plain, call, reused);
    }
    if (!done.stale) {
      co_await finish(call, done);
      co_return std::move(done.response);
    }
    log_event(LogLevel::debug, "partner_connection_stale",
              {{"host", call.target.where}, {"method", call.msg.method_string()}});
    // The same strand: the new connection's handlers must run where this coroutine does.
    net::any_io_executor strand = c.strand;
    call.conn = std::make_unique<Connection>(std::move(strand));
  }
}

}  // namespace

HttpClient::HttpClient(const std::string& ca_file) : HttpClient(HttpClientOptions{ca_file}) {}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)),
      ssl_(ssl::context::tls_client),
      pool_(std::make_shared<ConnectionPool>(options_.max_idle_per_host)) {
  if (SSL_CTX_set_min_proto_version(ssl_.native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("HttpClient: cannot set minimum TLS version");
  }
  ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ssl_.set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (options_.ca_file.empty()) {
    ssl_.set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("HttpClient: cannot load default CA paths: " + ec.message());
  } else {
    ssl_.load_verify_file(options_.ca_file, ec);
    if (ec) {
      throw std::runtime_error("HttpClient: cannot load CA file '" + options_.ca_file +
                               "': " + ec.message());
    }
  }
  if (options_.metrics != nullptr) {
    options_.metrics->describe("leadgate_partner_connections_total", "counter",
                               "Partner requests by connection: new (connect and TLS "
                               "handshake) or reused (kept alive).");
  }
}

HttpClient::~HttpClient() = default;

HttpClient::ConnectionCounts HttpClient::connection_counts() const {
  return {pool_->opened.load(), pool_->reused.load(), pool_->tls_resumed.load()};
}

boost::asio::awaitable<ClientResponse> HttpClient::send(ClientRequest req) {
  Call call;
  call.deadline = Clock::now() + req.timeout;
  call.target = parse_target(req.url);
  call.msg = build_request(req, call.target, pool_->enabled());
  call.idempotent = req.method == "GET" || req.method == "HEAD";
  call.key = std::string(call.target.tls ? "https://" : "http://") + call.target.where;
  call.pool = pool_;
  call.ssl = &ssl_;
  call.metrics = options_.metrics;
  call.max_idle = options_.max_idle_time;

  const auto ex = co_await net::this_coro::executor;
  call.conn = pool_->take(call.key, net::query(ex, net::execution::context));
  if (!call.conn) call.conn = std::make_unique<Connection>(client_detail::new_strand(ex));
  const net::any_io_executor strand = call.conn->strand;
  co_return co_await net::co_spawn(strand, send_on(std::move(call)), net::use_awaitable);
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
