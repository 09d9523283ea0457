// The CPU runtime: every schedule kind reproduces a sequential run's loss and gradients, a
// broken schedule fails by its deadline naming rank, op and peer, and measured timelines
// calibrate the simulator.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "runtime/calibrate.hpp"
#include "runtime/executor.hpp"
#include "runtime/rank_program.hpp"
#include "sim/engine.hpp"
#include "sim/generators.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/search.hpp"
#include "sim/validate.hpp"

using namespace ppsim;
using namespace ppsim::runtime;

namespace {
ExecOptions model(int hidden, int ffn, int rows) {
  ExecOptions o;
  o.hidden = hidden;
  o.ffn = ffn;
  o.rows = rows;
  return o;
}
}  // namespace

TEST_CASE("every kind reproduces the sequential run's loss and gradients (double: 1e-12)") {
  const ExecOptions o = model(16, 24, 4);
  int runs = 0;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds())
    for (int P : {1, 2, 3, 4, 6})
      for (int M : {P, 2 * P, 2 * P + 2, 3 * P + 1}) {
        const sim::ScheduleRequest req{kind, P, M, 0};
        if (!sim::check_request(req).empty()) continue;
        const sim::Schedule s = sim::make_schedule(req);
        INFO(sim::to_string(kind), " P=", P, " M=", M);
        const auto pipelined = execute<double>(s, o);
        const auto reference = run_sequential<double>(s.stages, M, o);
        CHECK(max_relative_error(pipelined, reference) <= 1e-12);
        CHECK(pipelined.timeline.intervals.size() == s.op_count());
        ++runs;
      }
  CHECK(runs > 60);
}

TEST_CASE("single precision agrees to float rounding") {
  ExecOptions o;
  const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::DualPipe, 4, 8, 0});
  CHECK(max_relative_error(execute<float>(s, o), run_sequential<float>(s.stages, 8, o)) <= 1e-4);
}

TEST_CASE("schedules read from CSV run too") {
  const sim::Schedule s = sim::schedule_from_csv("0F0,0F1,0B0,0B1\n1F0,1B0,1F1,1B1\n");
  ExecOptions o;
  CHECK(max_relative_error(execute<double>(s, o), run_sequential<double>(2, 2, o)) <= 1e-12);
}

TEST_CASE("a broken schedule never hangs: the deadline names the rank, the op and the peer") {
  ExecOptions o;
  o.timeout = std::chrono::milliseconds(200);
  // Rank 0 never runs micro-batch 1's forward: rank 1 waits for it in vain.
  sim::Schedule missing{"custom", 2, 2, 2, {0, 1}, {}, 2, {}};
  missing.per_rank = {{sim::Op::forward(0, 0), sim::Op::backward(0, 0)},
                      {sim::Op::forward(0, 1), sim::Op::backward(0, 1), sim::Op::forward(1, 1), sim::Op::backward(1, 1)}};
  CHECK_THROWS_WITH(execute<double>(missing, o),
                    "rank 1: F mb1 s1 waited 200 ms for the activation of micro-batch 1 from stage 0 on rank 0: deadline passed");
  // A cross-rank cycle: each rank waits for the other.
  sim::Schedule cycle{"custom", 2, 2, 2, {0, 1}, {}, 2, {}};
  cycle.per_rank = {{sim::Op::forward(0, 0), sim::Op::backward(0, 0), sim::Op::forward(1, 0), sim::Op::backward(1, 0)},
                    {sim::Op::forward(1, 1), sim::Op::backward(1, 1), sim::Op::forward(0, 1), sim::Op::backward(0, 1)}};
  CHECK_THROWS_WITH(execute<double>(cycle, o), doctest::Contains("deadline passed"));
}

