// Cluster sizing: enumeration, feasibility reasons, determinism across threads and shards,
// the Pareto front, and limits.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "model/presets_data.hpp"
#include "model/sizing.hpp"

using namespace ppsim::model;

namespace {
SizingRequest small() {
  SizingRequest q;
  q.model = "deepseek-v3";
  q.gpus = {"h800", "h200"};
  q.min_gpus = 1024;
  q.max_gpus = 2048;
  q.kinds = {"dualpipe", "1f1b", "zb1p"};
  q.tps = {1, 2};
  q.pps = {8, 16};
  q.eps = {32, 64};
  q.microbatch_sizes = {1};
  return q;
}

void same(const SizingResult& a, const SizingResult& b) {
  REQUIRE(a.evaluated.size() == b.evaluated.size());
  for (std::size_t i = 0; i < a.evaluated.size(); ++i) {
    CHECK(a.evaluated[i].config.id == b.evaluated[i].config.id);
    CHECK(a.evaluated[i].days == b.evaluated[i].days);  // bit for bit
    CHECK(a.evaluated[i].dollars == b.evaluated[i].dollars);
  }
  CHECK(a.infeasible == b.infeasible);
}
}  // namespace

TEST_CASE("every combination is enumerated once, with stable ids") {
  const auto configs = enumerate_configs(small(), Catalog::builtin());
  CHECK(configs.size() == 2 * 2 * 2 * 2 * 2 * 1 * 3);  // gpus x counts x tp x pp x ep x mbs x kinds
  for (std::size_t i = 0; i < configs.size(); ++i) CHECK(configs[i].id == static_cast<int>(i));
}

TEST_CASE("results do not depend on threads; shards merge to the single run") {
  SizingRequest q = small();
  q.threads = 1;
  const SizingResult one = run_sizing(q, Catalog::builtin());
  q.threads = 2;
  same(one, run_sizing(q, Catalog::builtin()));
  SizingResult merged;
  q.shards = 3;
  for (int s = 0; s < 3; ++s) {
    q.shard = s;
    const SizingResult part = run_sizing(q, Catalog::builtin());
    merged.configurations += part.configurations;
    merged.evaluated.insert(merged.evaluated.end(), part.evaluated.begin(), part.evaluated.end());
    for (const auto& [reason, n] : part.infeasible) merged.infeasible[reason] += n;
  }
  std::sort(merged.evaluated.begin(), merged.evaluated.end(),
            [](const auto& a, const auto& b) { return a.config.id < b.config.id; });
  CHECK(merged.configurations == one.configurations);
  same(one, merged);
  CHECK(!one.evaluated.empty());
  CHECK(one.infeasible.count("memory"));  // 1F1B on PP8 does not fit DeepSeek-V3 in 80 GB
}

TEST_CASE("the Pareto front: nothing on it is beaten on both time and cost, everything else is") {
  const SizingResult r = run_sizing(small(), Catalog::builtin());
  const auto front = pareto_front(r.evaluated);
  REQUIRE(!front.empty());
  for (const auto& f : front)
    for (const auto& e : r.evaluated) CHECK_FALSE((e.days < f.days && e.dollars < f.dollars));
  for (const auto& e : r.evaluated) {
    bool covered = false;
    for (const auto& f : front) covered = covered || (f.days <= e.days && f.dollars <= e.dollars);
    CHECK(covered);
  }
  for (std::size_t i = 1; i < front.size(); ++i) {
    CHECK(front[i].days >= front[i - 1].days);
    CHECK(front[i].dollars < front[i - 1].dollars);
  }
}

TEST_CASE("communication SM budgets and interleaving depths are enumerated when asked") {
  SizingRequest q = small();
  q.kinds = {"dualpipe", "interleaved-1f1b"};
  q.comm_sms = {10, 20};
  q.stages_per_rank = {2, 4};
  const auto configs = enumerate_configs(q, Catalog::builtin());
  // per (gpu, count, tp, pp, ep, mbs): 2 budgets x (1 dualpipe + 2 interleaved depths)
  CHECK(configs.size() == 2 * 2 * 2 * 2 * 2 * 1 * 2 * 3);
  const SizingResult r = run_sizing(q, Catalog::builtin());
  bool saw10 = false, saw20 = false;
  for (const auto& e : r.evaluated) {
    saw10 = saw10 || e.config.comm_sms == 10;
    saw20 = saw20 || e.config.comm_sms == 20;
  }
  CHECK((saw10 && saw20));
}

