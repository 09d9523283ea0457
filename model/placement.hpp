#pragma once
// Where the ranks run, and the network the engine sees for one pipeline replica.
//
// Placement of (pipeline rank p, data-parallel rank d, context-parallel rank c, tensor-parallel
// rank t), Megatron-Core's order with TP fastest, then CP, then DP:
//   dp-inner (default; DeepSeek-V3's layout): gpu = ((p x DP + d) x CP + c) x TP + t. A stage's
//     TP x CP x DP GPUs are consecutive, and pipeline neighbours sit on the same rail of
//     different nodes.
//   pp-inner: gpu = ((d x PP + p) x CP + c) x TP + t. Consecutive stages share a node (pipeline
//     transfers over NVLink); expert-parallel groups spread over many nodes.
// Expert layers re-cut a stage's TP x CP x DP ranks as ETP (fastest), then EP, then expert-DP
// (Megatron-Core's expert rank order), so an EP group is EP ranks ETP apart.
//
// The simulated replica is DP rank 0; every replica does the same at the same time, so a
// link that all of a leaf's GPUs share (leaf <-> spine) gives each GPU its share: its
// NIC bandwidth / oversubscription. A rank's communication phases cross its communication
// SMs (comm SMs x GB/s per SM), its GPU -> NIC and NIC -> leaf links, and, when its EP group
// spans pods, its uplink share -- the same NIC the pipeline transfers use.
#include "model/collectives.hpp"
#include "model/scenario.hpp"
#include "model/topology.hpp"
#include "sim/network.hpp"

namespace ppsim::model {

int gpu_of(const Scenario& s, int pp_rank, int dp_rank, int tp_rank, int cp_rank = 0);
// The GPU of stage `pp_rank` at `local` in the stage's TP x CP x DP ranks (TP fastest).
int gpu_in_stage(const Scenario& s, int pp_rank, long long local);

// The process groups of a plan; DpCp is the dense gradients' group (DP x CP), ExpertDp the
// routed experts' (TP x CP x DP / (ETP x EP)).
enum class Group { Tp, Cp, Dp, DpCp, Ep, Etp, ExpertDp };
const char* to_string(Group g);
// The GPUs of the group that holds stage 0's first GPU, in rank order.
std::vector<int> group_gpus(const Scenario& s, Group g);
// How the groups of a kind lie over NVLink domains, for the one spread worst over every
// stage: its size, the most domains any group spans, the fewest GPUs any group has in one
// of its domains (which NICs carry its cross-domain share).
GroupShape group_shape(const Scenario& s, Group g);
// The cluster's NVLink and NIC rates per GPU (after the network efficiency) and latencies.
LinkRates link_rates(const Scenario& s);
// Distinct pods the expert-parallel group of stage 0 spans.
int ep_pods(const Scenario& s, const FabricOptions& fabric);

// The network for the rank pairs that exchange pipeline transfers (both directions).
sim::NetworkSpec network_for(const Scenario& s, const Topology& topology, const std::vector<std::pair<int, int>>& pairs);

}  // namespace ppsim::model