TEST_CASE("calibration: least squares recovers the op costs of a timeline") {
  sim::Timeline t;
  t.ranks = 1;
  sim::Time at = 0;
  auto add = [&](sim::Op op, sim::Time d) {
    t.intervals.push_back({0, sim::Lane::Compute, op, at, at + d});
    at += d;
  };
  for (int i = 0; i < 4; ++i) {
    add(sim::Op::forward(i, 0), 100 + (i % 2 ? 2 : -2));  // 98, 102: the mean is 100
    add(sim::Op::backward_input(i, 0), 150);
    add(sim::Op::weight(i, 0), 60);
  }
  const Calibration c = calibrate(t);
  CHECK(c.cost.f == 100);
  CHECK(c.cost.w == 60);
  CHECK(c.cost.b == 210);  // Bi + W
  CHECK(c.cost.fb == 310);
  CHECK(c.rms_error_ns == doctest::Approx(std::sqrt(4 * 4.0 / 12)));  // four forwards 2 ns off
  CHECK(c.samples == 12);
}

TEST_CASE("a measured run, calibrated, is predicted by the simulator") {
  const ExecOptions o = model(64, 128, 32);
  const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::OneFOneB, 4, 8, 0});
  const auto measured = execute<double>(s, o);
  const Calibration fit = calibrate(measured.timeline);
  CHECK(fit.cost.f > 0);
  CHECK(fit.cost.b > fit.cost.w);
  const Comparison cmp = compare_with_simulation(s, measured.timeline, fit);
  CHECK(cmp.predicted_step > 0);
  CHECK(cmp.measured_step > 0);
  CHECK(cmp.measured_bubble.size() == 4);
  CHECK(cmp.predicted_bubble.size() == 4);
  CHECK(cmp.ops_compared == static_cast<int>(s.op_count()));
  CHECK(cmp.predicted.intervals.size() >= s.op_count());
}

TEST_CASE("op by op: a timeline the simulator produced is predicted exactly, and a shifted op shows its shift") {
  const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::DualPipe, 4, 8, 0});
  sim::Timeline measured = sim::simulate(s, sim::CostTable(sim::StageCost{100, 200, 80, 300})).timeline;
  const Calibration fit = calibrate(measured);
  CHECK(fit.cost.f == 100);
  Comparison cmp = compare_with_simulation(s, measured, fit);
  CHECK(cmp.ops_compared == static_cast<int>(s.op_count()));
  CHECK(cmp.max_start_error == 0);
  CHECK(cmp.step_error == 0);
  for (auto& iv : measured.intervals)
    if (iv.rank == 2 && iv.lane == sim::Lane::Compute) {
      iv.start += 7;
      iv.end += 7;
    }
  cmp = compare_with_simulation(s, measured, calibrate(measured));
  CHECK(cmp.max_start_error == 7);
  CHECK(cmp.mean_start_error > 0);
}

namespace {
// Passes messages on through the mailboxes and checks each sender's order against
// messages_between, the order the NCCL transport posts its receives in.
class OrderCheckingTransport final : public Transport<Eigen::MatrixXd> {
 public:
  OrderCheckingTransport(const sim::Schedule& s, std::atomic<bool>& abort) : inner_(s.ranks, 64, std::chrono::milliseconds(10000), abort) {
    for (int src = 0; src < s.ranks; ++src) {
      expected_.emplace_back();
      sent_.emplace_back(s.ranks, 0);
      for (int dst = 0; dst < s.ranks; ++dst) expected_[src].push_back(messages_between(s, src, dst));
    }
  }
  void send(int src, int dst, Tag tag, Eigen::MatrixXd m) override {
    const auto& order = expected_[src][dst];
    std::size_t& n = sent_[src][dst];  // touched only by src's thread
    if (n >= order.size() || order[n] < tag || tag < order[n]) ++mismatches;
    ++n;
    inner_.send(src, dst, tag, std::move(m));
  }
  Eigen::MatrixXd recv(int dst, int src, Tag tag) override { return inner_.recv(dst, src, tag); }
  bool all_sent() const {
    for (std::size_t src = 0; src < expected_.size(); ++src)
      for (std::size_t dst = 0; dst < expected_.size(); ++dst)
        if (sent_[src][dst] != expected_[src][dst].size()) return false;
    return true;
  }
  std::atomic<int> mismatches{0};

