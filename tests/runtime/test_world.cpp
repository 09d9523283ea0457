// The distributed layer without a launcher: four env-launcher worlds (TCP store + mesh) as
// threads of one process. Point to point in any tag order, barrier, broadcast, gather, the
// clock ping-pong, deadlines, and a whole schedule run one rank per world reproducing the
// sequential run.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <thread>

#include "runtime/distributed.hpp"
#include "runtime/transport.hpp"
#include "runtime/world.hpp"
#include "sim/generators.hpp"

using namespace ppsim;
using namespace ppsim::runtime;

namespace {

// A port nothing listens on right now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

// Runs fn(world) for `ranks` env worlds, each on its own thread; returns the first error.
std::string run_worlds(int ranks, std::chrono::milliseconds timeout, const std::function<void(World&)>& fn) {
  const int port = free_port();
  std::vector<std::string> errors(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        const auto w = make_tcp_world({r, ranks, r, "127.0.0.1", port}, timeout);
        fn(*w);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(r)] = "rank " + std::to_string(r) + ": " + e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (!e.empty()) return e;
  return "";
}

Bytes text(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const Bytes& b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("env worlds: point to point in any tag order, barrier, broadcast, gather") {
  const std::string error = run_worlds(4, std::chrono::milliseconds(20000), [](World& w) {
    CHECK(w.size() == 4);
    CHECK(w.launcher() == "env");
    const int next = (w.rank() + 1) % 4, prev = (w.rank() + 3) % 4;
    // Two messages to the next rank; it asks for the second tag first.
    w.send(next, 2, text("two from " + std::to_string(w.rank())));
    w.send(next, 1, text("one from " + std::to_string(w.rank())));
    CHECK(text(w.recv(prev, 1)) == "one from " + std::to_string(prev));
    CHECK(text(w.recv(prev, 2)) == "two from " + std::to_string(prev));
    w.barrier();
    CHECK(text(w.broadcast(w.rank() == 0 ? text("from the root") : Bytes{})) == "from the root");
    const std::vector<Bytes> all = w.gather(text(std::to_string(w.rank() * 10)));
    if (w.rank() == 0) {
      REQUIRE(all.size() == 4);
      for (int r = 0; r < 4; ++r) CHECK(text(all[static_cast<std::size_t>(r)]) == std::to_string(r * 10));
    } else {
      CHECK(all.empty());
    }
    // One clock in one process: every offset is within its stated uncertainty of zero (plus
    // the scheduler's noise on a shared machine).
    const ClockSync c = sync_clocks(w, 8);
    if (w.rank() == 0)
      for (int r = 1; r < 4; ++r)
        CHECK(std::abs(c.offset_ns[static_cast<std::size_t>(r)]) <= c.uncertainty_ns[static_cast<std::size_t>(r)] + 2'000'000);
  });
  CHECK(error.empty());
  if (!error.empty()) MESSAGE(error);
}

TEST_CASE("env worlds: a message that never comes ends at the deadline, named") {
  const auto start = std::chrono::steady_clock::now();
  const std::string error = run_worlds(2, std::chrono::milliseconds(300), [](World& w) {
    if (w.rank() == 1) w.recv(0, 7);  // rank 0 never sends tag 7
    else std::this_thread::sleep_for(std::chrono::milliseconds(600));
  });
  CHECK(error.find("rank 1: nothing arrived from rank 0") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("env worlds: a rank that never starts stops the others at their deadline") {
  const int port = free_port();
  std::string error;
  std::thread lone([&] {
    try {
      make_tcp_world({0, 2, 0, "127.0.0.1", port}, std::chrono::milliseconds(300));
    } catch (const TimedOut& e) {
      error = e.what();
    }
  });
  lone.join();
  CHECK(!error.empty());
}

TEST_CASE("one process per rank: every rank in its own world reproduces the sequential run (double: 1e-12)") {
  ExecOptions o;
  o.hidden = 24;
  o.ffn = 40;
  o.rows = 6;
  o.timeout = std::chrono::milliseconds(20000);
  for (sim::ScheduleKind kind : {sim::ScheduleKind::OneFOneB, sim::ScheduleKind::DualPipe, sim::ScheduleKind::ZBV}) {
    const sim::Schedule s = sim::make_schedule({kind, 4, 8, 0});
    double error = 1;
    std::size_t intervals = 0;
    const std::string failure = run_worlds(4, o.timeout, [&](World& w) {
      const DistributedResult<double> r = execute_distributed<double>(s, o, w);
      if (!r.root) return;
      error = max_relative_error(r.run, run_sequential<double>(s.stages, s.microbatches, o));
      intervals = r.run.timeline.intervals.size();
    });
    CAPTURE(sim::to_string(kind));
    CHECK(failure.empty());
    CHECK(error <= 1e-12);
    std::size_t ops = 0;
    for (const auto& rank : s.per_rank) ops += rank.size();
    CHECK(intervals == ops);
  }
}

TEST_CASE("a world of the wrong size is refused before anything runs") {
  const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::OneFOneB, 4, 8, 0});
  const std::string failure = run_worlds(2, std::chrono::milliseconds(5000), [&](World& w) {
    execute_distributed<double>(s, ExecOptions{}, w);
  });
  CHECK(failure.find("2 processes for a 4-rank schedule") != std::string::npos);
}
