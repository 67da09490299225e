#include "http/client.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace leadgate {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);

// Minimal HTTP/1.1 server on 127.0.0.1:<ephemeral> running on its own thread and io_context.
class TestServer {
 public:
  enum class Mode {
    kEcho,       // 200, body "echo:" + request body, content type "text/plain; charset=utf-8"
    kStatus500,  // 500 with a small JSON body
    kHang,       // reads the request, never answers
    kHuge,       // 200 with a 5 MiB body
    kSlowDrip,   // 200, Content-Length 100, one body byte every 20ms
  };

  explicit TestServer(Mode mode)
      : mode_(mode), acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, accept_loop(), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  unsigned short port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<http::request<http::string_body>> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAsTuple);
      if (ec) co_return;
      net::co_spawn(ioc_, session(std::move(socket)), net::detached);
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    if (auto [ec, n] = co_await http::async_read(socket, buffer, req, kAsTuple); ec) co_return;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }

    switch (mode_) {
      case Mode::kHang: {
        char c = 0;  // wait for the client to give up and close
        for (;;) {
          auto [ec, n] = co_await socket.async_read_some(net::buffer(&c, 1), kAsTuple);
          if (ec) co_return;
        }
      }
      case Mode::kSlowDrip: {
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        if (auto [ec, n] = co_await net::async_write(socket, net::buffer(head), kAsTuple); ec) {
          co_return;
        }
        net::steady_timer timer(ioc_);
        for (int i = 0; i < 100; ++i) {
          timer.expires_after(20ms);
          co_await timer.async_wait(kAsTuple);
          if (auto [ec, n] = co_await net::async_write(socket, net::buffer("x", 1), kAsTuple); ec) {
            co_return;
          }
        }
        co_return;
      }
      default:
        break;
    }

    http::response<http::string_body> res;
    res.version(11);
    if (mode_ == Mode::kStatus500) {
      res.result(http::status::internal_server_error);
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"error":"boom"})";
    } else if (mode_ == Mode::kHuge) {
      res.result(http::status::ok);
      res.body() = std::string(5 * 1024 * 1024, 'z');
    } else {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "echo:" + req.body();
    }
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(socket, res, kAsTuple);
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
  }

  Mode mode_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::mutex mu_;
  std::vector<http::request<http::string_body>> requests_;
  std::thread thread_;
};

// Runs one request on a fresh client io_context (the calling thread only).
ClientResponse Send(HttpClient& client, ClientRequest req) {
  net::io_context ioc;
  auto fut = net::co_spawn(ioc, client.send(std::move(req)), net::use_future);
  ioc.run();
  return fut.get();
}

unsigned short ClosedPort() {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

TEST(HttpClientTest, GetRoundTrip) {
  TestServer server(TestServer::Mode::kEcho);
  HttpClient client;
  ClientRequest req;
  req.url = server.base() + "/v1/leads?x=1&y=a%20b";
  req.headers = {{"X-Api-Key", "secret"}, {"Accept", "application/json"}};
  req.timeout = 5s;

  const ClientResponse res = Send(client, req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "echo:");
  EXPECT_EQ(res.content_type, "text/plain; charset=utf-8");

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method(), http::verb::get);
  EXPECT_EQ(r.target(), "/v1/leads?x=1&y=a%20b");
  EXPECT_EQ(r[http::field::host], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(r[http::field::user_agent], "leadgate/0.1");
  EXPECT_EQ(r.count(http::field::connection), 0u);  // kept alive (see http_keepalive_test)
  EXPECT_EQ(r["X-Api-Key"], "secret");
  EXPECT_EQ(r[http::field::accept], "application/json");
  EXPECT_EQ(r.count(http::field::content_type), 0u);
  EXPECT_TRUE(r.body().empty());
}

TEST(HttpClientTest, PostRoundTrip) {
  TestServer server(TestServer::Mode::kEcho);
  HttpClient client;
  ClientRequest req;
  req.method = "POST";
  req.url = server.base() + "/submit";
  req.body = "name=" + form_encode("A B") + "&city=" + form_encode("Pune/MH");
  req.content_type = "application/x-www-form-urlencoded";
  req.headers = {{"Authorization", "Bearer t0k"}};
  req.timeout = 5s;

  const ClientResponse res = Send(client, req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "echo:name=A+B&city=Pune%2FMH");

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method(), http::verb::post);
  EXPECT_EQ(r.target(), "/submit");
  EXPECT_EQ(r[http::field::content_type], "application/x-www-form-urlencoded");
  EXPECT_EQ(r[http::field::content_length], std::to_string(req.body.size()));
  EXPECT_EQ(r[http::field::authorization], "Bearer t0k");
  EXPECT_EQ(r.body(), req.body);
}

