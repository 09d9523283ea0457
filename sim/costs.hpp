#pragma once
// What each op costs. The engine asks a CostModel once per op before it runs, so any model
// (the cost table here, the roofline model of model/ later) plugs in behind one interface.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "sim/op.hpp"
#include "sim/time.hpp"

namespace ppsim::sim {

class CostModel {
 public:
  virtual ~CostModel() = default;
  // Compute time of an op on its rank (an FB pair: the overlapped pair as a whole).
  virtual Time duration(const Op& op) const = 0;
  // Bytes that cross the boundary between `stage` and `stage + 1`: the activation its forward
  // sends on, and the gradient the next stage's backward sends back.
  virtual std::int64_t p2p_bytes(int stage) const = 0;
  // Activation memory one micro-batch holds in `stage` from its F until its backward is done.
  virtual std::int64_t activation_bytes(int stage) const = 0;
  // Stages this model describes; 0 when it describes any number (uniform costs).
  virtual int stages() const = 0;
  // A model that also describes ops as phases (sim/phases.hpp) returns them here; the engine
  // then runs the phases instead of taking duration() (unless told not to).
  virtual const class PhasedCosts* phased() const { return nullptr; }
  // Appends what duration() depends on, so that simulations of equal inputs can be shared
  // (sim/simulation_key.hpp); false when the model cannot say (then none is shared).
  virtual bool fingerprint(std::string& /*out*/) const { return false; }
};

// Costs of one stage. B is the full backward; an input-grad backward Bi costs B - W. FB is an
// F and a B of this stage's size overlapped as one pair; a pair of two stages a (forward) and
// b (backward) saves min(F+B-FB of a, of b) on F_a + B_b (Bi_b for a split backward).
struct StageCost {
  Time f = 0, b = 0, w = 0, fb = 0;
  std::int64_t p2p_bytes = 0;
  std::int64_t activation_bytes = 0;
};

class CostTable final : public CostModel {
 public:
  // One cost for every stage (stages() == 0), or one per stage.
  explicit CostTable(StageCost uniform);
  explicit CostTable(std::vector<StageCost> per_stage);

  Time duration(const Op& op) const override;
  std::int64_t p2p_bytes(int stage) const override { return at(stage).p2p_bytes; }
  std::int64_t activation_bytes(int stage) const override { return at(stage).activation_bytes; }
  int stages() const override { return static_cast<int>(per_stage_.size()); }

  const StageCost& at(int stage) const { return per_stage_.empty() ? uniform_ : per_stage_.at(stage); }

 private:
  StageCost uniform_;
  std::vector<StageCost> per_stage_;
};

// "F=1,B=2,W=1,FB=2.5" (microseconds; W and FB optional: W = 0, FB = F + B). Throws
// std::invalid_argument naming the key, the value and the rule.
CostTable parse_unit_costs(const std::string& spec);
// {"default": {"F":..,"B":..,"W":..,"FB":..,"p2p_bytes":..,"activation_bytes":..},
//  "stages": [{...}, ...]}  (times in microseconds; each stage entry falls back to "default").
CostTable cost_table_from_json(const nlohmann::json& doc);
// Checks one stage's costs: F > 0, B > 0, 0 <= W < B, FB >= max(F, B), bytes >= 0.
void check_stage_cost(const StageCost& c, const std::string& where);

}  // namespace ppsim::sim
