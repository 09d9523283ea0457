#include "model/placement.hpp"

#include <cmath>
#include <set>

namespace ppsim::model {

int gpu_of(const Scenario& s, int p, int d, int t, int c) {
  const Plan& pl = s.plan;
  const long long block = pl.placement == "pp-inner" ? static_cast<long long>(d) * pl.pp + p : static_cast<long long>(p) * pl.dp + d;
  return static_cast<int>((block * pl.cp + c) * pl.tp + t);
}

int gpu_in_stage(const Scenario& s, int p, long long local) {
  const Plan& pl = s.plan;
  const long long tp_cp = static_cast<long long>(pl.tp) * pl.cp;
  const int d = static_cast<int>(local / tp_cp), c = static_cast<int>(local % tp_cp / pl.tp), t = static_cast<int>(local % pl.tp);
  return gpu_of(s, p, d, t, c);
}

const char* to_string(Group g) {
  switch (g) {
    case Group::Tp: return "tp";
    case Group::Cp: return "cp";
    case Group::Dp: return "dp";
    case Group::DpCp: return "dp-cp";
    case Group::Ep: return "ep";
    case Group::Etp: return "etp";
    case Group::ExpertDp: return "expert-dp";
  }
  return "group";
}

namespace {

// A group kind as members local = outer x (stride x count) + i x stride + inner, i < count.
struct Pattern {
  long long count = 1, stride = 1;
};

Pattern pattern_of(const Scenario& s, Group g) {
  const Plan& p = s.plan;
  const long long stage = static_cast<long long>(p.tp) * p.cp * p.dp;
  long long count = 1, stride = 1;
  switch (g) {
    case Group::Tp: count = p.tp; break;
    case Group::Cp: count = p.cp, stride = p.tp; break;
    case Group::Dp: count = p.dp, stride = static_cast<long long>(p.tp) * p.cp; break;
    case Group::DpCp: count = static_cast<long long>(p.dp) * p.cp, stride = p.tp; break;
    case Group::Ep: count = p.ep, stride = p.etp; break;
    case Group::Etp: count = p.etp; break;
    case Group::ExpertDp:
      stride = static_cast<long long>(p.etp) * p.ep;
      count = stride > 0 ? stage / stride : 1;
      break;
  }
  return {std::max<long long>(1, count), std::max<long long>(1, stride)};
}

}  // namespace

std::vector<int> group_gpus(const Scenario& s, Group g) {
  const auto [count, stride] = pattern_of(s, g);
  std::vector<int> out;
  out.reserve(static_cast<std::size_t>(count));
  for (long long i = 0; i < count; ++i) out.push_back(gpu_in_stage(s, 0, i * stride));
  return out;
}

GroupShape group_shape(const Scenario& s, Group g) {
  // Every group of the kind, in every stage: the step waits for the one spread worst.
  const auto [count, stride] = pattern_of(s, g);
  const long long stage = static_cast<long long>(s.plan.tp) * s.plan.cp * s.plan.dp;
  const int domain = s.cluster.domain();
  GroupShape worst{static_cast<int>(count), static_cast<int>(count), 1};
  for (int p = 0; p < s.plan.pp; ++p)
    for (long long outer = 0; outer < stage / (stride * count); ++outer)
      for (long long inner = 0; inner < stride; ++inner) {
        // Members go up in GPU id, so each domain's members are one run.
        int domains = 0, run = 0, fewest = static_cast<int>(count), last = -1;
        for (long long i = 0; i < count; ++i) {
          const int d = gpu_in_stage(s, p, outer * stride * count + i * stride + inner) / domain;
          if (d != last) {
            if (run > 0) fewest = std::min(fewest, run);
            ++domains, run = 0, last = d;
          }
          ++run;
        }
        fewest = std::min(fewest, run);
        worst.domains = std::max(worst.domains, domains);
        worst.per_domain = std::min(worst.per_domain, fewest);
      }
  return worst;
}

LinkRates link_rates(const Scenario& s) {
  return {s.cluster.intra_gbps * s.eff.network, s.cluster.inter_gbps * s.eff.network, s.cluster.intra_latency_us,
          s.cluster.inter_latency_us};
}

int ep_pods(const Scenario& s, const FabricOptions& fabric) {
  std::set<int> pods;
  for (int gpu : group_gpus(s, Group::Ep)) pods.insert(gpu / s.cluster.gpus_per_node / fabric.nodes_per_pod);
  return std::max<int>(1, static_cast<int>(pods.size()));
}

sim::NetworkSpec network_for(const Scenario& s, const Topology& topo, const std::vector<std::pair<int, int>>& pairs) {
  sim::NetworkSpec net;
  const double eff = s.eff.network;
  const auto& links = topo.links();
  const int ranks = s.plan.pp;
  // Only the links some route crosses become resources (a 2,048-GPU cluster has over 12,000
  // links, a step's routes cross about a hundred): the engine's per-resource state stays small.
  std::vector<int> resource_of_link(links.size(), -1);
  auto add_resource = [&](double gbps) {
    net.capacity.push_back(gbps * eff);  // GB/s = bytes/ns
    return static_cast<int>(net.capacity.size()) - 1;
  };
  auto link_resource = [&](int id) {
    int& r = resource_of_link[static_cast<std::size_t>(id)];
    if (r < 0) r = add_resource(links[static_cast<std::size_t>(id)].gbps);
    return r;
  };
  // Per rank: its share of the shared leaf-spine links, each direction (up from its leaf, down
  // into it), and its communication SMs.
  std::vector<int> uplink_share(ranks), downlink_share(ranks), sm_cap(ranks, -1);
  for (int r = 0; r < ranks; ++r) {
    uplink_share[r] = add_resource(s.cluster.inter_gbps / topo.options().oversubscription);
    downlink_share[r] = add_resource(s.cluster.inter_gbps / topo.options().oversubscription);
    if (s.plan.comm_sms > 0) sm_cap[r] = add_resource(s.plan.comm_sms * s.eff.comm_gbps_per_sm);
  }
  // A transfer from rank a to rank b across pods climbs a's leaf (a's uplink share) and comes
  // down b's (b's downlink share); the other links are their own resources. Only pipeline
  // transfers use a downlink share: the communication routes below model the sending side.
  auto resources_of = [&](const std::vector<int>& route, int a, int b) {
    std::vector<int> out;
    for (int id : route) {
      const Topology::Link& link = links[static_cast<std::size_t>(id)];
      if (!link.shared_uplink) out.push_back(link_resource(id));
      else out.push_back(topo.kind(link.from) == Topology::Kind::Leaf ? uplink_share[a] : downlink_share[b]);
    }
    return out;
  };
  // Pipeline transfers between the rank pairs the schedule uses.
  for (auto [a, b] : pairs) {
    if (a == b || net.p2p_route.count({a, b})) continue;
    const std::vector<int> route = topo.route(gpu_of(s, a, 0, 0), gpu_of(s, b, 0, 0));
    net.p2p_route[{a, b}] = static_cast<int>(net.routes.size());
    net.routes.push_back({resources_of(route, a, b), static_cast<sim::Time>(std::llround(topo.latency_us(route) * 1000))});
  }
  const bool across_pods = ep_pods(s, topo.options()) > 1;
  for (int r = 0; r < ranks; ++r) {
    sim::NetworkSpec::Route route;
    if (sm_cap[r] >= 0) route.resources.push_back(sm_cap[r]);
    for (int id : topo.egress(gpu_of(s, r, 0, 0))) route.resources.push_back(link_resource(id));
    if (across_pods) route.resources.push_back(uplink_share[r]);
    net.comm_route.push_back(static_cast<int>(net.routes.size()));
    net.routes.push_back(std::move(route));
    // The gradient sync runs over the whole data-parallel group: the NIC and the uplink share.
    sim::NetworkSpec::Route dp;
    for (int id : topo.egress(gpu_of(s, r, 0, 0))) dp.resources.push_back(link_resource(id));
    dp.resources.push_back(uplink_share[r]);
    net.dp_route.push_back(static_cast<int>(net.routes.size()));
    net.routes.push_back(std::move(dp));
    // NVLink collectives (TP, SP, CP and EP inside the domain) leave by the GPU's NVSwitch link.
    net.scale_up_route.push_back(static_cast<int>(net.routes.size()));
    net.routes.push_back({{link_resource(topo.scale_up(gpu_of(s, r, 0, 0)))}, 0});
  }
  return net;
}

}  // namespace ppsim::model
