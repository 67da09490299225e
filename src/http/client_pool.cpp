#include "http/client_pool.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <utility>

namespace leadgate::client_detail {
namespace {

namespace net = boost::asio;

// Lives in each execution context that has idle connections of some pool: when the context
// shuts down (io_context destructor), it closes them while the context's socket, timer and
// strand services still exist. Services shut down newest first, and this one is added after the
// connection's own services, so it runs before them.
class PoolReaper final : public net::execution_context::service {
 public:
  static net::execution_context::id id;
  explicit PoolReaper(net::execution_context& context) : net::execution_context::service(context) {}

  void watch(std::weak_ptr<ConnectionPool> pool) {
    std::lock_guard lock(mu_);
    pools_.push_back(std::move(pool));
  }

 private:
  void shutdown() override {
    std::vector<std::weak_ptr<ConnectionPool>> pools;
    {
      std::lock_guard lock(mu_);
      pools.swap(pools_);
    }
    for (const auto& weak : pools) {
      if (auto pool = weak.lock()) pool->drop_context(context());
    }
  }

  std::mutex mu_;
  std::vector<std::weak_ptr<ConnectionPool>> pools_;
};

net::execution_context::id PoolReaper::id;

// Moves the connections of `idle` whose idle time has passed into `dead`.
void prune(std::vector<std::unique_ptr<Connection>>& idle, Clock::time_point now,
           std::vector<std::unique_ptr<Connection>>& dead) {
  auto expired = [now](const std::unique_ptr<Connection>& c) { return c->idle_until <= now; };
  for (auto& c : idle) {
    if (expired(c)) dead.push_back(std::move(c));
  }
  std::erase_if(idle, [](const std::unique_ptr<Connection>& c) { return c == nullptr; });
}

}  // namespace

net::any_io_executor new_strand(const net::any_io_executor& executor) {
  // A strand on the io_context itself, not on the caller's (maybe strand) executor: later
  // callers from other strands must not be serialised behind the first caller's strand.
  using IoExecutor = net::io_context::executor_type;
  if (const auto* io = executor.target<IoExecutor>()) return net::make_strand(*io);
  if (const auto* strand = executor.target<net::strand<IoExecutor>>()) {
    return net::make_strand(strand->get_inner_executor());
  }
  return net::make_strand(executor);
}

Connection::Connection(net::any_io_executor on_strand)
    : context(&net::query(on_strand, net::execution::context)), strand(std::move(on_strand)) {}

net::ip::tcp::socket& Connection::socket() {
  return plain ? plain->socket() : tls->next_layer().socket();
}

bool Connection::looks_alive() {
  char c = 0;
  const ssize_t n = ::recv(socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  // 0: the server closed (FIN); > 0: bytes nobody asked for (or a TLS alert); < 0 other than
  // EAGAIN: reset. Only "nothing yet" is a connection worth reusing.
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

ConnectionPool::~ConnectionPool() {
  for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
}

std::unique_ptr<Connection> ConnectionPool::take(const std::string& key,
                                                 net::execution_context& context) {
  if (!enabled()) return nullptr;
  for (;;) {
    std::vector<std::unique_ptr<Connection>> dead;  // closed after the lock is released
    std::unique_ptr<Connection> found;
    {
      std::lock_guard lock(mu_);
      auto it = idle_.find(key);
      if (it == idle_.end()) return nullptr;
      Idle& idle = it->second;
      prune(idle, Clock::now(), dead);
      // The most recently used first: the oldest then expire instead of being kept warm.
      for (auto c = idle.rbegin(); c != idle.rend(); ++c) {
        if ((*c)->context == &context) {
          found = std::move(*c);
          idle.erase(std::next(c).base());
          break;
        }
      }
    }
    if (!found) return nullptr;
    if (found->looks_alive()) return found;
    // Closed by the server while idle: try the next one.
  }
}

void ConnectionPool::put(const std::string& key, std::unique_ptr<Connection> conn) {
  conn->reused = true;
  net::execution_context& context = *conn->context;
  bool first_on_context = false;
  {
    std::lock_guard lock(mu_);
    first_on_context = watched_.insert(&context).second;
  }
  // Outside the lock: no lock order between the pool's and the reaper's mutexes. The context
  // cannot shut down meanwhile: the caller is running on it.
  if (first_on_context) net::use_service<PoolReaper>(context).watch(weak_from_this());

  std::vector<std::unique_ptr<Connection>> dead;  // closed after the lock is released
  std::lock_guard lock(mu_);
  Idle& idle = idle_[key];
  prune(idle, Clock::now(), dead);
  idle.push_back(std::move(conn));
  if (idle.size() > max_idle_) {
    dead.push_back(std::move(idle.front()));
    idle.erase(idle.begin());
  }
}

void ConnectionPool::drop_context(net::execution_context& context) {
  std::vector<std::unique_ptr<Connection>> dead;
  {
    std::lock_guard lock(mu_);
    watched_.erase(&context);
    for (auto& [key, idle] : idle_) {
      for (auto& c : idle) {
        if (c->context == &context) dead.push_back(std::move(c));
      }
      std::erase_if(idle, [](const std::unique_ptr<Connection>& c) { return c == nullptr; });
    }
  }
}

SSL_SESSION* ConnectionPool::session(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  SSL_SESSION_up_ref(it->second);
  return it->second;
}

void ConnectionPool::save_session(const std::string& key, SSL_SESSION* session) {
  SSL_SESSION* old = nullptr;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = sessions_.try_emplace(key, session);
    if (!inserted) old = std::exchange(it->second, session);
  }
  if (old != nullptr) SSL_SESSION_free(old);
}

}  // namespace leadgate::client_detail
