#pragma once
// A small key-value store over TCP, as torchrun's rendezvous has: rank 0 serves it on
// MASTER_ADDR:MASTER_PORT, every rank (rank 0 too) is a client. set() stores bytes under a key;
// get() waits, up to the deadline, until the key is there. The env world swaps its ranks'
// addresses through it; a multi-process NCCL run would swap its unique id the same way.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ppsim::runtime {

class TcpStoreServer;  // rank 0's side (tcp_store.cpp)

class TcpStore {
 public:
  // `serve`: this process runs the server too (rank 0). Connecting retries until the deadline.
  TcpStore(const std::string& host, int port, bool serve, std::chrono::milliseconds timeout);
  ~TcpStore();
  TcpStore(const TcpStore&) = delete;
  TcpStore& operator=(const TcpStore&) = delete;

  void set(const std::string& key, const std::vector<char>& value);
  std::vector<char> get(const std::string& key);  // TimedOut past the deadline
  // This process's address as the store's peer sees it (the interface that reaches rank 0).
  std::string local_address() const;

 private:
  std::unique_ptr<TcpStoreServer> server_;
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
};

// Socket helpers shared with the env world (tcp_world.cpp). Each throws std::runtime_error
// naming what failed, or TimedOut at the deadline.
namespace tcp {
int listen_on(int port);                 // all interfaces; port 0: any free one
int port_of(int fd);
int connect_to(const std::string& host, int port, std::chrono::steady_clock::time_point deadline);
int accept_one(int listener, std::chrono::steady_clock::time_point deadline);
void write_all(int fd, const void* data, std::size_t n);
void read_all(int fd, void* data, std::size_t n, std::chrono::steady_clock::time_point deadline);
}  // namespace tcp

}  // namespace ppsim::runtime
