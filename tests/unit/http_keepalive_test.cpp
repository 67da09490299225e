// HttpClient's kept-alive connections (src/http/client.cpp, client_pool.cpp) against a loopback
// HTTP/1.1 server that counts connections and can misbehave on the second request of each.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "http/client.h"

namespace leadgate {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);

class KeepAliveServer {
 public:
  // What happens to the second request on each connection (the first is always answered).
  enum class Second {
    kAnswer,
    kDrop,       // read whole, then the connection is closed without an answer
    kHang,       // read whole, never answered
    kResetHead,  // only the head is read, then closed with the body unread (the client sees RST)
  };
  struct Options {
    bool keep_alive = true;  // false: every answer says Connection: close
    unsigned version = 11;
    Second second = Second::kAnswer;
    bool record_second = true;  // does a dropped/reset second request count as received?
    std::chrono::milliseconds close_idle_after{0};  // > 0: close a connection idle this long
    std::string keep_alive_header;                  // sent as Keep-Alive: when not empty

    Options& closing(unsigned http_version = 11) {
      keep_alive = false;
      version = http_version;
      return *this;
    }
    Options& on_second(Second what, bool recorded = true) {
      second = what;
      record_second = recorded;
      return *this;
    }
    Options& idle_close(std::chrono::milliseconds after) {
      close_idle_after = after;
      return *this;
    }
    Options& header(std::string keep_alive_value) {
      keep_alive_header = std::move(keep_alive_value);
      return *this;
    }
  };
  using Opt = Options;

  explicit KeepAliveServer(Options options)
      : options_(std::move(options)),
        acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    net::co_spawn(ioc_, accept_loop(), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~KeepAliveServer() {
    ioc_.stop();
    thread_.join();
  }
  KeepAliveServer(const KeepAliveServer&) = delete;
  KeepAliveServer& operator=(const KeepAliveServer&) = delete;

  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  int connections() const { return connections_.load(); }
  std::vector<http::request<http::string_body>> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAsTuple);
      if (ec) co_return;
      ++connections_;
      net::co_spawn(ioc_, session(beast::tcp_stream(std::move(socket))), net::detached);
    }
  }

  void record(const http::request<http::string_body>& req) {
    std::lock_guard lock(mu_);
    requests_.push_back(req);
  }

  net::awaitable<void> session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    for (int n = 1;; ++n) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      if (n > 1 && options_.close_idle_after > 0ms) {
        stream.expires_after(options_.close_idle_after);  // an idle close, as servers do
      }
      if (n == 2 && options_.second == Second::kResetHead) {
        co_await http::async_read_header(stream, buffer, parser, kAsTuple);
        if (options_.record_second) record(parser.get());
        co_return;  // closes with the body unread: RST
      }
      if (auto [ec, bytes] = co_await http::async_read(stream, buffer, parser, kAsTuple); ec) {
        co_return;
      }
      stream.expires_never();
      if (n == 2 && options_.second != Second::kAnswer) {
        if (options_.record_second) record(parser.get());
        if (options_.second == Second::kDrop) co_return;
        char c = 0;  // kHang: wait for the client to give up and close
        for (;;) {
          auto [ec, bytes] = co_await stream.async_read_some(net::buffer(&c, 1), kAsTuple);
          if (ec) co_return;
        }
      }
      const http::request<http::string_body>& req = parser.get();
      record(req);
      http::response<http::string_body> res{http::status::ok, options_.version};
      res.set(http::field::content_type, "text/plain");
      if (!options_.keep_alive_header.empty()) res.set("Keep-Alive", options_.keep_alive_header);
      res.body() = req.body().size() <= 1024 ? "echo:" + req.body()
                                             : "size:" + std::to_string(req.body().size());
      res.keep_alive(options_.keep_alive);
      res.prepare_payload();
      if (auto [ec, bytes] = co_await http::async_write(stream, res, kAsTuple); ec) co_return;
      if (!options_.keep_alive) {
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  Options options_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<http::request<http::string_body>> requests_;
  std::thread thread_;
};

ClientRequest Get(const std::string& url, std::chrono::milliseconds timeout = 5s) {
  ClientRequest req;
  req.url = url;
  req.timeout = timeout;
  return req;
}

ClientRequest Post(const std::string& url, std::string body) {
  ClientRequest req = Get(url);
  req.method = "POST";
  req.content_type = "text/plain";
  req.body = std::move(body);
  return req;
}

// Runs `calls` one after another on one io_context (the calling thread), `pause` apart.
std::vector<ClientResponse> SendAll(HttpClient& client, std::vector<ClientRequest> calls,
                                    std::chrono::milliseconds pause = 0ms) {
  net::io_context ioc;
  auto run = [&]() -> net::awaitable<std::vector<ClientResponse>> {
    std::vector<ClientResponse> out;
    net::steady_timer timer(co_await net::this_coro::executor);
    for (auto& req : calls) {
      if (!out.empty() && pause > 0ms) {
        timer.expires_after(pause);
        co_await timer.async_wait(net::use_awaitable);
      }
      out.push_back(co_await client.send(req));
    }
    co_return out;
  };
  auto fut = net::co_spawn(ioc, run(), net::use_future);
  ioc.run();
  return fut.get();
}