TEST_CASE("limits and reasons") {
  SizingRequest q = small();
  const SizingResult all = run_sizing(q, Catalog::builtin());
  double fastest = 1e9;
  for (const auto& e : all.evaluated) fastest = std::min(fastest, e.days);
  q.max_days = fastest * 1.2;
  const SizingResult quick = run_sizing(q, Catalog::builtin());
  CHECK(quick.evaluated.size() < all.evaluated.size());
  for (const auto& e : quick.evaluated) CHECK(e.days <= q.max_days);
  CHECK(quick.infeasible.count("max-days"));
  CHECK(reason_of("GPUs = 2048 (256 nodes x 8) is not TP x CP x PP x DP") == "GPUs != TP x CP x PP x DP");
  CHECK(reason_of("schedule: dualpipe needs ...") == "schedule");
  CHECK(reason_of("ep = 48 does not divide the 256 routed experts") == "ep");
  q.shard = 3;
  q.shards = 2;
  CHECK_THROWS_WITH(run_sizing(q, Catalog::builtin()), "shard 3/2: allowed i/n with 0 <= i < n");
}

TEST_CASE("pruning by static memory drops no plan that fits: the same answer as simulating every plan") {
  SizingRequest q;
  q.model = "deepseek-v3";
  q.gpus = {"h800", "h100"};
  q.min_gpus = 1024;
  q.max_gpus = 2048;
  q.kinds = {"dualpipe", "1f1b", "zbv", "zb2p"};
  q.threads = 2;
  q.study.phases = q.study.network = false;  // memory alone decides here: the quick model will do
  const SizingResult pruned = run_sizing(q, Catalog::builtin());
  q.prune_static_memory = false;
  const SizingResult all = run_sizing(q, Catalog::builtin());
  same(pruned, all);
  CHECK(all.infeasible.at("memory") > 0);
}

TEST_CASE("the lower bound is one: never above the step simulated in full, with the exact peak memory") {
  // Every kind on DeepSeek-V3 (MoE: all-to-all phases, F&B pairs) and Llama 3 70B (dense, TP),
  // under each model of the engine the bound may stand in for.
  int compared = 0;
  for (const char* model : {"deepseek-v3", "llama3-70b"})
    for (ppsim::sim::ScheduleKind k : ppsim::sim::all_schedule_kinds()) {
      Overrides o;
      o.kind = std::string(ppsim::sim::to_string(k));
      o.pp = 8;
      o.global_batch = std::string(model) == "deepseek-v3" ? 256 * 16 : 1024;
      Scenario s;
      try {
        s = make_scenario(model, o);
      } catch (const std::invalid_argument&) {
        continue;  // a kind that does not take this shape
      }
      for (const bool phases : {true, false})
        for (const bool network : {true, false}) {
          StudyOptions full;
          full.phases = phases;
          full.network = network;
          StudyOptions bound = full, busy = full;
          bound.bound = StudyOptions::Bound::Simulated;
          busy.bound = StudyOptions::Bound::Busy;
          const StudyResult exact = run_study(s, full), low = run_study(s, bound), lowest = run_study(s, busy);
          INFO(model, " ", o.kind.value(), " phases=", phases, " network=", network);
          CHECK(low.run.step_seconds <= exact.run.step_seconds);
          CHECK(low.run.step_seconds > 0.5 * exact.run.step_seconds);  // and not a trivial one
          CHECK(lowest.run.step_seconds <= low.run.step_seconds);     // the busiest rank's ops back to back
          CHECK(low.peak_memory.total_gib() == exact.peak_memory.total_gib());
          CHECK(lowest.peak_memory.total_gib() == exact.peak_memory.total_gib());
          ++compared;
        }
    }
  CHECK(compared >= 80);
}

