#include "sim/generators.hpp"

#include <stdexcept>

#include "sim/did_you_mean.hpp"
#include "sim/generators/builders.hpp"
#include "sim/generators/looped_1f1b.hpp"

namespace ppsim::sim {

namespace {

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (ScheduleKind k : all_schedule_kinds()) names.emplace_back(to_string(k));
  return names;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? std::string(sep) : "") + items[i];
  return out;
}

int default_stages_per_rank(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Interleaved1F1B:
    case ScheduleKind::ZBV:
    case ScheduleKind::DualPipe:
    case ScheduleKind::DualPipeV: return 2;
    default: return 1;
  }
}

// The kinds whose stages per rank is fixed by the schedule itself.
bool fixed_stages_per_rank(ScheduleKind kind) { return kind != ScheduleKind::Interleaved1F1B; }

}  // namespace

std::string_view to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::GPipe: return "gpipe";
    case ScheduleKind::OneFOneB: return "1f1b";
    case ScheduleKind::Interleaved1F1B: return "interleaved-1f1b";
    case ScheduleKind::ZB1P: return "zb1p";
    case ScheduleKind::ZBV: return "zbv";
    case ScheduleKind::DualPipe: return "dualpipe";
    case ScheduleKind::DualPipeV: return "dualpipev";
  }
  return "?";
}

const std::vector<ScheduleKind>& all_schedule_kinds() {
  static const std::vector<ScheduleKind> kinds{ScheduleKind::GPipe,    ScheduleKind::OneFOneB,
                                               ScheduleKind::Interleaved1F1B, ScheduleKind::ZB1P,
                                               ScheduleKind::ZBV,      ScheduleKind::DualPipe,
                                               ScheduleKind::DualPipeV};
  return kinds;
}

ScheduleKind parse_schedule_kind(std::string_view name) {
  for (ScheduleKind k : all_schedule_kinds()) {
    if (name == to_string(k)) return k;
  }
  const auto names = kind_names();
  throw std::invalid_argument("kind '" + std::string(name) + "' is not a schedule" + did_you_mean(name, names) +
                              ": use one of " + join(names, ", "));
}

int stages_per_rank_of(const ScheduleRequest& request) {
  return request.stages_per_rank > 0 ? request.stages_per_rank : default_stages_per_rank(request.kind);
}

std::string check_request(const ScheduleRequest& req) {
  const std::string kind(to_string(req.kind));
  const int P = req.ranks;
  const int M = req.microbatches;
  if (P < 1 || P > kMaxRanks)
    return "ranks = " + std::to_string(P) + " is out of range: allowed 1.." + std::to_string(kMaxRanks);
  if (M < 1 || M > kMaxMicrobatches)
    return "microbatches = " + std::to_string(M) + " is out of range: allowed 1.." + std::to_string(kMaxMicrobatches);
  if (req.stages_per_rank < 0 || req.stages_per_rank > kMaxStagesPerRank)
    return "stages-per-rank = " + std::to_string(req.stages_per_rank) + " is out of range: allowed 1.." +
           std::to_string(kMaxStagesPerRank);
  const int V = stages_per_rank_of(req);
  if (fixed_stages_per_rank(req.kind) && V != default_stages_per_rank(req.kind))
    return "stages-per-rank = " + std::to_string(V) + " is not allowed for " + kind + ": it always has " +
           std::to_string(default_stages_per_rank(req.kind)) + " per rank";
  if (static_cast<long long>(P) * M * V * 3 > kMaxOps)
    return "ranks x microbatches x stages-per-rank = " + std::to_string(static_cast<long long>(P) * M * V) +
           " is too large: at most " + std::to_string(kMaxOps / 3) + " (op, micro-batch) pairs";

  const std::string pm = " (ranks = " + std::to_string(P) + ", microbatches = " + std::to_string(M) + ")";
  switch (req.kind) {
    case ScheduleKind::OneFOneB:
      if (M < P) return "1f1b needs microbatches >= ranks" + pm;
      break;
    case ScheduleKind::Interleaved1F1B: {
      if (V < 2) return "interleaved-1f1b needs stages-per-rank >= 2 (use 1f1b for one stage per rank)";
      const int rounds = std::max(1, M / P);
      if (M % rounds != 0)
        return kind + " needs microbatches to be a multiple of rounds = max(1, microbatches / ranks) = " +
               std::to_string(rounds) + pm;
      break;
    }
    // ZB1P: PyTorch's ScheduleInterleavedZeroBubble applies the same rounds rule, but with one
    // stage per rank the rounds never change the order, so ppsim serves every M with it.
    case ScheduleKind::DualPipe:
      if (P % 2 != 0) return "dualpipe needs an even number of ranks" + pm;
      if (M % 2 != 0) return "dualpipe needs an even number of microbatches" + pm;
      if (M < 2 * P) return "dualpipe needs microbatches >= 2 x ranks" + pm;
      break;
    case ScheduleKind::DualPipeV:
      if (M < 2 * P) return "dualpipev needs microbatches >= 2 x ranks" + pm;
      break;
    default: break;
  }
  return {};
}

Schedule make_schedule(const ScheduleRequest& req) {
  if (auto problem = check_request(req); !problem.empty()) throw std::invalid_argument(problem);
  const int P = req.ranks;
  const int M = req.microbatches;
  switch (req.kind) {
    case ScheduleKind::GPipe: return gen::gpipe(P, M);
    case ScheduleKind::OneFOneB: return gen::one_f_one_b(P, M);
    case ScheduleKind::Interleaved1F1B: return gen::interleaved_1f1b(P, M, stages_per_rank_of(req));
    case ScheduleKind::ZB1P: return gen::zb1p(P, M);
    case ScheduleKind::ZBV: return gen::zbv(P, M);
    case ScheduleKind::DualPipe: return gen::dualpipe(P, M);
    case ScheduleKind::DualPipeV: return gen::dualpipev(P, M);
  }
  throw std::logic_error("unhandled schedule kind");
}

}  // namespace ppsim::sim
