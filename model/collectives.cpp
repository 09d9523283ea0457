#include "model/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ppsim::model {

const char* to_string(Collective c) {
  switch (c) {
    case Collective::AllReduce: return "all-reduce";
    case Collective::ReduceScatter: return "reduce-scatter";
    case Collective::AllGather: return "all-gather";
    case Collective::AllToAll: return "all-to-all";
  }
  return "collective";
}

double bus_factor(Collective c, int n) {
  if (n <= 1) return 0;
  const double share = static_cast<double>(n - 1) / n;
  return c == Collective::AllReduce ? 2 * share : share;
}

namespace {

// Ring steps (each pays one hop's latency): all-reduce 2(n-1), the halves n-1; all-to-all one
// round of concurrent sends.
double ring_steps(Collective c, int n) {
  if (c == Collective::AllToAll) return 1;
  return c == Collective::AllReduce ? 2.0 * (n - 1) : n - 1.0;
}

double per_second(double bytes, double gbps) { return bytes > 0 ? bytes / (gbps * 1e9) : 0; }

}  // namespace

CollectiveCost collective_cost(Collective c, double bytes, const GroupShape& g, const LinkRates& l) {
  CollectiveCost none;
  none.algorithm = "none";
  if (g.size <= 1 || bytes <= 0) return none;
  const double f = bus_factor(c, g.size);
  const double nvl_lat = l.nvlink_latency_us * 1e-6, nic_lat = l.nic_latency_us * 1e-6;
  std::vector<CollectiveCost> options;
  auto add = [&](const char* name, double nvl, double nic, double link_seconds, double latency) {
    options.push_back({name, nvl, nic, link_seconds + latency, latency});
  };
  const int n = g.size, m = std::max(1, g.per_domain), k = std::max(1, g.domains);
  if (c == Collective::AllToAll) {
    // Each GPU sends bytes x (n-1)/n to its peers: those in other domains over the NIC.
    const double nic = k > 1 ? bytes * (n - m) / n : 0, nvl = bytes * (m - 1) / n;
    add("pairwise", nvl, nic, std::max(per_second(nvl, l.nvlink_gbps), per_second(nic, l.nic_gbps)),
        k > 1 ? nic_lat : nvl_lat);
  } else if (k == 1) {
    const double nvl = f * bytes;
    add("ring", nvl, 0, per_second(nvl, l.nvlink_gbps), ring_steps(c, n) * nvl_lat);
  } else {
    const double nic = f * bytes / m, nvl = f * bytes * (m - 1) / m;
    add("ring", nvl, nic, std::max(per_second(nvl, l.nvlink_gbps), per_second(nic, l.nic_gbps)),
        ring_steps(c, n) * (m > 1 ? (nvl_lat * (m - 1) + nic_lat) / m : nic_lat));
    if (c == Collective::AllReduce) {
      const double tree_nic = 2 * bytes / m, tree_nvl = m > 1 ? 2 * bytes : 0;
      add("tree", tree_nvl, tree_nic, std::max(per_second(tree_nvl, l.nvlink_gbps), per_second(tree_nic, l.nic_gbps)),
          2 * std::ceil(std::log2(k)) * nic_lat + 2.0 * (m - 1) * nvl_lat);
    }
    if (m > 1) {
      // Inside the domain on NVLink (all-reduce: reduce-scatter there, all-gather after), then
      // the same collective across domains on each GPU's 1/m share, over the NIC.
      const double intra = (c == Collective::AllReduce ? 2.0 : 1.0) * (m - 1.0) / m * bytes;
      const double inter = bus_factor(c, k) * bytes / m;
      add("hierarchical", intra, inter, per_second(intra, l.nvlink_gbps) + per_second(inter, l.nic_gbps),
          ring_steps(c, m) * nvl_lat + ring_steps(c, k) * nic_lat);
    }
  }
  return *std::min_element(options.begin(), options.end(),
                           [](const CollectiveCost& a, const CollectiveCost& b) { return a.seconds < b.seconds; });
}

}  // namespace ppsim::model
