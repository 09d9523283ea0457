// Invariants of every generator over a sweep of (ranks, micro-batches): each schedule is
// complete and deadlock-free, has the expected shape, and holds the expected activations.
#include <doctest/doctest.h>

#include <algorithm>

#include "sim/generators.hpp"
#include "sim/validate.hpp"
#include "support.hpp"

using namespace ppsim::sim;
using ppsim::test::error_of;

namespace {
std::vector<int> microbatch_sweep(int P) {
  std::vector<int> ms;
  for (int m = 1; m <= 2 * P + 4; ++m) ms.push_back(m);
  for (int m : {3 * P, 4 * P, 4 * P + 2, 8 * P}) ms.push_back(m);
  return ms;
}
}  // namespace

TEST_CASE("every generator: valid, complete and acyclic for ranks 1..32 and a sweep of micro-batches") {
  int checked = 0;
  for (ScheduleKind kind : all_schedule_kinds()) {
    for (int P = 1; P <= 32; ++P) {
      for (int M : microbatch_sweep(P)) {
        for (int V : kind == ScheduleKind::Interleaved1F1B ? std::vector<int>{2, 3, 4} : std::vector<int>{0}) {
          const ScheduleRequest req{kind, P, M, V};
          if (!check_request(req).empty()) continue;
          const Schedule s = make_schedule(req);
          const ValidationReport report = validate(s);
          INFO(to_string(kind), " P=", P, " M=", M, " V=", V);
          REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.errors[0]));
          CHECK(s.ranks == P);
          CHECK(s.microbatches == M);
          // DualPipe's two chunks per rank are the same P stages run in opposite directions.
          CHECK(s.stages == (kind == ScheduleKind::DualPipe ? P : P * stages_per_rank_of(req)));
          CHECK(static_cast<int>(s.per_rank.size()) == P);
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 5000);
}

TEST_CASE("placements: looping for interleaved, V for zbv and dualpipev, mirrored for dualpipe") {
  const Schedule il = make_schedule({ScheduleKind::Interleaved1F1B, 4, 8, 3});
  CHECK(il.placement == std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3});
  for (ScheduleKind k : {ScheduleKind::ZBV, ScheduleKind::DualPipeV}) {
    const Schedule v = make_schedule({k, 4, 8, 0});
    CHECK(v.placement == std::vector<int>{0, 1, 2, 3, 3, 2, 1, 0});
    CHECK(v.stages_of(1) == std::vector<int>{1, 6});
  }
  const Schedule dp = make_schedule({ScheduleKind::DualPipe, 4, 8, 0});
  CHECK(dp.placement == std::vector<int>{0, 1, 2, 3});
  CHECK(dp.reverse_placement == std::vector<int>{3, 2, 1, 0});
  CHECK(dp.first_reverse_mb == 4);
  CHECK(dp.rank_of(0, 0) == 0);
  CHECK(dp.rank_of(4, 0) == 3);  // the second half of the micro-batches enters at the last rank
}

TEST_CASE("peak in-flight activations match each schedule's known memory profile") {
  for (int P = 2; P <= 16; ++P) {
    const int M = 4 * P;
    const auto gpipe = peak_in_flight(make_schedule({ScheduleKind::GPipe, P, M, 0}));
    CHECK(std::all_of(gpipe.begin(), gpipe.end(), [&](int p) { return p == M; }));
    const auto ofob = peak_in_flight(make_schedule({ScheduleKind::OneFOneB, P, M, 0}));
    for (int r = 0; r < P; ++r) CHECK(ofob[r] == P - r);  // 1F1B: P - r warm-up forwards
    // ZB-H1 keeps 1F1B's worst case (P) on every rank: weight grads lag by `rank` steps.
    const auto zb = peak_in_flight(make_schedule({ScheduleKind::ZB1P, P, M, 0}));
    CHECK(*std::max_element(zb.begin(), zb.end()) == P);
    if (P % 2 == 0) {  // DualPipe README: activation memory PP + 1 (in stage activations)
      const auto dp = peak_in_flight(make_schedule({ScheduleKind::DualPipe, P, M, 0}));
      CHECK(*std::max_element(dp.begin(), dp.end()) == P + 1);
    }
  }
}

TEST_CASE("requests a generator cannot serve are refused with the rule they break") {
  auto msg = [](ScheduleKind k, int P, int M, int V = 0) { return check_request({k, P, M, V}); };
  CHECK(msg(ScheduleKind::DualPipe, 3, 12).find("even number of ranks") != std::string::npos);
  CHECK(msg(ScheduleKind::DualPipe, 4, 9).find("even number of microbatches") != std::string::npos);
  CHECK(msg(ScheduleKind::DualPipe, 4, 6).find("microbatches >= 2 x ranks") != std::string::npos);
  CHECK(msg(ScheduleKind::DualPipeV, 4, 7).find("microbatches >= 2 x ranks") != std::string::npos);
  CHECK(msg(ScheduleKind::OneFOneB, 4, 3).empty());  // Megatron-LM runs it, warm-up clipped (PyTorch refuses)
  CHECK(msg(ScheduleKind::Interleaved1F1BMegatron, 4, 6).find("multiple of ranks (Megatron-LM's rule") != std::string::npos);
  CHECK(msg(ScheduleKind::Interleaved1F1BMegatron, 4, 8).empty());
  CHECK(msg(ScheduleKind::Interleaved1F1B, 4, 6).empty());  // PyTorch's rounds rule: one round
  ZbGreedyOptions bad;
  bad.mem_b = 1;  // memory that never comes back
  CHECK(check_request({ScheduleKind::ZB2P, 4, 8, 0, bad}).find("mem_f + mem_b + mem_w = 0") != std::string::npos);
  bad = {};
  bad.pending = 0;
  CHECK(error_of([&] { make_schedule({ScheduleKind::ZB2P, 4, 8, 0, bad}); }).find("cannot fit memory") !=
        std::string::npos);
  CHECK(msg(ScheduleKind::Interleaved1F1B, 4, 9).find("multiple of rounds") != std::string::npos);
  CHECK(msg(ScheduleKind::ZB1P, 4, 9).empty());  // one stage per rank: the rounds do not matter
  CHECK(msg(ScheduleKind::Interleaved1F1B, 4, 8, 1).find("stages-per-rank >= 2") != std::string::npos);
  CHECK(msg(ScheduleKind::ZBV, 4, 8, 3).find("always has 2 per rank") != std::string::npos);
  CHECK(msg(ScheduleKind::GPipe, 0, 8).find("ranks = 0 is out of range") != std::string::npos);
  CHECK(msg(ScheduleKind::GPipe, 4, 0).find("microbatches = 0 is out of range") != std::string::npos);
  CHECK(msg(ScheduleKind::GPipe, 4096, 1 << 20).find("too large") != std::string::npos);
  CHECK(error_of([] { make_schedule({ScheduleKind::DualPipe, 5, 20, 0}); }).find("even number of ranks") !=
        std::string::npos);
}

TEST_CASE("schedule kinds parse by their CLI names and misspellings get a suggestion") {
  for (ScheduleKind k : all_schedule_kinds()) CHECK(parse_schedule_kind(to_string(k)) == k);
  const std::string e = error_of([] { parse_schedule_kind("dual-pipev"); });
  CHECK(e.find("did you mean 'dualpipev'") != std::string::npos);
  CHECK(e.find("gpipe, 1f1b, interleaved-1f1b, interleaved-1f1b-megatron, zb1p, zb2p, zbv, zbv-greedy, v-half, v-min, dualpipe, "
                 "dualpipev") !=
        std::string::npos);
}
