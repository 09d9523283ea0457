// Ranks that share fewer cores than there are of them (SimOptions::shared_cores): the engine
// against an independent processor-sharing scheduler for every kind, and the two limits whose
// answers are known: enough cores is the plain engine, one core is the sum of all the work.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "sim/engine.hpp"
#include "sim/generators.hpp"
#include "sim/phases.hpp"

using namespace ppsim::sim;

namespace {

constexpr Time us = kNsPerUs;

// Processor sharing by hand, in doubles: each rank runs its ops in order once their inputs are
// done; k running ops share C cores, at most one each. Returns the makespan in ns.
double shared_makespan(const Schedule& s, const CostModel& costs, int cores) {
  const int mbs = s.microbatches, stages = s.stages;
  std::vector<char> fwd(static_cast<std::size_t>(mbs * stages), 0), bwd(fwd.size(), 0);
  auto at = [&](int mb, int st) { return static_cast<std::size_t>(mb * stages + st); };
  auto ready = [&](const Op& op) {
    if (op.kind == OpKind::F || op.kind == OpKind::FB) {
      const Op f = op.forward_half();
      if (f.stage > 0 && !fwd[at(f.mb, f.stage - 1)]) return false;
    }
    if (op.kind == OpKind::B || op.kind == OpKind::Bi || op.kind == OpKind::FB) {
      const Op b = op.backward_half();
      if (b.stage + 1 < stages ? !bwd[at(b.mb, b.stage + 1)] : !fwd[at(b.mb, b.stage)]) return false;
    }
    return true;
  };
  std::vector<std::size_t> pos(static_cast<std::size_t>(s.ranks), 0);
  std::vector<double> left(static_cast<std::size_t>(s.ranks), -1);  // < 0: not running
  double now = 0;
  while (true) {
    int running = 0;
    bool all_done = true;
    for (int r = 0; r < s.ranks; ++r) {
      const auto& ops = s.per_rank[static_cast<std::size_t>(r)];
      if (pos[r] < ops.size()) all_done = false;
      if (left[r] < 0 && pos[r] < ops.size() && ready(ops[pos[r]])) left[r] = static_cast<double>(costs.duration(ops[pos[r]]));
      if (left[r] >= 0) ++running;
    }
    if (all_done) return now;
    REQUIRE(running > 0);  // a valid schedule with free transfers always has an op to run
    const double rate = std::min(1.0, static_cast<double>(cores) / running);
    double step = -1;
    for (double l : left)
      if (l >= 0 && (step < 0 || l / rate < step)) step = l / rate;
    now += step;
    for (int r = 0; r < s.ranks; ++r) {
      if (left[r] < 0) continue;
      left[r] -= step * rate;
      if (left[r] > 1e-6) continue;
      const Op& op = s.per_rank[static_cast<std::size_t>(r)][pos[r]];
      if (op.kind == OpKind::F || op.kind == OpKind::FB) fwd[at(op.forward_half().mb, op.forward_half().stage)] = 1;
      if (op.kind == OpKind::B || op.kind == OpKind::Bi || op.kind == OpKind::FB)
        bwd[at(op.backward_half().mb, op.backward_half().stage)] = 1;
      left[r] = -1;
      ++pos[r];
    }
  }
}

std::vector<Schedule> every_kind(int P, int M) {
  std::vector<Schedule> out;
  for (ScheduleKind k : all_schedule_kinds()) {
    ScheduleRequest req(k, P, M, is_interleaved(k) ? 2 : 0);
    if (check_request(req).empty()) out.push_back(make_schedule(req));
  }
  return out;
}

}  // namespace

TEST_CASE("shared cores: the engine agrees with processor sharing by hand, for every kind") {
  const CostTable costs(StageCost{3 * us, 5 * us, 2 * us, 7 * us});
  int checked = 0;
  for (int P : {2, 4, 6})
    for (int cores : {1, 2, 3})
      for (const Schedule& s : every_kind(P, 2 * P)) {
        SimOptions opt;
        opt.shared_cores = cores;
        const SimResult r = simulate(s, costs, opt);
        const double expected = shared_makespan(s, costs, cores);
        CAPTURE(s.kind);
        CAPTURE(P);
        CAPTURE(cores);
        // The engine rounds each op's end up to a whole ns: at most a ns per op behind.
        CHECK(static_cast<double>(r.metrics.makespan) >= expected - 1);
        CHECK(static_cast<double>(r.metrics.makespan) <= expected + static_cast<double>(s.op_count()));
        ++checked;
      }
  CHECK(checked > 50);
}

TEST_CASE("shared cores: as many cores as ranks is the plain engine; one core runs all the work end to end") {
  const CostTable costs(StageCost{2 * us, 4 * us, 1 * us, 5 * us});
  for (const Schedule& s : every_kind(4, 8)) {
    CAPTURE(s.kind);
    const SimResult plain = simulate(s, costs);
    SimOptions enough;
    enough.shared_cores = 4;
    const SimResult shared = simulate(s, costs, enough);
    CHECK(shared.metrics.makespan == plain.metrics.makespan);
    for (int r = 0; r < s.ranks; ++r) CHECK(shared.metrics.per_rank[r].busy == plain.metrics.per_rank[r].busy);

    SimOptions one;
    one.shared_cores = 1;
    Time work = 0;
    for (const auto& ops : s.per_rank)
      for (const Op& op : ops) work += costs.duration(op);
    CHECK(simulate(s, costs, one).metrics.makespan == work);
  }
}

namespace {

// Every op one compute phase of 1 us: a cost model that runs ops as phases.
struct OnePhase : CostModel, PhasedCosts {
  std::vector<Phase> one{Phase{Phase::Compute, 1 * us}};
  Time duration(const Op&) const override { return 1 * us; }
  std::int64_t p2p_bytes(int) const override { return 0; }
  std::int64_t activation_bytes(int) const override { return 0; }
  int stages() const override { return 0; }
  const PhasedCosts* phased() const override { return this; }
  const std::vector<Phase>& phases(OpKind, int) const override { return one; }
  double compute_rate_during_comm() const override { return 1.0; }
  double comm_bytes_per_ns() const override { return 1.0; }
};

}  // namespace

TEST_CASE("shared cores: refused below 0, and with ops run as phases") {
  const Schedule s = make_schedule({ScheduleKind::OneFOneB, 2, 4, 0});
  const CostTable costs(StageCost{1 * us, 2 * us, 1 * us, 3 * us});
  SimOptions bad;
  bad.shared_cores = -1;
  CHECK_THROWS_WITH_AS(simulate(s, costs, bad), doctest::Contains("shared cores must be >= 0"), std::invalid_argument);
  const OnePhase phased;
  SimOptions shared;
  shared.shared_cores = 1;
  CHECK(simulate(s, phased).metrics.makespan > 0);  // phases alone run
  CHECK_THROWS_WITH_AS(simulate(s, phased, shared), doctest::Contains("shared cores: ops run as phases here"), std::invalid_argument);
  shared.phases = false;  // whole ops: shared cores apply
  CHECK(simulate(s, phased, shared).metrics.makespan == 2 * 4 * 2 * us);
}
