#pragma once
// What happened, when: the same type for a simulated run (sim::simulate) and, later, a
// measured one (runtime::execute), so the two can be laid side by side op by op.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/comm_kind.hpp"
#include "sim/op.hpp"
#include "sim/time.hpp"

namespace ppsim::sim {

// Compute: whole ops. Send/Recv: pipeline transfers. Kernel/Comm: the phases of ops run as
// phase programs (sim/phases.hpp), on the compute lane and the communication channel.
enum class Lane : std::uint8_t { Compute, Send, Recv, Kernel, Comm };
std::string_view to_string(Lane lane);

struct Interval {
  int rank = 0;
  Lane lane = Lane::Compute;
  Op op;                // Compute: the op; Send/Recv: the op half whose output moves
  Time start = 0;
  Time end = 0;
  int peer = -1;        // Send/Recv: the other rank
  std::int64_t bytes = 0;
  int flow = -1;        // Send/Recv: one id per transfer, shared by its two ends
  CommKind what = CommKind::None;        // Comm: what the phase moves
  Channel channel = Channel::ScaleOut;   // Comm: on which wires
};

// Activations held by a rank after a change at time t.
struct MemorySample {
  int rank = 0;
  Time t = 0;
  int activations = 0;
  std::int64_t bytes = 0;
};

struct Timeline {
  std::string kind;  // the schedule's kind
  int ranks = 0;
  std::vector<Interval> intervals;  // compute intervals in start order per rank; transfers after
  std::vector<MemorySample> memory;

  Time makespan() const;
};

// The compute lanes of a timeline (measured or read back from a trace): from the first op's
// start to the last op's end, and how long each of `ranks` ranks computed in between.
struct ComputeSpan {
  bool any = false;  // false: no compute interval at all (start = end = 0)
  Time start = 0, end = 0;
  std::vector<Time> busy;  // per rank
  Time span() const { return end - start; }
};
ComputeSpan compute_span(const Timeline& timeline, int ranks);

}  // namespace ppsim::sim
