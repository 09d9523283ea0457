#pragma once
// A stage of the runtime's model. With one expert and top-1 it is the dense MLP stage
// (mlp_stage.hpp) and computes exactly what MlpStage does. With E experts it is a small MoE
// layer: every token goes to top_k experts by a fixed routing, each expert is an MlpStage, and
// the token comes back as the gate-weighted sum of its experts' outputs. The routing does not
// depend on the data (no router gradient), so the layer's gradients are exact.
#include <vector>

#include "runtime/mlp_stage.hpp"

namespace ppsim::runtime {

// Which experts each token's slots go to, where they land, and with what gate weight.
struct MoeRouting {
  int rows = 0, experts = 1, top_k = 1;
  std::vector<int> expert_of;  // rows * top_k
  std::vector<int> position;   // rows * top_k: the row among all experts' rows (grouped by expert)
  std::vector<int> offset;     // experts + 1: expert e's rows are [offset[e], offset[e+1])
  std::vector<double> gate;    // rows * top_k, summing to 1 per token
};

// Token t's slot s goes to expert (h(t, stage) + s) mod E, with gate (s+1) / (k(k+1)/2): distinct
// experts per token, different per stage, the same for every micro-batch.
MoeRouting fixed_routing(int rows, int experts, int top_k, int stage);

template <class Scalar>
struct MoeBlock {
  using Matrix = typename MlpStage<Scalar>::Matrix;
  std::vector<MlpStage<Scalar>> experts;
  MoeRouting routing;

  struct Saved {
    std::vector<typename MlpStage<Scalar>::Saved> experts;
  };

  bool dense() const { return experts.size() == 1 && routing.top_k == 1; }
  Matrix forward(const Matrix& x, Saved& saved) const;
  Matrix input_grad(const Matrix& dy, Saved& saved) const;
  void weight_grad(const Saved& saved);
};

}  // namespace ppsim::runtime
