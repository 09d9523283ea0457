#include "sim/phase_runner.hpp"

#include <algorithm>
#include <cmath>

namespace ppsim::sim {

namespace {
Time ceil_ns(double x) { return static_cast<Time>(std::ceil(x - 1e-9)); }
}  // namespace

PhaseRunner::PhaseRunner(const PhasedCosts& costs, int ranks, EventQueue& queue, Timeline* timeline,
                         FlowNetwork* network, const NetworkSpec* spec)
    : costs_(costs), ranks_(ranks), queue_(queue), timeline_(timeline), network_(network), spec_(spec),
      slow_(costs.compute_rate_during_comm()), channel_{costs.comm_bytes_per_ns(), costs.scale_up_bytes_per_ns()} {}

bool PhaseRunner::start(int rank, int /*node*/, const Op& op, Time now) {
  Rank& r = ranks_[rank];
  r.op_start = now;
  r.op_kernel = 0;
  r.streams = op.kind == OpKind::FB ? 2 : 1;
  const Op halves[2] = {op.kind == OpKind::FB ? op.backward_half() : op, op.forward_half()};
  // Stream 0 is the backward half of a pair (it goes first, as its gradient has arrived).
  for (int i = 0; i < r.streams; ++i) {
    Stream& s = r.s[i];
    // A fresh stream keeps its version: completion events an earlier op left in the heap carry
    // older versions and must never match this op's phases.
    const std::uint32_t version = s.version;
    s = Stream{};
    s.version = version;
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
      set_comm(rank, s.channel, +1, now);
      s.in_comm = true;
      s.comm_left = static_cast<double>(p.bytes);
      s.phase_start = now;
      if (network_) {
        const bool up = s.channel == 1 && rank < static_cast<int>(spec_->scale_up_route.size());
        const int route = up ? spec_->scale_up_route[rank] : spec_->comm_route[rank];
        network_->start(spec_->routes[route].resources, s.comm_left, now, FlowTag::kStream + rank * 2 + i);
      } else {
        reschedule_comm(rank, now);
      }
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
  r.work_left = static_cast<double>((*s.phases)[s.next].work);
  r.rate = lane_rate(r);
  r.lane_update = now;
  reschedule_lane(rank, now);
}

void PhaseRunner::reschedule_lane(int rank, Time now) {
  Rank& r = ranks_[rank];
  ++r.lane_version;
  queue_.push(now + std::max<Time>(0, ceil_ns(r.work_left / r.rate)), EventKind::ComputeDone, static_cast<std::uint32_t>(rank),
              r.lane_version);
}

// A communication phase starts (+1) or ends (-1) on a channel: the lane's speed may change.
void PhaseRunner::set_comm(int rank, int channel, int delta, Time now) {
  Rank& r = ranks_[rank];
  progress_comm(r, now);
  r.comm_active += delta;
  r.channel_active[channel] += delta;
  if (r.lane >= 0 && lane_rate(r) != r.rate) {
    r.work_left -= static_cast<double>(now - r.lane_update) * r.rate;
    r.lane_update = now;
    r.rate = lane_rate(r);
    reschedule_lane(rank, now);
  }
}

void PhaseRunner::progress_comm(Rank& r, Time now) {
  if (r.comm_active > 0)
    for (int i = 0; i < r.streams; ++i) {
      Stream& s = r.s[i];
      if (!s.in_comm) continue;
      const double moved = static_cast<double>(now - r.comm_update) * channel_[s.channel] / r.channel_active[s.channel];
      s.comm_left = std::max(0.0, s.comm_left - moved);
    }
  r.comm_update = now;
}

void PhaseRunner::reschedule_comm(int rank, Time now) {
  Rank& r = ranks_[rank];
  for (int i = 0; i < r.streams; ++i) {
    Stream& s = r.s[i];
    if (!s.in_comm) continue;
    ++s.version;
    queue_.push(now + std::max<Time>(0, ceil_ns(s.comm_left * r.channel_active[s.channel] / channel_[s.channel])), EventKind::CommDone,
                static_cast<std::uint32_t>(rank * 2 + i), s.version);
  }
}

int PhaseRunner::on_event(const Event& e, Time now) {
  if (e.kind == EventKind::ComputeDone) {
    const int rank = static_cast<int>(e.id);
    Rank& r = ranks_[rank];
    if (e.version != r.lane_version || r.lane < 0) return -1;
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
  const int rank = static_cast<int>(e.id / 2), i = static_cast<int>(e.id % 2);
  Stream& s = ranks_[rank].s[i];
  if (!s.in_comm || e.version != s.version) return -1;
  return comm_finished(rank, i, now);
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
  set_comm(rank, s.channel, -1, now);
  if (!network_) reschedule_comm(rank, now);
  ++s.next;
  const bool done = advance(rank, i, now);
  if (!done) take_lane(rank, now);
  return done ? rank : -1;
}

}  // namespace ppsim::sim
