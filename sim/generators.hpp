#pragma once
// Schedule generators. Each reproduces, op for op, the order its published reference
// executes (PyTorch torch/distributed/pipelining/schedules.py, deepseek-ai/DualPipe).
#include <string>
#include <string_view>
#include <vector>

#include "sim/generators/zb_greedy.hpp"
#include "sim/schedule.hpp"

namespace ppsim::sim {

// Interleaved1F1B follows PyTorch's rounds rule, Interleaved1F1BMegatron Megatron-LM's
// (micro-batches a multiple of ranks); ZB2P is sail-sg's greedy zero-bubble scheduler, VHalf
// and VMin its controllable-memory V schedules, ZBVGreedy its cost-aware ZB-V.
enum class ScheduleKind {
  GPipe, OneFOneB, Interleaved1F1B, Interleaved1F1BMegatron, ZB1P, ZB2P, ZBV, ZBVGreedy, VHalf, VMin, DualPipe, DualPipeV
};
// The kinds whose order its scheduler plans for given costs (ScheduleRequest::zb).
inline bool plans_for_costs(ScheduleKind k) { return k == ScheduleKind::ZB2P || k == ScheduleKind::ZBVGreedy; }

// Interleaved 1F1B under either rule: the stages per rank are the user's to choose.
inline bool is_interleaved(ScheduleKind k) {
  return k == ScheduleKind::Interleaved1F1B || k == ScheduleKind::Interleaved1F1BMegatron;
}
std::string_view to_string(ScheduleKind kind);  // CLI spelling: "gpipe", "1f1b", ...
// Throws std::invalid_argument listing the allowed names (with a did-you-mean).
ScheduleKind parse_schedule_kind(std::string_view name);
const std::vector<ScheduleKind>& all_schedule_kinds();

struct ScheduleRequest {
  ScheduleRequest() = default;
  ScheduleRequest(ScheduleKind kind_, int ranks_, int microbatches_, int stages_per_rank_ = 0, ZbGreedyOptions zb_ = {})
      : kind(kind_), ranks(ranks_), microbatches(microbatches_), stages_per_rank(stages_per_rank_), zb(zb_) {}

  ScheduleKind kind = ScheduleKind::OneFOneB;
  int ranks = 0;
  int microbatches = 0;
  int stages_per_rank = 0;  // 0: the kind's own (2 for interleaved-1f1b, zbv, dualpipe, dualpipev; else 1)
  ZbGreedyOptions zb;       // zb2p: the op costs and memory limit its scheduler plans for
};

// Limits that keep a request's memory bounded.
inline constexpr int kMaxRanks = 4096;
inline constexpr int kMaxMicrobatches = 1 << 20;
inline constexpr int kMaxStagesPerRank = 64;
inline constexpr long long kMaxOps = 200'000'000;

// Empty when the request can be served, else one line naming the rule it breaks.
std::string check_request(const ScheduleRequest& request);
// Throws std::invalid_argument with check_request's message when it cannot be served.
Schedule make_schedule(const ScheduleRequest& request);
// The stages per rank a request resolves to.
int stages_per_rank_of(const ScheduleRequest& request);

}  // namespace ppsim::sim
