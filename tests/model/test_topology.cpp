// The cluster as a graph: routes through NVSwitch, NICs, rail leaves and spines; placement
// rules; the network a scenario's pipeline sees; contention and oversubscription.
#include <doctest/doctest.h>

#include <algorithm>

#include "model/placement.hpp"
#include "model/study.hpp"
#include "model/topology.hpp"
#include "sim/flow_network.hpp"
#include "support.hpp"

using namespace ppsim;
using namespace ppsim::model;

namespace {
std::vector<Topology::Kind> hops(const Topology& t, const std::vector<int>& route) {
  std::vector<Topology::Kind> out;
  for (int id : route) out.push_back(t.kind(t.links()[id].to));
  return out;
}

// The plain search over the whole graph, as the routes are defined: breadth-first from a,
// links in the order added, stopping when b is reached.
std::vector<int> plain_route(const Topology& t, int gpu_a, int gpu_b) {
  std::vector<int> gpu_vertex;  // GPU vertices in GPU order
  std::vector<std::vector<int>> out;
  int vertices = 0;
  for (const auto& l : t.links()) vertices = std::max({vertices, l.from + 1, l.to + 1});
  out.resize(static_cast<std::size_t>(vertices));
  for (int id = 0; id < static_cast<int>(t.links().size()); ++id) out[t.links()[id].from].push_back(id);
  for (int v = 0; v < vertices; ++v)
    if (t.kind(v) == Topology::Kind::Gpu) gpu_vertex.push_back(v);
  const int a = gpu_vertex[gpu_a], b = gpu_vertex[gpu_b];
  std::vector<int> via(static_cast<std::size_t>(vertices), -1), frontier{a};
  via[a] = -2;
  for (std::size_t head = 0; head < frontier.size() && via[b] == -1; ++head)
    for (int id : out[frontier[head]]) {
      const int to = t.links()[id].to;
      if (via[to] != -1) continue;
      via[to] = id;
      frontier.push_back(to);
    }
  std::vector<int> path;
  for (int v = b; v != a; v = t.links()[via[v]].from) path.push_back(via[v]);
  std::reverse(path.begin(), path.end());
  return path;
}
}  // namespace

TEST_CASE("routes equal the plain search over the whole graph, for every pair or a sample") {
  struct Case {
    const char* cluster;
    int nodes_per_pod;
  };
  for (const Case c : {Case{"h800-2048", 32}, Case{"h800-2048", 4}, Case{"h100-1024", 8}, Case{"gb200-nvl72-2304", 2}, Case{"gb200-nvl72-2304", 32}}) {
    ClusterSpec spec = find_cluster(c.cluster);
    const Topology t(spec, FabricOptions{c.nodes_per_pod, 1.0});
    CAPTURE(c.cluster);
    CAPTURE(c.nodes_per_pod);
    const int n = t.gpus();
    // Every pair among the first 40 GPUs (same and next domains), then pairs spread over the cluster.
    for (int a = 0; a < std::min(n, 40); ++a)
      for (int b = 0; b < std::min(n, 40); ++b) REQUIRE(t.route(a, b) == plain_route(t, a, b));
    for (int k = 0; k < 400; ++k) {
      const int a = (k * 7919) % n, b = (k * 104729 + 13) % n;
      REQUIRE(t.route(a, b) == plain_route(t, a, b));
    }
  }
}

TEST_CASE("routes: NVLink inside a node, one rail leaf across nodes of a pod, spines across pods") {
  ClusterSpec c = find_cluster("h800-2048");  // 256 nodes x 8
  const Topology t(c, FabricOptions{32, 2.0});
  using K = Topology::Kind;
  CHECK(hops(t, t.route(0, 5)) == std::vector<K>{K::NvSwitch, K::Gpu});
  CHECK(hops(t, t.route(3, 8 + 3)) == std::vector<K>{K::Nic, K::Leaf, K::Nic, K::Gpu});  // same rail, next node
  const auto far = t.route(3, 8 * 40 + 3);  // node 40: another pod
  CHECK(hops(t, far) == std::vector<K>{K::Nic, K::Leaf, K::Spine, K::Leaf, K::Nic, K::Gpu});
  CHECK(t.latency_us(t.route(0, 5)) == doctest::Approx(2.0));
  CHECK(t.latency_us(far) == doctest::Approx(5.0));
  // Leaf uplinks: 32 nodes x 50 GB/s over 8 spines, oversubscribed 2:1.
  for (int id : far)
    if (t.links()[id].shared_uplink) CHECK(t.links()[id].gbps == doctest::Approx(32 * 50.0 / 8 / 2));
  CHECK(t.egress(11).size() == 2);
  CHECK(ppsim::test::error_of([&] { Topology(c, FabricOptions{32, 0.5}); }).find("oversubscription") !=
        std::string::npos);
}

