#include "model/topology.hpp"

#include <algorithm>
#include <stdexcept>

namespace ppsim::model {

int Topology::add_vertex(Kind k) {
  kinds_.push_back(k);
  return static_cast<int>(kinds_.size()) - 1;
}

void Topology::add_link(int a, int b, double gbps, double latency_us, bool shared_uplink) {
  for (auto [from, to] : {std::pair{a, b}, {b, a}}) {
    links_.push_back({from, to, gbps, latency_us, shared_uplink});
  }
}

Topology::Topology(const ClusterSpec& c, const FabricOptions& o)
    : gpus_(c.gpus()), gpus_per_node_(c.gpus_per_node), domain_(c.domain()), options_(o) {
  if (o.nodes_per_pod < 1) throw std::invalid_argument("fabric: nodes per pod must be at least 1");
  if (!(o.oversubscription >= 1) || o.oversubscription > 64)
    throw std::invalid_argument("fabric: oversubscription = " + std::to_string(o.oversubscription) + ": allowed 1..64");
  const int pods = (c.nodes + o.nodes_per_pod - 1) / o.nodes_per_pod;
  const int rails = c.gpus_per_node;
  const int spines = rails;  // one spine plane per rail
  std::vector<int> switches((gpus_ + domain_ - 1) / domain_), leaves(static_cast<std::size_t>(pods) * rails), spine(spines);
  const std::size_t vertices = switches.size() + leaves.size() + spine.size() + 2 * static_cast<std::size_t>(gpus_);
  kinds_.reserve(vertices);
  gpu_at_.reserve(vertices);
  gpu_vertex_.reserve(static_cast<std::size_t>(gpus_));
  nic_vertex_.reserve(static_cast<std::size_t>(gpus_));
  links_.reserve(2 * (3 * static_cast<std::size_t>(gpus_) + leaves.size() * spine.size()));
  for (int& v : switches) v = add_vertex(Kind::NvSwitch);
  for (int& v : leaves) v = add_vertex(Kind::Leaf);
  for (int& v : spine) v = add_vertex(Kind::Spine);
  const double hop = c.inter_latency_us / 4;  // NIC-leaf, leaf-spine, spine-leaf, leaf-NIC
  for (int g = 0; g < gpus_; ++g) {
    gpu_vertex_.push_back(add_vertex(Kind::Gpu));
    nic_vertex_.push_back(add_vertex(Kind::Nic));
    gpu_at_.resize(kinds_.size(), -1);
    gpu_at_[gpu_vertex_[g]] = gpu_at_[nic_vertex_[g]] = g;
    add_link(gpu_vertex_[g], switches[g / domain_], c.intra_gbps, c.intra_latency_us / 2);
    add_link(gpu_vertex_[g], nic_vertex_[g], c.inter_gbps, 0);
    add_link(nic_vertex_[g], leaves[static_cast<std::size_t>(pod_of(g)) * rails + g % rails], c.inter_gbps, hop);
  }
  leaf_pod_.assign(kinds_.size(), -1);
  for (std::size_t l = 0; l < leaves.size(); ++l) leaf_pod_[static_cast<std::size_t>(leaves[l])] = static_cast<int>(l) / rails;
  // Each leaf's uplinks carry at most (its nodes x NIC bandwidth) / oversubscription, spread over the spines.
  const double uplink = o.nodes_per_pod * c.inter_gbps / (spines * o.oversubscription);
  for (int l : leaves)
    for (int s : spine) add_link(l, s, uplink, hop, true);
  index_links();
}

// Each vertex's outgoing links, in the order they were added, as one array (a counting sort by
// source): thousands of vertices, no allocation per vertex.
void Topology::index_links() {
  out_begin_.assign(kinds_.size() + 1, 0);
  for (const Link& l : links_) ++out_begin_[static_cast<std::size_t>(l.from) + 1];
  for (std::size_t v = 0; v < kinds_.size(); ++v) out_begin_[v + 1] += out_begin_[v];
  out_links_.resize(links_.size());
  std::vector<int> next(out_begin_.begin(), out_begin_.end() - 1);
  for (int id = 0; id < static_cast<int>(links_.size()); ++id)
    out_links_[static_cast<std::size_t>(next[static_cast<std::size_t>(links_[id].from)]++)] = id;
}

std::vector<int> Topology::route(int a, int b) const {
  if (a < 0 || a >= gpus_ || b < 0 || b >= gpus_) throw std::invalid_argument("topology: no GPU " + std::to_string(a < 0 || a >= gpus_ ? a : b));
  if (a == b) return {};
  // Breadth-first from a over the links in the order they were added, stopping when b is
  // reached: the first path found is the shortest, ties going to the earliest links.
  //
  // It skips the GPUs and NICs outside a's and b's NVLink domains: no shortest path crosses
  // them (going down a NIC and up again is four hops more than a leaf's spine), so the path
  // found is the same as over the whole graph (test_topology checks every pair against a
  // plain search), and a route across pods visits a few hundred vertices, not every NIC. Nor
  // the leaves of other pods: every pair is at most six hops apart (NIC, leaf, spine, leaf,
  // NIC), and a path through a third pod's leaf takes at least four hops to reach it and four
  // to leave, so no shortest path, nor the first one found, goes through one.
  const int da = domain_of(a), db = domain_of(b), pa = pod_of(a), pb = pod_of(b);
  std::vector<int> via(kinds_.size(), -1);  // the link that first reached each vertex
  std::vector<int> frontier{gpu_vertex_[a]};
  via[gpu_vertex_[a]] = -2;
  for (std::size_t head = 0; head < frontier.size() && via[gpu_vertex_[b]] == -1; ++head)
    for (int id : out(frontier[head])) {
      const int to = links_[id].to;
      if (via[to] != -1) continue;
      if (const int g = gpu_at_[to]; g >= 0 && domain_of(g) != da && domain_of(g) != db) continue;
      if (const int p = leaf_pod_[to]; p >= 0 && p != pa && p != pb) continue;
      via[to] = id;
      frontier.push_back(to);
      if (to == gpu_vertex_[b]) break;
    }
  std::vector<int> path;
  for (int v = gpu_vertex_[b]; v != gpu_vertex_[a];) {
    const int id = via[v];
    if (id < 0) throw std::logic_error("topology: GPU " + std::to_string(b) + " unreachable");
    path.push_back(id);
    v = links_[id].from;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<int> Topology::egress(int g) const {
  std::vector<int> links;
  for (int id : out(gpu_vertex_[g]))
    if (links_[id].to == nic_vertex_[g]) links.push_back(id);
  for (int id : out(nic_vertex_[g]))
    if (kinds_[links_[id].to] == Kind::Leaf) links.push_back(id);
  return links;
}

int Topology::scale_up(int g) const {
  for (int id : out(gpu_vertex_[g]))
    if (kinds_[links_[id].to] == Kind::NvSwitch) return id;
  throw std::logic_error("topology: GPU " + std::to_string(g) + " has no NVLink switch");
}

double Topology::latency_us(const std::vector<int>& route) const {
  double l = 0;
  for (int id : route) l += links_[id].latency_us;
  return l;
}

}  // namespace ppsim::model
