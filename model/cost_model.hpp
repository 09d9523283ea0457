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
#include <vector>

#include "model/scenario.hpp"
#include "sim/costs.hpp"
#include "sim/phases.hpp"

namespace ppsim::model {

struct PhaseCost {
  sim::Time compute = 0;
  sim::Time comm = 0;
};

struct StageTimes {
  PhaseCost forward, input_grad, weight_grad;
  std::int64_t p2p_bytes = 0;         // activation (and gradient) crossing to the next stage
  std::int64_t activation_bytes = 0;  // saved per micro-batch until its backward
};

// Phases (sim/phases.hpp), per layer of the stage:
//   F  = attention -> dispatch -> MLP/experts -> combine
//   Bi = (layers in reverse) combine^T -> MLP input grads -> dispatch^T -> attention input grads
//   W  = (layers in reverse) MLP weight grads -> attention weight grads
//   B  = Bi with each part's weight grads right after its input grads
// Dense layers have no all-to-all; with TP > 1 an all-reduce follows attention and MLP. The
// embedding, the MTP projection and the head are compute. The channel carries min(comm SMs x
// comm_gbps_per_sm, inter-node bandwidth) x network efficiency; compute runs at (SMs - comm
// SMs) / SMs while it is busy. TP all-reduces, which run on NVLink, enter as the bytes that
// take the same time on the channel.
class RooflineCostModel final : public sim::CostModel, public sim::PhasedCosts {
 public:
  explicit RooflineCostModel(const Scenario& scenario);

  sim::Time duration(const sim::Op& op) const override;
  const sim::PhasedCosts* phased() const override { return this; }
  const std::vector<sim::Phase>& phases(sim::OpKind kind, int stage) const override;
  double compute_rate_during_comm() const override { return 1.0 / overlap_slowdown_; }
  double comm_bytes_per_ns() const override { return channel_bytes_per_ns_; }
  std::int64_t p2p_bytes(int stage) const override { return stages_.at(stage).p2p_bytes; }
  std::int64_t activation_bytes(int stage) const override { return stages_.at(stage).activation_bytes; }
  int stages() const override { return static_cast<int>(stages_.size()); }

  const StageTimes& stage(int s) const { return stages_.at(s); }
  // The part of an op's duration spent only on communication: all of it for a plain op, what
  // the other half's compute cannot cover for an F&B pair.
  sim::Time exposed_comm(const sim::Op& op) const;

 private:
  struct StagePhases {
    std::vector<sim::Phase> f, b, bi, w;
  };
  std::vector<StagePhases> phases_;
  double channel_bytes_per_ns_ = 1;
  sim::Time pair_compute(const sim::Op& op) const;  // both halves' compute, on the SMs left to compute
  sim::Time pair_comm(const sim::Op& op) const;     // both halves' communication
  std::vector<StageTimes> stages_;
  double overlap_slowdown_ = 1;  // SMs / (SMs - comm SMs)
};

}  // namespace ppsim::model