TEST_CASE("placement: DeepSeek-V3's EP64 spans 8 nodes with DP inner, 64 with PP inner") {
  Scenario s = make_scenario("deepseek-v3");
  CHECK(gpu_of(s, 0, 0, 0) == 0);
  CHECK(gpu_of(s, 1, 0, 0) == 128);  // the next stage of replica 0: 16 nodes further, same rail
  CHECK(group_shape(s, Group::Ep).domains == 8);
  CHECK(group_shape(s, Group::Ep).per_domain == 8);
  Overrides o;
  o.placement = "pp-inner";
  Scenario p = make_scenario("deepseek-v3", o);
  CHECK(gpu_of(p, 1, 0, 0) == 1);  // consecutive stages share a node
  CHECK(group_shape(p, Group::Ep).domains == 64);
  CHECK(group_shape(p, Group::Ep).per_domain == 1);
  o.placement = "ring";
  CHECK(ppsim::test::error_of([&] { make_scenario("deepseek-v3", o); }).find("placement = 'ring'") != std::string::npos);
}

TEST_CASE("the network of a scenario: pipeline routes and each rank's communication route") {
  const Scenario s = make_scenario("deepseek-v3");
  const Topology t(s.cluster, s.fabric);
  const sim::NetworkSpec n = network_for(s, t, {{0, 1}, {1, 0}});
  REQUIRE(n.p2p_route.count({0, 1}));
  CHECK(n.routes[n.p2p_route.at({0, 1})].latency == 2500);  // node 0 -> node 16, same pod and rail: NIC-leaf-NIC
  REQUIRE(n.comm_route.size() == 16);
  const auto& comm = n.routes[n.comm_route[0]].resources;
  CHECK(comm.size() == 3);  // the 20 communication SMs, GPU -> NIC, NIC -> leaf (EP within a pod)
  CHECK(n.capacity[comm[0]] == doctest::Approx(20 * 3.2 * 0.8));
  // The NIC link of rank 0 is on both its pipeline route and its all-to-all route: they contend.
  const auto& p2p = n.routes[n.p2p_route.at({0, 1})].resources;
  CHECK(std::find(p2p.begin(), p2p.end(), comm[1]) != p2p.end());
}

TEST_CASE("a transfer across pods climbs its sender's leaf share and comes down its receiver's") {
  // DeepSeek-V3's ranks 1 and 2 sit on nodes 16 and 32: pods 0 and 1 (32 nodes a pod).
  const Scenario s = make_scenario("deepseek-v3");
  const Topology t(s.cluster, s.fabric);
  const sim::NetworkSpec n = network_for(s, t, {{1, 2}, {2, 1}, {0, 2}});
  const auto& there = n.routes[n.p2p_route.at({1, 2})].resources;
  const auto& back = n.routes[n.p2p_route.at({2, 1})].resources;
  const auto& other = n.routes[n.p2p_route.at({0, 2})].resources;
  REQUIRE(there.size() == 6);  // GPU -> NIC -> leaf -> (spine) -> leaf -> NIC -> GPU: up and down the spine as shares
  REQUIRE(other.size() == 6);
  CHECK(there[2] != other[2]);  // each sender climbs its own share
  CHECK(there[3] == other[3]);  // both come down rank 2's
  for (const auto* route : {&there, &back, &other})
    for (std::size_t i = 0; i < route->size(); ++i)
      CHECK(std::count(route->begin(), route->end(), (*route)[i]) == 1);  // each resource once
  // Alone, it moves at its narrowest resource's rate: the NIC's, not half of it.
  sim::EventQueue q;
  sim::FlowNetwork net(n.capacity, q);
  net.start(there, 1'000'000, 0, 7);
  const sim::Event e = q.pop();
  CHECK(net.on_event(e, e.time) == 7);
  double narrowest = n.capacity[static_cast<std::size_t>(there[0])];
  for (int r : there) narrowest = std::min(narrowest, n.capacity[static_cast<std::size_t>(r)]);
  CHECK(narrowest == doctest::Approx(s.cluster.inter_gbps * s.eff.network));
  CHECK(static_cast<double>(e.time) == doctest::Approx(1e6 / narrowest).epsilon(1e-6));
}

TEST_CASE("contention and oversubscription only ever slow a step") {
  StudyOptions fabric, simple;
  simple.network = false;
  const double free_channels = run_study(make_scenario("deepseek-v3"), simple).run.step_seconds;
  const double shared = run_study(make_scenario("deepseek-v3"), fabric).run.step_seconds;
  CHECK(shared >= free_channels * 0.999);
  Overrides pods;
  pods.nodes_per_pod = 4;  // EP64 (8 nodes) now crosses pods: the all-to-all meets the spines
  pods.oversubscription = 1;
  const double flat = run_study(make_scenario("deepseek-v3", pods)).run.step_seconds;
  pods.oversubscription = 4;
  const double oversubscribed = run_study(make_scenario("deepseek-v3", pods)).run.step_seconds;
  CHECK(oversubscribed > 1.5 * flat);
}
