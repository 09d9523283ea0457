#include "sim/phase_runner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace ppsim::sim {

PhaseRunner::PhaseRunner(const PhasedCosts& costs, int ranks, EventQueue& queue, Timeline* timeline, FlowNetwork& network,
                         Routes routes)
    : costs_(costs), ranks_(ranks), queue_(queue), timeline_(timeline), network_(network), routes_(std::move(routes)),
      slow_(lane_rate_of(costs.compute_rate_during_comm())) {
  const double rate = costs.compute_rate_during_comm();
  if (!(rate > 0 && rate <= 1))
    throw std::invalid_argument("phases: the compute rate during communication must be in (0, 1]; got " + std::to_string(rate));
  if (static_cast<int>(routes_.size()) < ranks) throw std::invalid_argument("phases: no communication route for every rank");
  for (Rank& r : ranks_) r.lane_key = queue_.new_key();
}

bool PhaseRunner::start(int rank, int /*node*/, const Op& op, Time now) {
  Rank& r = ranks_[rank];
  r.op_start = now;
  r.op_kernel = 0;
  r.streams = op.kind == OpKind::FB ? 2 : 1;
  const Op halves[2] = {op.kind == OpKind::FB ? op.backward_half() : op, op.forward_half()};
  // Stream 0 is the backward half of a pair (it goes first, as its gradient has arrived).
  for (int i = 0; i < r.streams; ++i) {
    Stream& s = r.s[i];
    s = Stream{};
    s.op = halves[i];
    s.phases = &costs_.phases(s.op.kind, s.op.stage);
    s.done = false;
  }
  r.last_lane = 1;
  bool done = false;
  for (int i = 0; i < r.streams; ++i) done = advance(rank, i, now) || done;
  if (!done) take_lane(rank, now);
  return done;
}

// Moves stream i to its next phase (starting communication at once, queueing compute).
bool PhaseRunner::advance(int rank, int i, Time now) {
  Rank& r = ranks_[rank];
  Stream& s = r.s[i];
  while (s.next < s.phases->size()) {
    const Phase& p = (*s.phases)[s.next];
    if (p.kind == Phase::Compute) {
      s.wants_lane = true;
      return false;
    }
    if (p.bytes > 0) {
      s.channel = p.channel == Channel::ScaleUp ? 1 : 0;
      set_comm(rank, +1, now);
      s.in_comm = true;
      s.phase_start = now;
      // Its completion comes back through the engine as a flow's (on_flow_done).
      network_.start(routes_[rank][s.channel], p.bytes, now, FlowTag::kStream + rank * 2 + i);
      return false;
    }
    ++s.next;  // free communication
  }
  s.done = true;
  return finished(r, now);
}

bool PhaseRunner::finished(Rank& r, Time now) {
  for (int i = 0; i < r.streams; ++i)
    if (!r.s[i].done) return false;
  r.exposed += (now - r.op_start) - r.op_kernel;
  return true;
}

void PhaseRunner::take_lane(int rank, Time now) {
  Rank& r = ranks_[rank];
  if (r.lane >= 0) return;
  int pick = -1;
  for (int k = 0; k < r.streams; ++k) {
    const int i = (r.last_lane + 1 + k) % r.streams;  // alternate: the other stream first
    if (r.s[i].wants_lane) {
      pick = i;
      break;
    }
  }
  if (pick < 0) return;
  Stream& s = r.s[pick];
  s.wants_lane = false;
  s.phase_start = now;
  r.lane = pick;
  r.work_left = static_cast<FlowNetwork::Wide>((*s.phases)[s.next].work) * kLaneOne;
  r.rate = lane_rate(r);
  r.lane_update = now;
  reschedule_lane(rank, now);
}

void PhaseRunner::reschedule_lane(int rank, Time now) {
  Rank& r = ranks_[rank];
  const Wide dt = divide_up(r.work_left, r.rate);  // integers: bit for bit everywhere
  if (dt > std::numeric_limits<Time>::max() / 4)
    throw std::invalid_argument("phases: a compute phase would take longer than 73 years of simulated time");
  queue_.schedule(r.lane_key, now + static_cast<Time>(dt), EventKind::ComputeDone, static_cast<std::uint32_t>(rank));
}

// A communication phase starts (+1) or ends (-1): the lane's speed may change.
void PhaseRunner::set_comm(int rank, int delta, Time now) {
  Rank& r = ranks_[rank];
  r.comm_active += delta;
  if (r.lane >= 0 && lane_rate(r) != r.rate) {
    const FlowNetwork::Wide done = static_cast<FlowNetwork::Wide>(now - r.lane_update) * r.rate;
    r.work_left = done >= r.work_left ? 0 : r.work_left - done;
    r.lane_update = now;
    r.rate = lane_rate(r);
    reschedule_lane(rank, now);
  }
}

int PhaseRunner::on_event(const Event& e, Time now) {
  const int rank = static_cast<int>(e.id);
  Rank& r = ranks_[rank];
  if (r.lane < 0) throw std::logic_error("phases: a compute event for an idle lane");
  const int i = r.lane;
  Stream& s = r.s[i];
  r.kernel_busy += now - s.phase_start;
  r.op_kernel += now - s.phase_start;
  if (timeline_) timeline_->intervals.push_back({rank, Lane::Kernel, s.op, s.phase_start, now});
  r.lane = -1;
  r.last_lane = i;
  ++s.next;
  const bool done = advance(rank, i, now);
  if (!done) take_lane(rank, now);
  return done ? rank : -1;
}

int PhaseRunner::on_flow_done(std::int64_t tag, Time now) {
  const std::int64_t id = tag - FlowTag::kStream;
  return comm_finished(static_cast<int>(id / 2), static_cast<int>(id % 2), now);
}

int PhaseRunner::comm_finished(int rank, int i, Time now) {
  Stream& s = ranks_[rank].s[i];
  if (timeline_) {
    const Phase& p = (*s.phases)[s.next];
    timeline_->intervals.push_back({rank, Lane::Comm, s.op, s.phase_start, now, -1, p.bytes, -1, p.what, p.channel});
  }
  s.in_comm = false;
  set_comm(rank, -1, now);
  ++s.next;
  const bool done = advance(rank, i, now);
  if (!done) take_lane(rank, now);
  return done ? rank : -1;
}

}  // namespace ppsim::sim
