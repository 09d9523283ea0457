#pragma once
// The discrete-event engine: runs a Schedule on P ranks with a CostModel and a point-to-point
// link model, and returns the Timeline with its metrics.
//
// Rules. Each rank runs its ops in order on one compute lane: an op starts as soon as the
// previous one ended and all its inputs have arrived (an FB pair: the inputs of both halves).
// When an op ends, each output needed on another rank starts a transfer: it takes
// bytes / bandwidth on the directed link between the two ranks, shared fairly by the
// transfers on it at the same time, then the latency; outputs on the same rank are there at
// once. Communication is free unless a latency or a bandwidth is given. Transfers, phases and
// tails are all flows of one model (sim/flow_network.hpp): the link is one resource, a network
// gives routes over many. Events are ordered by (time, insertion sequence), time is integer
// nanoseconds and rates are integers, so every run is repeatable bit for bit.
#include <cstdint>
#include <vector>

#include "sim/costs.hpp"
#include "sim/network.hpp"
#include "sim/schedule.hpp"
#include "sim/timeline.hpp"

namespace ppsim::sim {

struct LinkSpec {
  Time latency = 0;                     // per transfer, after its bytes
  std::int64_t bytes_per_second = 0;    // per directed rank pair; 0 = unlimited
};

struct SimOptions {
  LinkSpec p2p;
  bool record_timeline = true;  // off: metrics only (sweeps)
  // Off: skip validate() for schedules known to be valid (made by make_schedule). A broken
  // schedule then fails with the engine's own "stalled" error instead: never a hang.
  bool validate = true;
  // Off: take each op's duration() even when the cost model describes phases.
  bool phases = true;
  // A network (routes over shared resources): pipeline transfers and communication phases
  // become max-min fair flows on it, instead of the per-rank-pair links of `p2p`.
  const NetworkSpec* network = nullptr;
  // With a network: transfers that start when a rank's last op starts or ends (the
  // data-parallel gradient sync, overlapped with the last backward or after it); the step
  // ends when all of them have.
  struct Tail {
    int rank = 0, route = 0;
    double bytes = 0;
    bool at_last_op_start = false;
    Channel channel = Channel::ScaleOut;  // which wires the route is (for the trace)
  };
  std::vector<Tail> tails;
  // > 0: the ranks' ops share this many cores (ranks as threads or processes on one host with
  // fewer cores than ranks): each running op gets at most one core, and k > C running ops get
  // C / k each (processor sharing, as the OS's fair scheduler gives it; max-min flows on the
  // network, so it repeats bit for bit). An op's cost is its time on a core of its own.
  // 0: every rank has its own. Not with phases.
  int shared_cores = 0;
};

struct RankMetrics {
  Time busy = 0;          // compute time
  Time bubble = 0;        // makespan - busy: the rank's idle compute time
  double bubble_fraction = 0;
  Time exposed_comm = 0;  // idle time spent waiting for a transfer after its producer had finished,
                          // plus (phases) op time with the compute lane idle on communication
  Time kernel_busy = 0;   // (phases) time the compute lane ran kernels
  int peak_activations = 0;
  std::int64_t peak_activation_bytes = 0;
};

// One link of the critical path: an op on a compute lane, or the transfer between two ops.
struct CriticalStep {
  int rank = 0;
  Lane lane = Lane::Compute;  // Send: a transfer from `rank` to `peer`
  Op op;
  Time start = 0;
  Time end = 0;
  int peer = -1;
};

struct Metrics {
  Time makespan = 0;  // the step: the last op, or the last tail transfer when there are tails
  Time ops_end = 0;   // when the last op ended
  std::vector<RankMetrics> per_rank;
  std::vector<CriticalStep> critical_path;  // from the first op to the one that ends last
  std::uint64_t events = 0;                 // events the engine processed
  Time max_bubble() const;
  Time mean_bubble() const;  // over the ranks (0 without ranks)
};

struct SimResult {
  Timeline timeline;
  Metrics metrics;
  double event_loop_seconds = 0;  // wall time of the event loop alone (set-up excluded); for benchmarks
};

// Validates the schedule (require_valid) and that the cost model covers its stages; throws
// std::invalid_argument when either is wrong.
SimResult simulate(const Schedule& schedule, const CostModel& costs, const SimOptions& options = {});

}  // namespace ppsim::sim