TEST_CASE("screening by lower bounds keeps the answer of the exhaustive sweep") {
  // The answer a table shows: the top rows, the best per GPU (fastest and cheapest), the
  // Pareto front. Screened, only plans that may belong there are simulated in full; the rest
  // keep bounds that are below their real figures.
  SizingRequest q = small();
  q.kinds = {"dualpipe", "1f1b", "zbv", "interleaved-1f1b"};
  q.threads = 2;
  const SizingResult all = run_sizing(q, Catalog::builtin());
  for (const int top : {1, 5}) {
    q.screen_top = top;
    const SizingResult screened = run_sizing(q, Catalog::builtin());
    INFO("top=", top);
    CHECK(screened.simulated < static_cast<int>(all.evaluated.size()) / 2);  // it saves work
    CHECK(screened.infeasible == all.infeasible);
    REQUIRE(screened.evaluated.size() == all.evaluated.size());
    std::vector<SizingRow> simulated;
    for (std::size_t i = 0; i < all.evaluated.size(); ++i) {
      const SizingRow &s = screened.evaluated[i], &e = all.evaluated[i];
      CHECK(s.config.id == e.config.id);
      CHECK(s.memory_gib == e.memory_gib);  // memory is exact either way
      if (s.bound) {
        CHECK(s.days <= e.days);
        CHECK(s.dollars <= e.dollars);
      } else {
        CHECK(s.days == e.days);
        simulated.push_back(s);
      }
    }
    auto ids = [](const std::vector<SizingRow>& rows, std::size_t n) {
      std::vector<int> out;
      for (std::size_t i = 0; i < rows.size() && i < n; ++i) out.push_back(rows[i].config.id);
      return out;
    };
    CHECK(ids(ranked(simulated), top) == ids(ranked(all.evaluated), top));
    CHECK(ids(pareto_front(simulated), 1000) == ids(pareto_front(all.evaluated), 1000));
    for (const char* gpu : {"h800", "h200"}) {
      auto best = [&](const std::vector<SizingRow>& rows, bool by_cost) {
        int id = -1;
        double key = 1e300;
        for (const SizingRow& r : ranked(rows))
          if (r.config.gpu == gpu && (by_cost ? r.dollars : r.days) < key) key = by_cost ? r.dollars : r.days, id = r.config.id;
        return id;
      };
      CHECK(best(simulated, false) == best(all.evaluated, false));
      CHECK(best(simulated, true) == best(all.evaluated, true));
    }
  }
}

TEST_CASE("plans with equal simulation inputs share one simulation: one GPU at two prices") {
  // "h800-spot" is the H800 at half the price, with its own cluster: every plan on it has the
  // same stage costs, network and schedule as its H800 twin, so its simulations are shared.
  const auto gpus = nlohmann::json::parse(presets::kGpus), clusters = nlohmann::json::parse(presets::kClusters);
  nlohmann::json spot = gpus.at("gpus").at("h800");
  spot["price_per_hour"] = spot.at("price_per_hour").get<double>() / 2;
  nlohmann::json cluster = clusters.at("clusters").at("h800-2048");
  cluster["gpu"] = "h800-spot";
  Catalog catalog = Catalog::builtin();
  catalog.merge({{"gpus", {{"h800-spot", spot}}}, {"clusters", {{"h800-spot-2048", cluster}}}}, "test");
  SizingRequest q = small();
  q.gpus = {"h800", "h800-spot"};
  q.threads = 1;  // the twin comes after its original: every one of its simulations is shared
  const SizingResult r = run_sizing(q, catalog);
  REQUIRE(!r.evaluated.empty());
  CHECK(r.shared * 2 >= static_cast<long>(r.evaluated.size()));
  int twins = 0;
  for (const SizingRow& a : r.evaluated)
    for (const SizingRow& b : r.evaluated)
      if (a.config.gpu == "h800" && b.config.gpu == "h800-spot" && a.config.gpus == b.config.gpus &&
          a.config.kind == b.config.kind && a.config.tp == b.config.tp && a.config.pp == b.config.pp &&
          a.config.ep == b.config.ep) {
        CHECK(b.step_seconds == a.step_seconds);  // bit for bit
        CHECK(b.dollars == doctest::Approx(a.dollars / 2));
        ++twins;
      }
  CHECK(twins * 2 == static_cast<int>(r.evaluated.size()));
  // Without the twin nothing is shared: every plan's inputs differ.
  q.gpus = {"h800"};
  CHECK(run_sizing(q, catalog).shared == 0);
}