 private:
  InProcessTransport<Eigen::MatrixXd> inner_;
  std::vector<std::vector<std::vector<Tag>>> expected_;
  std::vector<std::vector<std::size_t>> sent_;
};
}  // namespace

TEST_CASE("messages_between is the order every rank sends in (what the NCCL transport receives by)") {
  const ExecOptions o = model(4, 4, 2);
  int runs = 0;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds())
    for (int P : {2, 3, 4, 6})
      for (int M : {P, 2 * P + 2}) {
        const sim::ScheduleRequest req{kind, P, M, 0};
        if (!sim::check_request(req).empty()) continue;
        const sim::Schedule s = sim::make_schedule(req);
        INFO(sim::to_string(kind), " P=", P, " M=", M);
        std::atomic<bool> abort{false};
        OrderCheckingTransport net(s, abort);
        const auto run = execute<double>(s, o, net, abort);
        CHECK(net.mismatches.load() == 0);
        CHECK(net.all_sent());
        CHECK(max_relative_error(run, run_sequential<double>(s.stages, M, o)) <= 1e-12);
        ++runs;
      }
  CHECK(runs > 30);
  // A rank never sends to itself, and a one-rank schedule sends nothing.
  const sim::Schedule dual = sim::make_schedule({sim::ScheduleKind::DualPipe, 4, 8, 0});
  for (int r = 0; r < 4; ++r) CHECK(messages_between(dual, r, r).empty());
  // Rank 0 holds stage 0 of the first direction and stage 3 of the second: 4 activations of
  // stage 0 and 4 gradients of stage 3 go to rank 1.
  CHECK(messages_between(dual, 0, 1).size() == 8);
}

TEST_CASE("MoE stages: every kind reproduces the sequential run (double: 1e-12)") {
  ExecOptions o = model(8, 12, 6);
  o.experts = 4;
  o.top_k = 2;
  int runs = 0;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds())
    for (int P : {2, 4}) {
      const sim::ScheduleRequest req{kind, P, 2 * P + 2, 0};
      if (!sim::check_request(req).empty()) continue;
      const sim::Schedule s = sim::make_schedule(req);
      INFO(sim::to_string(kind), " P=", P);
      const auto run = execute<double>(s, o);
      CHECK(run.stages.size() == static_cast<std::size_t>(s.stages * 4));
      CHECK(max_relative_error(run, run_sequential<double>(s.stages, s.microbatches, o)) <= 1e-12);
      ++runs;
    }
  CHECK(runs >= 12);
  o.top_k = 5;
  CHECK_THROWS_WITH(execute<double>(sim::make_schedule({sim::ScheduleKind::OneFOneB, 2, 2, 0}), o),
                    "top_k = 5: allowed 1..4 (the experts)");
}

TEST_CASE("fixed routing: distinct experts per token, gates summing to 1, slots grouped by expert") {
  const MoeRouting r = fixed_routing(50, 8, 3, 2);
  for (int t = 0; t < 50; ++t) {
    std::set<int> chosen;
    double gates = 0;
    for (int s = 0; s < 3; ++s) {
      chosen.insert(r.expert_of[t * 3 + s]);
      gates += r.gate[t * 3 + s];
    }
    CHECK(chosen.size() == 3);
    CHECK(gates == doctest::Approx(1.0));
  }
  CHECK(r.offset.front() == 0);
  CHECK(r.offset.back() == 150);
  for (std::size_t i = 0; i < r.position.size(); ++i) {
    CHECK(r.position[i] >= r.offset[r.expert_of[i]]);
    CHECK(r.position[i] < r.offset[r.expert_of[i] + 1]);
  }
  CHECK(fixed_routing(50, 8, 3, 3).expert_of != r.expert_of);  // stages route differently
}

