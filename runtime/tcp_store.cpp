#include "runtime/tcp_store.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "runtime/transport.hpp"

namespace ppsim::runtime {

namespace tcp {

namespace {

std::string why() { return std::strerror(errno); }

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

void wait_readable(int fd, std::chrono::steady_clock::time_point deadline, const char* what) {
  while (true) {
    pollfd p{fd, POLLIN, 0};
    const int n = poll(&p, 1, std::min(remaining_ms(deadline), 100));
    if (n > 0) return;
    if (n < 0 && errno != EINTR) throw std::runtime_error(std::string(what) + ": poll: " + why());
    if (std::chrono::steady_clock::now() >= deadline) throw TimedOut(std::string(what) + ": deadline passed");
  }
}

bool connected_to_itself(int fd) {
  sockaddr_in me{}, peer{};
  socklen_t n = sizeof me, m = sizeof peer;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&me), &n) != 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &m) != 0)
    return false;
  return me.sin_port == peer.sin_port && me.sin_addr.s_addr == peer.sin_addr.s_addr;
}

}  // namespace

int listen_on(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket: " + why());
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 256) != 0) {
    const std::string e = why();
    close(fd);
    throw std::runtime_error("cannot listen on port " + std::to_string(port) + ": " + e);
  }
  return fd;
}

int port_of(int fd) {
  sockaddr_in a{};
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  return ntohs(a.sin_port);
}

int connect_to(const std::string& host, int port, std::chrono::steady_clock::time_point deadline) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
    throw std::runtime_error("cannot resolve '" + host + "'");
  sockaddr_in a{};
  std::memcpy(&a, found->ai_addr, sizeof a);
  freeaddrinfo(found);
  while (true) {  // the peer may not listen yet: retry until the deadline
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket: " + why());
    // A connect to a local port nobody listens on yet can pick that very port as its own and
    // connect to itself (TCP simultaneous open); such a socket is dropped and tried again.
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && !connected_to_itself(fd)) {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    close(fd);
    if (std::chrono::steady_clock::now() >= deadline)
      throw TimedOut("nothing listens on " + host + ":" + std::to_string(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int accept_one(int listener, std::chrono::steady_clock::time_point deadline) {
  wait_readable(listener, deadline, "accept");
  const int fd = accept(listener, nullptr, nullptr);
  if (fd < 0) throw std::runtime_error("accept: " + why());
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) throw std::runtime_error("a peer closed its connection (write: " + why() + ")");
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

void read_all(int fd, void* data, std::size_t n, std::chrono::steady_clock::time_point deadline) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    wait_readable(fd, deadline, "read");
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) throw std::runtime_error("a peer closed its connection");
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

}  // namespace tcp

namespace {

// One request or reply: an op byte, then length-prefixed strings.
void put_string(int fd, const std::string& s) {
  const std::uint64_t n = s.size();
  tcp::write_all(fd, &n, sizeof n);
  tcp::write_all(fd, s.data(), s.size());
}

std::string get_string(int fd, std::chrono::steady_clock::time_point deadline) {
  std::uint64_t n = 0;
  tcp::read_all(fd, &n, sizeof n, deadline);
  if (n > (1u << 30)) throw std::runtime_error("the TCP store got a malformed message");
  std::string s(n, '\0');
  tcp::read_all(fd, s.data(), n, deadline);
  return s;
}

auto forever() { return std::chrono::steady_clock::now() + std::chrono::hours(24 * 365); }

}  // namespace

// Rank 0's server: a thread accepts clients, a thread per client answers its requests.
class TcpStoreServer {
 public:
  explicit TcpStoreServer(int port) : listener_(tcp::listen_on(port)) {
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TcpStoreServer() {
    stop_ = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    {
      std::lock_guard lock(m_);
      for (int fd : clients_) shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : workers_) t.join();
    for (int fd : clients_) close(fd);
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(m_);
      clients_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    try {
      while (!stop_) {
        char op = 0;
        tcp::read_all(fd, &op, 1, forever());
        const std::string key = get_string(fd, forever());
        if (op == 'S') {
          std::string value = get_string(fd, forever());
          {
            std::lock_guard lock(m_);
            data_[key] = std::move(value);
          }
          cv_.notify_all();
          tcp::write_all(fd, "K", 1);
        } else if (op == 'G') {
          std::unique_lock lock(m_);
          cv_.wait(lock, [&] { return stop_ || data_.count(key) > 0; });
          if (stop_) return;
          const std::string value = data_[key];
          lock.unlock();
          put_string(fd, value);
        } else {
          return;
        }
      }
    } catch (const std::exception&) {
      // the client went away: nothing to answer
    }
  }

  int listener_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<int> clients_;
  std::vector<std::thread> workers_;
  std::map<std::string, std::string> data_;
};

TcpStore::TcpStore(const std::string& host, int port, bool serve, std::chrono::milliseconds timeout) : timeout_(timeout) {
  if (serve) server_ = std::make_unique<TcpStoreServer>(port);
  fd_ = tcp::connect_to(serve ? "127.0.0.1" : host, port, std::chrono::steady_clock::now() + timeout);
}

TcpStore::~TcpStore() {
  if (fd_ >= 0) close(fd_);
  server_.reset();
}

void TcpStore::set(const std::string& key, const std::vector<char>& value) {
  tcp::write_all(fd_, "S", 1);
  put_string(fd_, key);
  put_string(fd_, std::string(value.begin(), value.end()));
  char ack = 0;
  tcp::read_all(fd_, &ack, 1, std::chrono::steady_clock::now() + timeout_);
}

std::vector<char> TcpStore::get(const std::string& key) {
  tcp::write_all(fd_, "G", 1);
  put_string(fd_, key);
  try {
    const std::string v = get_string(fd_, std::chrono::steady_clock::now() + timeout_);
    return {v.begin(), v.end()};
  } catch (const TimedOut&) {
    throw TimedOut("the TCP store never got '" + key + "'");
  }
}

std::string TcpStore::local_address() const {
  sockaddr_in a{};
  socklen_t n = sizeof a;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
  return text;
}

}  // namespace ppsim::runtime
