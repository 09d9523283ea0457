// Schedules checked op for op against orders recorded from the reference code itself:
// sail-sg's greedy zero-bubble scheduler (ZB-1P / ZB-2P, tests/golden/zb_orders.json, made by
// scripts/reference/dump_zb_orders.py) and Megatron-LM's 1F1B and interleaved 1F1B
// (tests/golden/megatron_orders.json, scripts/reference/dump_megatron_orders.py).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/generators.hpp"
#include "sim/generators/builders.hpp"
#include "sim/validate.hpp"
#include "support.hpp"

using namespace ppsim::sim;
using nlohmann::json;

namespace {

// "F0 B0 W0" per rank: the greedy scheduler's F, B (input grads) and W, one stage per rank.
std::string zb_text(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) {
    const char* letter = op.kind == OpKind::F ? "F" : op.kind == OpKind::Bi ? "B" : op.kind == OpKind::W ? "W" : "?";
    out += (out.empty() ? "" : " ") + std::string(letter) + std::to_string(op.mb);
  }
  return out;
}

// "F0.0 F0.7 B0.7" per rank: F, B (input grads) or W, micro-batch, stage (V placement).
std::string v_text(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops)
    out += (out.empty() ? "" : " ") + zb_text({op}) + "." + std::to_string(op.stage);
  return out;
}

// "3F0 1B2" per rank: stage, F or B (full backward), micro-batch.
std::string megatron_text(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops)
    out += (out.empty() ? "" : " ") + std::to_string(op.stage) + (op.kind == OpKind::F ? "F" : op.kind == OpKind::B ? "B" : "?") +
           std::to_string(op.mb);
  return out;
}

const json& load(const char* name) {
  static std::map<std::string, json> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, json::parse(ppsim::test::slurp(ppsim::test::golden_path(name)))).first;
  return it->second;
}

}  // namespace

TEST_CASE("zb2p is sail-sg's greedy zero-bubble scheduler, op for op, for every cost and memory limit recorded") {
  int compared = 0, refused = 0;
  for (const json& c : load("zb_orders.json")) {
    ZbGreedyOptions o;
    o.f = c["F"], o.b = c["B"], o.w = c["W"], o.comm = c["comm"];
    o.mem_f = c["mem"][0], o.mem_b = c["mem"][1], o.mem_w = c["mem"][2];
    o.pending = c["mem_limit"];
    const int P = c["P"], M = c["M"];
    INFO("P=", P, " M=", M, " F/B/W=", o.f, "/", o.b, "/", o.w, " comm=", o.comm, " limit=", o.pending);
    const ScheduleRequest req(ScheduleKind::ZB2P, P, M, 0, o);
    REQUIRE(check_request(req).empty());
    if (c.contains("error")) {
      CHECK(ppsim::test::error_of([&] { make_schedule(req); }).find("cannot fit memory") != std::string::npos);
      ++refused;
      continue;
    }
    const Schedule s = make_schedule(req);
    REQUIRE(s.per_rank.size() == c["per_rank"].size());
    for (int r = 0; r < P; ++r) CHECK(zb_text(s.per_rank[r]) == c["per_rank"][r].get<std::string>());
    CHECK(validate(s).ok());
    ++compared;
  }
  CHECK(compared >= 1600);
  CHECK(refused >= 5);
}

TEST_CASE("zb2p: with unit costs ZB-2P's stages each take 3M once M >= 2P - 1 (no bubble inside a stage)") {
  for (int P : {4, 8}) {
    const int M = 3 * P;
    const Schedule s = make_schedule({ScheduleKind::ZB2P, P, M});
    const auto peaks = peak_in_flight(s);
    for (int r = 0; r < P; ++r) CHECK(peaks[r] <= 2 * P);  // the memory limit: 2P forwards in flight
  }
}