TEST_CASE("the MoE block's gradients are the derivatives of its output (finite differences)") {
  ExecOptions o = model(5, 7, 9);
  o.experts = 3;
  o.top_k = 2;
  MoeBlock<double> block = initial_block<double>(o, 1);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(9, 5), t = Eigen::MatrixXd::Random(9, 5);
  // L = sum(y .* t), so dL/dy = t.
  auto loss = [&](const MoeBlock<double>& b, const Eigen::MatrixXd& in) {
    MoeBlock<double>::Saved sv;
    return b.forward(in, sv).cwiseProduct(t).sum();
  };
  MoeBlock<double>::Saved saved;
  block.forward(x, saved);
  const Eigen::MatrixXd dx = block.input_grad(t, saved);
  block.weight_grad(saved);
  const double h = 1e-6;
  for (int i = 0; i < 9; i += 2)
    for (int j = 0; j < 5; j += 2) {
      Eigen::MatrixXd xp = x, xm = x;
      xp(i, j) += h;
      xm(i, j) -= h;
      CHECK(dx(i, j) == doctest::Approx((loss(block, xp) - loss(block, xm)) / (2 * h)).epsilon(1e-6));
    }
  for (int e = 0; e < 3; ++e) {
    MoeBlock<double> plus = block, minus = block;
    plus.experts[e].w1(1, 2) += h;
    minus.experts[e].w1(1, 2) -= h;
    CHECK(block.experts[e].gw1(1, 2) == doctest::Approx((loss(plus, x) - loss(minus, x)) / (2 * h)).epsilon(1e-6));
    plus = block;
    minus = block;
    plus.experts[e].b2(3) += h;
    minus.experts[e].b2(3) -= h;
    CHECK(block.experts[e].gb2(3) == doctest::Approx((loss(plus, x) - loss(minus, x)) / (2 * h)).epsilon(1e-6));
  }
}

TEST_CASE("a schedule the search designed runs for real and reproduces the sequential run (double: 1e-12)") {
  sim::SimOptions opt;
  opt.record_timeline = false;
  opt.p2p.latency = 500;
  const sim::CostTable costs = sim::parse_unit_costs("F=1,B=2,W=1,FB=2.5");
  std::vector<std::pair<std::string, sim::Schedule>> starts;
  for (sim::ScheduleKind k : {sim::ScheduleKind::OneFOneB, sim::ScheduleKind::ZB1P, sim::ScheduleKind::DualPipe})
    starts.emplace_back(std::string(sim::to_string(k)), sim::make_schedule({k, 4, 8, 0}));
  sim::SearchOptions so;
  so.evaluations = 3000;
  const sim::SearchResult r = sim::search_schedule(
      starts,
      [&](const sim::Schedule& s) {
        const sim::SimResult res = sim::simulate(s, costs, opt);
        return sim::SearchEval{res.metrics.makespan, 0, true, sim::critical_ops(res.metrics)};
      },
      so);
  REQUIRE(r.improvements > 0);  // a schedule none of the known kinds is
  const ExecOptions o = model(16, 24, 4);
  const auto run = execute<double>(r.best, o);
  CHECK(max_relative_error(run, run_sequential<double>(r.best.stages, r.best.microbatches, o)) <= 1e-12);
  CHECK(run.timeline.intervals.size() == r.best.op_count());
  // One repaired under a limit no known kind meets (3 activations per rank) runs too.
  so.evaluations = 4000;
  const sim::SearchResult repaired = sim::search_schedule(
      starts,
      [&](const sim::Schedule& s) {
        const auto peak = sim::peak_in_flight(s);
        const int most = *std::max_element(peak.begin(), peak.end());
        return sim::SearchEval{sim::simulate(s, costs, opt).metrics.makespan, static_cast<double>(most), most <= 3, {}};
      },
      so);
  const auto tight = execute<double>(repaired.best, o);
  CHECK(max_relative_error(tight, run_sequential<double>(repaired.best.stages, repaired.best.microbatches, o)) <= 1e-12);
}
