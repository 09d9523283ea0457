#include "cli/scenario_report.hpp"

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/report.hpp"
#include "model/work.hpp"
#include "sim/comm_kind.hpp"

namespace ppsim::cli {

namespace {

std::string fixed(double x, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << x;
  return s.str();
}

std::string si(double x) {  // 2.6e6 -> "2.61 M"
  const char* units[] = {"", " K", " M", " B", " T"};
  int i = 0;
  while (std::abs(x) >= 1000 && i < 4) {
    x /= 1000;
    ++i;
  }
  return fixed(x, x < 10 ? 2 : x < 100 ? 1 : 0) + units[i];
}

double seconds(sim::Time t) { return static_cast<double>(t) * 1e-9; }

// The pipeline bubble and the exposed communication as fractions of the step (the step's
// decomposition, mean over the pipeline ranks): neither includes the data-parallel tail.
struct Summary {
  double bubble_fraction = 0, exposed_fraction = 0;
};

Summary summarize(const model::StudyResult& r) {
  const model::StepBreakdown& b = r.breakdown;
  const double step = std::max(1e-12, b.total());
  return {b.bubble / step, b.exposed_comm / step};
}

std::string bytes_text(double b) {
  const char* units[] = {" B", " KB", " MB", " GB", " TB"};
  int i = 0;
  while (b >= 1000 && i < 4) b /= 1000, ++i;
  return fixed(b, b < 10 ? 2 : b < 100 ? 1 : 0) + units[i];
}

std::string time_text(double sec) {
  return sec >= 1 ? fixed(sec, 2) + " s" : sec >= 1e-3 ? fixed(sec * 1e3, 2) + " ms" : fixed(sec * 1e6, 1) + " us";
}

// The busiest stage's compute per micro-batch by kernel class, and the GEMMs' achieved rate.
std::string compute_text(const model::Scenario& s, const model::StudyResult& r) {
  std::size_t busiest = 0;
  for (std::size_t st = 1; st < r.compute.size(); ++st)
    if (r.compute[st].total() > r.compute[busiest].total()) busiest = st;
  if (r.compute.empty()) return "";
  const model::ComputeSummary& c = r.compute[busiest];
  const double peak = s.peak_flops();
  const double gemm_s = c.gemm + c.expert_gemm;
  std::ostringstream out;
  out << "compute            stage " << busiest << " (" << r.stage_layers[busiest] << " layers), one micro-batch, forward + backward: "
      << "GEMMs " << time_text(c.gemm) << (c.expert_gemm > 0 ? " + experts " + time_text(c.expert_gemm) : "") << " ("
      << fixed(gemm_s > 0 ? 100 * c.gemm_flops / gemm_s / peak : 0, 1) << "% of peak), attention " << time_text(c.attention)
      << ", memory-bound " << time_text(c.memory) << ", recompute " << time_text(c.recompute)
      << (s.gpu.kernels.measured ? "" : " (generic kernel figures: the GPU entry has no \"kernels\")") << "\n";
  return out.str();
}

// The stage with the most communication, per micro-batch; and the end-of-step sync.
std::string communication_text(const model::StudyResult& r) {
  std::ostringstream out;
  std::size_t busiest = 0;
  double most = -1;
  for (std::size_t st = 0; st < r.comm.size(); ++st) {
    double total = 0;
    for (const auto& c : r.comm[st]) total += c.seconds;
    if (total > most) most = total, busiest = st;
  }
  const bool sync = r.dense_sync.algorithm != "none" || r.expert_sync.algorithm != "none";
  if (most > 0 || sync) {
    out << "communication      stage " << busiest << " (" << r.stage_layers[busiest]
        << " layers), one micro-batch, forward + backward, per GPU:\n";
    for (const auto& c : r.comm[busiest])
      out << "  " << std::left << std::setw(30) << std::string(sim::to_string(c.what)) + " (" + c.group + ")" << std::right
          << std::setw(14) << c.algorithm << "  NIC " << std::setw(9) << bytes_text(c.nic_bytes) << "  NVLink "
          << std::setw(9) << bytes_text(c.nvlink_bytes) << "  " << time_text(c.seconds)
          << (c.exposed_seconds > 0 ? ", " + time_text(c.exposed_seconds) + " not hidden in the op" : "") << "\n";
  }
  for (const auto* c : {&r.dense_sync, &r.expert_sync}) {
    if (c->algorithm == "none") continue;
    out << "  " << std::left << std::setw(30) << (c == &r.dense_sync ? "grad sync (dp-cp)" : "grad sync (expert-dp)")
        << std::right << std::setw(14) << c->algorithm << "  NIC " << std::setw(9) << bytes_text(2 * c->nic_bytes)
        << "  NVLink " << std::setw(9) << bytes_text(2 * c->nvlink_bytes) << "  " << time_text(2 * c->seconds)
        << " (reduce-scatter + all-gather, once per step)\n";
  }
  return out.str();
}

nlohmann::json comm_json(const model::CommSummary& c, int stage) {
  return {{"stage", stage},
          {"what", std::string(sim::to_string(c.what))},
          {"group", c.group},
          {"algorithm", c.algorithm},
          {"link", std::string(sim::to_string(c.channel))},
          {"nic_bytes", c.nic_bytes},
          {"nvlink_bytes", c.nvlink_bytes},
          {"seconds", c.seconds},
          {"exposed_seconds", c.exposed_seconds}};
}

}  // namespace

std::string scenario_header(const model::Scenario& s) {
  const model::Plan& p = s.plan;
  std::ostringstream out;
  out << s.model.id << " on " << s.cluster.id << " (" << s.gpus() << " x " << s.gpu.name << "): TP" << p.tp
      << (p.sp ? "+SP" : "") << (p.cp > 1 ? " CP" + std::to_string(p.cp) : "") << " PP" << p.pp << " EP" << p.ep
      << (s.model.moe.enabled() && p.etp != p.tp ? " ETP" + std::to_string(p.etp) : "") << " DP" << p.dp << " ZeRO-" << p.zero
      << (p.overlap_grad_reduce ? " (overlapped grad reduce)" : "") << ", " << p.precision << ", recompute "
      << model::recompute_modules_text(p.recompute_modules)
      << (p.recompute_layers > 0 ? " + " + std::to_string(p.recompute_layers) + " whole layers per stage" : "") << ", "
      << p.comm_sms << " comm SMs, micro-batch " << p.microbatch_size << " x " << s.model.seq_len
      << " tokens, global batch " << p.global_batch << " (" << s.microbatches() << " micro-batches per pipeline), "
      << si(s.tokens) << " tokens at $" << fixed(s.price_per_hour, 2) << "/GPU-hour";
  return out.str();
}

std::string scenario_text(const ScenarioRun& run) {
  const model::Scenario& s = run.scenario;
  const model::StudyResult& r = run.study;
  std::ostringstream out;
  out << scenario_header(s) << "\nschedule " << run.kind << " (" << r.schedule.stages << " stages)\n\n";
  out << "step time          " << fixed(r.run.step_seconds, 3) << " s = pipeline " << fixed(seconds(r.pipeline), 3)
      << " s + data-parallel sync " << fixed(seconds(r.dp_sync), 3) << " s + optimizer " << fixed(seconds(r.optimizer), 3)
      << " s\n";
  const model::MemoryBreakdown& mem = r.peak_memory;
  out << "memory per GPU     " << fixed(mem.total_gib(), 1) << " GiB of " << fixed(s.gpu.hbm_gib, 0) << " on rank "
      << mem.rank << " (weights " << fixed(mem.weights_gib, 1) << ", grads " << fixed(mem.grads_gib, 1) << ", optimizer "
      << fixed(mem.optimizer_gib, 1) << ", activations " << fixed(mem.activations_gib, 1) << ", workspace "
      << fixed(mem.workspace_gib, 1) << ")" << (r.fits ? "" : "  DOES NOT FIT") << "\n";
  const model::RunEstimate& e = r.run;
  out << "throughput         " << si(e.tokens_per_second) << " tokens/s, " << fixed(e.model_tflops_per_gpu, 0)
      << " model TFLOP/s per GPU (" << fixed(e.hardware_tflops_per_gpu, 0) << " with recomputation)\n";
  const bool fp8 = s.plan.precision == "fp8";
  auto both = [&](double of_run, double bf16) {
    return fixed(100 * of_run, 1) + "%" + (fp8 ? " of FP8 peak, " + fixed(100 * bf16, 1) + "% of BF16 peak" : " of BF16 peak");
  };
  out << "utilization        MFU " << both(e.mfu, e.mfu_bf16) << " (causal attention); " << both(e.mfu_noncausal, e.mfu_noncausal_bf16)
      << " (attention over the whole sequence); HFU " << both(e.hfu, e.hfu_bf16) << " (recomputation included)\n";
  const model::StepBreakdown& b = r.breakdown;
  auto part = [&](const char* name, double sec) {
    return std::string(name) + " " + fixed(sec, 3) + " s (" + fixed(100 * sec / std::max(1e-12, b.total()), 1) + "%)";
  };
  out << "step decomposed    " << part("compute", b.compute) << " + " << part("exposed communication", b.exposed_comm) << " + "
      << part("pipeline bubble", b.bubble) << " + " << part("data-parallel tail", b.dp_tail) << " + "
      << part("optimizer", b.optimizer) << " (mean over ranks)\n";
  out << "training run       " << si(e.steps) << " steps, " << si(e.gpu_hours) << " GPU-hours, " << fixed(e.days, 1)
      << " days, $" << si(e.dollars) << ", " << fixed(e.kwh / 1000, 0) << " MWh\n";
  out << compute_text(s, r) << communication_text(r);
  out << "per trillion tokens " << si(e.gpu_hours_per_t) << " GPU-hours, " << fixed(e.days_per_t, 2) << " days, $"
      << si(e.dollars_per_t) << ", " << fixed(e.kwh_per_t / 1000, 1) << " MWh\n";
  return out.str();
}

nlohmann::json scenario_json(const ScenarioRun& run) {
  if (!run.not_available.empty()) return {{"kind", run.kind}, {"not_available", run.not_available}};
  const model::Scenario& s = run.scenario;
  const model::StudyResult& r = run.study;
  const Summary sum = summarize(r);
  const model::MemoryBreakdown& m = r.peak_memory;
  const model::RunEstimate& e = r.run;
  const sim::Metrics& sm = r.sim.metrics;
  return {{"mode", "model"},
          {"model", s.model.id},
          {"cluster", s.cluster.id},
          {"gpus", s.gpus()},
          {"kind", run.kind},
          // The keys unit-cost runs have too (times in "unit": us).
          {"ranks", r.schedule.ranks},
          {"stages", r.schedule.stages},
          {"microbatches", r.schedule.microbatches},
          {"unit", "us"},
          {"makespan", sim::to_us(sm.makespan)},
          {"max_bubble", sim::to_us(sm.max_bubble())},
          {"events", sm.events},
          {"per_rank", per_rank_json(sm)},
          {"critical_path", critical_path_json(sm)},
          {"plan", {{"tp", s.plan.tp}, {"pp", s.plan.pp}, {"ep", s.plan.ep}, {"dp", s.plan.dp}, {"zero", s.plan.zero},
                    {"cp", s.plan.cp}, {"sp", s.plan.sp}, {"etp", s.plan.etp}, {"seq_len", s.model.seq_len},
                    {"overlap_grad_reduce", s.plan.overlap_grad_reduce},
                    {"microbatch_size", s.plan.microbatch_size}, {"global_batch", s.plan.global_batch},
                    {"microbatches", s.microbatches()}, {"precision", s.plan.precision},
                    {"recompute", s.plan.recompute},
                    {"recompute_modules", model::recompute_modules_text(s.plan.recompute_modules)},
                    {"recompute_layers", s.plan.recompute_layers}, {"stage_layers", r.stage_layers},
                    {"nvlink_domain", s.cluster.domain()}, {"comm_sms", s.plan.comm_sms}}},
          {"compute", [&] {
             nlohmann::json list = nlohmann::json::array();
             for (std::size_t st = 0; st < r.compute.size(); ++st) {
               const model::ComputeSummary& c = r.compute[st];
               list.push_back({{"stage", st}, {"gemm_seconds", c.gemm}, {"expert_gemm_seconds", c.expert_gemm},
                               {"attention_seconds", c.attention}, {"memory_seconds", c.memory},
                               {"recompute_seconds", c.recompute}, {"gemm_flops", c.gemm_flops}});
             }
             return list;
           }()},
          {"communication", [&] {
             nlohmann::json list = nlohmann::json::array();
             for (std::size_t st = 0; st < r.comm.size(); ++st)
               for (const auto& c : r.comm[st]) list.push_back(comm_json(c, static_cast<int>(st)));
             return list;
           }()},
          {"grad_sync", {{"dense", {{"algorithm", r.dense_sync.algorithm}, {"nic_bytes", 2 * r.dense_sync.nic_bytes},
                                    {"nvlink_bytes", 2 * r.dense_sync.nvlink_bytes}, {"seconds", 2 * r.dense_sync.seconds}}},
                         {"experts", {{"algorithm", r.expert_sync.algorithm}, {"nic_bytes", 2 * r.expert_sync.nic_bytes},
                                      {"nvlink_bytes", 2 * r.expert_sync.nvlink_bytes},
                                      {"seconds", 2 * r.expert_sync.seconds}}}}},
          {"step_seconds", e.step_seconds},
          {"pipeline_seconds", seconds(r.pipeline)},
          {"dp_sync_seconds", seconds(r.dp_sync)},
          {"optimizer_seconds", seconds(r.optimizer)},
          {"bubble_fraction", sum.bubble_fraction},
          {"exposed_comm_fraction", sum.exposed_fraction},
          {"memory_gib", {{"rank", m.rank}, {"total", m.total_gib()}, {"weights", m.weights_gib}, {"grads", m.grads_gib},
                          {"optimizer", m.optimizer_gib}, {"activations", m.activations_gib},
                          {"workspace", m.workspace_gib}, {"capacity", s.gpu.hbm_gib}, {"fits", r.fits}}},
          {"tokens_per_second", e.tokens_per_second},
          {"mfu", e.mfu},
          {"training_flops_per_token", model::training_flops_per_token(s)},
          {"flops_per_token", [&] {
             const model::FlopsPerToken f = model::flops_per_token(s);
             return nlohmann::json{{"model_causal", f.model_causal}, {"model_noncausal", f.model_noncausal},
                                   {"hardware", f.hardware}};
           }()},
          {"utilization", {{"mfu_causal_of_run_precision_peak", e.mfu}, {"mfu_causal_of_bf16_peak", e.mfu_bf16},
                           {"mfu_noncausal_of_run_precision_peak", e.mfu_noncausal},
                           {"mfu_noncausal_of_bf16_peak", e.mfu_noncausal_bf16},
                           {"hfu_of_run_precision_peak", e.hfu}, {"hfu_of_bf16_peak", e.hfu_bf16},
                           {"model_tflops_per_gpu", e.model_tflops_per_gpu},
                           {"hardware_tflops_per_gpu", e.hardware_tflops_per_gpu}}},
          {"step_breakdown_seconds", {{"compute", r.breakdown.compute}, {"exposed_comm", r.breakdown.exposed_comm},
                                      {"pipeline_bubble", r.breakdown.bubble}, {"dp_tail", r.breakdown.dp_tail},
                                      {"optimizer", r.breakdown.optimizer}, {"total", r.breakdown.total()}}},
          {"run", {{"tokens", s.tokens}, {"steps", e.steps}, {"gpu_hours", e.gpu_hours}, {"days", e.days},
                   {"dollars", e.dollars}, {"kwh", e.kwh}}},
          {"per_trillion_tokens", {{"gpu_hours", e.gpu_hours_per_t}, {"days", e.days_per_t},
                                   {"dollars", e.dollars_per_t}, {"kwh", e.kwh_per_t}}}};
}

std::string scenario_table(const std::vector<ScenarioRun>& runs) {
  std::ostringstream out;
  out << std::left << std::setw(18) << "schedule" << std::right << std::setw(10) << "step s" << std::setw(9) << "bubble"
      << std::setw(10) << "exposed" << std::setw(14) << "mem GiB/GPU" << std::setw(7) << "MFU" << std::setw(12)
      << "GPU-hours" << std::setw(11) << "days" << std::setw(11) << "cost $" << "\n";
  for (const ScenarioRun& run : runs) {
    out << std::left << std::setw(18) << run.kind << std::right;
    if (!run.not_available.empty()) {
      out << "  not available: " << run.not_available << "\n";
      continue;
    }
    const model::StudyResult& r = run.study;
    const Summary sum = summarize(r);
    out << std::setw(10) << fixed(r.run.step_seconds, 2) << std::setw(9) << fixed(100 * sum.bubble_fraction, 1) + "%"
        << std::setw(10) << fixed(100 * sum.exposed_fraction, 1) + "%" << std::setw(14)
        << fixed(r.peak_memory.total_gib(), 1) + (r.fits ? "" : "!") << std::setw(7) << fixed(100 * r.run.mfu, 1) + "%"
        << std::setw(12) << si(r.run.gpu_hours) << std::setw(11) << fixed(r.run.days, 1) << std::setw(11)
        << si(r.run.dollars) << "\n";
  }
  out << "(bubble: idle pipeline time; exposed: time spent only communicating (all-to-all, TP, P2P ...); both of the\n"
         " step, mean over ranks, the data-parallel tail apart; mem: the fullest GPU, '!' = does not fit in its HBM)\n";
  return out.str();
}

}  // namespace ppsim::cli
