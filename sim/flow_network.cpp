#include "sim/flow_network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ppsim::sim {

FlowNetwork::FlowNetwork(std::vector<double> capacity, EventQueue& queue)
    : capacity_(std::move(capacity)), queue_(queue) {
  for (double c : capacity_)
    if (!(c > 0)) throw std::invalid_argument("network: every resource needs a capacity > 0 bytes/ns");
  left_capacity_.resize(capacity_.size());
  unfrozen_count_.resize(capacity_.size());
  stamp_.assign(capacity_.size(), 0);
}

void FlowNetwork::start(const std::vector<int>& resources, double bytes, Time now, std::int64_t tag) {
  progress(now);
  int slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<int>(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[slot];
  f.resources = resources;
  f.left = bytes;
  f.tag = tag;
  f.live = true;
  active_.push_back(slot);
  rebalance(now);
}

void FlowNetwork::progress(Time now) {
  const double dt = static_cast<double>(now - last_);
  if (dt > 0)
    for (int slot : active_) {
      Flow& f = flows_[slot];
      f.left = std::max(0.0, f.left - dt * f.rate);
    }
  last_ = now;
}

// Max-min fairness by progressive filling: raise every unfrozen flow's rate together until a
// resource fills; freeze the flows through it; repeat.
void FlowNetwork::rebalance(Time now) {
  // Only the resources the active flows cross take part (a fabric has thousands of links).
  ++epoch_;
  touched_.clear();
  frozen_.assign(active_.size(), 0);
  for (int slot : active_) {
    flows_[slot].rate = 0;
    for (int r : flows_[slot].resources) {
      if (stamp_[r] != epoch_) {
        stamp_[r] = epoch_;
        touched_.push_back(r);
        left_capacity_[r] = capacity_[r];
        unfrozen_count_[r] = 0;
      }
      ++unfrozen_count_[r];
    }
  }
  std::size_t remaining = active_.size();
  while (remaining > 0) {
    // The resource that fills first at an equal raise of every unfrozen flow.
    int bottleneck = -1;
    double step = std::numeric_limits<double>::infinity();
    for (int r : touched_)
      if (unfrozen_count_[r] > 0 && left_capacity_[r] / unfrozen_count_[r] < step) {
        step = left_capacity_[r] / unfrozen_count_[r];
        bottleneck = r;
      }
    if (bottleneck < 0) {  // flows that cross no resource: unlimited, done at once
      for (std::size_t k = 0; k < active_.size(); ++k)
        if (!frozen_[k]) flows_[active_[k]].rate = std::numeric_limits<double>::infinity(), frozen_[k] = 1;
      break;
    }
    for (std::size_t k = 0; k < active_.size(); ++k)
      if (!frozen_[k]) flows_[active_[k]].rate += step;
    for (int r : touched_)
      if (unfrozen_count_[r] > 0) left_capacity_[r] -= step * unfrozen_count_[r];
    // Freeze the flows through the bottleneck (and any other resource now full).
    for (std::size_t k = 0; k < active_.size(); ++k) {
      if (frozen_[k]) continue;
      const Flow& f = flows_[active_[k]];
      bool full = false;
      for (int r : f.resources) full = full || r == bottleneck || left_capacity_[r] <= 1e-12 * capacity_[r];
      if (!full) continue;
      frozen_[k] = 1;
      --remaining;
      for (int r : f.resources) --unfrozen_count_[r];
    }
  }
  for (int slot : active_) {
    Flow& f = flows_[slot];
    ++f.version;
    const double dt = std::isfinite(f.rate) ? std::ceil(f.left / f.rate - 1e-9) : 0.0;
    queue_.push(now + static_cast<Time>(std::max(0.0, dt)), EventKind::FlowDone, static_cast<std::uint32_t>(slot), f.version);
  }
}

std::int64_t FlowNetwork::on_event(const Event& e, Time now) {
  Flow& f = flows_[e.id];
  if (!f.live || e.version != f.version) return -1;
  progress(now);
  f.live = false;
  active_.erase(std::find(active_.begin(), active_.end(), static_cast<int>(e.id)));
  free_.push_back(static_cast<int>(e.id));
  rebalance(now);
  return f.tag;
}

}  // namespace ppsim::sim