// Like SendAll, but each call's TransportError is kept (as its message) instead of thrown.
struct Outcome {
  std::optional<ClientResponse> response;
  std::string error;
  bool timed_out = false;
};
std::vector<Outcome> TrySendAll(HttpClient& client, std::vector<ClientRequest> calls) {
  net::io_context ioc;
  auto run = [&]() -> net::awaitable<std::vector<Outcome>> {
    std::vector<Outcome> out;
    for (auto& req : calls) {
      Outcome o;
      try {
        o.response = co_await client.send(req);
      } catch (const TransportError& e) {
        o.error = e.what();
        o.timed_out = e.timed_out;
      }
      out.push_back(std::move(o));
    }
    co_return out;
  };
  auto fut = net::co_spawn(ioc, run(), net::use_future);
  ioc.run();
  return fut.get();
}

TEST(HttpKeepAliveTest, SequentialCallsShareOneConnection) {
  KeepAliveServer server({});
  HttpClient client;
  std::vector<ClientRequest> calls;
  for (int i = 0; i < 10; ++i) {
    calls.push_back(Get(server.url("/status?i=" + std::to_string(i))));
    calls.push_back(Post(server.url("/create"), "n=" + std::to_string(i)));
  }
  const auto responses = SendAll(client, calls);
  ASSERT_EQ(responses.size(), 20u);
  EXPECT_EQ(responses[19].body, "echo:n=9");
  EXPECT_EQ(server.connections(), 1);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 20u);
  EXPECT_EQ(reqs[0].count(http::field::connection), 0u);  // HTTP/1.1: kept alive by default
  EXPECT_EQ(reqs[19].body(), "n=9");
  const auto counts = client.connection_counts();
  EXPECT_EQ(counts.opened, 1u);
  EXPECT_EQ(counts.reused, 19u);
}

TEST(HttpKeepAliveTest, ConnectionCloseAnswersAreNotReused) {
  KeepAliveServer closing(KeepAliveServer::Opt().closing());
  HttpClient client;
  SendAll(client, {Get(closing.url()), Post(closing.url(), "x"), Get(closing.url())});
  EXPECT_EQ(closing.connections(), 3);
  EXPECT_EQ(closing.requests().size(), 3u);

  // HTTP/1.0 without keep-alive: the body ends with the connection.
  KeepAliveServer old(KeepAliveServer::Opt().closing(10));
  const auto responses = SendAll(client, {Get(old.url()), Post(old.url(), "y")});
  EXPECT_EQ(responses[1].body, "echo:y");
  EXPECT_EQ(old.connections(), 2);
  EXPECT_EQ(client.connection_counts().reused, 0u);
}

TEST(HttpKeepAliveTest, PoolSizeZeroIsOneConnectionPerRequest) {
  KeepAliveServer server({});
  HttpClientOptions options;
  options.max_idle_per_host = 0;
  HttpClient client(options);
  SendAll(client, {Get(server.url()), Get(server.url()), Get(server.url())});
  EXPECT_EQ(server.connections(), 3);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0][http::field::connection], "close");
}

// The server closes connections idle for 20 ms; the client waits 150 ms between calls. Each
// call must notice the close before sending (no error) and reach the server exactly once.
TEST(HttpKeepAliveTest, ConnectionsClosedWhileIdleAreNotUsed) {
  KeepAliveServer server(KeepAliveServer::Opt().idle_close(20ms));
  HttpClient client;
  const auto responses = SendAll(
      client, {Post(server.url(), "1"), Post(server.url(), "2"), Post(server.url(), "3")}, 150ms);
  EXPECT_EQ(responses[2].body, "echo:3");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].body(), "2");
  EXPECT_EQ(server.connections(), 3);
}

// A close that crosses the request: the GET is sent again on a new connection, once.
TEST(HttpKeepAliveTest, GetOnAConnectionClosedUnderItIsSentAgainOnce) {
  KeepAliveServer server(KeepAliveServer::Opt().on_second(KeepAliveServer::Second::kDrop, false));
  HttpClient client;
  const auto responses = SendAll(client, {Get(server.url("/a")), Get(server.url("/b"))});
  EXPECT_EQ(responses[1].status, 200);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target(), "/b");
  EXPECT_EQ(server.connections(), 2);
  const auto counts = client.connection_counts();
  EXPECT_EQ(counts.opened, 2u);
  EXPECT_EQ(counts.reused, 1u);
}

// The server read the whole POST and closed without answering: it may have acted on it, so the
// client must not send it again (RFC 9112 §9.3.1).
TEST(HttpKeepAliveTest, PostWrittenWholeIsNeverSentAgain) {
  KeepAliveServer server(KeepAliveServer::Opt().on_second(KeepAliveServer::Second::kDrop));
  HttpClient client;
  const auto outcomes =
      TrySendAll(client, {Post(server.url(), "first"), Post(server.url(), "create lead")});
  ASSERT_TRUE(outcomes[0].response);
  EXPECT_FALSE(outcomes[1].response);
  EXPECT_FALSE(outcomes[1].timed_out);
  EXPECT_NE(outcomes[1].error.find("read response from"), std::string::npos) << outcomes[1].error;
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].body(), "create lead");
  EXPECT_EQ(server.connections(), 1);
}