TEST(HttpClientTest, EmptyPathBecomesSlashAndLocalhostResolves) {
  TestServer server(TestServer::Mode::kEcho);
  HttpClient client;
  ClientRequest req;
  req.url = "http://localhost:" + std::to_string(server.port());
  req.timeout = 5s;
  EXPECT_EQ(Send(client, req).status, 200);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target(), "/");
  EXPECT_EQ(reqs[0][http::field::host], "localhost:" + std::to_string(server.port()));
}

TEST(HttpClientTest, ServerErrorIsReturnedNotThrown) {
  TestServer server(TestServer::Mode::kStatus500);
  HttpClient client;
  ClientRequest req;
  req.url = server.base() + "/";
  req.timeout = 5s;
  const ClientResponse res = Send(client, req);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body, R"({"error":"boom"})");
  EXPECT_EQ(res.content_type, "application/json");
}

TEST(HttpClientTest, SilentServerTimesOut) {
  TestServer server(TestServer::Mode::kHang);
  HttpClient client;
  ClientRequest req;
  req.url = server.base() + "/";
  req.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  try {
    Send(client, req);
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_TRUE(e.timed_out) << e.what();
    // The server read the whole request: it may have acted on it (outcome unknown).
    EXPECT_TRUE(e.request_sent) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(server.port())),
              std::string::npos)
        << e.what();
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 1500ms);
}

// Each body byte arrives well within the timeout; only a single overall deadline catches this.
TEST(HttpClientTest, DeadlineCoversWholeExchange) {
  TestServer server(TestServer::Mode::kSlowDrip);
  HttpClient client;
  ClientRequest req;
  req.url = server.base() + "/";
  req.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  try {
    Send(client, req);
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_TRUE(e.timed_out) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(HttpClientTest, ConnectionRefused) {
  const unsigned short port = ClosedPort();
  HttpClient client;
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  req.timeout = 5s;
  try {
    Send(client, req);
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_FALSE(e.timed_out) << e.what();
    EXPECT_FALSE(e.request_sent) << e.what();  // a definite failure: nothing reached a server
    const std::string what = e.what();
    EXPECT_NE(what.find("connect"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
  }
}

TEST(HttpClientTest, BadUrls) {
  HttpClient client;
  for (const std::string url :
       {"ftp://x", "not a url", "", "http://", "http:///path", "http://host:99999/",
        "http://127.0.0.1:65536/", "http://127.0.0.1:0/", "http://[v7.x]/", "http://a%0d%0ab/"}) {
    ClientRequest req;
    req.url = url;
    try {
      Send(client, req);
      ADD_FAILURE() << "expected TransportError for '" << url << "'";
    } catch (const TransportError& e) {
      EXPECT_FALSE(e.timed_out) << url;
      EXPECT_NE(std::string(e.what()).find("invalid URL"), std::string::npos) << e.what();
    }
  }
}

TEST(HttpClientTest, RejectsHeaderInjection) {
  HttpClient client;
  ClientRequest req;
  req.url = "http://127.0.0.1:1/";
  req.headers = {{"X-Evil", "a\r\nX-Injected: 1"}};
  EXPECT_THROW(Send(client, req), TransportError);
  req.headers = {{"Bad Name", "v"}};
  EXPECT_THROW(Send(client, req), TransportError);
  req.headers.clear();
  req.method = "GET /x HTTP/1.1\r\n";
  EXPECT_THROW(Send(client, req), TransportError);
}

TEST(HttpClientTest, OversizedBodyIsTransportError) {
  TestServer server(TestServer::Mode::kHuge);
  HttpClient client;
  ClientRequest req;
  req.url = server.base() + "/";
  req.timeout = 5s;
  try {
    Send(client, req);
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_FALSE(e.timed_out) << e.what();
  }
}

TEST(HttpClientTest, HttpsToPlainServerFailsHandshake) {
  TestServer server(TestServer::Mode::kEcho);
  HttpClient client;
  ClientRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  req.timeout = 5s;
  try {
    Send(client, req);
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_FALSE(e.timed_out) << e.what();
    EXPECT_NE(std::string(e.what()).find("handshake"), std::string::npos) << e.what();
  }
}

TEST(HttpClientTest, MissingCaFileThrows) {
  EXPECT_ANY_THROW(HttpClient("/nonexistent/ca.pem"));
}

TEST(FormEncodeTest, Vectors) {
  EXPECT_EQ(form_encode(""), "");
  EXPECT_EQ(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(form_encode("AZaz09-_.*"), "AZaz09-_.*");
  EXPECT_EQ(form_encode("~+%\n"), "%7E%2B%25%0A");
  EXPECT_EQ(form_encode(std::string_view("\0\xff", 2)), "%00%FF");
}

}  // namespace
}  // namespace leadgate
