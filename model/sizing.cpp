#include "model/sizing.hpp"

#include "model/memory.hpp"
#include "model/simulation_cache.hpp"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <chrono>
#include <functional>

namespace ppsim::model {

namespace {

// A cluster of `gpus` GPUs of one kind, shaped like the catalog's cluster for that GPU.
ClusterSpec cluster_for(const Catalog& catalog, const std::string& gpu, int gpus) {
  for (const auto& id : catalog.cluster_ids()) {
    ClusterSpec c = catalog.cluster(id);
    if (c.gpu != gpu) continue;
    c.id = gpu + "-" + std::to_string(gpus);
    c.nodes = std::max(1, gpus / c.gpus_per_node);
    return c;
  }
  throw std::invalid_argument("gpus: no cluster in the catalog is made of '" + gpu + "'");
}

std::vector<int> gpu_counts(int lo, int hi) {
  std::vector<int> out;
  for (long n = 1; n <= hi; n *= 2)
    if (n >= lo) out.push_back(static_cast<int>(n));
  if (out.empty() || out.front() != lo) out.insert(out.begin(), lo);
  if (out.back() != hi) out.push_back(hi);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::string reason_of(const std::string& error) {
  // Messages look like "<rule>: ..." or "<field> = <value> ...": the rule's name is the reason.
  std::string r = error.substr(0, error.find_first_of(":="));
  while (!r.empty() && r.back() == ' ') r.pop_back();
  if (r.rfind("GPUs", 0) == 0) return "GPUs != TP x CP x PP x DP";
  if (r.rfind("precision fp8", 0) == 0) return "no FP8 on the GPU";
  return r.empty() ? "other" : r;
}

std::vector<SizingConfig> enumerate_configs(const SizingRequest& q, const Catalog& catalog) {
  const ModelSpec m = catalog.model(q.model);
  std::vector<std::string> gpus = q.gpus;
  if (gpus.empty()) gpus.push_back(catalog.cluster(m.plan.cluster).gpu);
  std::vector<std::string> kinds = q.kinds;
  if (kinds.empty())
    for (sim::ScheduleKind k : sim::all_schedule_kinds()) kinds.emplace_back(sim::to_string(k));
  const std::vector<int> eps = m.moe.enabled() ? q.eps : std::vector<int>{1};
  std::vector<SizingConfig> out;
  for (const auto& gpu : gpus)
    for (int n : gpu_counts(q.min_gpus, q.max_gpus))
      for (int tp : q.tps)
        for (int cp : q.cps)
          for (int pp : q.pps)
            for (int ep : eps)
              for (int mbs : q.microbatch_sizes)
                for (int sms : q.comm_sms)
                  for (const auto& kind : kinds) {
                    const bool interleaved = sim::is_interleaved(sim::parse_schedule_kind(kind));
                    for (int v : interleaved ? q.stages_per_rank : std::vector<int>{0})
                      out.push_back({static_cast<int>(out.size()), gpu, kind, n, tp, pp, ep, mbs, sms, v, cp});
                  }
  return out;
}

SizingWork estimate_sizing(const SizingRequest& q, const Catalog& catalog) {
  const ModelSpec m = catalog.model(q.model);
  const double gpus = static_cast<double>(std::max<std::size_t>(1, q.gpus.size()));
  const double kinds = q.kinds.empty() ? static_cast<double>(sim::all_schedule_kinds().size()) : static_cast<double>(q.kinds.size());
  const double eps = m.moe.enabled() ? static_cast<double>(q.eps.size()) : 1.0;
  const std::vector<int> counts = gpu_counts(q.min_gpus, std::min(q.max_gpus, 1 << 20));
  SizingWork w;
  // Every kind with the most stages-per-rank option, an upper bound on the enumeration.
  w.plans = gpus * static_cast<double>(counts.size()) * static_cast<double>(q.tps.size() * q.cps.size() * q.pps.size()) * eps *
            static_cast<double>(q.microbatch_sizes.size() * q.comm_sms.size()) * kinds * static_cast<double>(q.stages_per_rank.size());
  // The largest plan's ops, over the shapes: as many loops as plans at most; not worth it when
  // the plan count alone is past any limit (the caller refuses on it).
  if (w.plans > 1e12) return w;
  const int global_batch = q.base.global_batch.value_or(m.plan.global_batch);
  int v = 2;
  for (int x : q.stages_per_rank) v = std::max(v, x);
  for (int n : counts)
    for (int tp : q.tps)
      for (int cp : q.cps)
        for (int pp : q.pps)
          for (int mbs : q.microbatch_sizes) {
            const long long model_parallel = static_cast<long long>(tp) * cp * pp;
            if (model_parallel > n || n % model_parallel != 0 || global_batch < 1) continue;
            const double dp = static_cast<double>(n / model_parallel);
            const double microbatches = std::ceil(global_batch / (dp * mbs));
            w.max_plan_ops = std::max(w.max_plan_ops, 3.0 * pp * v * microbatches);
          }
  return w;
}

SizingResult run_sizing(const SizingRequest& q, const Catalog& catalog, const std::function<void(int, int)>& progress) {
  if (q.shards < 1 || q.shard < 0 || q.shard >= q.shards)
    throw std::invalid_argument("shard " + std::to_string(q.shard) + "/" + std::to_string(q.shards) +
                                ": allowed i/n with 0 <= i < n");
  if (q.min_gpus < 1 || q.max_gpus < q.min_gpus || q.max_gpus > (1 << 20))
    throw std::invalid_argument("gpu-counts " + std::to_string(q.min_gpus) + "-" + std::to_string(q.max_gpus) +
                                ": allowed 1 <= low <= high <= 1048576");
  for (const auto& gpu : q.gpus) catalog.gpu(gpu);  // unknown names fail before any work
  std::vector<SizingConfig> all = enumerate_configs(q, catalog);
  std::vector<SizingConfig> mine;
  for (const auto& c : all)
    if (c.id % q.shards == q.shard) mine.push_back(c);

  // One catalog per (GPU, count), holding the synthesized cluster, built before the threads start.
  std::map<std::pair<std::string, int>, std::pair<Catalog, std::string>> clusters;
  for (const auto& c : mine) {
    const auto key = std::pair{c.gpu, c.gpus};
    if (clusters.count(key)) continue;
    const ClusterSpec cl = cluster_for(catalog, c.gpu, c.gpus);
    Catalog local = catalog;
    if (cl.gpus() == c.gpus)
      local.merge({{"clusters", {{cl.id, {{"gpu", cl.gpu}, {"nodes", cl.nodes}, {"gpus_per_node", cl.gpus_per_node},
                                          {"nvlink_domain", cl.domain()},
                                          {"intra_GBps", cl.intra_gbps}, {"intra_latency_us", cl.intra_latency_us},
                                          {"inter_GBps", cl.inter_gbps}, {"inter_latency_us", cl.inter_latency_us}}}}}},
                  "sizing");
    clusters.emplace(key, std::pair{std::move(local), cl.gpus() == c.gpus ? cl.id : std::string()});
  }

  // Plans with the same pipeline shape share one schedule (V-Half/V-Min take tens of ms to
  // make); kinds that plan for the costs are made per plan.
  std::map<std::tuple<int, int, int, int>, std::shared_ptr<const sim::Schedule>> schedules;
  std::mutex schedules_mutex;
  auto shared_schedule = [&](const Scenario& s) -> std::shared_ptr<const sim::Schedule> {
    const sim::ScheduleRequest req = s.schedule_request();
    if (sim::plans_for_costs(req.kind)) return nullptr;
    const auto key = std::tuple{static_cast<int>(req.kind), req.ranks, req.microbatches, req.stages_per_rank};
    {
      const std::lock_guard<std::mutex> lock(schedules_mutex);
      if (auto it = schedules.find(key); it != schedules.end()) return it->second;
    }
    auto made = std::make_shared<const sim::Schedule>(sim::make_schedule(req));
    const std::lock_guard<std::mutex> lock(schedules_mutex);
    return schedules.emplace(key, std::move(made)).first->second;
  };

  // Plans whose simulations have equal inputs share one (a GPU at two prices, say).
  SimulationCache cache;
  using Bound = StudyOptions::Bound;
  struct Outcome {
    bool ok = false;
    SizingRow row;
    std::string reason;
    Bound priced = Bound::None;
  };
  // One plan priced: in full, or by a lower bound with its exact memory.
  auto evaluate = [&](const SizingConfig& c, Bound bound) {
    Outcome out;
    out.priced = bound;
    try {
      const auto& [local, cluster_id] = clusters.at({c.gpu, c.gpus});
      if (cluster_id.empty()) throw std::invalid_argument("GPUs: " + std::to_string(c.gpus) + " do not fill whole nodes");
      Overrides o = q.base;
      o.cluster = cluster_id;
      o.cp = c.cp;
      o.kind = c.kind;
      o.tp = c.tp;
      o.pp = c.pp;
      o.ep = c.ep;
      o.microbatch_size = c.microbatch_size;
      if (c.comm_sms >= 0) o.comm_sms = c.comm_sms;
      if (c.stages_per_rank > 0) o.stages_per_rank = c.stages_per_rank;
      if (!q.tokens.empty()) o.tokens = q.tokens;
      const Scenario s = make_scenario(local, q.model, o);
      StudyOptions study = q.study;
      study.schedule = shared_schedule(s);
      study.cache = &cache;
      study.bound = bound;
      const double usable = s.gpu.hbm_gib * (1 - q.memory_headroom);
      if (q.prune_static_memory && study.schedule)
        for (int rank = 0; rank < study.schedule->ranks; ++rank)
          if (memory_of_rank(s, *study.schedule, rank, 0).total_gib() > usable)
            throw std::invalid_argument("memory: does not fit, even without activations");
      const StudyResult r = run_study(s, study);
      if (r.peak_memory.total_gib() > usable) throw std::invalid_argument("memory: does not fit");
      // A bound beyond a limit puts the plan beyond it too.
      if (q.max_days > 0 && r.run.days > q.max_days) throw std::invalid_argument("max-days: too slow");
      if (q.max_usd > 0 && r.run.dollars > q.max_usd) throw std::invalid_argument("max-usd: too expensive");
      const double bubble = r.breakdown.bubble / std::max(1e-12, r.breakdown.total());  // of the step
      out.row = {c, r.run.days, r.run.gpu_hours, r.run.dollars, r.run.mfu, r.peak_memory.total_gib(), bubble,
                 r.run.step_seconds, s.plan.dp, s.microbatches(), bound != Bound::None};
      out.ok = true;
    } catch (const std::invalid_argument& e) {
      out.reason = reason_of(e.what());
    }
    return out;
  };

  const int threads = q.threads > 0 ? q.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<std::size_t> done{0};
  std::size_t total = mine.size();
  // Runs fn(k) for k in [0, n) on the threads, reporting progress meanwhile.
  auto parallel = [&](std::size_t n, const std::function<void(std::size_t)>& fn) {
    std::atomic<std::size_t> next{0};
    const std::size_t target = done.load() + n;  // before any worker can count
    auto work = [&] {
      for (std::size_t k = next++; k < n; k = next++) {
        fn(k);
        ++done;
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads && static_cast<std::size_t>(t) < n; ++t) pool.emplace_back(work);
    std::thread main_worker(work);
    while (progress && done.load() < target) {
      progress(static_cast<int>(done.load()), static_cast<int>(total));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    main_worker.join();
    for (auto& t : pool) t.join();
  };

  const bool screen = q.screen_top > 0;
  std::vector<Outcome> outcomes(mine.size());
  parallel(mine.size(), [&](std::size_t i) { outcomes[i] = evaluate(mine[i], screen ? Bound::Busy : Bound::None); });

  int simulated = screen ? 0 : static_cast<int>(std::count_if(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.ok; }));
  if (screen) {
    // Bounds first (the busiest rank's ops back to back): then, in the order of the bounds and a
    // fixed batch at a time (the same plans on any number of threads), each plan the plans
    // simulated so far do not keep out of the answer (sizing.hpp) gets the tighter simulated
    // bound, and if that does not keep it out either, the full simulation.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i].ok) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const SizingRow &x = outcomes[a].row, &y = outcomes[b].row;
      return std::tie(x.days, x.dollars, x.config.id) < std::tie(y.days, y.dollars, y.config.id);
    });
    std::vector<SizingRow> exact;
    auto out_of_answer = [&](const SizingRow& b) {
      int faster = 0;
      bool dominated = false, gpu_faster = false, gpu_cheaper = false;
      for (const SizingRow& e : exact) {
        const bool same_gpu = e.config.gpu == b.config.gpu;
        if (e.days < b.days) {
          ++faster;
          dominated = dominated || e.dollars <= b.dollars;
          gpu_faster = gpu_faster || same_gpu;
        }
        gpu_cheaper = gpu_cheaper || (same_gpu && e.dollars < b.dollars);
      }
      return faster >= q.screen_top && dominated && gpu_faster && gpu_cheaper;
    };
    constexpr std::size_t kBatch = 16;
    total += order.size();
    for (std::size_t pos = 0; pos < order.size();) {
      std::vector<std::size_t> batch, full;
      for (; pos < order.size() && batch.size() < kBatch; ++pos) {
        if (out_of_answer(outcomes[order[pos]].row)) ++done;  // keeps its bound
        else batch.push_back(order[pos]);
      }
      parallel(batch.size(), [&](std::size_t k) { outcomes[batch[k]] = evaluate(mine[batch[k]], Bound::Simulated); });
      done -= batch.size();  // counted once, when settled below
      for (std::size_t i : batch) {
        if (outcomes[i].ok && !out_of_answer(outcomes[i].row)) full.push_back(i);
        else ++done;
      }
      parallel(full.size(), [&](std::size_t k) { outcomes[full[k]] = evaluate(mine[full[k]], Bound::None); });
      for (std::size_t i : full)
        if (outcomes[i].ok) exact.push_back(outcomes[i].row);
      simulated += static_cast<int>(full.size());
    }
  }
  if (progress) progress(static_cast<int>(total), static_cast<int>(total));

  SizingResult result;
  result.configurations = static_cast<int>(mine.size());
  result.simulated = simulated;
  result.shared = cache.hits();
  for (const Outcome& o : outcomes) {
    if (o.ok) result.evaluated.push_back(o.row);
    else ++result.infeasible[o.reason];
  }
  return result;
}

std::vector<SizingRow> ranked(std::vector<SizingRow> rows) {
  std::sort(rows.begin(), rows.end(), [](const SizingRow& a, const SizingRow& b) {
    if (a.days != b.days) return a.days < b.days;
    if (a.dollars != b.dollars) return a.dollars < b.dollars;
    return a.config.id < b.config.id;
  });
  return rows;
}

std::vector<SizingRow> pareto_front(const std::vector<SizingRow>& evaluated) {
  std::vector<SizingRow> front;
  for (const SizingRow& r : ranked(evaluated))  // by days: keep each row cheaper than all faster ones
    if (front.empty() || r.dollars < front.back().dollars) front.push_back(r);
  return front;
}

}  // namespace ppsim::model
