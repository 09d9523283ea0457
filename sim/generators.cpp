#include "sim/generators.hpp"

#include <cmath>
#include <stdexcept>

#include "sim/did_you_mean.hpp"
#include "sim/generators/builders.hpp"
#include "sim/generators/looped_1f1b.hpp"
#include "sim/work_limit.hpp"

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
    case ScheduleKind::Interleaved1F1BMegatron:
    case ScheduleKind::ZBV:
    case ScheduleKind::ZBVGreedy:
    case ScheduleKind::VHalf:
    case ScheduleKind::VMin:
    case ScheduleKind::DualPipe:
    case ScheduleKind::DualPipeV: return 2;
    default: return 1;
  }
}

// The kinds whose stages per rank is fixed by the schedule itself.
bool fixed_stages_per_rank(ScheduleKind kind) { return !is_interleaved(kind); }

}  // namespace

std::string_view to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::GPipe: return "gpipe";
    case ScheduleKind::OneFOneB: return "1f1b";
    case ScheduleKind::Interleaved1F1B: return "interleaved-1f1b";
    case ScheduleKind::Interleaved1F1BMegatron: return "interleaved-1f1b-megatron";
    case ScheduleKind::ZB1P: return "zb1p";
    case ScheduleKind::ZB2P: return "zb2p";
    case ScheduleKind::ZBV: return "zbv";
    case ScheduleKind::ZBVGreedy: return "zbv-greedy";
    case ScheduleKind::VHalf: return "v-half";
    case ScheduleKind::VMin: return "v-min";
    case ScheduleKind::DualPipe: return "dualpipe";
    case ScheduleKind::DualPipeV: return "dualpipev";
  }
  return "?";
}

const std::vector<ScheduleKind>& all_schedule_kinds() {
  static const std::vector<ScheduleKind> kinds{
      ScheduleKind::GPipe, ScheduleKind::OneFOneB, ScheduleKind::Interleaved1F1B, ScheduleKind::Interleaved1F1BMegatron,
      ScheduleKind::ZB1P,  ScheduleKind::ZB2P,     ScheduleKind::ZBV,             ScheduleKind::ZBVGreedy,
      ScheduleKind::VHalf, ScheduleKind::VMin,     ScheduleKind::DualPipe,        ScheduleKind::DualPipeV};
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
  // Up to three ops (F, Bi, W) per (micro-batch, stage): within what this machine class simulates.
  try {
    check_work("ranks x microbatches x stages-per-rank = " + std::to_string(static_cast<long long>(P) * M * V) + ": ops",
               3.0 * P * M * V, kLimitOps, "ops");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }

  const std::string pm = " (ranks = " + std::to_string(P) + ", microbatches = " + std::to_string(M) + ")";
  switch (req.kind) {
    // 1F1B: PyTorch refuses M < P; Megatron-LM runs it with the warm-up clipped to M, which
    // is the same formula, so ppsim serves every M.
    case ScheduleKind::Interleaved1F1BMegatron:
      if (V < 2) return kind + " needs stages-per-rank >= 2 (use 1f1b for one stage per rank)";
      return gen::megatron_interleaved_problem(P, M, P);
    case ScheduleKind::ZB2P:
    case ScheduleKind::ZBVGreedy: {
      const ZbGreedyOptions& z = req.zb;
      for (double c : {z.f, z.b, z.w, z.comm})
        if (!std::isfinite(c) || c < 0) return kind + ": op costs must be finite and non-negative";
      if (!(z.f > 0) || !(z.b > 0)) return kind + ": the costs of F and B must be positive";
      if (!std::isfinite(z.mem_f) || !(z.mem_f > 0) || std::abs(z.mem_f + z.mem_b + z.mem_w) > 1e-9 * z.mem_f)
        return kind + ": memory per op must have mem_f > 0 and mem_f + mem_b + mem_w = 0";
      if (!std::isfinite(z.pending) || (z.pending < 0 && z.pending != -1) || z.pending > 4.0 * kMaxRanks)
        return kind + ": memory limit = " + std::to_string(z.pending) + " forwards: allowed 0.." +
               std::to_string(4 * kMaxRanks);
      if (static_cast<long long>(P) * M > 4'000'000)
        return kind + ": ranks x microbatches = " + std::to_string(static_cast<long long>(P) * M) +
               " is too large for its scheduler: at most 4000000";
      break;
    }
    case ScheduleKind::VHalf:
    case ScheduleKind::VMin:
      // Its greedy passes visit every rank's next op for each op: bounded to a few seconds.
      if (static_cast<long long>(P) * M > 65536)
        return kind + ": ranks x microbatches = " + std::to_string(static_cast<long long>(P) * M) +
               " is too large for its scheduler: at most 65536";
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
    case ScheduleKind::Interleaved1F1BMegatron: return gen::interleaved_1f1b_megatron(P, M, stages_per_rank_of(req), P);
    case ScheduleKind::ZB1P: return gen::zb1p(P, M);
    case ScheduleKind::ZB2P: return gen::zb_greedy(P, M, req.zb);
    case ScheduleKind::ZBV: return gen::zbv(P, M);
    case ScheduleKind::ZBVGreedy: return gen::zbv_greedy(P, M, req.zb);
    case ScheduleKind::VHalf: return gen::v_greedy(P, M, true);
    case ScheduleKind::VMin: return gen::v_greedy(P, M, false);
    case ScheduleKind::DualPipe: return gen::dualpipe(P, M);
    case ScheduleKind::DualPipeV: return gen::dualpipev(P, M);
  }
  throw std::logic_error("unhandled schedule kind");
}

}  // namespace ppsim::sim
