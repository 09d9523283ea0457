#include "sim/flow_network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace ppsim::sim {

namespace {
constexpr std::int64_t kNsPerSecond = 1'000'000'000;
}  // namespace

FlowNetwork::FlowNetwork(const std::vector<double>& capacity, EventQueue& queue) : queue_(queue) {
  for (double c : capacity) {
    const double bytes_per_second = std::round(c * 1e9);
    if (!(bytes_per_second >= 1) || bytes_per_second > 9e18)
      throw std::invalid_argument("network: every resource needs a capacity in 1e-9..9e9 bytes/ns; got " + std::to_string(c));
    capacity_.push_back(static_cast<Wide>(static_cast<std::int64_t>(bytes_per_second)) * kRateScale);
  }
  on_.resize(capacity_.size());
  left_capacity_.resize(capacity_.size());
  unfrozen_count_.resize(capacity_.size());
  full_.resize(capacity_.size());
  stamp_.assign(capacity_.size(), 0);
}

// Removes the flow from its resources' lists in O(1) each: the last flow takes its place.
// Returns true when those resources carry nothing now (nothing to rebalance). A route crosses
// each resource once (start() checks), so the moved flow has one hop on it.
bool FlowNetwork::detach(int slot) {
  const Flow& f = flows_[slot];
  for (int h = 0; h < f.hops; ++h) {
    auto& list = on_[static_cast<std::size_t>(f.resource[h])];
    const int moved = list.back();
    list[static_cast<std::size_t>(f.at[h])] = moved;
    if (moved != slot) {
      Flow& m = flows_[moved];
      for (int j = 0; j < m.hops; ++j)
        if (m.resource[j] == f.resource[h]) {
          m.at[j] = f.at[h];
          break;
        }
    }
    list.pop_back();
  }
  for (int h = 0; h < f.hops; ++h)
    if (!on_[static_cast<std::size_t>(f.resource[h])].empty()) return false;
  return true;
}

void FlowNetwork::start(const int* resources, int count, std::int64_t bytes, Time now, std::int64_t tag) {
  if (count > kMaxHops)
    throw std::invalid_argument("network: a route crosses " + std::to_string(count) + " resources; allowed at most " +
                                std::to_string(kMaxHops));
  if (bytes < 0) throw std::invalid_argument("network: a flow of " + std::to_string(bytes) + " bytes; allowed >= 0");
  for (int h = 0; h < count; ++h) {  // before taking a slot: a refused route leaves nothing behind
    if (static_cast<unsigned>(resources[h]) >= capacity_.size())
      throw std::invalid_argument("network: a route names resource " + std::to_string(resources[h]) + ", which does not exist");
    for (int k = 0; k < h; ++k)  // a resource crossed twice would count the flow twice in its share
      if (resources[k] == resources[h])
        throw std::invalid_argument("network: a route crosses resource " + std::to_string(resources[h]) + " twice; each at most once");
  }
  int slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<int>(flows_.size());
    flows_.emplace_back().key = queue_.new_key();
    flow_stamp_.push_back(0);
  }
  Flow& f = flows_[slot];
  f.hops = count;
  for (int h = 0; h < count; ++h) f.resource[h] = resources[h];
  f.left = static_cast<Wide>(bytes) * kNsPerSecond * kRateScale;
  f.rate = 0;
  f.updated = now;
  f.tag = tag;
  f.live = true;
  ++active_count_;
  component_.clear();
  if (count == 0) {  // crosses nothing: done at once
    queue_.schedule(f.key, now, EventKind::FlowDone, static_cast<std::uint32_t>(slot));
    return;
  }
  // Attach it, seeing on the way whether its resources carry anything else. The common case:
  // they do not, and its rate is their smallest capacity -- no search, no filling.
  bool alone = true;
  Wide rate = capacity_[static_cast<std::size_t>(f.resource[0])];
  for (int h = 0; h < count; ++h) {
    const auto r = static_cast<std::size_t>(f.resource[h]);
    auto& list = on_[r];
    alone = alone && list.empty();
    f.at[h] = static_cast<int>(list.size());
    list.push_back(slot);
    rate = std::min(rate, capacity_[r]);
  }
  if (alone) {
    component_.push_back(slot);
    f.rate = rate;
    schedule_end(f, slot, now);
    return;
  }
  if (share_one_route(f, now, slot)) return;
  collect(f);
  rebalance(now, slot);
}

