#pragma once
// What the engine needs to know about a network to run transfers as flows (flow_network.hpp):
// the resources with their capacities, the route of each pipeline transfer between two ranks,
// and the route a rank's own communication phases (all-to-all, all-reduce) take.
#include <map>
#include <utility>
#include <vector>

#include "sim/time.hpp"

namespace ppsim::sim {

struct NetworkSpec {
  std::vector<double> capacity;  // per resource, bytes/ns (GB/s)
  struct Route {
    std::vector<int> resources;
    Time latency = 0;  // added after the bytes
  };
  std::vector<Route> routes;
  std::map<std::pair<int, int>, int> p2p_route;  // (src rank, dst rank) -> route
  std::vector<int> comm_route;                   // per rank -> route of its scale-out phase communication
  std::vector<int> scale_up_route;               // per rank -> route of its NVLink phase communication (or none)
  std::vector<int> dp_route;                     // per rank -> route of its data-parallel sync
};

}  // namespace ppsim::sim
