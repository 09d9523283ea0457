#include "model/placement.hpp"

#include <cmath>
#include <set>

namespace ppsim::model {

int gpu_of(const Scenario& s, int p, int d, int t) {
  const Plan& pl = s.plan;
  return pl.placement == "pp-inner" ? (d * pl.pp + p) * pl.tp + t : (p * pl.dp + d) * pl.tp + t;
}

int ep_nodes(const Scenario& s) {
  if (s.cluster.gpus_per_node < 1) return 1;
  std::set<int> nodes;
  for (int d = 0; d < s.plan.ep && d < s.plan.dp; ++d) nodes.insert(gpu_of(s, 0, d, 0) / s.cluster.gpus_per_node);
  return std::max<int>(1, static_cast<int>(nodes.size()));
}

int ep_pods(const Scenario& s, const FabricOptions& fabric) {
  std::set<int> pods;
  for (int d = 0; d < s.plan.ep && d < s.plan.dp; ++d)
    pods.insert(gpu_of(s, 0, d, 0) / s.cluster.gpus_per_node / fabric.nodes_per_pod);
  return std::max<int>(1, static_cast<int>(pods.size()));
}

sim::NetworkSpec network_for(const Scenario& s, const Topology& topo, const std::vector<std::pair<int, int>>& pairs) {
  sim::NetworkSpec net;
  const double eff = s.eff.network;
  const auto& links = topo.links();
  for (const auto& l : links) net.capacity.push_back(l.gbps * eff);  // GB/s = bytes/ns
  const int ranks = s.plan.pp;
  // Per rank: its share of the shared leaf uplinks, and its communication SMs.
  std::vector<int> uplink_share(ranks), sm_cap(ranks, -1);
  for (int r = 0; r < ranks; ++r) {
    uplink_share[r] = static_cast<int>(net.capacity.size());
    net.capacity.push_back(s.cluster.inter_gbps / topo.options().oversubscription * eff);
    if (s.plan.comm_sms > 0) {
      sm_cap[r] = static_cast<int>(net.capacity.size());
      net.capacity.push_back(s.plan.comm_sms * s.eff.comm_gbps_per_sm * eff);
    }
  }
  auto resources_of = [&](const std::vector<int>& route, int rank) {
    std::vector<int> out;
    for (int id : route) out.push_back(links[id].shared_uplink ? uplink_share[rank] : id);
    return out;
  };
  // Pipeline transfers between the rank pairs the schedule uses.
  for (auto [a, b] : pairs) {
    if (a == b || net.p2p_route.count({a, b})) continue;
    const std::vector<int> route = topo.route(gpu_of(s, a, 0, 0), gpu_of(s, b, 0, 0));
    net.p2p_route[{a, b}] = static_cast<int>(net.routes.size());
    net.routes.push_back({resources_of(route, a), static_cast<sim::Time>(std::llround(topo.latency_us(route) * 1000))});
  }
  const bool across_pods = ep_pods(s, topo.options()) > 1;
  for (int r = 0; r < ranks; ++r) {
    sim::NetworkSpec::Route route;
    if (sm_cap[r] >= 0) route.resources.push_back(sm_cap[r]);
    for (int id : topo.egress(gpu_of(s, r, 0, 0))) route.resources.push_back(id);
    if (across_pods) route.resources.push_back(uplink_share[r]);
    net.comm_route.push_back(static_cast<int>(net.routes.size()));
    net.routes.push_back(std::move(route));
    // The gradient sync runs over the whole data-parallel group: the NIC and the uplink share.
    sim::NetworkSpec::Route dp;
    for (int id : topo.egress(gpu_of(s, r, 0, 0))) dp.resources.push_back(id);
    dp.resources.push_back(uplink_share[r]);
    net.dp_route.push_back(static_cast<int>(net.routes.size()));
    net.routes.push_back(std::move(dp));
  }
  return net;
}

}  // namespace ppsim::model
