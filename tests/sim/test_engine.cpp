// The discrete-event engine: exact closed-form bubbles, agreement with an independent list
// scheduler, transfers that share a link, metrics and repeatability.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "sim/engine.hpp"
#include "sim/generators.hpp"
#include "sim/validate.hpp"
#include "support.hpp"

using namespace ppsim::sim;

namespace {

constexpr Time us = kNsPerUs;

CostTable unit(Time f, Time b, Time w, Time fb) { return CostTable(StageCost{f * us, b * us, w * us, fb * us}); }

std::vector<int> microbatches_for(ScheduleKind kind, int P) {
  std::vector<int> ms;
  for (int m : {P, P + 2, 2 * P, 2 * P + 2, 3 * P, 4 * P, 4 * P + 2, 6 * P})
    if (check_request({kind, P, m, 0}).empty()) ms.push_back(m);
  return ms;
}

// Every (F, B, W, FB) with F in 1..4, B in 1..8, W in 0..B-1, FB in max(F,B)..F+B+2 (units of
// 1 us) for which `inside` holds.
template <class Pred>
std::vector<StageCost> costs_where(Pred inside) {
  std::vector<StageCost> out;
  for (Time f = 1; f <= 4; ++f)
    for (Time b = 1; b <= 8; ++b)
      for (Time w = 0; w < b; ++w)
        for (Time fb = std::max(f, b); fb <= f + b + 2; ++fb)
          if (inside(f, b, w, fb)) out.push_back({f, b, w, fb});
  return out;
}

}  // namespace