TEST_CASE("zbv-greedy is sail-sg's cost-aware ZB-V scheduler, op for op, for every cost recorded") {
  int compared = 0;
  for (const json& c : load("zbv_cost_orders.json")) {
    ZbGreedyOptions o;
    o.f = c["F"], o.b = c["B"], o.w = c["W"], o.comm = c["comm"];
    o.mem_f = c["mem"][0], o.mem_b = c["mem"][1], o.mem_w = c["mem"][2];
    const int P = c["P"], M = c["M"];
    INFO("P=", P, " M=", M, " F/B/W=", o.f, "/", o.b, "/", o.w, " comm=", o.comm, " mem_f=", o.mem_f);
    const Schedule s = make_schedule({ScheduleKind::ZBVGreedy, P, M, 0, o});
    for (int r = 0; r < P; ++r) CHECK(v_text(s.per_rank[r]) == c["per_rank"][r].get<std::string>());
    CHECK(validate(s).ok());
    ++compared;
  }
  CHECK(compared >= 890);
}

TEST_CASE("v-half and v-min are sail-sg's controllable-memory V schedules, op for op") {
  int compared = 0;
  for (const json& c : load("zbv_greedy_orders.json")) {
    const int P = c["P"], M = c["M"];
    const ScheduleKind kind = c["mem"] == "half" ? ScheduleKind::VHalf : ScheduleKind::VMin;
    INFO(to_string(kind), " P=", P, " M=", M);
    REQUIRE(check_request({kind, P, M}).empty());
    const Schedule s = make_schedule({kind, P, M});
    for (int r = 0; r < P; ++r) CHECK(v_text(s.per_rank[r]) == c["per_rank"][r].get<std::string>());
    CHECK(validate(s).ok());
    ++compared;
  }
  CHECK(compared == 300);
  // Their point: ZB-V holds what 1F1B does, V-Half about half of it, V-Min about a third.
  auto peak = [](ScheduleKind k) {
    const auto per_rank = peak_in_flight(make_schedule({k, 8, 32}));
    return *std::max_element(per_rank.begin(), per_rank.end());
  };
  CHECK(peak(ScheduleKind::VMin) < peak(ScheduleKind::VHalf));
  CHECK(peak(ScheduleKind::VHalf) < peak(ScheduleKind::ZBV));
  CHECK(check_request({ScheduleKind::VHalf, 64, 2048}).find("at most 65536") != std::string::npos);
}

TEST_CASE("1f1b is Megatron-LM's for every M, fewer micro-batches than ranks included") {
  int compared = 0;
  for (const json& c : load("megatron_orders.json")) {
    if (c["kind"] != "1f1b") continue;
    const int P = c["P"], M = c["M"];
    INFO("P=", P, " M=", M);
    REQUIRE(check_request({ScheduleKind::OneFOneB, P, M}).empty());
    const Schedule s = make_schedule({ScheduleKind::OneFOneB, P, M});
    for (int r = 0; r < P; ++r) CHECK(megatron_text(s.per_rank[r]) == c["per_rank"][r].get<std::string>());
    ++compared;
  }
  CHECK(compared >= 130);
}

TEST_CASE("interleaved-1f1b-megatron is Megatron-LM's order and Megatron-LM's rule, for every group size recorded") {
  int compared = 0, refused = 0, as_kind = 0;
  for (const json& c : load("megatron_orders.json")) {
    if (c["kind"] != "interleaved-1f1b") continue;
    const int P = c["P"], M = c["M"], V = c["V"], N = c["N"];
    INFO("P=", P, " M=", M, " V=", V, " N=", N);
    const std::string problem = gen::megatron_interleaved_problem(P, M, N);
    if (N == P) CHECK(check_request({ScheduleKind::Interleaved1F1BMegatron, P, M, V}) == problem);
    if (c.contains("error")) {
      CHECK_FALSE(problem.empty());
      ++refused;
      continue;
    }
    REQUIRE(problem.empty());
    const Schedule s = gen::interleaved_1f1b_megatron(P, M, V, N);
    for (int r = 0; r < P; ++r) CHECK(megatron_text(s.per_rank[r]) == c["per_rank"][r].get<std::string>());
    CHECK(validate(s).ok());
    if (N == P) {
      CHECK(to_string(make_schedule({ScheduleKind::Interleaved1F1BMegatron, P, M, V}).per_rank[0].front()) ==
            to_string(s.per_rank[0].front()));
      ++as_kind;
    }
    ++compared;
  }
  CHECK(compared >= 250);
  CHECK(refused >= 800);
  CHECK(as_kind >= 100);
}
