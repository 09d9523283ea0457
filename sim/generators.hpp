#pragma once
// Schedule generators. Each reproduces, op for op, the order its published reference
// executes (PyTorch torch/distributed/pipelining/schedules.py, deepseek-ai/DualPipe).
#include <string>
#include <string_view>
#include <vector>

#include "sim/schedule.hpp"

namespace ppsim::sim {

enum class ScheduleKind { GPipe, OneFOneB, Interleaved1F1B, ZB1P, ZBV, DualPipe, DualPipeV };

std::string_view to_string(ScheduleKind kind);  // CLI spelling: "gpipe", "1f1b", ...
// Throws std::invalid_argument listing the allowed names (with a did-you-mean).
ScheduleKind parse_schedule_kind(std::string_view name);
const std::vector<ScheduleKind>& all_schedule_kinds();

struct ScheduleRequest {
  ScheduleKind kind = ScheduleKind::OneFOneB;
  int ranks = 0;
  int microbatches = 0;
  int stages_per_rank = 0;  // 0: the kind's own (2 for interleaved-1f1b, zbv, dualpipe, dualpipev; else 1)
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
