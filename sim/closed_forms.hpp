#pragma once
// The closed-form pipeline bubbles of the DualPipe README, with the conditions under which
// ppsim's engine reproduces them exactly (free communication, the same costs on every stage).
// The conditions were found by simulating every small integer cost (tests/sim/test_engine.cpp):
//   GPipe, 1F1B:     (P-1)(F+B) on every rank, for any F, B.
//   interleaved:     (P-1)(F+B) on every rank, F and B of one chunk (a stage of 1/V the size).
//   ZB1P:            (P-1)(F+B-2W) on every rank, when W <= min(F, Bi) (Bi = B - W).
//   DualPipe:        (PP/2-1)(F&B+B-3W) on the most idle rank, PP = ranks, when F = Bi, W <= F
//                    and F&B <= F + B (every rank when F&B = F + B).
//   DualPipeV:       the same with PP = 2 x ranks (its stages).
// ZB-V has no closed form here.
#include <optional>
#include <string>

#include "sim/costs.hpp"
#include "sim/generators.hpp"

namespace ppsim::sim {

struct ClosedForm {
  std::string formula;     // e.g. "(P-1)(F+B)"
  Time bubble = 0;         // its value for these costs
  bool conditions_hold = false;
  std::string conditions;  // e.g. "W <= min(F, Bi)"
  bool max_over_ranks = false;  // the formula is the most idle rank's bubble (else every rank's)
};

std::optional<ClosedForm> closed_form_bubble(ScheduleKind kind, int ranks, const StageCost& cost);

}  // namespace ppsim::sim
