// Schedule export and import: JSON and PyTorch-CSV round trips for every kind, strict
// readers with precise messages, and the ASCII picture.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "sim/generators.hpp"
#include "sim/schedule_ascii.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/schedule_json.hpp"
#include "sim/validate.hpp"
#include "support.hpp"

using namespace ppsim::sim;
using nlohmann::json;
using ppsim::test::error_of;

namespace {
std::vector<Schedule> one_of_each() {
  std::vector<Schedule> out;
  for (ScheduleKind k : all_schedule_kinds()) out.push_back(make_schedule({k, 4, 8, 0}));
  out.push_back(make_schedule({ScheduleKind::Interleaved1F1B, 4, 12, 3}));
  return out;
}
}  // namespace

TEST_CASE("JSON round trip reproduces every schedule exactly") {
  for (const Schedule& s : one_of_each()) {
    INFO(s.kind);
    CHECK(schedule_from_json_text(to_json(s).dump()) == s);
  }
}

TEST_CASE("JSON layout: ops, FB pairs, and the second direction of DualPipe") {
  const json j = to_json(make_schedule({ScheduleKind::DualPipe, 4, 8, 0}));
  CHECK(j["kind"] == "dualpipe");
  CHECK(j["placement"] == json({0, 1, 2, 3}));
  CHECK(j["reverse_placement"] == json({3, 2, 1, 0}));
  CHECK(j["reverse_from_microbatch"] == 4);
  CHECK(j["per_rank"][0][0] == json({{"op", "F"}, {"mb", 0}, {"stage", 0}}));
  bool saw_fb = false;
  for (const auto& op : j["per_rank"][0])
    if (op["op"] == "FB") {
      saw_fb = true;
      CHECK(op["f"].contains("mb"));
      CHECK(op["b"]["op"] == "B");
    }
  CHECK(saw_fb);
  CHECK_FALSE(to_json(make_schedule({ScheduleKind::OneFOneB, 4, 8, 0})).contains("reverse_placement"));
}

TEST_CASE("JSON reader: one precise message per mistake") {
  json good = to_json(make_schedule({ScheduleKind::OneFOneB, 2, 2, 0}));
  auto err = [&](auto edit) {
    json doc = good;
    edit(doc);
    return error_of([&] { schedule_from_json(doc); });
  };
  CHECK(err([](json& d) { d["microbatchs"] = 3; }).find("unknown key 'microbatchs' (did you mean 'microbatches'?)") !=
        std::string::npos);
  CHECK(err([](json& d) { d.erase("ranks"); }) == "schedule: missing key 'ranks'");
  CHECK(err([](json& d) { d["ranks"] = "two"; }) == "schedule.ranks: expected an integer, got string \"two\"");
  CHECK(err([](json& d) { d["ranks"] = 0; }) == "schedule.ranks: 0 is out of range: allowed 1..4096");
  CHECK(err([](json& d) { d["per_rank"][1][0]["mb"] = 9; }) ==
        "schedule.per_rank[1][0].mb: 9 is out of range: allowed 0..1");
  CHECK(err([](json& d) { d["per_rank"][0][0]["op"] = "X"; }).find("schedule.per_rank[0][0].op: op kind 'X'") == 0);
  CHECK(err([](json& d) { d["per_rank"][0][0]["stgae"] = 1; }).find("did you mean 'stage'?") != std::string::npos);
  CHECK(err([](json& d) { d["placement"] = json({0}); }).find("expected one per stage (2)") != std::string::npos);
  CHECK(err([](json& d) { d["per_rank"].erase(1); }).find("expected an array of 2 op lists") != std::string::npos);
  // The schema version: written, optional on reading (older files), never newer than this ppsim's.
  CHECK(good["schema_version"] == 1);
  CHECK(err([](json& d) { d["schema_version"] = 2; }) ==
        "schedule.schema_version = 2: this ppsim reads 1..1 (a newer ppsim wrote it?)");
  CHECK(err([](json& d) { d["schema_version"] = "1"; }).find("schedule.schema_version = \"1\"") == 0);
  json old = good;
  old.erase("schema_version");
  CHECK(schedule_from_json(old).per_rank == schedule_from_json(good).per_rank);
  CHECK(error_of([] { schedule_from_json_text("{\"kind\": "); }).rfind("not valid JSON", 0) == 0);
  // Found by fuzzing: a number too large for a double is nlohmann's out_of_range, not a parse error.
  CHECK(error_of([] { schedule_from_json_text("99999E00000000000048282467"); }).rfind("not valid JSON", 0) == 0);
}

