// Cluster sizing: enumeration, feasibility reasons, determinism across threads and shards,
// the Pareto front, and limits.
#include <doctest/doctest.h>

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
  const SizingResult pruned = run_sizing(q, Catalog::builtin());
  q.prune_static_memory = false;
  const SizingResult all = run_sizing(q, Catalog::builtin());
  same(pruned, all);
  CHECK(all.infeasible.at("memory") > 0);
}
