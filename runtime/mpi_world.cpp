// The MPI world: ranks from MPI_COMM_WORLD, bytes by MPI point-to-point. Sends are
// non-blocking (MPI_Isend, the buffer kept until done); receives probe with a deadline
// (MPI_Iprobe), so a rank that never sends is reported, not waited for forever.
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <list>
#include <stdexcept>
#include <thread>

#include "runtime/transport.hpp"
#include "runtime/world.hpp"

namespace ppsim::runtime {

namespace {

class MpiWorld final : public World {
 public:
  explicit MpiWorld(std::chrono::milliseconds timeout) : timeout_(timeout) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) MPI_Init(nullptr, nullptr);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    void* value = nullptr;
    int found = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &value, &found);
    max_tag_ = found ? static_cast<std::uint64_t>(*static_cast<int*>(value)) : 32767;
    // The node-local rank: OpenMPI says it; else ranks on one node are assumed consecutive.
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    local_rank_ = local ? std::atoi(local) : rank_;
    const char* here = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    local_size_ = here ? std::max(1, std::atoi(here)) : size_;
  }
  ~MpiWorld() override {
    try {
      wait_sends();
    } catch (...) {
    }
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string launcher() const override { return "mpi"; }
  std::uint64_t max_tag() const override { return max_tag_; }

  void send(int dst, std::uint64_t tag, Bytes bytes) override {
    check(dst, tag);
    pending_.push_back({std::move(bytes), MPI_REQUEST_NULL});
    Pending& p = pending_.back();
    if (MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dst, static_cast<int>(tag), MPI_COMM_WORLD,
                  &p.request) != MPI_SUCCESS)
      throw std::runtime_error("MPI_Isend to rank " + std::to_string(dst) + " failed");
    reap();
  }

  Bytes recv(int src, std::uint64_t tag) override {
    check(src, tag);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    MPI_Status status;
    while (true) {
      int flag = 0;
      MPI_Iprobe(src, static_cast<int>(tag), MPI_COMM_WORLD, &flag, &status);
      if (flag) break;
      reap();  // progress our own sends while we wait
      if (std::chrono::steady_clock::now() >= deadline) throw TimedOut("nothing arrived from rank " + std::to_string(src));
      std::this_thread::yield();
    }
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    Bytes out(static_cast<std::size_t>(count));
    MPI_Recv(out.data(), count, MPI_BYTE, src, static_cast<int>(tag), MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return out;
  }

  void wait_sends() override {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!pending_.empty()) {
      reap();
      if (pending_.empty()) break;
      if (std::chrono::steady_clock::now() >= deadline)
        throw TimedOut(std::to_string(pending_.size()) + " sends were never received");
      std::this_thread::yield();
    }
  }

 private:
  struct Pending {
    Bytes bytes;
    MPI_Request request;
  };

  void check(int peer, std::uint64_t tag) const {
    if (peer < 0 || peer >= size_) throw std::runtime_error("rank " + std::to_string(peer) + " is not in this MPI world");
    if (tag > max_tag_) throw std::runtime_error("message tag " + std::to_string(tag) + " is above MPI's limit " + std::to_string(max_tag_));
  }

  // Frees the sends MPI has finished with.
  void reap() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      it = done ? pending_.erase(it) : std::next(it);
    }
  }

  std::chrono::milliseconds timeout_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::uint64_t max_tag_ = 32767;
  std::list<Pending> pending_;  // stable addresses: MPI holds the buffers
};

}  // namespace

std::unique_ptr<World> make_mpi_world(std::chrono::milliseconds timeout) { return std::make_unique<MpiWorld>(timeout); }

}  // namespace ppsim::runtime