// The closed forms of the DualPipe README (PP = pipeline stages of one direction: the ranks
// for DualPipe, 2 x ranks for DualPipeV), with free communication. Conditions, found by
// sweeping every small integer cost (see README "Exactness"):
//   GPipe, 1F1B: every rank idles (P-1)(F+B), for all F, B.
//   ZB1P:        every rank idles (P-1)(F+B-2W)        iff W <= min(F, Bi), Bi = B - W.
//   DualPipe(V): the most idle rank idles (PP/2-1)(F&B+B-3W) iff F = Bi, W <= F and
//                F&B <= F + B; with F&B = F + B every rank idles exactly that.
TEST_CASE("closed-form bubbles hold exactly inside their conditions") {
  int checked = 0;
  SimOptions metrics_only;
  metrics_only.record_timeline = false;
  for (int P = 2; P <= 16; ++P) {
    for (const StageCost& c : costs_where([](Time, Time, Time, Time) { return true; })) {
      if (c.w != 0 || c.fb != c.f + c.b) continue;  // F and B are all GPipe and 1F1B depend on
      for (ScheduleKind k : {ScheduleKind::GPipe, ScheduleKind::OneFOneB})
        for (int M : microbatches_for(k, P)) {
          const auto r = simulate(make_schedule({k, P, M, 0}), unit(c.f, c.b, c.w, c.fb), metrics_only);
          for (const RankMetrics& rm : r.metrics.per_rank) CHECK(rm.bubble == (P - 1) * (c.f + c.b) * us);
          ++checked;
        }
    }
    for (const StageCost& c : costs_where([](Time f, Time b, Time w, Time fb) { return w <= std::min(f, b - w) && fb == f + b; }))
      for (int M : microbatches_for(ScheduleKind::ZB1P, P)) {
        INFO("zb1p P=", P, " M=", M, " F=", c.f, " B=", c.b, " W=", c.w);
        const auto r = simulate(make_schedule({ScheduleKind::ZB1P, P, M, 0}), unit(c.f, c.b, c.w, c.fb), metrics_only);
        for (const RankMetrics& rm : r.metrics.per_rank) CHECK(rm.bubble == (P - 1) * (c.f + c.b - 2 * c.w) * us);
        ++checked;
      }
    for (const StageCost& c : costs_where([](Time f, Time b, Time w, Time fb) { return f == b - w && w <= f && fb <= f + b; })) {
      for (ScheduleKind k : {ScheduleKind::DualPipe, ScheduleKind::DualPipeV}) {
        const int PP = k == ScheduleKind::DualPipe ? P : 2 * P;
        for (int M : microbatches_for(k, P)) {
          INFO(to_string(k), " P=", P, " M=", M, " F=", c.f, " B=", c.b, " W=", c.w, " FB=", c.fb);
          const auto r = simulate(make_schedule({k, P, M, 0}), unit(c.f, c.b, c.w, c.fb), metrics_only);
          const Time formula = (PP / 2 - 1) * (c.fb + c.b - 3 * c.w) * us;
          CHECK(r.metrics.max_bubble() == formula);
          if (c.fb == c.f + c.b)
            for (const RankMetrics& rm : r.metrics.per_rank) CHECK(rm.bubble == formula);
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("outside the conditions the formulas do not hold, and the engine says by how much") {
  // ZB1P with W > F: the weight grads no longer fit the 1F1B gaps.
  auto zb = simulate(make_schedule({ScheduleKind::ZB1P, 8, 16, 0}), unit(1, 4, 2, 5));
  CHECK(zb.metrics.max_bubble() == 14 * us);  // formula: (8-1)(1+4-4) = 7
  // DualPipe with F != Bi (no weight grad split off): the pairs line up differently.
  auto dp = simulate(make_schedule({ScheduleKind::DualPipe, 8, 16, 0}), unit(1, 2, 0, 3));
  CHECK(dp.metrics.max_bubble() == 14 * us);  // formula: (4-1)(3+2-0) = 15
}

TEST_CASE("golden makespans of small cases") {
  struct Case { ScheduleKind kind; int P, M; Time makespan; };
  // F=1, B=2, W=1, FB=3 (us): busy = M(F+B) per rank (2M(F+B) for the V schedules, whose ranks
  // hold two stages), plus the bubble.
  for (const Case& c : {Case{ScheduleKind::GPipe, 4, 8, 33}, Case{ScheduleKind::OneFOneB, 2, 2, 9},
                        Case{ScheduleKind::OneFOneB, 4, 8, 33}, Case{ScheduleKind::Interleaved1F1B, 4, 8, 57},
                        Case{ScheduleKind::ZB1P, 4, 8, 27}, Case{ScheduleKind::ZBV, 4, 8, 51},
                        Case{ScheduleKind::DualPipe, 4, 8, 26}, Case{ScheduleKind::DualPipe, 8, 20, 66},
                        Case{ScheduleKind::DualPipeV, 4, 8, 54}}) {
    INFO(to_string(c.kind), " P=", c.P, " M=", c.M);
    CHECK(simulate(make_schedule({c.kind, c.P, c.M, 0}), unit(1, 2, 1, 3)).metrics.makespan == c.makespan * us);
  }
}

namespace {

// An independent list scheduler: repeatedly sweep the ranks, start each rank's next op once
// its inputs are done (plus the latency when they come from another rank). No events, no heap.
std::map<std::pair<int, int>, std::pair<Time, Time>> list_schedule(const Schedule& s, const CostModel& c, Time latency) {
  std::map<std::pair<int, int>, Time> done_f, done_b;  // (mb, stage) -> end
  std::map<std::pair<int, int>, std::pair<Time, Time>> out;
  std::vector<std::size_t> next(s.ranks, 0);
  std::vector<Time> free_at(s.ranks, 0);
  bool progress = true;
  while (progress) {
    progress = false;
    for (int r = 0; r < s.ranks; ++r) {
      if (next[r] == s.per_rank[r].size()) continue;
      const Op& op = s.per_rank[r][next[r]];
      Time ready = free_at[r];
      bool ok = true;
      auto need = [&](const std::map<std::pair<int, int>, Time>& done, int mb, int stage) {
        const auto it = done.find({mb, stage});
        if (it == done.end()) return void(ok = false);
        ready = std::max(ready, it->second + (s.rank_of(mb, stage) == r ? 0 : latency));
      };
      if (op.kind == OpKind::F || op.kind == OpKind::FB)
        if (op.stage > 0) need(done_f, op.mb, op.stage - 1);
      if (op.kind != OpKind::F && op.kind != OpKind::W) {
        const Op b = op.backward_half();
        if (b.stage + 1 < s.stages) need(done_b, b.mb, b.stage + 1);
      }
      if (!ok) continue;
      const Time end = ready + c.duration(op);
      out[{r, static_cast<int>(next[r])}] = {ready, end};
      if (op.kind == OpKind::F || op.kind == OpKind::FB) done_f[{op.mb, op.stage}] = end;
      if (op.kind == OpKind::B || op.kind == OpKind::Bi || op.kind == OpKind::FB)
        done_b[{op.backward_half().mb, op.backward_half().stage}] = end;
      free_at[r] = end;
      ++next[r];
      progress = true;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the engine agrees op for op with an independent list scheduler (per-stage costs, latency)") {
  int compared = 0;
  for (ScheduleKind k : all_schedule_kinds()) {
    for (int P : {2, 3, 4, 6, 8}) {
      for (int M : microbatches_for(k, P)) {
        const Schedule s = make_schedule({k, P, M, 0});
        std::vector<StageCost> per_stage;
        for (int st = 0; st < s.stages; ++st) {  // uneven stages: 1.0 .. 1.9 us forwards
          const Time f = 1000 + 100 * (st % 10);
          per_stage.push_back({f, 2 * f + 50 * (st % 3), f / 2, 2 * f + 700});
        }
        const CostTable costs(per_stage);
        for (Time latency : {Time{0}, Time{300}}) {
          INFO(to_string(k), " P=", P, " M=", M, " latency=", latency);
          SimOptions opt;
          opt.p2p.latency = latency;
          const SimResult r = simulate(s, costs, opt);
          const auto expect = list_schedule(s, costs, latency);
          REQUIRE(expect.size() == s.op_count());
          Time makespan = 0;
          std::map<int, int> pos;  // compute intervals come in order per rank
          for (const Interval& iv : r.timeline.intervals) {
            if (iv.lane != Lane::Compute) continue;
            const auto [start, end] = expect.at({iv.rank, pos[iv.rank]++});
            CHECK(iv.start == start);
            CHECK(iv.end == end);
            makespan = std::max(makespan, end);
          }
          CHECK(r.metrics.makespan == makespan);
          ++compared;
        }
      }
    }
  }
  CHECK(compared > 200);
}

TEST_CASE("transfers on one link share its bandwidth fairly") {
  // GPipe on 2 ranks: rank 0's two forwards end at 1 and 2 us; each sends 3000 bytes over a
  // 1 GB/s (1 byte/ns) link. Alone the first would take 3 us; from 2 us the two share it:
  // the first has 2000 bytes left at 0.5 B/ns -> done at 6 us; the second then has 1000 left
  // -> done at 7 us. Rank 1's forwards start exactly then.
  const Schedule s = make_schedule({ScheduleKind::GPipe, 2, 2, 0});
  StageCost c{1000, 2000, 0, 3000, 3000, 0};
  SimOptions opt;
  opt.p2p.bytes_per_second = 1'000'000'000;
  const SimResult r = simulate(s, CostTable(c), opt);
  std::vector<Time> rank1_forward_starts;
  for (const Interval& iv : r.timeline.intervals)
    if (iv.rank == 1 && iv.lane == Lane::Compute && iv.op.kind == OpKind::F) rank1_forward_starts.push_back(iv.start);
  CHECK(rank1_forward_starts == std::vector<Time>{6000, 7000});
  // With a latency too, each arrival moves by it.
  opt.p2p.latency = 500;
  const SimResult rl = simulate(s, CostTable(c), opt);
  for (const Interval& iv : rl.timeline.intervals)
    if (iv.rank == 1 && iv.lane == Lane::Compute && iv.op.kind == OpKind::F) CHECK((iv.start == 6500 || iv.start == 7500));
}

TEST_CASE("metrics: busy, bubble, exposed communication, activations") {
  const Schedule s = make_schedule({ScheduleKind::GPipe, 2, 1, 0});
  SimOptions opt;
  opt.p2p.latency = 500;
  const SimResult r = simulate(s, CostTable(StageCost{1000, 2000, 0, 3000, 0, 64}), opt);
  // rank 0: F [0,1000]; rank 1: F [1500,2500] B [2500,4500]; rank 0: B [5000,7000].
  CHECK(r.metrics.makespan == 7000);
  CHECK(r.metrics.per_rank[0].busy == 3000);
  CHECK(r.metrics.per_rank[0].bubble == 4000);
  CHECK(r.metrics.per_rank[0].exposed_comm == 500);
  CHECK(r.metrics.per_rank[1].exposed_comm == 500);
  CHECK(r.metrics.per_rank[1].bubble_fraction == doctest::Approx(4.0 / 7.0));
  CHECK(r.metrics.per_rank[0].peak_activation_bytes == 64);
  for (ScheduleKind k : all_schedule_kinds()) {
    const Schedule sk = make_schedule({k, 4, 8, 0});
    const SimResult rk = simulate(sk, unit(1, 2, 1, 3));
    const auto peaks = peak_in_flight(sk);
    for (int rank = 0; rank < 4; ++rank) CHECK(rk.metrics.per_rank[rank].peak_activations == peaks[rank]);
  }
}

TEST_CASE("the critical path runs from time 0 to the makespan without gaps") {
  for (ScheduleKind k : all_schedule_kinds()) {
    for (Time latency : {Time{0}, Time{250}}) {
      SimOptions opt;
      opt.p2p.latency = latency;
      const SimResult r = simulate(make_schedule({k, 4, 8, 0}), unit(1, 2, 1, 3), opt);
      const auto& path = r.metrics.critical_path;
      INFO(to_string(k), " latency=", latency);
      REQUIRE(!path.empty());
      CHECK(path.front().start == 0);
      CHECK(path.back().end == r.metrics.makespan);
      for (std::size_t i = 1; i < path.size(); ++i) CHECK(path[i].start == path[i - 1].end);
      const bool has_transfer =
          std::any_of(path.begin(), path.end(), [](const CriticalStep& c) { return c.lane == Lane::Send; });
      CHECK(has_transfer == (latency > 0));
    }
  }
}

TEST_CASE("runs are repeatable bit for bit") {
  const Schedule s = make_schedule({ScheduleKind::DualPipe, 8, 32, 0});
  SimOptions opt;
  opt.p2p = {700, 20'000'000'000};
  const CostTable c(StageCost{1100, 2300, 900, 3000, 1 << 20, 1 << 22});
  const SimResult a = simulate(s, c, opt), b = simulate(s, c, opt);
  REQUIRE(a.timeline.intervals.size() == b.timeline.intervals.size());
  for (std::size_t i = 0; i < a.timeline.intervals.size(); ++i) {
    CHECK(a.timeline.intervals[i].start == b.timeline.intervals[i].start);
    CHECK(a.timeline.intervals[i].end == b.timeline.intervals[i].end);
  }
  CHECK(a.metrics.events == b.metrics.events);
}

TEST_CASE("cost tables: unit costs, JSON tables and their errors") {
  using ppsim::test::error_of;
  const CostTable t = parse_unit_costs("F=1,B=2,W=1,FB=2.5");
  CHECK(t.duration(Op::forward(0, 0)) == 1000);
  CHECK(t.duration(Op::backward_input(0, 0)) == 1000);
  CHECK(t.duration(Op::overlapped(1, 0, OpKind::B, 0, 0)) == 2500);
  CHECK(parse_unit_costs("F=1,B=2").duration(Op::overlapped(1, 0, OpKind::B, 0, 0)) == 3000);
  CHECK(error_of([] { parse_unit_costs("F=1,B=2,X=3"); }).find("key 'X' is unknown") != std::string::npos);
  CHECK(error_of([] { parse_unit_costs("F=1,B=2,W=2"); }).find("W = 2 must be >= 0 and < B = 2") != std::string::npos);
  CHECK(error_of([] { parse_unit_costs("F=1,B=2,FB=1.5"); }).find("FB = 1.5 must be >= max(F, B) = 2") != std::string::npos);
  CHECK(error_of([] { parse_unit_costs("F=-1,B=2"); }).find("'-1' is not a number") != std::string::npos);
  CHECK(error_of([] { parse_unit_costs("F=1.0001,B=2"); }).find("more than 3 decimals") != std::string::npos);
  CHECK(error_of([] { parse_unit_costs("B=2"); }).find("needs F and B") != std::string::npos);

  const auto doc = nlohmann::json::parse(R"({"default": {"F": 1, "B": 2, "W": 0.5}, "stages": [{}, {"F": 1.5, "p2p_bytes": 1024}]})");
  const CostTable j = cost_table_from_json(doc);
  CHECK(j.stages() == 2);
  CHECK(j.duration(Op::forward(0, 1)) == 1500);
  CHECK(j.duration(Op::weight(0, 1)) == 500);
  CHECK(j.p2p_bytes(1) == 1024);
  CHECK(error_of([] { cost_table_from_json(nlohmann::json::parse(R"({"default": {"F": 1, "B": 2, "Fb": 3}})")); })
            .find("unknown key 'Fb' (did you mean 'FB'?)") != std::string::npos);
  CHECK(error_of([] { cost_table_from_json(nlohmann::json::parse(R"({"stages": [{"F": 1}]})")); })
            .find("costs.stages[0]: B = 0 must be > 0") != std::string::npos);
  CHECK(error_of([] { simulate(make_schedule({ScheduleKind::GPipe, 4, 4, 0}), cost_table_from_json(nlohmann::json::parse(
                                                                                  R"({"stages": [{"F": 1, "B": 2}]})"))); })
            .find("costs describe 1 stages but the schedule has 4") != std::string::npos);
}

TEST_CASE("times for people: s, ms or us as fits, three decimals at most") {
  CHECK(format_duration(66'000) == "66 us");
  CHECK(format_duration(1'500) == "1.5 us");
  CHECK(format_duration(26'000'000) == "26 ms");
  CHECK(format_duration(1'234'567) == "1.235 ms");
  CHECK(format_duration(27'322'116'484) == "27.322 s");
  CHECK(format_duration(0) == "0 us");
  CHECK(format_duration(-2'000'000) == "-2 ms");
  const TimeUnit ms = unit_for(5'000'000);
  CHECK(std::string(ms.name) == "ms");
  CHECK(format_in(24'000'000, ms) == "24");
  CHECK(format_in(500, ms) == "0.001");  // rounded half up to the nearest thousandth
  CHECK(format_in(499, ms) == "0");
}
