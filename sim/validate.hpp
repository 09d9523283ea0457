#pragma once
// Checks a schedule before anything simulates or runs it: shape and placement, every
// (micro-batch, stage) has exactly one F and one backward (B, or Bi then W), and the
// dependency graph with each rank's program order is acyclic (a cycle is a deadlock).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/schedule.hpp"

namespace ppsim::sim {

struct ValidationReport {
  std::vector<std::string> errors;  // one line each, at most kMaxReportedErrors (+ a count line)
  // Per rank, the most (micro-batch, stage) activations held at once: an F adds one, B or
  // W releases it (Bi keeps it for W); an FB pair counts its forward before its backward.
  std::vector<int> peak_in_flight;
  bool ok() const { return errors.empty(); }
};

inline constexpr std::size_t kMaxReportedErrors = 20;

ValidationReport validate(const Schedule& schedule);
// Throws std::invalid_argument("invalid <kind> schedule: <first error> (+N more)") when invalid.
void require_valid(const Schedule& schedule);
// Peak in-flight activations per rank (see ValidationReport); needs ops in range.
std::vector<int> peak_in_flight(const Schedule& schedule);
// Per rank, per op of its program: the activations held while the op runs, as peak_in_flight
// counts them, each weighing `bytes[stage]` (empty: one each).
std::vector<std::vector<std::int64_t>> activations_held(const Schedule& schedule, const std::vector<std::int64_t>& bytes = {});

}  // namespace ppsim::sim
