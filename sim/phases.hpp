#pragma once
// Ops as programs of phases (issue P4): a cost model may describe each op half (the F, B, Bi or
// W of one stage) as a sequence of compute phases, which run on the rank's compute lane, and
// communication phases (MoE all-to-all, TP all-reduce), which run on the rank's communication
// channel. The engine then computes the overlap itself:
//  - one op half runs its phases in order; a plain op is one half, so its communication
//    leaves the compute lane idle (exposed) -- the next op cannot start before it ends;
//  - an FB pair runs its two halves as two streams at once. The compute lane takes one
//    compute phase at a time: when both halves have one ready it alternates between them
//    (the half that did not run last goes first; the backward half first at the start), so
//    the all-to-all of one half runs under the compute of the other, as in DeepSeek-V3's
//    overlapped F&B chunks. Communication phases start as soon as their half reaches them;
//  - communication kernels hold a budget of SMs: while any communication phase of the rank
//    runs, compute runs at (SMs - comm SMs) / SMs of its speed; and the channel moves at most
//    comm_bytes_per_ns, shared equally by the rank's concurrent communication phases (each a
//    flow on the channel's resource: sim/flow_network.hpp).
//  - a communication phase names its channel: scale-out (the NICs, through the communication
//    SMs) or scale-up (NVLink/NVSwitch inside the NVLink domain); each channel is shared only
//    by the phases on it. With a network, each channel is a route through it.
#include <cstdint>
#include <vector>

#include "sim/comm_kind.hpp"
#include "sim/op.hpp"
#include "sim/time.hpp"

namespace ppsim::sim {

struct Phase {
  enum Kind : std::uint8_t { Compute, Comm } kind = Compute;
  Time work = 0;            // Compute: nanoseconds at full speed (>= 1)
  std::int64_t bytes = 0;   // Comm: payload through the rank's channel
  Channel channel = Channel::ScaleOut;
  CommKind what = CommKind::None;
};

class PhasedCosts {
 public:
  virtual ~PhasedCosts() = default;
  // The phases of one op half: kind F, B, Bi or W of `stage`.
  virtual const std::vector<Phase>& phases(OpKind kind, int stage) const = 0;
  virtual double compute_rate_during_comm() const = 0;  // (SMs - comm SMs) / SMs, in (0, 1]
  virtual double comm_bytes_per_ns() const = 0;         // the scale-out channel's capacity (> 0)
  virtual double scale_up_bytes_per_ns() const { return comm_bytes_per_ns(); }  // NVLink's (> 0)
};

}  // namespace ppsim::sim