void FlowNetwork::collect(const Flow& from) {
  component_.clear();
  ++epoch_;
  stack_.clear();
  for (int h = 0; h < from.hops; ++h) {
    const auto r = static_cast<std::size_t>(from.resource[h]);
    if (stamp_[r] != epoch_) stamp_[r] = epoch_, stack_.push_back(from.resource[h]);
  }
  while (!stack_.empty()) {
    const int r = stack_.back();
    stack_.pop_back();
    for (int slot : on_[static_cast<std::size_t>(r)]) {
      if (flow_stamp_[static_cast<std::size_t>(slot)] == epoch_) continue;
      flow_stamp_[static_cast<std::size_t>(slot)] = epoch_;
      component_.push_back(slot);
      const Flow& f = flows_[slot];
      for (int h = 0; h < f.hops; ++h) {
        const auto q = static_cast<std::size_t>(f.resource[h]);
        if (stamp_[q] != epoch_) stamp_[q] = epoch_, stack_.push_back(f.resource[h]);
      }
    }
  }
}

// The common shared case: every flow on f's resources takes f's route and nothing else crosses
// them (the two halves of an F&B pair on one channel). Max-min is then an equal split of the
// smallest capacity, which progressive filling reaches in one round: the same rates, set in
// the same order as rebalance() would (collect() visits the last resource's list first), with
// no search and no filling. Returns false, changing nothing, when the case does not apply.
bool FlowNetwork::share_one_route(const Flow& f, Time now, int fresh) {
  const auto& list = on_[static_cast<std::size_t>(f.resource[f.hops - 1])];
  const std::size_t n = list.size();
  Wide smallest = capacity_[static_cast<std::size_t>(f.resource[0])];
  for (int h = 0; h < f.hops; ++h) {
    const auto r = static_cast<std::size_t>(f.resource[h]);
    if (on_[r].size() != n) return false;
    smallest = std::min(smallest, capacity_[r]);
  }
  if (n == 0) return false;  // idle (on_event returns before): nothing to share
  for (int slot : list) {
    const Flow& g = flows_[slot];
    if (g.hops != f.hops) return false;
    for (int h = 0; h < f.hops; ++h)
      if (g.resource[h] != f.resource[h]) return false;
  }
  Wide rate = divide(smallest, static_cast<Wide>(n));
  if (rate <= 0) rate = 1;  // as rebalance(): crawl, never stall
  component_.assign(list.begin(), list.end());
  for (int slot : component_) {
    Flow& g = flows_[slot];
    progress(g, now);
    const bool changed = g.rate != rate;
    g.rate = rate;
    if (slot == fresh || changed) schedule_end(g, slot, now);
  }
  return true;
}

