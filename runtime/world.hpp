#pragma once
// The processes of a distributed run, one per rank: who this process is and how bytes move
// between processes, every wait with a deadline. Two launchers make one:
//   mpi  (mpirun / srun with OpenMPI): ranks and point-to-point from MPI (mpi_world.cpp)
//   env  (torchrun, Slurm or by hand): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT;
//        a small TCP store on rank 0 swaps addresses (and NCCL's unique id), then a TCP mesh
//        carries the bytes (tcp_world.cpp)
// On top of point-to-point: barrier, broadcast and gather (reserved tags), and a clock
// ping-pong that finds each rank's offset to rank 0.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ppsim::runtime {

using Bytes = std::vector<char>;

class World {
 public:
  virtual ~World() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;  // the ranks on this node (they share its cores)
  virtual std::string launcher() const = 0;  // "mpi" | "env"
  // Posts `bytes` to `dst` under `tag` (tags below kReservedTags are the caller's) and returns.
  virtual void send(int dst, std::uint64_t tag, Bytes bytes) = 0;
  // The next bytes from `src` under `tag`; messages under other tags wait their turn. Throws
  // TimedOut (transport.hpp) when nothing arrives before the deadline.
  virtual Bytes recv(int src, std::uint64_t tag) = 0;
  // Every posted send has left this process (or the deadline passed: TimedOut).
  virtual void wait_sends() = 0;
  // The largest tag the launcher carries.
  virtual std::uint64_t max_tag() const = 0;

  static constexpr std::uint64_t kReservedTags = 16;  // collectives use tags max_tag() - 0..15

  void barrier();
  Bytes broadcast(Bytes bytes);                   // rank 0's bytes, on every rank
  std::vector<Bytes> gather(Bytes bytes);         // on rank 0 every rank's, in rank order; {} elsewhere
  std::uint64_t user_tag_limit() const { return max_tag() - kReservedTags; }
  // The tags the collectives use, one per purpose.
  enum class Reserved { Broadcast = 0, Gather = 1, Ping = 2, Pong = 3 };
  std::uint64_t reserved(Reserved which) const { return max_tag() - static_cast<std::uint64_t>(which); }
};

// Each rank's clock against rank 0's: rank r's time t maps to t - offset[r] on rank 0's clock,
// within +- uncertainty[r] (half the fastest round trip of a ping-pong).
struct ClockSync {
  std::vector<std::int64_t> offset_ns, uncertainty_ns;
  std::int64_t max_uncertainty_ns() const;
  // The offsets measured before a run, each bound widened to cover the one measured after it
  // and the drift between the two.
  ClockSync with_drift_to(const ClockSync& after) const;
};
// Collective: rank 0 ping-pongs every other rank `rounds` times; the result is on rank 0.
ClockSync sync_clocks(World& world, int rounds = 16);
// Nanoseconds of this process's steady clock.
std::int64_t steady_now_ns();

// "mpi" or "env": the world of this process, or std::invalid_argument naming what is missing
// (no MPI in this build, an unset variable, a bad value).
std::unique_ptr<World> make_world(const std::string& launcher, std::chrono::milliseconds timeout);
// The MPI world (mpi_world.cpp; mpi_world_none.cpp refuses in builds without MPI).
std::unique_ptr<World> make_mpi_world(std::chrono::milliseconds timeout);
// The env world over TCP (tcp_world.cpp): from the environment, or from explicit values (tests
// run several ranks as threads of one process).
struct EnvWorldSpec {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;
  int local_world_size = 0;  // 0: all of them on this node
};
EnvWorldSpec env_world_spec();  // RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT
std::unique_ptr<World> make_tcp_world(const EnvWorldSpec& spec, std::chrono::milliseconds timeout);
std::unique_ptr<World> make_env_world(std::chrono::milliseconds timeout);

// Appending and reading plain values and byte runs (what the worlds carry).
class ByteWriter {
 public:
  template <class T>
  ByteWriter& put(const T& v) {
    const char* p = reinterpret_cast<const char*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
    return *this;
  }
  ByteWriter& put_raw(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    out_.insert(out_.end(), p, p + n);
    return *this;
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

class ByteReader {
 public:
  explicit ByteReader(const Bytes& in) : in_(in) {}
  template <class T>
  T get() {
    T v{};
    get_raw(&v, sizeof(T));
    return v;
  }
  void get_raw(void* data, std::size_t n);  // throws std::runtime_error past the end
  bool done() const { return at_ == in_.size(); }

 private:
  const Bytes& in_;
  std::size_t at_ = 0;
};

}  // namespace ppsim::runtime
