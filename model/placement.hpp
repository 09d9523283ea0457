#pragma once
// Where the ranks run, and the network the engine sees for one pipeline replica.
//
// Placement of (pipeline rank p, data-parallel rank d, tensor-parallel rank t):
//   dp-inner (default; DeepSeek-V3's layout): gpu = (p x DP + d) x TP + t. A node holds
//     consecutive DP replicas of one stage, so an expert-parallel group (EP consecutive DP
//     ranks of a stage) spans EP x TP / GPUs-per-node nodes, and pipeline neighbours sit on
//     the same rail of different nodes.
//   pp-inner: gpu = (d x PP + p) x TP + t. Consecutive stages share a node (pipeline
//     transfers over NVLink); expert-parallel groups spread over many nodes.
//
// The simulated replica is DP rank 0; every replica does the same at the same time, so a
// link that all of a leaf's GPUs share (leaf <-> spine) gives each GPU its share: its
// NIC bandwidth / oversubscription. A rank's communication phases cross its communication
// SMs (comm SMs x GB/s per SM), its GPU -> NIC and NIC -> leaf links, and, when its EP group
// spans pods, its uplink share -- the same NIC the pipeline transfers use.
#include "model/scenario.hpp"
#include "model/topology.hpp"
#include "sim/network.hpp"

namespace ppsim::model {

int gpu_of(const Scenario& s, int pp_rank, int dp_rank, int tp_rank);
// Distinct nodes (and pods) the expert-parallel group of stage 0 spans.
int ep_nodes(const Scenario& s);
int ep_pods(const Scenario& s, const FabricOptions& fabric);

// The network for the rank pairs that exchange pipeline transfers (both directions).
sim::NetworkSpec network_for(const Scenario& s, const Topology& topology, const std::vector<std::pair<int, int>>& pairs);

}  // namespace ppsim::model
