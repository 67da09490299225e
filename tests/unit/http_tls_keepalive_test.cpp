// HttpClient over TLS against a loopback HTTPS server with a certificate made for the test:
// kept-alive connections, and TLS session resumption on new connections to the same host.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"

namespace leadgate {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable);

std::string PemOf(int (*write)(BIO*, void*), void* object) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (write(bio.get(), object) != 1) throw std::runtime_error("PEM write failed");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// A self-signed P-256 certificate for IP 127.0.0.1, valid for an hour: the test's own CA.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;

  TestCertificate() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> x509(X509_new(), X509_free);
    if (!key || !x509) throw std::runtime_error("key or certificate allocation failed");
    X509* x = x509.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("leadgate test"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      if (ext == nullptr) throw std::runtime_error("extension failed");
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    if (X509_sign(x, key.get(), EVP_sha256()) == 0) throw std::runtime_error("signing failed");
    cert_pem =
        PemOf([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x);
    key_pem = PemOf(
        [](BIO* b, void* o) {
          return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0,
                                          nullptr, nullptr);
        },
        key.get());
  }
};

// HTTPS/1.1 echo server; records, per connection, whether its TLS session was resumed.
class TlsServer {
 public:
  TlsServer(const TestCertificate& cert, bool keep_alive)
      : keep_alive_(keep_alive),
        ctx_(ssl::context::tls_server),
        acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    ctx_.use_certificate_chain(net::buffer(cert.cert_pem));
    ctx_.use_private_key(net::buffer(cert.key_pem), ssl::context::pem);
    net::co_spawn(ioc_, accept_loop(), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TlsServer() {
    ioc_.stop();
    thread_.join();
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }
  std::vector<bool> resumed() {
    std::lock_guard lock(mu_);
    return resumed_;
  }
  int requests() const { return requests_.load(); }

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAsTuple);
      if (ec) co_return;
      net::co_spawn(ioc_, session(std::move(socket)), net::detached);
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), ctx_);
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kAsTuple); ec) {
      co_return;
    }
    {
      std::lock_guard lock(mu_);
      resumed_.push_back(SSL_session_reused(stream.native_handle()) == 1);
    }
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      if (auto [ec, n] = co_await http::async_read(stream, buffer, req, kAsTuple); ec) co_return;
      ++requests_;
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = "tls:" + req.body();
      res.keep_alive(keep_alive_);
      res.prepare_payload();
      if (auto [ec, n] = co_await http::async_write(stream, res, kAsTuple); ec) co_return;
      if (!keep_alive_) {
        co_await stream.async_shutdown(kAsTuple);
        co_return;
      }
    }
  }

  bool keep_alive_;
  ssl::context ctx_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::vector<bool> resumed_;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

class HttpTlsKeepAliveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_file_ = ::testing::TempDir() + "leadgate_tls_keepalive_ca.pem";
    std::ofstream(ca_file_) << cert_.cert_pem;
  }
  void TearDown() override { std::remove(ca_file_.c_str()); }

  // `n` sequential GETs to `url` on one io_context; returns the bodies.
  static std::vector<std::string> Get(HttpClient& client, const std::string& url, int n) {
    net::io_context ioc;
    auto run = [&]() -> net::awaitable<std::vector<std::string>> {
      std::vector<std::string> bodies;
      for (int i = 0; i < n; ++i) {
        ClientRequest req;
        req.url = url;
        req.timeout = 5s;
        bodies.push_back((co_await client.send(req)).body);
      }
      co_return bodies;
    };
    auto fut = net::co_spawn(ioc, run(), net::use_future);
    ioc.run();
    return fut.get();
  }

  TestCertificate cert_;
  std::string ca_file_;
};

TEST_F(HttpTlsKeepAliveTest, KeptAliveConnectionSkipsTheHandshake) {
  TlsServer server(cert_, /*keep_alive=*/true);
  HttpClient client(ca_file_);
  EXPECT_EQ(Get(client, server.url(), 3), (std::vector<std::string>{"tls:", "tls:", "tls:"}));
  EXPECT_EQ(server.resumed().size(), 1u);  // one connection, one handshake
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(client.connection_counts().reused, 2u);
}

TEST_F(HttpTlsKeepAliveTest, NewConnectionsResumeTheHostsSession) {
  TlsServer server(cert_, /*keep_alive=*/false);
  HttpClient client(ca_file_);
  Get(client, server.url(), 3);
  EXPECT_EQ(server.resumed(), (std::vector<bool>{false, true, true}));
  const auto counts = client.connection_counts();
  EXPECT_EQ(counts.opened, 3u);
  EXPECT_EQ(counts.tls_resumed, 2u);
}

TEST_F(HttpTlsKeepAliveTest, SessionsStayWithTheirClient) {
  TlsServer server(cert_, /*keep_alive=*/false);
  HttpClient trusting(ca_file_);
  Get(trusting, server.url(), 1);
  // A second client (another session cache) that does not trust the test CA must fail.
  HttpClient other;
  EXPECT_THROW(Get(other, server.url(), 1), TransportError);
}

}  // namespace
}  // namespace leadgate