// Max-min fairness by progressive filling over the component: raise every unfrozen flow's
// rate together until a resource cannot give each of its unfrozen flows one more unit; freeze
// the flows through it; repeat. Integer steps: the order flows are visited in cannot matter.
void FlowNetwork::rebalance(Time now, int fresh) {
  if (component_.size() == 1) {  // alone on its resources: the smallest capacity
    const int slot = component_.front();
    Flow& f = flows_[slot];
    progress(f, now);
    Wide rate = capacity_[static_cast<std::size_t>(f.resource[0])];
    for (int h = 1; h < f.hops; ++h) rate = std::min(rate, capacity_[static_cast<std::size_t>(f.resource[h])]);
    const bool changed = rate != f.rate;
    f.rate = rate;
    if (slot == fresh || changed) schedule_end(f, slot, now);
    return;
  }
  ++epoch_;
  touched_.clear();
  old_rate_.resize(component_.size());
  frozen_.assign(component_.size(), 0);
  for (std::size_t k = 0; k < component_.size(); ++k) {
    Flow& f = flows_[component_[k]];
    progress(f, now);
    old_rate_[k] = f.rate;
    f.rate = 0;
    for (int h = 0; h < f.hops; ++h) {
      const auto r = static_cast<std::size_t>(f.resource[h]);
      if (stamp_[r] == epoch_) continue;
      stamp_[r] = epoch_;
      touched_.push_back(f.resource[h]);
      left_capacity_[r] = capacity_[r];
      unfrozen_count_[r] = static_cast<int>(on_[r].size());  // the component holds every flow on it
    }
  }
  std::size_t remaining = component_.size();
  while (remaining > 0) {
    Wide step = -1;
    for (int r : touched_)
      if (const int n = unfrozen_count_[static_cast<std::size_t>(r)]; n > 0) {
        const Wide share = divide(left_capacity_[static_cast<std::size_t>(r)], n);
        if (step < 0 || share < step) step = share;
      }
    for (std::size_t k = 0; k < component_.size(); ++k)
      if (!frozen_[k]) flows_[component_[k]].rate += step;
    for (int r : touched_) {
      const auto i = static_cast<std::size_t>(r);
      if (unfrozen_count_[i] == 0) continue;
      left_capacity_[i] -= step * unfrozen_count_[i];
      full_[i] = left_capacity_[i] < unfrozen_count_[i];
    }
    for (std::size_t k = 0; k < component_.size(); ++k) {
      if (frozen_[k]) continue;
      const Flow& f = flows_[component_[k]];
      for (int h = 0; h < f.hops; ++h)
        if (full_[static_cast<std::size_t>(f.resource[h])]) {
          frozen_[k] = 2;  // frozen in this round: its resources' counts drop below
          --remaining;
          break;
        }
    }
    for (std::size_t k = 0; k < component_.size(); ++k) {
      if (frozen_[k] != 2) continue;
      frozen_[k] = 1;
      const Flow& f = flows_[component_[k]];
      for (int h = 0; h < f.hops; ++h) --unfrozen_count_[static_cast<std::size_t>(f.resource[h])];
    }
  }
  for (std::size_t k = 0; k < component_.size(); ++k) {
    const int slot = component_[k];
    Flow& f = flows_[slot];
    if (f.rate <= 0) f.rate = 1;  // more flows on a resource than units of its capacity: crawl, never stall
    if (slot == fresh || f.rate != old_rate_[k]) schedule_end(f, slot, now);
  }
}

// Brings `left` up to `now` at the flow's rate. The product never overflows: the flow's
// completion event is at most one ns of rate past the point where `left` reaches 0.
void FlowNetwork::progress(Flow& f, Time now) {
  const Wide moved = static_cast<Wide>(now - f.updated) * f.rate;
  f.left = moved >= f.left ? 0 : f.left - moved;
  f.updated = now;
}

void FlowNetwork::schedule_end(Flow& f, int slot, Time now) {
  const Wide dt = divide_up(f.left, f.rate);
  if (dt > static_cast<Wide>(std::numeric_limits<Time>::max() / 2 - now))
    throw std::invalid_argument("network: a flow would take longer than 146 years of simulated time (bytes too many for the "
                                "capacities given)");
  queue_.schedule(f.key, now + static_cast<Time>(dt), EventKind::FlowDone, static_cast<std::uint32_t>(slot));
}

std::int64_t FlowNetwork::on_event(const Event& e, Time now) {
  Flow& f = flows_[e.id];
  if (!f.live) throw std::logic_error("network: a completion event for a flow that is not running");
  const std::int64_t tag = f.tag;
  f.live = false;
  const bool idle = detach(static_cast<int>(e.id));
  --active_count_;
  free_.push_back(static_cast<int>(e.id));
  if (idle) {
    component_.clear();
    return tag;
  }
  if (share_one_route(f, now, -1)) return tag;
  collect(f);  // the flows that shared a resource with it, and theirs
  rebalance(now, -1);
  return tag;
}

}  // namespace ppsim::sim
