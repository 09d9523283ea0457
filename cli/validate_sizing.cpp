#include "cli/validate_sizing.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "sim/validate.hpp"
#include "sim/work_limit.hpp"

namespace ppsim::cli {

namespace {
constexpr int kMaxExperts = 16;     // a MoE stage keeps at most this many experts
constexpr int kMaxWidth = 4096;     // validate's --hidden and --rows limits
constexpr int kMinWidth = 64, kMinRows = 64;

std::string gib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  return b;
}
}  // namespace

double f_gflop(const runtime::ExecOptions& o) {
  // Two GEMMs over every token's top-k expert rows.
  return 2.0 * 2.0 * o.rows * o.top_k * static_cast<double>(o.hidden) * o.ffn / 1e9;
}

double rank_bytes(const runtime::ExecOptions& o, int copies, int in_flight) {
  const double h = o.hidden, f = o.ffn, slots = static_cast<double>(o.rows) * o.top_k;
  const double weights = 2.0 * copies * o.experts * (2 * h * f + h + f);  // parameters and gradients
  // Kept per micro-batch in flight: its input, every slot's z1 and GELU output, the dispatch
  // buffers; W adds a partial gradient of each matrix for the moment it accumulates.
  const double activations = in_flight * (o.rows * h + slots * (2 * f + 2 * h));
  return 4.0 * (weights + activations + 2 * h * f);
}

int copies_per_rank(const sim::Schedule& s) {
  int most = 1;
  for (const auto& ops : s.per_rank) {
    std::set<std::pair<int, bool>> copies;
    for (const sim::Op& op : ops) {
      copies.insert({op.stage, s.bidirectional() && op.mb >= s.first_reverse_mb});
      if (op.kind == sim::OpKind::FB) copies.insert({op.b_stage, s.bidirectional() && op.b_mb >= s.first_reverse_mb});
    }
    most = std::max(most, static_cast<int>(copies.size()));
  }
  return most;
}

int max_peak_in_flight(const sim::Schedule& s) {
  const std::vector<int> peak = sim::peak_in_flight(s);
  return std::max(1, peak.empty() ? 1 : *std::max_element(peak.begin(), peak.end()));
}

StageSize size_of(const runtime::ExecOptions& o, const sim::Schedule& s) {
  StageSize z;
  z.options = o;
  z.f_gflop = f_gflop(o);
  z.rank_gib = rank_bytes(o, copies_per_rank(s), max_peak_in_flight(s)) / (1024.0 * 1024 * 1024);
  return z;
}

