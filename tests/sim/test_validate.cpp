// validate(): hand-broken schedules are rejected with a message that names what is wrong.
#include <doctest/doctest.h>

#include <algorithm>

#include "sim/generators.hpp"
#include "sim/validate.hpp"
#include "support.hpp"

using namespace ppsim::sim;

namespace {
bool mentions(const ValidationReport& r, const std::string& text) {
  for (const auto& e : r.errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}
std::string all(const ValidationReport& r) {
  std::string s;
  for (const auto& e : r.errors) s += e + "\n";
  return s;
}
Schedule one_f_one_b(int P, int M) { return make_schedule({ScheduleKind::OneFOneB, P, M, 0}); }
}  // namespace

TEST_CASE("an op moved before its input exists on the same rank is a deadlock cycle") {
  Schedule s = one_f_one_b(4, 8);
  auto& ops = s.per_rank[3];  // last rank: F0 B0 F1 B1 ...; run B0 before F0
  std::swap(ops[0], ops[1]);
  const auto r = validate(s);
  INFO(all(r));
  CHECK_FALSE(r.ok());
  CHECK(mentions(r, "deadlock"));
  CHECK(mentions(r, "B mb0 s3 (rank 3)"));
  CHECK(mentions(r, "F mb0 s3 (rank 3)"));
}

TEST_CASE("a cross-rank wait cycle is reported with the ops on it") {
  // Rank 1 wants micro-batch 1 first, rank 0 sends micro-batch 1 only after micro-batch 0's backward.
  Schedule s{"custom", 2, 2, 2, {0, 1}, {}, 2, {}};
  s.per_rank = {{Op::forward(0, 0), Op::backward(0, 0), Op::forward(1, 0), Op::backward(1, 0)},
                {Op::forward(1, 1), Op::backward(1, 1), Op::forward(0, 1), Op::backward(0, 1)}};
  const auto r = validate(s);
  INFO(all(r));
  REQUIRE(r.errors.size() == 1);
  CHECK(mentions(r, "deadlock: a cycle of"));
  CHECK(mentions(r, "F mb1 s1 (rank 1)"));
  CHECK(mentions(r, "B mb0 s0 (rank 0)"));
}

TEST_CASE("missing, duplicated and half-split backwards are named by micro-batch and stage") {
  Schedule missing = make_schedule({ScheduleKind::ZB1P, 4, 8, 0});
  auto& ops = missing.per_rank[2];
  ops.erase(std::find(ops.begin(), ops.end(), Op::weight(5, 2)));
  auto r = validate(missing);
  CHECK(mentions(r, "micro-batch 5 stage 2: backward ops B=0 Bi=1 W=0, expected one B, or one Bi and one W"));

  Schedule dup = one_f_one_b(2, 4);
  dup.per_rank[0].push_back(Op::forward(1, 0));
  r = validate(dup);
  CHECK(mentions(r, "micro-batch 1 stage 0: 2 forwards (F), expected exactly 1"));

  Schedule no_f = one_f_one_b(2, 4);
  no_f.per_rank[1].erase(no_f.per_rank[1].begin());
  r = validate(no_f);
  CHECK(mentions(r, "micro-batch 0 stage 1: 0 forwards (F), expected exactly 1"));
}

TEST_CASE("ops out of range or on the wrong rank are rejected before the graph is built") {
  Schedule s = one_f_one_b(2, 4);
  s.per_rank[0][0] = Op::forward(7, 0);
  auto r = validate(s);
  CHECK(mentions(r, "rank 0 op #0 (F mb7 s0): micro-batch 7 out of range 0..3"));

  s = one_f_one_b(2, 4);
  s.per_rank[0][0] = Op::forward(0, 1);
  r = validate(s);
  CHECK(mentions(r, "stage 1 of micro-batch 0 is placed on rank 1"));

  s = one_f_one_b(2, 4);
  s.per_rank[0][1] = Op::overlapped(1, 0, OpKind::B, 1, 0);
  r = validate(s);
  CHECK(mentions(r, "an FB pairs two different micro-batches"));

  Schedule dp = make_schedule({ScheduleKind::DualPipe, 4, 8, 0});
  dp.per_rank[0][0] = Op::forward(5, 0);  // micro-batch 5 runs stage 0 on rank 3
  r = validate(dp);
  CHECK(mentions(r, "stage 0 of micro-batch 5 is placed on rank 3"));
}

TEST_CASE("shape errors: placement and per-rank lists must match ranks and stages") {
  Schedule s = one_f_one_b(2, 4);
  s.placement = {0};
  CHECK(mentions(validate(s), "placement has 1 entries: expected one per stage (2)"));
  s = one_f_one_b(2, 4);
  s.placement[1] = 5;
  CHECK(mentions(validate(s), "placement[1] = 5: not a rank (allowed 0..1)"));
  s = one_f_one_b(2, 4);
  s.per_rank.pop_back();
  CHECK(mentions(validate(s), "per_rank has 1 op lists: expected one per rank (2)"));
}

TEST_CASE("require_valid throws the first error and counts the rest") {
  Schedule s = one_f_one_b(2, 4);
  s.per_rank[0].clear();
  const std::string e = ppsim::test::error_of([&] { require_valid(s); });
  CHECK(e.rfind("invalid 1f1b schedule: micro-batch 0 stage 0: 0 forwards", 0) == 0);
  CHECK(e.find("more)") != std::string::npos);
  CHECK(ppsim::test::error_of([] { require_valid(one_f_one_b(2, 4)); }).empty());
}

TEST_CASE("error lists stay bounded on a badly broken schedule") {
  Schedule s = make_schedule({ScheduleKind::GPipe, 8, 64, 0});
  for (auto& ops : s.per_rank) ops.clear();
  const auto r = validate(s);
  CHECK(r.errors.size() == kMaxReportedErrors + 1);
  CHECK(r.errors.back().find("more errors") != std::string::npos);
}