// The same drop after a GET: idempotent, so it is sent again (the server sees it twice).
TEST(HttpKeepAliveTest, DroppedGetIsSentAgainBecauseItIsIdempotent) {
  KeepAliveServer server(KeepAliveServer::Opt().on_second(KeepAliveServer::Second::kDrop));
  HttpClient client;
  const auto responses = SendAll(client, {Get(server.url("/first")), Get(server.url("/status"))});
  EXPECT_EQ(responses[1].status, 200);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connections(), 2);
}

// The write itself fails (the server closed with the request body unread): the request never
// arrived whole, so even a POST is sent again, once.
TEST(HttpKeepAliveTest, PostWhoseWriteFailedIsSentAgainOnce) {
  KeepAliveServer server(
      KeepAliveServer::Opt().on_second(KeepAliveServer::Second::kResetHead, false));
  HttpClient client;
  const std::string big(16 * 1024 * 1024, 'b');  // far more than the socket buffers hold
  const auto responses = SendAll(client, {Post(server.url(), "small"), Post(server.url(), big)});
  EXPECT_EQ(responses[1].status, 200);
  EXPECT_EQ(responses[1].body, "size:" + std::to_string(big.size()));
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].body().size(), big.size());
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpKeepAliveTest, TimeoutOnAReusedConnectionIsNotRetried) {
  KeepAliveServer server(KeepAliveServer::Opt().on_second(KeepAliveServer::Second::kHang));
  HttpClient client;
  const auto start = std::chrono::steady_clock::now();
  try {
    SendAll(client, {Get(server.url("/first")), Get(server.url("/status"), 300ms)});
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_TRUE(e.timed_out) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpKeepAliveTest, IdleConnectionsExpire) {
  KeepAliveServer server({});
  HttpClientOptions options;
  options.max_idle_time = 50ms;
  HttpClient client(options);
  SendAll(client, {Get(server.url()), Get(server.url())}, 150ms);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.connection_counts().reused, 0u);
}

// Keep-Alive: timeout=1 leaves no idle time once the one second of margin is taken off.
TEST(HttpKeepAliveTest, ServerKeepAliveTimeoutBoundsIdleTime) {
  KeepAliveServer short_lived(KeepAliveServer::Opt().header("timeout=1, max=100"));
  HttpClient client;
  SendAll(client, {Get(short_lived.url()), Get(short_lived.url())});
  EXPECT_EQ(short_lived.connections(), 2);

  KeepAliveServer long_lived(KeepAliveServer::Opt().header("timeout=30"));
  SendAll(client, {Get(long_lived.url()), Get(long_lived.url())});
  EXPECT_EQ(long_lived.connections(), 1);
}

// Connections are only reused on the io_context they were opened on, and the pool closes them
// when that io_context goes away (ASan would see a socket outliving its io_context).
TEST(HttpKeepAliveTest, ConnectionsDoNotOutliveTheirIoContext) {
  KeepAliveServer server({});
  HttpClient client;
  SendAll(client, {Get(server.url())});
  SendAll(client, {Get(server.url())});
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.connection_counts().reused, 0u);
}

// Callers on many strands and threads share the pool; each connection serves one at a time.
TEST(HttpKeepAliveTest, ConcurrentCallersShareThePool) {
  KeepAliveServer server({});
  HttpClient client;
  net::io_context ioc(4);
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  constexpr int kCallers = 12;
  constexpr int kCalls = 25;
  for (int c = 0; c < kCallers; ++c) {
    auto caller = [&, c]() -> net::awaitable<void> {
      for (int i = 0; i < kCalls; ++i) {
        const std::string body = std::to_string(c) + "-" + std::to_string(i);
        try {
          const ClientResponse res = co_await client.send(Post(server.url(), body));
          (res.body == "echo:" + body ? ok : failed)++;
        } catch (const std::exception&) {
          failed++;
        }
      }
    };
    net::co_spawn(net::make_strand(ioc), caller, net::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&ioc] { ioc.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kCallers * kCalls);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(kCallers * kCalls));
  EXPECT_LT(server.connections(), kCallers * kCalls / 2);
  EXPECT_GT(client.connection_counts().reused, 0u);
}

TEST(HttpKeepAliveTest, CountsNewAndReusedConnections) {
  KeepAliveServer server({});
  Metrics metrics;
  HttpClientOptions options;
  options.metrics = &metrics;
  HttpClient client(options);
  SendAll(client, {Get(server.url()), Get(server.url()), Get(server.url())});
  const std::string text = metrics.render();
  EXPECT_NE(text.find("leadgate_partner_connections_total{outcome=\"new\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("leadgate_partner_connections_total{outcome=\"reused\"} 2"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace leadgate
