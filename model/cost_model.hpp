#pragma once
// The roofline cost model: from a scenario's per-token work (work.hpp) to the duration of
// every op of every stage, as a sim::CostModel the engine runs.
//
// Per stage and micro-batch: each kernel class takes work / (peak x efficiency) -- GEMMs at the
// precision's peak (the head stays BF16), the attention core at the BF16 peak, memory-bound
// kernels at HBM bandwidth; all divided across TP; MoE expert GEMMs scaled by the expert
// load imbalance. Communication (MoE all-to-all across nodes, TP all-reduce inside the node)
// takes bytes / (link bandwidth x efficiency).
//   F  = compute_F + comm_F         (a plain op waits for its own communication)
//   Bi = compute_Bi + comm_Bi       (input grads: GEMMs again, attention core x 2.5, a2a back)
//   W  = compute_W                  (weight grads: the GEMMs once more; no communication)
//   B  = Bi + W
//   FB = max((compute_F + compute_B) x SMs / (SMs - comm SMs), comm_F + comm_B)
// An overlapped F&B pair runs each half's communication under the other half's compute, on
// the SMs reserved for communication, so its compute is slowed in proportion.
#include <string>
#include <vector>

#include "model/scenario.hpp"
#include "sim/costs.hpp"
#include "sim/phases.hpp"

namespace ppsim::model {

struct PhaseCost {
  sim::Time compute = 0;
  sim::Time comm = 0;
};

// One kind of communication of a stage's forward + backward for one micro-batch, per GPU.
struct CommSummary {
  sim::CommKind what = sim::CommKind::None;
  std::string group;      // the process group (placement.hpp's names)
  std::string algorithm;  // collectives.hpp's choice
  sim::Channel channel = sim::Channel::ScaleOut;  // the link that bounds it
  double nic_bytes = 0, nvlink_bytes = 0;         // sent per GPU, forward + backward
  double seconds = 0;                             // on its own, before any overlap
  double exposed_seconds = 0;                     // what the op waits for (CP ring, ZeRO-3 prefetch)
};

// A stage's compute for one micro-batch, forward + backward, by kernel class (seconds).
struct ComputeSummary {
  double gemm = 0;          // projections, MLPs, shared experts, router, head
  double expert_gemm = 0;   // routed experts' grouped GEMMs
  double attention = 0;     // the attention core
  double memory = 0;        // memory-bound kernels
  double recompute = 0;     // forward work redone in the backward (modules and whole layers)
  double gemm_flops = 0;    // what the GEMMs (dense and expert) compute, for their efficiency
  double total() const { return gemm + expert_gemm + attention + memory + recompute; }
};

struct StageTimes {
  PhaseCost forward, input_grad, weight_grad;
  ComputeSummary compute;
  std::int64_t p2p_bytes = 0;         // activation (and gradient) crossing to the next stage
  std::int64_t activation_bytes = 0;  // saved per micro-batch until its backward
};

// Phases (sim/phases.hpp), per layer of the stage:
//   F  = [ZeRO-3 gather] attention [CP ring] [TP] -> dispatch [ETP gather] -> MLP/experts
//        -> [ETP scatter] combine [TP]
//   Bi = (layers in reverse) [gather] [the forward again, when recomputed whole] combine^T ->
//        MLP input grads -> dispatch^T -> attention input grads [CP ring]
//   W  = (layers in reverse) MLP weight grads -> attention weight grads [ZeRO-3 reduce-scatter]
//   B  = Bi with each part's weight grads right after its input grads
// Dense layers have no all-to-all; with TP > 1 an all-reduce (SP: reduce-scatter + all-gather)
// follows attention and MLP. The embedding, the MTP projection and the head are compute.
// Every communication phase is on the channel whose link bounds it (collectives.hpp): the
// scale-out channel carries min(comm SMs x comm_gbps_per_sm, NIC) x network efficiency, the
// scale-up channel NVLink x network efficiency; compute runs at (SMs - comm SMs) / SMs while
// either is busy. A collective's latency enters as the bytes its channel would move meanwhile.
// The CP ring and ZeRO-3's prefetched gathers overlap compute inside the op: only what the
// attention core (CP) or the previous layer (ZeRO-3) cannot cover becomes a phase.
class RooflineCostModel final : public sim::CostModel, public sim::PhasedCosts {
 public:
  explicit RooflineCostModel(const Scenario& scenario);

  sim::Time duration(const sim::Op& op) const override;
  const sim::PhasedCosts* phased() const override { return this; }
  const std::vector<sim::Phase>& phases(sim::OpKind kind, int stage) const override;
  double compute_rate_during_comm() const override { return 1.0 / overlap_slowdown_; }
  double comm_bytes_per_ns() const override { return channel_bytes_per_ns_; }
  double scale_up_bytes_per_ns() const override { return scale_up_bytes_per_ns_; }
  std::int64_t p2p_bytes(int stage) const override { return stages_.at(stage).p2p_bytes; }
  std::int64_t activation_bytes(int stage) const override { return stages_.at(stage).activation_bytes; }
  int stages() const override { return static_cast<int>(stages_.size()); }

  const StageTimes& stage(int s) const { return stages_.at(s); }
  // The part of an op's duration spent only on communication: all of it for a plain op, what
  // the other half's compute cannot cover for an F&B pair.
  sim::Time exposed_comm(const sim::Op& op) const;
  // Per micro-batch of one stage: bytes each collective moves per GPU, and the algorithm it
  // runs, for reports (the same figures the phases carry).
  const std::vector<CommSummary>& comm_summary(int stage) const { return summaries_.at(stage); }

 private:
  struct StagePhases {
    std::vector<sim::Phase> f, b, bi, w;
  };
  std::vector<StagePhases> phases_;
  double channel_bytes_per_ns_ = 1, scale_up_bytes_per_ns_ = 1;
  sim::Time pair_compute(const sim::Op& op) const;  // both halves' compute, on the SMs left to compute
  sim::Time pair_comm(const sim::Op& op) const;     // both halves' communication
  std::vector<StageTimes> stages_;
  std::vector<std::vector<CommSummary>> summaries_;
  double overlap_slowdown_ = 1;  // SMs / (SMs - comm SMs)
};

}  // namespace ppsim::model
