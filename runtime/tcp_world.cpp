// The env world: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT as torchrun and Slurm
// scripts set them. Rank 0 serves a TCP store; every rank listens on a free port, publishes
// its address there, and the ranks connect pairwise (the lower rank listens). A receiver
// thread drains every peer into mailboxes, so a send never waits for the peer's program.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "runtime/tcp_store.hpp"
#include "runtime/transport.hpp"
#include "runtime/world.hpp"

namespace ppsim::runtime {

namespace {

int env_int(const char* name, int lo, int hi, int fallback, bool required) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    if (required)
      throw std::invalid_argument(std::string("--launcher env: ") + name +
                                  " is not set (set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun does)");
    return fallback;
  }
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < lo || x > hi)
    throw std::invalid_argument(std::string("--launcher env: ") + name + " = '" + v + "': allowed an integer in " +
                                std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(x);
}

class TcpWorld final : public World {
 public:
  explicit TcpWorld(const EnvWorldSpec& spec, std::chrono::milliseconds timeout)
      : timeout_(timeout), rank_(spec.rank), size_(spec.world_size), local_rank_(spec.local_rank),
        local_size_(spec.local_world_size > 0 ? spec.local_world_size : spec.world_size) {
    const std::string master = spec.master_addr;
    const int port = spec.master_port;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    store_ = std::make_unique<TcpStore>(master, port, rank_ == 0, timeout);
    peers_.assign(static_cast<std::size_t>(size_), -1);
    const int listener = tcp::listen_on(0);
    const std::string me = (rank_ == 0 ? master : store_->local_address()) + ":" + std::to_string(tcp::port_of(listener));
    store_->set("addr/" + std::to_string(rank_), {me.begin(), me.end()});
    try {
      for (int j = 0; j < rank_; ++j) {  // connect to every lower rank, saying who we are
        const std::vector<char> addr = store_->get("addr/" + std::to_string(j));
        const std::string text(addr.begin(), addr.end());
        const std::size_t colon = text.rfind(':');
        const int fd = tcp::connect_to(text.substr(0, colon), std::stoi(text.substr(colon + 1)), deadline);
        tcp::write_all(fd, &rank_, sizeof rank_);
        peers_[static_cast<std::size_t>(j)] = fd;
      }
      for (int k = rank_ + 1; k < size_; ++k) {  // and accept every higher one
        const int fd = tcp::accept_one(listener, deadline);
        int who = -1;
        tcp::read_all(fd, &who, sizeof who, deadline);
        if (who <= rank_ || who >= size_ || peers_[static_cast<std::size_t>(who)] >= 0)
          throw std::runtime_error("--launcher env: a connection claimed to be rank " + std::to_string(who));
        peers_[static_cast<std::size_t>(who)] = fd;
      }
    } catch (...) {
      close(listener);
      throw;
    }
    close(listener);
    if (pipe(wake_) != 0) throw std::runtime_error("pipe failed");
    receiver_ = std::thread([this] { receive_loop(); });
  }

  ~TcpWorld() override {
    const char x = 0;
    if (write(wake_[1], &x, 1) < 0) {
    }
    if (receiver_.joinable()) receiver_.join();
    for (int fd : peers_)
      if (fd >= 0) close(fd);
    close(wake_[0]);
    close(wake_[1]);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string launcher() const override { return "env"; }
  std::uint64_t max_tag() const override { return std::uint64_t{1} << 62; }

  void send(int dst, std::uint64_t tag, Bytes bytes) override {
    if (dst < 0 || dst >= size_ || dst == rank_) throw std::runtime_error("no connection to rank " + std::to_string(dst));
    const std::uint64_t header[2] = {tag, bytes.size()};
    const int fd = peers_[static_cast<std::size_t>(dst)];
    tcp::write_all(fd, header, sizeof header);
    tcp::write_all(fd, bytes.data(), bytes.size());
  }

  Bytes recv(int src, std::uint64_t tag) override {
    std::unique_lock lock(m_);
    auto& q = box_[{src, tag}];
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (q.empty()) {
      if (closed_.count(src)) throw std::runtime_error("rank " + std::to_string(src) + " closed its connection");
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && q.empty())
        throw TimedOut("nothing arrived from rank " + std::to_string(src));
    }
    Bytes out = std::move(q.front());
    q.pop_front();
    return out;
  }

  void wait_sends() override {}  // sends are written before send() returns

 private:
  void receive_loop() {
    const auto forever = [] { return std::chrono::steady_clock::now() + std::chrono::hours(24); };
    std::vector<pollfd> fds;
    std::vector<int> who;
    for (int r = 0; r < size_; ++r)
      if (peers_[static_cast<std::size_t>(r)] >= 0) fds.push_back({peers_[static_cast<std::size_t>(r)], POLLIN, 0}), who.push_back(r);
    fds.push_back({wake_[0], POLLIN, 0});
    while (true) {
      if (poll(fds.data(), fds.size(), -1) < 0) continue;
      if (fds.back().revents) return;
      for (std::size_t i = 0; i + 1 < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        try {
          std::uint64_t header[2] = {0, 0};
          tcp::read_all(fds[i].fd, header, sizeof header, forever());
          Bytes bytes(header[1]);
          tcp::read_all(fds[i].fd, bytes.data(), bytes.size(), forever());
          std::lock_guard lock(m_);
          box_[{who[i], header[0]}].push_back(std::move(bytes));
        } catch (const std::exception&) {
          std::lock_guard lock(m_);
          closed_.insert({who[i], true});
          fds[i].fd = -1;  // poll ignores it from now on
        }
        cv_.notify_all();
      }
    }
  }

  std::chrono::milliseconds timeout_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::unique_ptr<TcpStore> store_;
  std::vector<int> peers_;
  int wake_[2] = {-1, -1};
  std::thread receiver_;
  std::mutex m_;
  std::condition_variable cv_;
  std::map<std::pair<int, std::uint64_t>, std::deque<Bytes>> box_;
  std::map<int, bool> closed_;
};

}  // namespace

EnvWorldSpec env_world_spec() {
  EnvWorldSpec s;
  s.world_size = env_int("WORLD_SIZE", 1, 4096, 0, true);
  s.rank = env_int("RANK", 0, s.world_size - 1, 0, true);
  s.local_rank = env_int("LOCAL_RANK", 0, 4095, s.rank, false);
  s.local_world_size = env_int("LOCAL_WORLD_SIZE", 1, 4096, s.world_size, false);
  s.master_port = env_int("MASTER_PORT", 1, 65535, 0, true);
  const char* master = std::getenv("MASTER_ADDR");
  if (!master || !*master) throw std::invalid_argument("--launcher env: MASTER_ADDR is not set (the host of rank 0)");
  s.master_addr = master;
  return s;
}

std::unique_ptr<World> make_tcp_world(const EnvWorldSpec& spec, std::chrono::milliseconds timeout) {
  return std::make_unique<TcpWorld>(spec, timeout);
}

std::unique_ptr<World> make_env_world(std::chrono::milliseconds timeout) { return make_tcp_world(env_world_spec(), timeout); }

}  // namespace ppsim::runtime
