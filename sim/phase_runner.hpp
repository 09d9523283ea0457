#pragma once
// Runs ops as phase programs on each rank (the rules are in sim/phases.hpp): one compute lane
// and two communication channels per rank (scale-out and NVLink), each shared by the phases
// on it, with the compute slowdown while any communication runs. Used by the engine; it owns its events in the engine's queue.
#include <vector>

#include "sim/event_queue.hpp"
#include "sim/flow_network.hpp"
#include "sim/network.hpp"
#include "sim/phases.hpp"
#include "sim/timeline.hpp"

namespace ppsim::sim {

class PhaseRunner {
 public:


  // With a network, communication phases are flows on each rank's route through it (shared
  // max-min with everything else on those resources) instead of the rank's private channel.
  PhaseRunner(const PhasedCosts& costs, int ranks, EventQueue& queue, Timeline* timeline,
              FlowNetwork* network = nullptr, const NetworkSpec* spec = nullptr);

  // Starts `op` (node id `node`) on `rank`; returns true when it finished at once.
  bool start(int rank, int node, const Op& op, Time now);
  // Handles one of its events; returns the rank whose op finished with it, or -1.
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
    double comm_left = 0;  // bytes
    int channel = 0;       // of the running communication phase
    Time phase_start = 0;
    std::uint32_t version = 0;
  };
  struct Rank {
    Stream s[2];
    int streams = 0;
    Time op_start = 0, op_kernel = 0;  // kernel time within the current op
    int lane = -1, last_lane = 0;      // the stream on the compute lane; the one that ran last
    double work_left = 0, rate = 1;    // the lane's phase: ns at full speed, speed now
    Time lane_update = 0;
    std::uint32_t lane_version = 0;
    int comm_active = 0;               // communication phases running, on either channel
    int channel_active[2] = {0, 0};    // per channel
    Time comm_update = 0;
    Time kernel_busy = 0, exposed = 0;
  };

  bool advance(int rank, int i, Time now);  // true when the op is done
  void take_lane(int rank, Time now);
  void set_comm(int rank, int channel, int delta, Time now);
  void progress_comm(Rank& r, Time now);
  void reschedule_comm(int rank, Time now);
  void reschedule_lane(int rank, Time now);
  bool finished(Rank& r, Time now);
  // The compute lane's speed: slowed while communication runs, and for the whole of an F&B
  // pair, whose kernels are sized to the SMs left to compute (DeepSeek-V3 reserves its 20
  // communication SMs for the overlapped chunk), as the cost model's duration() has it.
  double lane_rate(const Rank& r) const { return r.comm_active > 0 || r.streams == 2 ? slow_ : 1.0; }
  int comm_finished(int rank, int i, Time now);

  const PhasedCosts& costs_;
  std::vector<Rank> ranks_;
  EventQueue& queue_;
  Timeline* timeline_;
  FlowNetwork* network_;
  const NetworkSpec* spec_;
  double slow_, channel_[2];
};

}  // namespace ppsim::sim
