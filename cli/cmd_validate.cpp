// ppsim validate: run a schedule for real (CPU threads, or GPUs with --backend cuda), check its
// loss and gradients against a sequential run, and compare the measured timeline with the
// simulator's prediction, step time and op by op.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/progress.hpp"
#include "cli/report.hpp"
#include "cli/schedule_source.hpp"
#include "cli/validate_held_out.hpp"
#include "cli/validate_sizing.hpp"
#include "model/catalog.hpp"
#include "runtime/device_info.hpp"
#include "runtime/calibrate.hpp"
#include "runtime/cuda_executor.hpp"
#include "runtime/distributed.hpp"
#include "runtime/executor.hpp"
#include "runtime/predict.hpp"
#include "traces/chrome_trace.hpp"

namespace ppsim::cli {

namespace {

runtime::CudaOptions cuda_options(const Args& a) {
  runtime::CudaOptions c;
  c.mode = a.get_choice("mode", "single-gpu", {"single-gpu", "nccl"}) == "nccl" ? runtime::CudaOptions::Mode::Nccl
                                                                                : runtime::CudaOptions::Mode::SingleGpu;
  const std::string partition = a.get_choice("sm-partition", "auto", {"auto", "green", "none"});
  c.partition = partition == "green"  ? runtime::CudaOptions::Partition::Green
                : partition == "none" ? runtime::CudaOptions::Partition::None
                                      : runtime::CudaOptions::Partition::Auto;
  c.comm_sms = a.get_int("comm-sms", 0, 0, 1024);
  c.device = a.get_int("device", 0, 0, 1023);
  return c;
}

// A machine's kernel rates as the report gives them (the GPU's per pass when measured).
nlohmann::json rates_json(const runtime::KernelRates& r) {
  nlohmann::json j = {{"gemm_gflops", r.gemm_gflops},     {"activation_ns", r.activation_ns},
                      {"activation_grad_ns", r.activation_grad_ns}, {"copy_GBps", r.copy_gbps},
                      {"launch_ns", r.launch_ns}};
  if (r.gemm_gflops_f > 0) j["gemm_gflops_by_pass"] = {{"F", r.gemm_gflops_f}, {"Bi", r.gemm_gflops_bi}, {"W", r.gemm_gflops_w}};
  return j;
}

}  // namespace

int run_validate(const Words& args, std::ostream& out) {
  std::vector<FlagSpec> specs = schedule_source_flags();
  specs.push_back({"backend", true, "cpu (threads; default) | cuda (a CUDA build and a GPU)"});
  specs.push_back({"launcher", true, "threads (default: every rank in this process) | mpi (one process per rank: mpirun -np P) | "
                                     "env (one per rank: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun sets them)"});
  specs.push_back({"precision", true, "cpu: double (default; must match to 1e-12) | float (1e-4); cuda runs float"});
  specs.push_back({"mode", true, "cuda: single-gpu (default; P ranks share one GPU) | nccl (one GPU per rank)"});
  specs.push_back({"sm-partition", true, "cuda single-gpu: auto (default) | green (SMs split by green contexts) | none"});
  specs.push_back({"comm-sms", true, "cuda: 0 (default; copies on the copy engines) | N (the SM-limited copy on N SMs)"});
  specs.push_back({"device", true, "cuda single-gpu: the GPU to use (default 0)"});
  specs.push_back({"hidden", true, "model width (default 256)"});
  specs.push_back({"rows", true, "tokens per micro-batch (default 64)"});
  specs.push_back({"experts", true, "1 (default: dense MLP stages) | E: every stage a small MoE layer of E MLP experts"});
  specs.push_back({"top-k", true, "experts per token in MoE stages (default 1; at most --experts)"});
  specs.push_back({"model", true, "cuda: size the stage from this model (width, tokens per micro-batch, experts, top-k), "
                                  "scaled to a rank's share of GPU memory and --max-op-gflop"});
  specs.push_back({"max-op-gflop", true, "with --model: the most GFLOP one F may take (default 50: milliseconds on a GPU)"});
  specs.push_back({"reference", true, "auto (default: cpu unless its run would take minutes) | cpu (sequential, double) | "
                                      "gpu (sequential on the GPU, float; cuda only)"});
  specs.push_back({"timeout-ms", true, "deadline of every wait between ranks (default 10000, or on the CPU three predicted "
                                       "steps when that is longer)"});
  specs.push_back({"trace", true, "write the measured timeline as a Chrome trace"});
  specs.push_back({"predicted-trace", true, "write the simulator's prediction (made before the run) as a Chrome trace"});
  specs.push_back({"held-out", false, "run every kind on these ranks and micro-batches; fit op costs on --fit-kind, predict the others"});
  specs.push_back({"fit-kind", true, "with --held-out: the kind the costs are fitted on (default 1f1b)"});
  specs.push_back({"format", true, "text (default) | json"});
  specs.push_back({"help", false, "show this help"});
  const Args a(args, specs, "validate");
  if (a.has("help")) {
    out << "usage: ppsim validate --backend cpu|cuda --kind K --ranks P --microbatches M [--hidden H] [--trace measured.json]\n"
        << usage_lines(specs);
    return 0;
  }
  const bool cuda = a.get_choice("backend", "cpu", {"cpu", "cuda"}) == "cuda";
  if (cuda && a.has("precision") && *a.get("precision") != "float")
    throw std::invalid_argument("--precision " + *a.get("precision") + ": the cuda backend runs float only");
  if (!cuda)
    for (const char* flag : {"mode", "sm-partition", "comm-sms", "device"})
      if (a.has(flag)) throw std::invalid_argument(std::string("--") + flag + ": only with --backend cuda");
  const bool single = cuda || a.get_choice("precision", "double", {"double", "float"}) == "float";
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  runtime::ExecOptions o;
  o.hidden = a.get_int("hidden", 256, 1, 4096);
  o.ffn = 2 * o.hidden;
  o.rows = a.get_int("rows", 64, 1, 4096);
  o.experts = a.get_int("experts", 1, 1, 64);
  o.top_k = a.get_int("top-k", 1, 1, o.experts);
  o.timeout = std::chrono::milliseconds(a.get_int("timeout-ms", 10000, 1, 3'600'000));
  runtime::CudaOptions cuda_opts = cuda ? cuda_options(a) : runtime::CudaOptions{};
  cuda_opts.measure_rates = cuda;
  const std::string reference_flag = a.get_choice("reference", "auto", {"auto", "cpu", "gpu"});
  if (!cuda && reference_flag == "gpu") throw std::invalid_argument("--reference gpu: only with --backend cuda");
  if (a.has("model")) {
    if (!cuda) throw std::invalid_argument("--model: only with --backend cuda (CPU stages stay small: use --hidden, --rows)");
    for (const char* flag : {"hidden", "rows", "experts", "top-k"})
      if (a.has(flag)) throw std::invalid_argument(std::string("--") + flag + ": not with --model (the model sizes the stage)");
  } else if (a.has("max-op-gflop")) {
    throw std::invalid_argument("--max-op-gflop: only with --model");
  }
  const std::string launcher = a.get_choice("launcher", "threads", {"threads", "mpi", "env"});
  if (a.has("fit-kind") && !a.has("held-out")) throw std::invalid_argument("--fit-kind: only with --held-out");
  if (a.has("held-out")) {
    if (cuda || launcher != "threads") throw std::invalid_argument("--held-out: runs on CPU threads only (no --backend cuda, no --launcher)");
    return run_held_out(a, o, single, out);
  }
  if (launcher != "threads" && cuda && a.has("mode") && *a.get("mode") != "nccl")
    throw std::invalid_argument("--launcher " + launcher + " --backend cuda: one process per GPU runs over NCCL; --mode " +
                                *a.get("mode") + " does not apply");
  check_outputs(a, {"trace", "predicted-trace"});
  const sim::Schedule s = load_schedule(a);
  require_valid_schedule(a, s);
  StageSize size;
  if (a.has("model")) {
    const double max_gflop = a.get_double("max-op-gflop", 50, 0.001, 1e6);
    // A rank's share of the GPU's memory (all of one GPU with NCCL), less a fifth for the
    // runtime, cuBLAS and the allocator's slack.
    const runtime::DeviceInfo dev = runtime::probe_devices();
    const int device = cuda_opts.mode == runtime::CudaOptions::Mode::Nccl ? 0 : cuda_opts.device;
    const double gpu_gib = device < static_cast<int>(dev.gpus.size()) ? dev.gpus[device].memory_gib : 80.0;
    const int sharing = cuda_opts.mode == runtime::CudaOptions::Mode::Nccl || launcher != "threads" ? 1 : s.ranks;
    size = size_from_model(model::find_model(*a.get("model")), s, 0.8 * gpu_gib * 1024 * 1024 * 1024 / sharing, max_gflop);
    // The GPU's sequential reference holds every stage on one GPU: with a GPU per rank that is
    // more than a rank's share.
    const double reference_gib = s.stages * rank_bytes(size.options, 1, 1) / (1024.0 * 1024 * 1024);
    if (reference_gib > 0.8 * gpu_gib && a.get_or("reference", "auto") != "cpu")
      throw std::invalid_argument("--model " + *a.get("model") + ": the sequential reference on one GPU needs " +
                                  std::to_string(static_cast<int>(reference_gib)) + " GiB, over 80% of its " +
                                  std::to_string(static_cast<int>(gpu_gib)) + " GiB; allowed: --max-op-gflop lower, or --reference cpu");
    o.hidden = size.options.hidden;
    o.ffn = size.options.ffn;
    o.rows = size.options.rows;
    o.experts = size.options.experts;
    o.top_k = size.options.top_k;
  } else {
    size = size_of(o, s);
  }
  // The sequential reference: in double on the CPU, unless that would take minutes (about
  // 0.2 TFLOP, tens of seconds on one core) and the run is on a GPU.
  const double reference_flop = 3.0 * size.f_gflop * 1e9 * s.stages * s.microbatches;
  const bool gpu_reference = reference_flag == "gpu" || (reference_flag == "auto" && cuda && reference_flop > 2e11);
  if (!gpu_reference) check_cpu_work(o, s, !cuda && single ? 4 : 8, 1, !cuda);  // a GPU run's CPU reference is double
  // Large stages on the CPU: a wait may legitimately outlast the default deadline; give it three
  // predicted steps (the cost model at this machine's cached rates) unless --timeout-ms says.
  if (!cuda && !a.has("timeout-ms")) {
    const runtime::KernelRates r = single ? runtime::measure_cpu_rates<float>(o) : runtime::measure_cpu_rates<double>(o);
    const sim::StageCost c = runtime::predict_stage_cost(o, r, single ? 4 : 8, runtime::core_share(s.ranks));
    const double step_ms = static_cast<double>(c.f + c.b) * (s.stages + s.microbatches) / 1e6;
    o.timeout = std::chrono::milliseconds(static_cast<long long>(std::clamp(3 * step_ms, 10000.0, 3.6e6)));
  }
  const int reference_device = cuda_opts.mode == runtime::CudaOptions::Mode::Nccl ? 0 : cuda_opts.device;
  auto cuda_error = [&](const runtime::ExecResult<float>& run) {
    if (!gpu_reference)
      return runtime::max_relative_error(runtime::to_double(run), runtime::run_sequential<double>(s.stages, s.microbatches, o));
    return runtime::max_relative_error(runtime::to_double(run),
                                       runtime::to_double(runtime::run_sequential_cuda(s.stages, s.microbatches, o, reference_device)));
  };
  double error = 0;
  sim::Timeline measured;
  runtime::CudaRunInfo info;
  std::unique_ptr<runtime::World> world;
  runtime::ClockSync clocks;
  // A wait past its deadline, a rank that failed: one line and exit 2 on every backend, as the
  // cuda path has always said it.
  // Long runs say so on stderr every few seconds (a run that ends sooner prints nothing).
  std::optional<Heartbeat> heartbeat;
  if (launcher == "threads") heartbeat.emplace("validate: running the schedule and its sequential reference");
  try {
    if (launcher != "threads") {
      // One process per rank: every process runs its rank; rank 0 checks, reports and decides
      // the exit code, which every process returns.
      world = runtime::make_world(launcher, o.timeout);
      auto distributed_cuda = [&] {
        runtime::CudaDistributedResult run;
        try {
          run = runtime::execute_cuda_distributed(s, o, cuda_opts, *world);
        } catch (const std::runtime_error& e) {
          throw std::invalid_argument(std::string("--backend cuda: ") + e.what());  // one line, exit 2
        }
        info = run.info;
        if (!run.root) return;
        error = cuda_error(run.run);
        measured = run.run.timeline;
        clocks = run.before.with_drift_to(run.after);
      };
      auto distributed = [&](auto scalar) {
        using S = decltype(scalar);
        const runtime::DistributedResult<S> run = runtime::execute_distributed<S>(s, o, *world);
        if (!run.root) return;
        error = runtime::max_relative_error(run.run, runtime::run_sequential<S>(s.stages, s.microbatches, o));
        measured = run.run.timeline;
        clocks = run.before.with_drift_to(run.after);
      };
      if (cuda) distributed_cuda();
      else if (single) distributed(0.0f);
      else distributed(0.0);
      if (world->rank() != 0) {
        const runtime::Bytes verdict = world->broadcast({});
        return verdict.empty() ? 1 : verdict[0];
      }
    } else if (cuda) {
      runtime::ExecResult<float> run;
      try {
        run = runtime::execute_cuda(s, o, cuda_opts, &info);
      } catch (const std::runtime_error& e) {
        throw std::invalid_argument(std::string("--backend cuda: ") + e.what());  // one line, exit 2
      }
      error = cuda_error(run);
      measured = run.timeline;
    } else if (single) {
      const auto run = runtime::execute<float>(s, o);
      error = runtime::max_relative_error(run, runtime::run_sequential<float>(s.stages, s.microbatches, o));
      measured = run.timeline;
    } else {
      const auto run = runtime::execute<double>(s, o);
      error = runtime::max_relative_error(run, runtime::run_sequential<double>(s.stages, s.microbatches, o));
      measured = run.timeline;
    }
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(std::string("--backend ") + (cuda ? "cuda" : "cpu") + ": " + e.what());
  }
  heartbeat.reset();
  const double tolerance = single ? 1e-4 : 1e-12;
  const bool match = error <= tolerance;
  if (world) world->broadcast({static_cast<char>(match ? 0 : 1)});
  // The prediction made before the run (the cost model at this machine's measured rates; CPU
  // only), and the costs fitted to the run (a check of the engine's rules, not a prediction).
  runtime::KernelRates rates;
  runtime::Calibration before;
  double share = 1;
  int cores = 0, ranks_here = 0, shared_cores = 0;
  // On a GPU the rates were measured on rank 0's SMs before the ranks started. Ranks sharing
  // every SM (no partition) take turns on them.
  const bool gpu_shared = cuda && info.sms_per_rank == 0 && info.mode == "single-gpu";
  if (cuda) {
    rates = info.rates;
    share = gpu_shared ? s.ranks : 1;
    before.cost = runtime::predict_stage_cost(o, rates, 4, share);
  } else {
    rates = single ? runtime::measure_cpu_rates<float>(o) : runtime::measure_cpu_rates<double>(o);
    // Ranks sharing this machine's cores take turns on them: all of them with threads, the
    // node's own with a launcher. All the ranks here: the engine simulates the sharing (an op
    // runs at full speed while a core is free). Spread over nodes: each op is stretched by the
    // node's ranks per core.
    ranks_here = world ? world->local_size() : s.ranks;
    cores = runtime::available_cores();
    shared_cores = ranks_here == s.ranks ? runtime::shared_cores_for(ranks_here) : 0;
    share = shared_cores > 0 ? 1 : runtime::core_share(ranks_here);
    before.cost = runtime::predict_stage_cost(o, rates, single ? 4 : 8, share);
  }
  // Ranks sharing the cores: the fit is of each op's work on a core of its own, which the
  // simulation then shares out as the run did.
  const runtime::Calibration measured_fit = runtime::calibrate(measured);
  const runtime::Calibration fit = shared_cores > 0 ? runtime::calibrate(runtime::on_own_cores(measured, shared_cores)) : measured_fit;
  const runtime::Comparison cmp = runtime::compare_with_simulation(s, measured, fit, shared_cores);
  // A CUDA run without measured rates gets the fitted comparison only.
  const bool predicted = !cuda || rates.gemm_gflops > 0;
  const runtime::Comparison pre = predicted ? runtime::compare_with_simulation(s, measured, before, shared_cores) : runtime::Comparison{};
  const std::string where = cuda    ? (info.mode.rfind("nccl", 0) == 0 ? std::to_string(s.ranks) + " GPUs (" + info.mode + "), " + info.gpu
                                                                      : "1 GPU (" + info.gpu + "), " + info.partition)
                             : world ? std::to_string(s.ranks) + " CPU processes (" + launcher + " launcher)"
                                     : std::to_string(s.ranks) + " CPU threads";
  // The traces and the report land together, or none does.
  std::vector<std::pair<std::string, std::string>> outputs;
  if (auto path = a.get("trace")) {
    traces::TraceInfo ti;
    ti.source = cuda ? "measured on " + info.gpu : world ? "measured on CPU processes, on rank 0's clock" : "measured on CPU threads";
    outputs.emplace_back(*path, traces::to_chrome_trace(measured, ti).dump() + "\n");
  }
  if (auto path = a.get("predicted-trace")) {
    traces::TraceInfo ti;
    ti.source = predicted ? "simulated before the run: ppsim's cost model at this machine's rates" : "simulated with the costs fitted to the run";
    outputs.emplace_back(*path, traces::to_chrome_trace(predicted ? pre.predicted : cmp.predicted, ti).dump() + "\n");
  }
  if (format == "json") {
    const auto us = [](sim::Time t) { return static_cast<double>(t) / 1e3; };
    nlohmann::json j = {{"kind", s.kind},
                        {"ranks", s.ranks},
                        {"microbatches", s.microbatches},
                        {"backend", cuda ? "cuda" : "cpu"},
                        {"launcher", launcher},
                        {"where", where},
                        {"hidden", o.hidden},
                        {"rows", o.rows},
                        {"experts", o.experts},
                        {"top_k", o.top_k},
                        {"precision", single ? "float" : "double"},
                        {"max_relative_error", error},
                        {"tolerance", tolerance},
                        {"match", match},
                        {"fitted_us", {{"F", us(fit.cost.f)}, {"B", us(fit.cost.b)}, {"W", us(fit.cost.w)}, {"FB", us(fit.cost.fb)}}},
                        {"measured_step_us", us(cmp.measured_step)},
                        {"predicted_step_us", us(cmp.predicted_step)},
                        {"step_error", cmp.step_error},
                        {"ops_compared", cmp.ops_compared},
                        {"mean_start_error_us", us(cmp.mean_start_error)},
                        {"max_start_error_us", us(cmp.max_start_error)},
                        {"measured_bubble_us", nlohmann::json::array()},
                        {"predicted_bubble_us", nlohmann::json::array()}};
    for (int r = 0; r < s.ranks; ++r) {
      j["measured_bubble_us"].push_back(us(cmp.measured_bubble[r]));
      j["predicted_bubble_us"].push_back(us(cmp.predicted_bubble[r]));
    }
    if (world) j["clock_uncertainty_us"] = us(clocks.max_uncertainty_ns());
    j["reference"] = gpu_reference ? "sequential on the GPU, float" : "sequential on the CPU, double";
    j["op_size"] = {{"model", size.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(size.model)},
                    {"scaled", size.scaled},
                    {"f_gflop", size.f_gflop},
                    {"rank_gib", size.rank_gib},
                    {"measured_mean_us", {{"F", us(measured_fit.cost.f)}, {"B", us(measured_fit.cost.b)}, {"W", us(measured_fit.cost.w)}}}};
    if (predicted) {
      nlohmann::json b = {{"rates", rates_json(rates)},
                          {"measured_on", cuda ? "rank 0's SMs on the GPU" : "this CPU, one core"},
                          {"cores", cores},
                          {"ranks_on_this_machine", ranks_here},
                          {"core_share", share},
                          {"shared_cores", shared_cores},
                          {"costs_us", {{"F", us(before.cost.f)}, {"B", us(before.cost.b)}, {"W", us(before.cost.w)}, {"FB", us(before.cost.fb)}}},
                          {"predicted_step_us", us(pre.predicted_step)},
                          {"step_error", pre.step_error},
                          {"mean_start_error_us", us(pre.mean_start_error)},
                          {"max_start_error_us", us(pre.max_start_error)},
                          {"predicted_bubble_us", nlohmann::json::array()}};
      for (int r = 0; r < s.ranks; ++r) b["predicted_bubble_us"].push_back(us(pre.predicted_bubble[r]));
      b["rates"]["from_cache"] = rates.from_cache;
      if (cuda && info.rates_busy_partitions > 0) {
        b["rates"]["busy_partitions"] = info.rates_busy_partitions;
        b["rates_alone"] = rates_json(info.rates_alone);
      }
      j["prediction_before_run"] = b;
    }
    if (cuda)
      j["cuda"] = {{"gpu", info.gpu},           {"mode", info.mode},
                   {"partition", info.partition}, {"sms_per_rank", info.sms_per_rank},
                   {"comm_sms", cuda_opts.comm_sms}, {"one_clock", info.one_clock},
                   {"ops_issued_ahead", info.ops_issued_ahead}, {"ops_timed", info.ops},
                   {"host_issue_us_per_op", info.issue_us}, {"p2p", info.p2p}};
    outputs.emplace_back("-", versioned(std::move(j)).dump(1) + "\n");
    write_outputs(outputs, out);
    return match ? 0 : 1;
  }
  std::ostringstream text;
  text << s.kind << " on " << where << ", " << s.microbatches << " micro-batches, "
       << (o.experts > 1 || o.top_k > 1
               ? "MoE stages (" + std::to_string(o.experts) + " experts, top-" + std::to_string(o.top_k) + ")"
               : std::string("MLP stages"))
       << " of width " << o.hidden << ", " << o.rows << " tokens per micro-batch, " << (single ? "float" : "double") << "\n";
  text << "op size: " << describe(size) << (size.model.empty() ? "" : " (from " + size.model + ")");
  for (const std::string& why : size.scaled) text << "; " << why;
  text << "\n";
  if (cuda && info.ops > 0)
    text << std::fixed << std::setprecision(1) << "launches: the host issued an op's kernels in " << info.issue_us
         << " us on average; " << info.ops_issued_ahead << " of " << info.ops
         << " ops were wholly issued before the GPU began them (their launch cost was off the critical path); hand-offs: "
         << info.p2p << "\n"
         << std::defaultfloat;
  text << "loss and gradients vs a sequential run" << (gpu_reference ? " (on the GPU, float)" : cuda ? " (CPU, double)" : "")
       << ": max relative error "
       << std::scientific << std::setprecision(2) << error << " (allowed " << tolerance << "): " << (match ? "MATCH" : "MISMATCH")
       << "\n"
       << std::defaultfloat;
  if (cuda && predicted) {
    text << std::fixed << std::setprecision(1) << "predicted before the run (ppsim's cost model of this stage at this GPU's rates on "
         << (gpu_shared ? "all SMs, shared by the ranks: x" + std::to_string(s.ranks) : "one rank's SMs")
         << (info.rates_busy_partitions > 0 ? " while the other " + std::to_string(info.rates_busy_partitions) + " ranks' SMs run GEMMs" : "")
         << ": GEMM "
         << rates.gemm_gflops / 1e3 << " TFLOP/s (F " << rates.gemm_gflops_f / 1e3 << ", Bi " << rates.gemm_gflops_bi / 1e3
         << ", W " << rates.gemm_gflops_w / 1e3 << "), GELU " << std::setprecision(3) << rates.activation_ns << "/" << rates.activation_grad_ns
         << " ns per element forward/backward, memory " << std::setprecision(1) << rates.copy_gbps << " GB/s, "
         << std::setprecision(2) << rates.launch_ns / 1e3 << " us per kernel): F=" << sim::format_duration(before.cost.f)
         << " B=" << sim::format_duration(before.cost.b) << " W=" << sim::format_duration(before.cost.w) << " FB=" << sim::format_duration(before.cost.fb) << "\n";
    if (info.rates_busy_partitions > 0) {
      const runtime::KernelRates& alone = info.rates_alone;
      text << "  the same SMs with the others idle: GEMM " << alone.gemm_gflops / 1e3 << " TFLOP/s (F " << alone.gemm_gflops_f / 1e3
           << ", Bi " << alone.gemm_gflops_bi / 1e3 << ", W " << alone.gemm_gflops_w / 1e3 << "), memory " << alone.copy_gbps
           << " GB/s\n";
    }
  }
  if (!cuda) {
    text << std::fixed << std::setprecision(1) << "predicted before the run (ppsim's cost model of this stage at this machine's rates: GEMM "
         << rates.gemm_gflops << " GFLOP/s, GELU " << std::setprecision(2) << rates.activation_ns << "/" << rates.activation_grad_ns
         << " ns per element forward/backward, copies " << std::setprecision(1) << rates.copy_gbps << " GB/s"
         << (rates.from_cache ? ", cached" : ", measured now") << "; " << ranks_here << " ranks on " << cores << " cores: ";
    if (shared_cores > 0) text << "sharing them, simulated";
    else text << "x" << std::setprecision(2) << share << std::setprecision(1);
    text << "): F=" << sim::format_duration(before.cost.f)
         << " B=" << sim::format_duration(before.cost.b) << " W=" << sim::format_duration(before.cost.w) << " FB=" << sim::format_duration(before.cost.fb) << "\n";
  }
  if (predicted) {
    text << std::fixed << std::setprecision(1) << "step time: measured " << sim::format_duration(pre.measured_step) << ", predicted before the run "
         << sim::format_duration(pre.predicted_step) << " (" << std::showpos << 100 * pre.step_error << std::noshowpos
         << "%); op starts within " << sim::format_duration(pre.mean_start_error) << " on average, "
         << sim::format_duration(pre.max_start_error) << " at worst\n";
  }
  text << "fitted to this run (a check of the simulator's rules, not a prediction" << (shared_cores > 0 ? "; each op on a core of its own" : "")
       << "): F=" << sim::format_duration(fit.cost.f)
       << " B=" << sim::format_duration(fit.cost.b) << " W=" << sim::format_duration(fit.cost.w) << " FB=" << sim::format_duration(fit.cost.fb)
       << " (" << fit.samples << " ops, rms " << sim::format_duration(static_cast<sim::Time>(fit.rms_error_ns)) << ")\n";
  text << std::fixed << std::setprecision(1) << "step time: measured " << sim::format_duration(cmp.measured_step)
       << ", simulated with the fitted costs " << sim::format_duration(cmp.predicted_step) << " (" << std::showpos
       << 100 * cmp.step_error << std::noshowpos << "%)\n";
  text << "op by op: " << cmp.ops_compared << " ops, start times predicted within " << sim::format_duration(cmp.mean_start_error)
       << " on average, " << sim::format_duration(cmp.max_start_error) << " at worst";
  if (world)
    text << " (clocks aligned to rank 0 by ping-pong within " << sim::format_duration(clocks.max_uncertainty_ns()) << ", drift included)";
  text << "\n";
  const sim::TimeUnit u = sim::unit_for(cmp.measured_step);
  text << "bubble per rank, measured / " << (predicted ? "predicted before the run" : "fitted") << " (" << u.name << "):";
  for (int r = 0; r < s.ranks; ++r)
    text << " " << sim::format_in(cmp.measured_bubble[r], u) << "/" << sim::format_in((predicted ? pre : cmp).predicted_bubble[r], u);
  outputs.emplace_back("-", text.str() + "\n");
  write_outputs(outputs, out);
  return match ? 0 : 1;
}

}  // namespace ppsim::cli
