#pragma once
// The cluster as a graph: GPUs; each NVLink/NVSwitch domain (a node, or a rack
// of nodes for NVL72 systems: ClusterSpec::nvlink_domain); one NIC per
// GPU; a rail-optimized fat tree of leaf switches (one per rail per pod: GPU i of every node
// in a pod hangs off leaf i) and spine switches above them, with the leaf uplinks
// oversubscribed by a parameter. Every link is directed, with a bandwidth and a latency.
// Routes are shortest paths (fewest hops, ties broken by the order links were added).
#include <span>
#include <string>
#include <vector>

#include "model/catalog.hpp"

namespace ppsim::model {

struct FabricOptions {
  int nodes_per_pod = 32;        // nodes under one set of rail leaves
  double oversubscription = 1;   // leaf downlink over uplink capacity (1: non-blocking)
};

class Topology {
 public:
  enum class Kind { Gpu, NvSwitch, Nic, Leaf, Spine };
  struct Link {
    int from, to;            // vertex ids
    double gbps;             // GB/s, this direction
    double latency_us;
    bool shared_uplink;      // leaf <-> spine: shared by every replica behind the leaf
  };

  Topology(const ClusterSpec& cluster, const FabricOptions& options);

  int gpus() const { return gpus_; }
  int node_of(int gpu) const { return gpu / gpus_per_node_; }
  int pod_of(int gpu) const { return node_of(gpu) / options_.nodes_per_pod; }
  int domain_of(int gpu) const { return gpu / domain_; }
  Kind kind(int vertex) const { return kinds_[vertex]; }
  const std::vector<Link>& links() const { return links_; }
  // Link ids from GPU a to GPU b (empty when a == b).
  std::vector<int> route(int gpu_a, int gpu_b) const;
  // The links a GPU's traffic to other nodes leaves by: GPU -> NIC -> leaf.
  std::vector<int> egress(int gpu) const;
  // The link a GPU's scale-up (NVLink) traffic leaves by: GPU -> NVSwitch.
  int scale_up(int gpu) const;
  double latency_us(const std::vector<int>& route) const;
  const FabricOptions& options() const { return options_; }

 private:
  int add_vertex(Kind k);
  void add_link(int a, int b, double gbps, double latency_us, bool shared_uplink = false);
  void index_links();
  // A vertex's outgoing link ids, in insertion order.
  std::span<const int> out(int vertex) const {
    const auto v = static_cast<std::size_t>(vertex);
    return {out_links_.data() + out_begin_[v], out_links_.data() + out_begin_[v + 1]};
  }

  int gpus_ = 0, gpus_per_node_ = 0, domain_ = 0;
  FabricOptions options_;
  std::vector<Kind> kinds_;
  std::vector<Link> links_;
  std::vector<int> out_begin_, out_links_;  // vertex v's outgoing link ids: out_links_[out_begin_[v] .. out_begin_[v + 1])
  std::vector<int> gpu_vertex_, nic_vertex_;
  std::vector<int> gpu_at_;    // vertex -> the GPU it is or whose NIC it is (-1: a switch)
  std::vector<int> leaf_pod_;  // vertex -> the pod of the leaf it is (-1: not a leaf)
};

}  // namespace ppsim::model