TEST_CASE("PyTorch CSV round trip keeps ops, stages and placement (DualPipe's two directions too)") {
  for (const Schedule& s : one_of_each()) {
    INFO(s.kind);
    Schedule back = schedule_from_csv(to_csv(s));
    CHECK(back.kind == "csv");
    back.kind = s.kind;
    CHECK(back == s);
  }
}

TEST_CASE("CSV cells use PyTorch's action names") {
  const std::string zb = to_csv(make_schedule({ScheduleKind::ZB1P, 2, 2, 0}));
  CHECK(zb == "0F0,0F1,0I0,0W0,0I1,0W1\n1F0,1I0,1F1,1I1,1W0,1W1\n");
  const std::string dpv = to_csv(make_schedule({ScheduleKind::DualPipeV, 2, 4, 0}));
  CHECK(dpv.find(")OVERLAP_F_B") != std::string::npos);
}

TEST_CASE("CSV reader: skips PyTorch's communication actions and idle cells") {
  const std::string lowered =
      "0UNSHARD,0F0,0SEND_F0,,0F1,0SEND_F1,0RECV_B0,0B0,0WAIT_SEND_F0,0RECV_B1,0B1,0REDUCE_GRAD,0WAIT_REDUCE_GRAD\n"
      "1RECV_F0,1F0,1B0,1SEND_B0,1RECV_F1,1F1,1B1,1SEND_B1,1RESHARD,1WAIT_SEND_B0,1WAIT_SEND_B1\n";
  const Schedule s = schedule_from_csv(lowered);
  CHECK(s.ranks == 2);
  CHECK(s.stages == 2);
  CHECK(s.microbatches == 2);
  CHECK(s.per_rank[0] == std::vector<Op>{Op::forward(0, 0), Op::forward(1, 0), Op::backward(0, 0), Op::backward(1, 0)});
  CHECK(validate(s).ok());
}

TEST_CASE("CSV reader: bad cells are named by row, column and text") {
  CHECK(error_of([] { schedule_from_csv("0F0,0X1\n"); }) ==
        "csv row 1 (rank 0) column 2: '0X1' has action type 'X': allowed F, B, I, W (and, skipped as communication, RECV_B, RECV_F, "
        "REDUCE_GRAD, RESHARD, SEND_B, SEND_F, UNSHARD, WAIT_REDUCE_GRAD, WAIT_SEND_B, WAIT_SEND_F)");
  CHECK(error_of([] { schedule_from_csv("0F0\nF1\n"); }).find("csv row 2 (rank 1) column 1: 'F1' is not an action") ==
        0);
  CHECK(error_of([] { schedule_from_csv("0F\n"); }).find("'0F' has no micro-batch index") != std::string::npos);
  CHECK(error_of([] { schedule_from_csv("0F99999999999\n"); }).find("expected 0..") != std::string::npos);
  CHECK(error_of([] { schedule_from_csv("(0F1;0F2)OVERLAP_F_B\n"); }).find("must pair one forward and one backward") !=
        std::string::npos);
  CHECK(error_of([] { schedule_from_csv("\n\n"); }) == "csv holds no compute actions (F, B, I, W)");
  // A stage on two ranks must be a bidirectional split, never interleaved micro-batches.
  CHECK(error_of([] { schedule_from_csv("0F0,0F2\n0F1\n"); }).find("interleaved micro-batches") !=
        std::string::npos);
  CHECK(error_of([] { schedule_from_csv("0F0\n0F1\n0F2\n"); }).find("runs on 3 ranks") != std::string::npos);
}

TEST_CASE("ASCII picture: one row per rank, ops laid out in unit steps") {
  const std::string pic = to_ascii(make_schedule({ScheduleKind::OneFOneB, 2, 2, 0}));
  CHECK(pic.find("1f1b: 2 ranks, 2 stages, 2 micro-batches, 6 unit steps") == 0);
  CHECK(pic.find("rank 0 | F0 F1 .  B0 .  B1\n") != std::string::npos);
  CHECK(pic.find("rank 1 | .  F0 B0 F1 B1 .\n") != std::string::npos);
  const std::string dp = to_ascii(make_schedule({ScheduleKind::DualPipe, 4, 8, 0}));
  CHECK(dp.find("rank 0 | F0a") != std::string::npos);
  CHECK(dp.find("rank 3 | F4b") != std::string::npos);  // the second direction enters at the last rank
  CHECK(dp.find("|") != std::string::npos);
}
