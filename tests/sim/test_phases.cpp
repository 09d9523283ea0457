// Ops as phase programs: communication exposed in plain ops, hidden in F&B pairs by the
// alternating compute lane, compute slowed while communication holds its SMs, closed forms
// back when communication is free, and the SM budget's trade-off on DeepSeek-V3.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "model/study.hpp"
#include "sim/engine.hpp"
#include "sim/generators.hpp"
#include "sim/phases.hpp"

using namespace ppsim;
using namespace ppsim::sim;

namespace {

// Every stage the same: programs given per op kind.
class TestPhases final : public CostModel, public PhasedCosts {
 public:
  TestPhases(std::map<OpKind, std::vector<Phase>> programs, double slow, double channel)
      : programs_(std::move(programs)), slow_(slow), channel_(channel) {}
  Time duration(const Op&) const override { return 1; }  // unused: the phases decide
  std::int64_t p2p_bytes(int) const override { return 0; }
  std::int64_t activation_bytes(int) const override { return 0; }
  int stages() const override { return 0; }
  const PhasedCosts* phased() const override { return this; }
  const std::vector<Phase>& phases(OpKind kind, int) const override { return programs_.at(kind); }
  double compute_rate_during_comm() const override { return slow_; }
  double comm_bytes_per_ns() const override { return channel_; }

 private:
  std::map<OpKind, std::vector<Phase>> programs_;
  double slow_, channel_;
};

Phase compute(Time t) { return {Phase::Compute, t, 0}; }
Phase comm(std::int64_t bytes) { return {Phase::Comm, 0, bytes}; }

}  // namespace

TEST_CASE("a plain op waits for its own communication; an F&B pair hides it (hand-computed)") {
  // F = compute 100, all-to-all 1000 bytes, compute 100; B = all-to-all 1000, compute 200;
  // channel 10 bytes/ns (100 ns per transfer).
  const std::map<OpKind, std::vector<Phase>> programs = {
      {OpKind::F, {compute(100), comm(1000), compute(100)}},
      {OpKind::B, {comm(1000), compute(200)}},
      {OpKind::Bi, {comm(1000), compute(100)}},
      {OpKind::W, {compute(100)}}};
  // DualPipeV on one rank holds both stages: F s0, F s1, B s1, ... and FB pairs in the middle.
  const Schedule dpv = make_schedule({ScheduleKind::DualPipeV, 1, 4, 0});
  SimOptions opt;
  for (double slow : {1.0, 0.5}) {
    const TestPhases costs(programs, slow, 10.0);
    const SimResult r = simulate(dpv, costs, opt);
    for (const Interval& iv : r.timeline.intervals) {
      if (iv.lane != Lane::Compute) continue;
      INFO(to_string(iv.op), " slow=", slow);
      if (iv.op.kind == OpKind::F) CHECK(iv.end - iv.start == 300);  // 100 + 100 exposed + 100
      if (iv.op.kind == OpKind::B) CHECK(iv.end - iv.start == 300);  // 100 exposed + 200
      // The pair: B's all-to-all under F's first compute, F's under B's compute; 400 instead of
      // 600 at full speed. With half the SMs left to compute, the pair's kernels run at half
      // speed throughout (they are sized to those SMs): 800.
      if (iv.op.kind == OpKind::FB) CHECK(iv.end - iv.start == (slow == 1.0 ? 400 : 800));
    }
  }
}

TEST_CASE("with communication free, phases fall back to the closed-form bubbles") {
  // F = 1, B = 2 (Bi = 1, W = 1) in units of 1 us, no communication and no SMs kept for it:
  // an F&B pair takes F + B.
  const std::map<OpKind, std::vector<Phase>> programs = {{OpKind::F, {compute(1000)}},
                                                         {OpKind::B, {compute(1000), comm(0), compute(1000)}},
                                                         {OpKind::Bi, {compute(1000)}},
                                                         {OpKind::W, {compute(1000)}}};
  const TestPhases costs(programs, 1.0, 1.0);
  SimOptions opt;
  opt.record_timeline = false;
  for (int P : {4, 8, 16}) {
    const int M = 4 * P;
    const Time F = 1000, B = 2000, W = 1000, FB = F + B;
    auto bubble = [&](ScheduleKind k) { return simulate(make_schedule({k, P, M, 0}), costs, opt).metrics.max_bubble(); };
    CHECK(bubble(ScheduleKind::OneFOneB) == (P - 1) * (F + B));
    CHECK(bubble(ScheduleKind::GPipe) == (P - 1) * (F + B));
    CHECK(bubble(ScheduleKind::ZB1P) == (P - 1) * (F + B - 2 * W));
    CHECK(bubble(ScheduleKind::DualPipe) == (P / 2 - 1) * (FB + B - 3 * W));
    CHECK(bubble(ScheduleKind::DualPipeV) == (P - 1) * (FB + B - 3 * W));
  }
}

