#include "sim/flow_network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ppsim::sim {

FlowNetwork::FlowNetwork(std::vector<double> capacity, EventQueue& queue) : capacity_(std::move(capacity)), queue_(queue) {
  for (double c : capacity_)
    if (!(c > 0)) throw std::invalid_argument("network: every resource needs a capacity > 0 bytes/ns");
  on_.resize(capacity_.size());
  left_capacity_.resize(capacity_.size());
  unfrozen_count_.resize(capacity_.size());
  stamp_.assign(capacity_.size(), 0);
}

void FlowNetwork::attach(int slot) {
  Flow& f = flows_[slot];
  f.at.resize(f.resources.size());
  for (std::size_t i = 0; i < f.resources.size(); ++i) {
    auto& list = on_[static_cast<std::size_t>(f.resources[i])];
    f.at[i] = static_cast<int>(list.size());
    list.push_back(slot);
  }
}

// Removes the flow from its resources' lists in O(1) each: the last flow takes its place.
void FlowNetwork::detach(int slot) {
  Flow& f = flows_[slot];
  for (std::size_t i = 0; i < f.resources.size(); ++i) {
    auto& list = on_[static_cast<std::size_t>(f.resources[i])];
    const int moved = list.back();
    list[static_cast<std::size_t>(f.at[i])] = moved;
    if (moved != slot) {
      Flow& m = flows_[moved];
      for (std::size_t j = 0; j < m.resources.size(); ++j)
        if (m.resources[j] == f.resources[i] && m.at[j] == static_cast<int>(list.size()) - 1) {
          m.at[j] = f.at[i];
          break;
        }
    }
    list.pop_back();
  }
}

void FlowNetwork::start(const std::vector<int>& resources, double bytes, Time now, std::int64_t tag) {
  int slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<int>(flows_.size());
    flows_.emplace_back();
    flow_stamp_.push_back(0);
  }
  Flow& f = flows_[slot];
  f.resources = resources;
  f.left = bytes;
  f.rate = 0;
  f.updated = now;
  f.tag = tag;
  f.live = true;
  attach(slot);
  ++active_count_;
  collect(resources);
  if (resources.empty()) component_.push_back(slot);  // crosses nothing: done at once
  rebalance(now);
}

void FlowNetwork::collect(const std::vector<int>& resources) {
  ++epoch_;
  component_.clear();
  stack_.clear();
  for (int r : resources)
    if (stamp_[static_cast<std::size_t>(r)] != epoch_) stamp_[static_cast<std::size_t>(r)] = epoch_, stack_.push_back(r);
  while (!stack_.empty()) {
    const int r = stack_.back();
    stack_.pop_back();
    for (int slot : on_[static_cast<std::size_t>(r)]) {
      if (flow_stamp_[static_cast<std::size_t>(slot)] == epoch_) continue;
      flow_stamp_[static_cast<std::size_t>(slot)] = epoch_;
      component_.push_back(slot);
      for (int q : flows_[slot].resources)
        if (stamp_[static_cast<std::size_t>(q)] != epoch_) stamp_[static_cast<std::size_t>(q)] = epoch_, stack_.push_back(q);
    }
  }
  // A deterministic order whatever the lists' order: by slot.
  std::sort(component_.begin(), component_.end());
}

// Max-min fairness by progressive filling over the component: raise every unfrozen flow's
// rate together until a resource fills; freeze the flows through it; repeat.
void FlowNetwork::rebalance(Time now) {
  touched_.clear();
  frozen_.assign(component_.size(), 0);
  ++epoch_;
  for (int slot : component_) {
    Flow& f = flows_[slot];
    f.left = std::max(0.0, f.left - static_cast<double>(now - f.updated) * f.rate);  // progress so far
    f.updated = now;
    f.rate = 0;
    for (int r : f.resources) {
      if (stamp_[static_cast<std::size_t>(r)] != epoch_) {
        stamp_[static_cast<std::size_t>(r)] = epoch_;
        touched_.push_back(r);
        left_capacity_[static_cast<std::size_t>(r)] = capacity_[static_cast<std::size_t>(r)];
        unfrozen_count_[static_cast<std::size_t>(r)] = 0;
      }
      ++unfrozen_count_[static_cast<std::size_t>(r)];
    }
  }
  std::sort(touched_.begin(), touched_.end());  // the same bottleneck choice whatever the visit order
  std::size_t remaining = component_.size();
  while (remaining > 0) {
    int bottleneck = -1;
    double step = std::numeric_limits<double>::infinity();
    for (int r : touched_)
      if (unfrozen_count_[static_cast<std::size_t>(r)] > 0 &&
          left_capacity_[static_cast<std::size_t>(r)] / unfrozen_count_[static_cast<std::size_t>(r)] < step) {
        step = left_capacity_[static_cast<std::size_t>(r)] / unfrozen_count_[static_cast<std::size_t>(r)];
        bottleneck = r;
      }
    if (bottleneck < 0) {  // flows that cross no resource: unlimited, done at once
      for (std::size_t k = 0; k < component_.size(); ++k)
        if (!frozen_[k]) flows_[component_[k]].rate = std::numeric_limits<double>::infinity(), frozen_[k] = 1;
      break;
    }
    for (std::size_t k = 0; k < component_.size(); ++k)
      if (!frozen_[k]) flows_[component_[k]].rate += step;
    for (int r : touched_)
      if (unfrozen_count_[static_cast<std::size_t>(r)] > 0)
        left_capacity_[static_cast<std::size_t>(r)] -= step * unfrozen_count_[static_cast<std::size_t>(r)];
    for (std::size_t k = 0; k < component_.size(); ++k) {  // freeze the flows through a full resource
      if (frozen_[k]) continue;
      const Flow& f = flows_[component_[k]];
      bool full = false;
      for (int r : f.resources)
        full = full || r == bottleneck ||
               left_capacity_[static_cast<std::size_t>(r)] <= 1e-12 * capacity_[static_cast<std::size_t>(r)];
      if (!full) continue;
      frozen_[k] = 1;
      --remaining;
      for (int r : f.resources) --unfrozen_count_[static_cast<std::size_t>(r)];
    }
  }
  for (int slot : component_) {
    Flow& f = flows_[slot];
    ++f.version;
    const double dt = std::isfinite(f.rate) ? std::ceil(f.left / f.rate - 1e-9) : 0.0;
    queue_.push(now + static_cast<Time>(std::max(0.0, dt)), EventKind::FlowDone, static_cast<std::uint32_t>(slot), f.version);
  }
}

std::int64_t FlowNetwork::on_event(const Event& e, Time now) {
  Flow& f = flows_[e.id];
  if (!f.live || e.version != f.version) return -1;
  f.live = false;
  detach(static_cast<int>(e.id));
  --active_count_;
  free_.push_back(static_cast<int>(e.id));
  collect(f.resources);  // the flows that shared a resource with it, and theirs
  if (!component_.empty()) rebalance(now);
  return f.tag;
}

}  // namespace ppsim::sim
