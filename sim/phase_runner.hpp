#pragma once
// Runs ops as phase programs on each rank (the rules are in sim/phases.hpp): one compute lane
// and two communication routes per rank (scale-out and NVLink), whose phases are flows on the
// engine's network (sim/flow_network.hpp), with the compute slowdown while any communication
// runs. Used by the engine; it owns its events in the engine's queue.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "sim/event_queue.hpp"
#include "sim/flow_network.hpp"
#include "sim/phases.hpp"
#include "sim/timeline.hpp"

namespace ppsim::sim {

class PhaseRunner {
 public:
  // Per rank, per channel (0: scale-out, 1: NVLink): the resources its communication phases
  // cross (its private channel, or its route through a cluster's network).
  using Routes = std::vector<std::array<std::vector<int>, 2>>;
  // The compute lane's speed is fixed point: kLaneOne is full speed.
  static constexpr std::int64_t kLaneOne = std::int64_t{1} << 32;
  // A rate in (0, 1] as the lane's fixed-point speed (at least 1): the one rounding the runner
  // and the lower bound (sim/bound_costs.hpp) share.
  static std::int64_t lane_rate_of(double rate) {
    return std::max<std::int64_t>(1, std::llround(rate * static_cast<double>(kLaneOne)));
  }

  PhaseRunner(const PhasedCosts& costs, int ranks, EventQueue& queue, Timeline* timeline, FlowNetwork& network,
              Routes routes);

  // Starts `op` (node id `node`) on `rank`; returns true when it finished at once.
  bool start(int rank, int node, const Op& op, Time now);
  // Handles one of its ComputeDone events; returns the rank whose op finished with it, or -1.
  int on_event(const Event& e, Time now);
  // A communication flow of ours finished (its tag); returns the rank whose op finished, or -1.
  int on_flow_done(std::int64_t tag, Time now);

  Time kernel_busy(int rank) const { return ranks_[rank].kernel_busy; }
  Time exposed(int rank) const { return ranks_[rank].exposed; }

 private:
  struct Stream {
    const std::vector<Phase>* phases = nullptr;
    Op op;                 // the half (for the timeline)
    std::size_t next = 0;  // the phase running or waiting
    bool done = true, wants_lane = false, in_comm = false;
    int channel = 0;       // of the running communication phase
    Time phase_start = 0;
  };
  struct Rank {
    Stream s[2];
    int streams = 0;
    Time op_start = 0, op_kernel = 0;  // kernel time within the current op
    int lane = -1, last_lane = 0;      // the stream on the compute lane; the one that ran last
    FlowNetwork::Wide work_left = 0;   // the lane's phase: ns at full speed x kLaneOne
    std::int64_t rate = kLaneOne;      // the lane's speed now
    Time lane_update = 0;
    EventQueue::Key lane_key = 0;      // its ComputeDone event's
    int comm_active = 0;               // communication phases running, on either channel
    Time kernel_busy = 0, exposed = 0;
  };

  bool advance(int rank, int i, Time now);  // true when the op is done
  void take_lane(int rank, Time now);
  void set_comm(int rank, int delta, Time now);
  void reschedule_lane(int rank, Time now);
  bool finished(Rank& r, Time now);
  // The compute lane's speed: slowed while communication runs, and for the whole of an F&B
  // pair, whose kernels are sized to the SMs left to compute (DeepSeek-V3 reserves its 20
  // communication SMs for the overlapped chunk), as the cost model's duration() has it.
  std::int64_t lane_rate(const Rank& r) const { return r.comm_active > 0 || r.streams == 2 ? slow_ : kLaneOne; }
  int comm_finished(int rank, int i, Time now);

  const PhasedCosts& costs_;
  std::vector<Rank> ranks_;
  EventQueue& queue_;
  Timeline* timeline_;
  FlowNetwork& network_;
  Routes routes_;
  std::int64_t slow_;
};

}  // namespace ppsim::sim