TEST_CASE("DeepSeek-V3: DualPipe hides the all-to-all; the SM budget has a sweet spot") {
  auto step = [](const char* kind, int sms, const char* efficiency = nullptr) {
    model::Overrides o;
    o.kind = kind;
    o.comm_sms = sms;
    if (efficiency) o.efficiency = efficiency;
    return model::run_study(model::make_scenario("deepseek-v3", o)).run.step_seconds;
  };
  const double dual = step("dualpipe", 20), one = step("1f1b", 20);
  CHECK(dual < 0.75 * one);
  // Too few SMs: the all-to-all crawls; too many: compute slows while it runs.
  CHECK(step("dualpipe", 4) > 1.5 * dual);
  CHECK(step("dualpipe", 64) > dual);
  CHECK(step("dualpipe", 16) <= step("dualpipe", 8));
  // A cheap all-to-all (8x the bandwidth, and SMs that can drive it) narrows the gap.
  const char* cheap = "comm_gbps_per_sm=25.6";
  model::Overrides fast;
  fast.inter_gbps = 400;
  fast.efficiency = cheap;
  fast.kind = "dualpipe";
  const double dual_fast = model::run_study(model::make_scenario("deepseek-v3", fast)).run.step_seconds;
  fast.kind = "1f1b";
  const double one_fast = model::run_study(model::make_scenario("deepseek-v3", fast)).run.step_seconds;
  CHECK(one_fast - dual_fast < one - dual);
}

TEST_CASE("one DualPipe F&B pair keeps both the compute lane and the communication channel busy") {
  const model::StudyResult r = model::run_study(model::make_scenario("deepseek-v3"), {true, true, true, nullptr});
  const int rank = 7;
  Time a = -1, b = -1;
  int seen = 0;
  for (const Interval& iv : r.sim.timeline.intervals)
    if (iv.rank == rank && iv.lane == Lane::Compute && iv.op.kind == OpKind::FB && ++seen == 10) {
      a = iv.start;
      b = iv.end;
      break;
    }
  REQUIRE(a >= 0);
  Time kernels = 0;
  std::vector<std::pair<Time, Time>> comm;
  for (const Interval& iv : r.sim.timeline.intervals) {
    if (iv.rank != rank || iv.end <= a || iv.start >= b) continue;
    if (iv.lane == Lane::Kernel) kernels += std::min(iv.end, b) - std::max(iv.start, a);
    if (iv.lane == Lane::Comm) comm.emplace_back(std::max(iv.start, a), std::min(iv.end, b));
  }
  std::sort(comm.begin(), comm.end());
  Time comm_busy = 0, lo = 0, hi = 0;
  for (auto [s, e] : comm) {
    if (s > hi) {
      comm_busy += hi - lo;
      lo = s;
      hi = e;
    } else {
      hi = std::max(hi, e);
    }
  }
  comm_busy += hi - lo;
  const double span = static_cast<double>(b - a);
  const double compute_busy = static_cast<double>(kernels) / span, channel_busy = static_cast<double>(comm_busy) / span;
  MESSAGE("pair span ", span / 1e6, " ms: compute lane busy ", compute_busy, ", communication busy ", channel_busy);
  CHECK(compute_busy > 0.85);
  CHECK(channel_busy > 0.5);
}

TEST_CASE("a completion event left over from an earlier op never ends a later op's communication early") {
  // Comm-only halves that share the channel in F&B pairs: each pair reschedules its phases when
  // one half finishes, leaving an earlier completion event in the heap. A later pair's phase on
  // the same stream must not take it for its own: no phase can beat bytes / channel.
  const std::map<OpKind, std::vector<Phase>> programs = {{OpKind::F, {comm(5000)}},
                                                         {OpKind::B, {comm(4000)}},
                                                         {OpKind::Bi, {comm(4000)}},
                                                         {OpKind::W, {compute(1)}}};
  const TestPhases costs(programs, 1.0, 10.0);  // 10 bytes/ns: 500 ns alone for 5000 bytes
  const Schedule dpv = make_schedule({ScheduleKind::DualPipeV, 1, 8, 0});
  SimOptions opt;
  const SimResult r = simulate(dpv, costs, opt);
  int phases = 0;
  for (const Interval& iv : r.timeline.intervals) {
    if (iv.lane != Lane::Comm) continue;
    CAPTURE(to_string(iv.op));
    CHECK(iv.end - iv.start >= iv.bytes / 10);
    ++phases;
  }
  CHECK(phases > 8);
}

TEST_CASE("every mode repeats bit for bit: simple or phases, links or the fabric") {
  // The modes run the one integer communication model; the same run twice gives the same
  // intervals, including the phases' kernels and communication and the tail transfers.
  for (const bool phases : {false, true})
    for (const bool fabric : {false, true}) {
      model::Overrides o;
      o.kind = "dualpipe";
      o.pp = 8;
      o.global_batch = 4096;  // 16 micro-batches over DP 256
      const model::Scenario sc = model::make_scenario("deepseek-v3", o);
      model::StudyOptions opt;
      opt.phases = phases;
      opt.network = fabric;
      opt.record_timeline = true;
      const model::StudyResult a = model::run_study(sc, opt), b = model::run_study(sc, opt);
      INFO("phases=", phases, " fabric=", fabric);
      REQUIRE(a.sim.timeline.intervals.size() == b.sim.timeline.intervals.size());
      bool same = a.sim.metrics.makespan == b.sim.metrics.makespan && a.sim.metrics.events == b.sim.metrics.events;
      for (std::size_t i = 0; i < a.sim.timeline.intervals.size(); ++i)
        same = same && a.sim.timeline.intervals[i].start == b.sim.timeline.intervals[i].start &&
               a.sim.timeline.intervals[i].end == b.sim.timeline.intervals[i].end;
      CHECK(same);
      CHECK(a.sim.metrics.makespan > 0);
    }
}