StageSize size_from_model(const model::ModelSpec& m, const sim::Schedule& s, double budget, double max_f_gflop) {
  StageSize z;
  z.model = m.id;
  runtime::ExecOptions& o = z.options;
  const int tokens = m.seq_len * std::max(1, m.plan.microbatch_size);
  o.hidden = m.hidden;
  o.rows = tokens;
  o.experts = m.moe.enabled() ? m.moe.routed_experts : 1;
  o.top_k = m.moe.enabled() ? std::max(1, m.moe.experts_per_token) : 1;
  if (o.hidden < 1 || o.rows < 1)
    throw std::invalid_argument("--model " + m.id + ": hidden " + std::to_string(o.hidden) + " and " + std::to_string(o.rows) +
                                " tokens per micro-batch: allowed at least 1 each");
  if (o.experts > kMaxExperts) {
    z.scaled.push_back("experts " + std::to_string(o.experts) + " -> " + std::to_string(kMaxExperts) + " (kept at most " +
                       std::to_string(kMaxExperts) + ")");
    o.experts = kMaxExperts;
  }
  const int top_k = o.experts > 1 ? std::min(o.top_k, std::max(1, o.experts / 2)) : 1;
  if (top_k != o.top_k) z.scaled.push_back("top-k " + std::to_string(o.top_k) + " -> " + std::to_string(top_k) + " (at most half the experts)");
  o.top_k = top_k;
  const int copies = copies_per_rank(s), in_flight = max_peak_in_flight(s);
  const int model_width = o.hidden, model_rows = o.rows;
  auto halve_width = [&] { o.hidden = std::max(kMinWidth, (o.hidden / 2 + 3) / 4 * 4); };  // a multiple of 4
  while (o.hidden > kMaxWidth) halve_width();  // the runtime's own limits first
  while (o.rows > kMaxWidth) o.rows /= 2;
  bool width_next = true;
  auto fits = [&] {
    o.ffn = 2 * o.hidden;
    return rank_bytes(o, copies, in_flight) <= budget && f_gflop(o) <= max_f_gflop;
  };
  while (!fits()) {
    const bool can_width = o.hidden / 2 >= kMinWidth, can_rows = o.rows / 2 >= kMinRows;
    if (!can_width && !can_rows)
      throw std::invalid_argument("--model " + m.id + ": even width " + std::to_string(o.hidden) + " and " +
                                  std::to_string(o.rows) + " tokens need " + gib(rank_bytes(o, copies, in_flight)) +
                                  " per rank and " + std::to_string(f_gflop(o)) + " GFLOP per F: allowed " + gib(budget) +
                                  " per rank (fewer --ranks on this GPU)");
    if ((width_next && can_width) || !can_rows) halve_width();
    else o.rows /= 2;
    width_next = !width_next;
  }
  const std::string why = " (limits: " + std::to_string(kMaxWidth) + " wide, " + gib(budget) + " per rank, " +
                          std::to_string(static_cast<int>(max_f_gflop)) + " GFLOP per F)";
  if (o.hidden != model_width) z.scaled.push_back("width " + std::to_string(model_width) + " -> " + std::to_string(o.hidden) + why);
  if (o.rows != model_rows) z.scaled.push_back("tokens per micro-batch " + std::to_string(model_rows) + " -> " + std::to_string(o.rows) + why);
  z.f_gflop = f_gflop(o);
  z.rank_gib = rank_bytes(o, copies, in_flight) / (1024.0 * 1024 * 1024);
  return z;
}

void check_cpu_work(const runtime::ExecOptions& o, const sim::Schedule& s, int scalar_bytes, int runs, bool cpu_pipeline) {
  const std::string flags = "--ranks " + std::to_string(s.ranks) + ", --microbatches " + std::to_string(s.microbatches) +
                            ", width " + std::to_string(o.hidden) + ", " + std::to_string(o.rows) + " rows";
  if (cpu_pipeline) sim::check_work("--ranks " + std::to_string(s.ranks) + ": threads", s.ranks, sim::kLimitThreads, "threads");
  // Memory: every rank's copies and activations in the pipelined run; the reference holds every
  // stage once.
  const double pipelined = cpu_pipeline ? s.ranks * rank_bytes(o, copies_per_rank(s), max_peak_in_flight(s)) : 0;
  const double reference = s.stages * rank_bytes(o, 1, 1);
  sim::check_work(flags + ": memory", (pipelined + reference) * scalar_bytes / 4.0, sim::kLimitBytes, "bytes");
  // Arithmetic: F, Bi and W of every (micro-batch, stage), in the run and in the reference.
  sim::check_work(flags + ": arithmetic", runs * (cpu_pipeline ? 2.0 : 1.0) * 3.0 * f_gflop(o) * 1e9 * s.stages * s.microbatches,
                  sim::kLimitFlop, "FLOP");
}

std::string describe(const StageSize& z) {
  const runtime::ExecOptions& o = z.options;
  char b[160];
  std::snprintf(b, sizeof b, ": one F is %.2f GFLOP, a rank holds %.2f GiB", z.f_gflop, z.rank_gib);
  std::string s = "width " + std::to_string(o.hidden) + " (MLP " + std::to_string(o.ffn) + "), " + std::to_string(o.rows) +
                  " tokens per micro-batch";
  if (o.experts > 1 || o.top_k > 1) s += ", " + std::to_string(o.experts) + " experts top-" + std::to_string(o.top_k);
  return s + b;
}

}  // namespace ppsim::cli
