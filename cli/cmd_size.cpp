// ppsim size: the study before booking a cluster -- which GPU, how many, laid out how, with
// which schedule -- every candidate simulated, ranked, and its time-vs-cost Pareto front.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/progress.hpp"
#include "cli/scenario_flags.hpp"
#include "cli/size_merge.hpp"
#include "model/sizing.hpp"
#include "runtime/predict.hpp"
#include "runtime/world.hpp"
#include "sim/json_parse.hpp"
#include "sim/numbers.hpp"
#include "sim/work_limit.hpp"

namespace ppsim::cli {

namespace {

double number(const Args& a, const char* flag, double lo, double hi) {
  const auto v = a.get(flag);
  if (!v) return 0;
  if (const auto x = sim::parse_decimal(*v); x && *x >= lo && *x <= hi) return *x;
  throw std::invalid_argument(std::string("--") + flag + " = '" + *v + "': allowed a number in " + std::to_string(lo) + ".." +
                              std::to_string(hi));
}

std::string table(const std::vector<model::SizingRow>& rows, std::size_t top) {
  std::ostringstream out;
  out << std::left << std::setw(8) << "gpu" << std::right << std::setw(7) << "GPUs" << "  " << std::left << std::setw(17)
      << "schedule" << std::right << std::setw(4) << "TP" << std::setw(4) << "CP" << std::setw(4) << "PP" << std::setw(5) << "EP" << std::setw(6)
      << "DP" << std::setw(4) << "mbs" << std::setw(9) << "days" << std::setw(12) << "GPU-hours" << std::setw(12) << "cost $"
      << std::setw(7) << "MFU" << std::setw(9) << "mem GiB" << std::setw(8) << "bubble" << "\n";
  out << std::fixed;
  for (std::size_t i = 0; i < rows.size() && i < top; ++i) {
    const auto& r = rows[i];
    const auto& c = r.config;
    out << std::left << std::setw(8) << c.gpu << std::right << std::setw(7) << c.gpus << "  " << std::left << std::setw(17)
        << c.kind << std::right << std::setw(4) << c.tp << std::setw(4) << c.cp << std::setw(4) << c.pp << std::setw(5) << c.ep << std::setw(6) << r.dp
        << std::setw(4) << c.microbatch_size << std::setw(9) << std::setprecision(1) << r.days << std::setw(12)
        << std::setprecision(0) << r.gpu_hours << std::setw(12) << r.dollars << std::setw(6) << std::setprecision(1)
        << 100 * r.mfu << "%" << std::setw(9) << r.memory_gib << std::setw(7) << 100 * r.bubble << "%\n";
  }
  return out.str();
}

}  // namespace

int run_size(const Words& args, std::ostream& out) {
  std::vector<FlagSpec> specs = {
      {"model", true, "model preset (required)"},
      {"tokens", true, "training tokens (default: the model's plan)"},
      {"gpus", true, "candidate GPUs, e.g. h800,h100,h200,b200,mi300x (default: the model's published GPU)"},
      {"gpu-counts", true, "GPU-count range LOW-HIGH, powers of two in between (default 512-8192)"},
      {"kinds", true, "schedule kinds to try (default: all)"},
      {"comm-sms-options", true, "communication SM budgets to try, e.g. 10,20,32 (default: the scenario's)"},
      {"cp-options", true, "context-parallel sizes to try, e.g. 1,2,4 (default 1)"},
      {"stages-per-rank-options", true, "chunks per rank to try for interleaved-1f1b (default 2)"},
      {"max-days", true, "drop plans slower than this"},
      {"max-usd", true, "drop plans dearer than this"},
      {"memory-headroom", true, "fraction of HBM to keep free (default 0.05: allocator fragmentation and buffers the model does not count)"},
      {"tp-options", true, "TP sizes to try (default 1,2,4,8)"},
      {"pp-options", true, "PP sizes to try (default 1,2,4,8,16,32)"},
      {"ep-options", true, "EP sizes to try, MoE models (default 1,8,16,32,64,128)"},
      {"microbatch-options", true, "micro-batch sizes to try (default 1,2)"},
      {"threads", true, "worker threads (default: all cores)"},
      {"shard", true, "i/n: evaluate this shard only (merge the JSON outputs with --merge)"},
      {"merge", true, "comma-separated JSON outputs of shards to merge into one answer"},
      {"launcher", true, "threads (default) | mpi (mpirun -np N ppsim size ...: N processes split the sweep; found by itself "
                         "under mpirun) | env (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); rank 0 writes the single answer"},
      {"top", true, "rows of the ranked table (default 15)"},
      {"overlap", true, "phases (default, as simulate) | simple"},
      {"network", true, "fabric (default, as simulate) | simple"},
      {"exhaustive", false, "simulate every plan in full (the table otherwise screens by lower bounds; json and csv always do this)"},
      {"catalog", true, "JSON file adding or replacing models, gpus, clusters"},
      {"format", true, "table (default) | json | csv"},
      {"out", true, "write to this file instead of standard output"},
      {"help", false, "show this help"}};
  for (const FlagSpec& f : fixed_plan_flags()) specs.push_back(f);  // applied to every candidate
  const Args a(args, specs, "size");
  if (a.has("help")) {
    out << "usage: ppsim size --model M [--tokens 14.8T] [--gpus h800,h100] [--gpu-counts 512-8192] [--max-days D]\n"
           "                  [--max-usd X] [--format table|json|csv] [--shard i/n | --merge a.json,b.json]\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "table", {"table", "json", "csv"});
  check_outputs(a, {"out"});  // before a sweep of minutes, not after it
  model::SizingResult result;
  SweepId sweep;
  std::string assumptions;  // what the answer assumed, restated above the table (empty for --merge)
  // Under mpirun (or with --launcher), one process per shard; rank 0 answers.
  std::string launcher = a.get_choice("launcher", "threads", {"threads", "mpi", "env"});
  if (!a.has("launcher")) {
    const char* ompi = std::getenv("OMPI_COMM_WORLD_SIZE");
    if (ompi && std::atoi(ompi) > 1) launcher = "mpi";
  }
  std::unique_ptr<runtime::World> world;
  if (launcher != "threads") {
    if (a.has("shard") || a.has("merge"))
      throw std::invalid_argument("--launcher " + launcher + ": the processes are the shards; --shard and --merge do not apply");
    world = runtime::make_world(launcher, std::chrono::milliseconds(3'600'000));  // a shard may take long
  }
  if (auto files = a.get("merge")) {
    // The parts carry their sweep: flags that would describe another one are refused.
    for (const auto& [flag, value] : a.values())
      if (flag != "merge" && flag != "format" && flag != "out" && flag != "top")
        throw std::invalid_argument("--merge takes the sweep its parts carry: --" + flag +
                                    " does not apply (allowed with it: --format, --out, --top)");
    std::vector<std::pair<std::string, std::string>> parts;
    for (const auto& path : split_list(*files)) parts.emplace_back(path, read_file(path));
    if (parts.empty()) throw std::invalid_argument("--merge = '" + *files + "' names no file: give a.json,b.json,...");
    MergedSweep merged = merge_parts(parts);
    sweep = std::move(merged.sweep);
    result = std::move(merged.result);
  } else {
    if (!a.has("model")) throw std::invalid_argument("ppsim size: --model is required (e.g. --model deepseek-v3)");
    model::SizingRequest q;
    q.model = *a.get("model");
    q.tokens = a.get_or("tokens", "");
    // A list flag given must name something: --gpus '' or --gpus , would quietly mean "the default".
    const auto names = [&](const char* flag) {
      const std::vector<std::string> list = split_list(*a.get(flag));
      if (list.empty()) throw std::invalid_argument(std::string("--") + flag + " = '" + *a.get(flag) + "' names nothing: give e.g. " +
                                                    (std::string(flag) == "gpus" ? "h800,h100" : "dualpipe,1f1b"));
      return list;
    };
    if (a.has("gpus")) q.gpus = names("gpus");
    if (a.has("kinds")) q.kinds = names("kinds");
    for (const auto& k : q.kinds) sim::parse_schedule_kind(k);
    auto integers = [&](const char* flag, std::vector<int>& into, int lo, int hi) {
      if (a.has(flag)) into = a.get_int_list(flag, lo, hi);
    };
    integers("comm-sms-options", q.comm_sms, 0, 10000);
    integers("tp-options", q.tps, 1, 4096);
    integers("pp-options", q.pps, 1, 4096);
    integers("ep-options", q.eps, 1, 1 << 16);
    integers("microbatch-options", q.microbatch_sizes, 1, 1 << 16);
    integers("cp-options", q.cps, 1, 4096);
    q.base = overrides_from(a);
    integers("stages-per-rank-options", q.stages_per_rank, 2, 64);
    const std::string counts = a.get_or("gpu-counts", "512-8192");
    try {
      // Whole-string integers only: "512-1e30" must not read as 512-1.
      const auto whole_int = [](const std::string& text) {
        std::size_t used = 0;
        const int value = std::stoi(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
        return value;
      };
      const std::size_t dash = counts.find('-');
      q.min_gpus = whole_int(counts.substr(0, dash));
      q.max_gpus = dash == std::string::npos ? q.min_gpus : whole_int(counts.substr(dash + 1));
    } catch (const std::exception&) {
      throw std::invalid_argument("--gpu-counts = '" + counts + "': allowed LOW-HIGH, e.g. 512-8192");
    }
    q.max_days = number(a, "max-days", 0, 1e6);
    q.max_usd = number(a, "max-usd", 0, 1e12);
    q.memory_headroom = a.has("memory-headroom") ? number(a, "memory-headroom", 0, 0.9) : 0.05;
    q.threads = a.get_int("threads", 0, 1, 256);
    q.study.phases = a.get_choice("overlap", "phases", {"simple", "phases"}) == "phases";
    q.study.network = a.get_choice("network", "fabric", {"simple", "fabric"}) == "fabric";
    // The table shows the top rows, the best per GPU and the Pareto front: plans a lower bound
    // keeps out of all three need not be simulated in full. json and csv list every plan.
    if (format == "table" && !a.has("exhaustive")) q.screen_top = a.get_int("top", 15, 1, 100000);
    if (world) {
      q.shard = world->rank();
      q.shards = world->size();
      if (!a.has("threads")) q.threads = std::max(1, runtime::available_cores() / world->local_size());
    }
    if (auto shard = a.get("shard")) {
      const std::size_t slash = shard->find('/');
      const auto whole = [&](const std::string& part) {  // digits only: "1/2abc" and "0x1/2" are refused
        if (part.empty() || part.size() > 7 || part.find_first_not_of("0123456789") != std::string::npos)
          throw std::invalid_argument("--shard = '" + *shard + "': allowed i/n with 0 <= i < n <= 1048576, e.g. 0/4");
        return std::stoi(part);
      };
      q.shard = whole(shard->substr(0, slash));
      q.shards = whole(slash == std::string::npos ? "" : shard->substr(slash + 1));
      if (q.shards < 1 || q.shards > (1 << 20) || q.shard >= q.shards)
        throw std::invalid_argument("--shard = '" + *shard + "': allowed i/n with 0 <= i < n <= 1048576, e.g. 0/4");
    }
    const model::Catalog catalog = catalog_from(a);
    // The sweep's size from its option lists, before anything is enumerated or simulated.
    const model::SizingWork work = model::estimate_sizing(q, catalog);
    const auto n = [](std::size_t size) { return std::to_string(size); };
    sim::check_work("the sweep (" + n(std::max<std::size_t>(1, q.gpus.size())) + " GPUs x --gpu-counts " +
                        std::to_string(q.min_gpus) + "-" + std::to_string(q.max_gpus) + " x " + n(q.tps.size()) + " TP x " +
                        n(q.cps.size()) + " CP x " + n(q.pps.size()) + " PP x " + n(q.eps.size()) + " EP x " +
                        n(q.microbatch_sizes.size()) + " micro-batch sizes x " + n(q.comm_sms.size()) + " comm-SM budgets x " +
                        n(q.stages_per_rank.size()) + " chunk counts x the kinds): plans",
                    work.plans, sim::kLimitPlans, "plans");
    sim::check_work("the largest plan (few GPUs, many micro-batches per step): ops", work.max_plan_ops, sim::kLimitOps, "ops");
    const int workers = q.threads > 0 ? q.threads : runtime::available_cores();
    sim::check_work("the largest plan (" + sim::short_count(work.max_plan_ops) + " ops: few GPUs, many micro-batches) on " +
                        std::to_string(workers) + " threads: memory",
                    150.0 * work.max_plan_ops * workers, sim::kLimitBytes, "bytes");
    sweep = sweep_id(a, catalog);
    sweep.shard = q.shard;
    sweep.shards = q.shards;
    // Progress on stderr: a bar on a terminal; elsewhere (a log, a CI job) a line every 5 s.
    // Both give done/total, the rate and the time left.
    const bool bar = isatty(2);
    const auto every = progress_period();  // the line's period (tests set 0)
    const auto t0 = std::chrono::steady_clock::now();
    auto last_line = t0;
    {
      const model::Catalog& cat = catalog;
      std::ostringstream h;
      h << std::fixed << std::setprecision(2) << "assumptions: "
        << (q.tokens.empty() ? cat.model(q.model).plan.tokens + " tokens (the model's plan)" : q.tokens + " tokens") << "; GPUs";
      const std::vector<std::string> gpus = q.gpus.empty() ? std::vector<std::string>{cat.cluster(cat.model(q.model).plan.cluster).gpu} : q.gpus;
      for (const auto& g : gpus)
        h << " " << g << " at $" << (q.base.price_per_hour ? *q.base.price_per_hour : cat.gpu(g).price_per_hour) << "/GPU-hour"
          << (&g == &gpus.back() ? "" : ",");
      h << "; " << q.min_gpus << "-" << q.max_gpus << " GPUs; limits: "
        << (q.max_days > 0 || q.max_usd > 0
                ? (q.max_days > 0 ? std::to_string(static_cast<long long>(q.max_days)) + " days " : std::string()) +
                      (q.max_usd > 0 ? "$" + std::to_string(static_cast<long long>(q.max_usd)) : std::string())
                : std::string("none"))
        << "; memory headroom " << std::setprecision(0) << 100 * q.memory_headroom << "% of HBM; priced with the "
        << (q.study.phases ? "phases" : "simple") << " overlap rule and the " << (q.study.network ? "fabric" : "simple")
        << " network" << (q.study.phases && q.study.network ? " (as simulate)" : " (simulate uses phases and the fabric)")
        << (q.screen_top > 0 ? "; plans a lower bound keeps out of this answer are not simulated in full (--exhaustive: all)"
                             : "")
        << "\n";
      assumptions = h.str();
    }
    const bool quiet = world && world->rank() != 0;  // rank 0 speaks for the processes
    result = model::run_sizing(q, catalog, [&](int done, int total) {
      if (quiet) return;
      const auto now = std::chrono::steady_clock::now();
      const double elapsed = std::chrono::duration<double>(now - t0).count();
      const double rate = elapsed > 0 ? done / elapsed : 0;
      const std::string eta = rate > 0 ? std::to_string(static_cast<long long>((total - done) / rate)) + " s left" : "";
      if (bar) {
        const int width = 30, filled = total ? width * done / total : width;
        std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << done << "/" << total << ", "
                  << static_cast<long long>(rate) << "/s, " << eta << "   " << std::flush;
      } else if (now - last_line >= every && done > 0 && done < total) {
        last_line = now;
        std::cerr << "size: " << done << "/" << total << " plans (" << (total ? 100 * done / total : 100) << "%), "
                  << static_cast<long long>(rate) << " per second, " << eta << "\n";
      }
    });
    if (world) {  // every process's part to rank 0, merged there into the single answer
      const std::string mine = size_json(result, sweep).dump();
      const std::vector<runtime::Bytes> gathered = world->gather({mine.begin(), mine.end()});
      if (world->rank() != 0) return 0;
      std::vector<std::pair<std::string, std::string>> parts;
      for (std::size_t r = 0; r < gathered.size(); ++r) parts.emplace_back("rank " + std::to_string(r), std::string(gathered[r].begin(), gathered[r].end()));
      MergedSweep merged = merge_parts(parts);
      result = std::move(merged.result);
      sweep.shard = 0, sweep.shards = 1;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (bar) std::cerr << "\n";
    std::cerr << "size: " << result.configurations << " configurations, " << result.evaluated.size() << " feasible ("
              << result.simulated << " simulated in full, " << result.evaluated.size() - static_cast<std::size_t>(result.simulated)
              << " kept out of the answer by a lower bound; " << result.shared << " simulations shared by plans with equal inputs), in " << std::fixed << std::setprecision(2) << seconds << " s ("
              << std::setprecision(0)
              << result.configurations / std::max(seconds, 1e-9) << " per second"
              << (world ? ", " + std::to_string(world->size()) + " processes" : std::string()) << ")\n";
  }
  std::string text;
  if (format == "json") {
    text = size_json(result, sweep).dump(1) + "\n";
  } else if (format == "csv") {
    text = "id,gpu,gpus,kind,tp,cp,pp,ep,dp,microbatch_size,microbatches,days,gpu_hours,dollars,mfu,memory_gib,bubble,step_seconds\n";
    for (const auto& r : result.evaluated) {
      const auto j = size_row_json(r);
      std::ostringstream line;
      line << j["id"] << "," << r.config.gpu << "," << j["gpus"] << "," << r.config.kind << "," << j["tp"] << "," << j["cp"] << "," << j["pp"]
           << "," << j["ep"] << "," << j["dp"] << "," << j["microbatch_size"] << "," << j["microbatches"] << "," << j["days"]
           << "," << j["gpu_hours"] << "," << j["dollars"] << "," << j["mfu"] << "," << j["memory_gib"] << "," << j["bubble"]
           << "," << j["step_seconds"] << "\n";
      text += line.str();
    }
  } else {
    std::ostringstream t;
    std::vector<model::SizingRow> simulated;  // rows priced in full (the others only bound the answer from outside)
    for (const auto& r : result.evaluated)
      if (!r.bound) simulated.push_back(r);
    const auto best = model::ranked(simulated);
    t << sweep.model << ": " << result.configurations << " plans, " << result.evaluated.size() << " feasible\n" << assumptions
      << "\nfastest:\n" << table(best, static_cast<std::size_t>(a.get_int("top", 15, 1, 100000)));
    // The best per GPU type: its fastest plan and its cheapest.
    std::vector<model::SizingRow> per_gpu;
    std::vector<std::string> seen;
    for (const auto& r : best)
      if (std::find(seen.begin(), seen.end(), r.config.gpu) == seen.end()) {
        seen.push_back(r.config.gpu);
        per_gpu.push_back(r);
        const auto cheapest = std::min_element(best.begin(), best.end(), [&](const auto& x, const auto& y) {
          return (x.config.gpu == r.config.gpu ? x.dollars : 1e300) < (y.config.gpu == r.config.gpu ? y.dollars : 1e300);
        });
        if (cheapest->config.id != r.config.id) per_gpu.push_back(*cheapest);
      }
    t << "\nbest per GPU (its fastest plan, then its cheapest):\n" << table(per_gpu, 1000)
      << "\nPareto front (time vs cost: no other plan is both faster and cheaper):\n"
      << table(model::pareto_front(simulated), 1000) << "\ninfeasible:";
    for (const auto& [reason, count] : result.infeasible) t << " " << reason << " " << count << ";";
    t << "\n";
    text = t.str();
  }
  write_output(a.get_or("out", "-"), text, out);
  return 0;
}

}  // namespace ppsim::cli
