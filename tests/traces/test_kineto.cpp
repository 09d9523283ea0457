// PyTorch profiler (Kineto) traces: kernels put in phases by name, ops from annotations, the
// union and overlap sums, user rules ahead of the built-in ones, and one line per bad input.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "traces/kineto.hpp"

using namespace ppsim::traces;
using json = nlohmann::json;

namespace {

json kernel(const std::string& name, int device, int stream, double ts, double dur) {
  return {{"ph", "X"}, {"cat", "kernel"}, {"name", name}, {"pid", device}, {"tid", stream}, {"ts", ts}, {"dur", dur},
          {"args", {{"device", device}, {"stream", stream}}}};
}
json range(const std::string& name, int device, double ts, double dur) {
  return {{"ph", "X"}, {"cat", "gpu_user_annotation"}, {"name", name}, {"pid", device}, {"tid", 7}, {"ts", ts}, {"dur", dur}};
}

// One device, two micro-batches: forward 100 us (GEMM 60, attention 30, a dispatch of 40 on
// another stream, 20 of it under the GEMM), backward split into input (150) and weight (50).
json small_trace() {
  json events = json::array();
  for (int mb = 0; mb < 2; ++mb) {
    const double t = 1000.0 + 400 * mb;
    events.push_back(range("forward", 0, t, 100));
    events.push_back(range("## layer forward ##", 0, t, 50));  // nested: counts once, in the outer range
    events.push_back(kernel("sm90_xmma_gemm_bf16bf16_bf16f32", 0, 7, t, 60));
    events.push_back(kernel("flash_fwd_kernel", 0, 7, t + 60, 30));
    events.push_back(kernel("void deep_ep::intranode::dispatch<8>", 0, 20, t + 40, 40));
    events.push_back(range("backward_input", 0, t + 100, 150));
    events.push_back(kernel("cutlass_80_tensorop_gemm", 0, 7, t + 100, 150));
    events.push_back(range("backward_weight", 0, t + 250, 50));
    events.push_back(kernel("elementwise_kernel", 0, 7, t + 250, 50));
    events.push_back(kernel("ncclDevKernel_SendRecv(ncclDevComm*)", 0, 21, t + 300, 10));
  }
  events.push_back({{"ph", "X"}, {"cat", "gpu_memcpy"}, {"name", "Memcpy DtoD"}, {"pid", 0}, {"tid", 7}, {"ts", 3000}, {"dur", 5},
                    {"args", {{"device", 0}}}});
  events.push_back({{"ph", "X"}, {"cat", "cpu_op"}, {"name", "aten::mm"}, {"pid", 99}, {"tid", 99}, {"ts", 0}, {"dur", 1}});
  events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", 0}});
  return {{"schemaVersion", 1}, {"traceEvents", events}};
}

}  // namespace

TEST_CASE("kineto: kernels by phase, ops from the outermost annotations, overlap") {
  KinetoProfile p;
  read_kineto(small_trace(), KinetoRules::builtin(), "t.json", 0, p);
  REQUIRE(p.devices.size() == 1);
  const KinetoDevice& d = p.devices[0];
  CHECK(p.kernels == 13);
  CHECK(p.gpu_annotations);
  CHECK(d.phase_us.at("gemm") == doctest::Approx(2 * (60 + 150)));
  CHECK(d.phase_us.at("attention") == doctest::Approx(60));
  CHECK(d.phase_us.at("dispatch") == doctest::Approx(80));
  CHECK(d.phase_us.at("p2p") == doctest::Approx(20));
  CHECK(d.phase_us.at("other") == doctest::Approx(100));
  CHECK(d.phase_us.at("memory") == doctest::Approx(5));
  CHECK(d.op_us.at("F") == std::vector<double>{100, 100});  // the nested layer range is not a second forward
  CHECK(d.op_us.at("Bi") == std::vector<double>{150, 150});
  CHECK(d.op_us.at("W") == std::vector<double>{50, 50});
  CHECK_FALSE(d.op_us.count("B"));
  // The dispatch (t+40..t+80) runs under the GEMM (..t+60) and attention (t+60..t+90): all of
  // it overlapped; the P2P (t+300..t+310) after the weight pass: none.
  CHECK(d.comm_us == doctest::Approx(2 * (40 + 10)));
  CHECK(d.comm_overlapped_us == doctest::Approx(2 * 40));
  CHECK(d.busy_us == doctest::Approx(2 * (90 + 210) + 5));  // idle from t+90 to t+100
  CHECK(d.span_us == doctest::Approx(3005 - 1000));
}

TEST_CASE("kineto: user rules go first; several files are several stages") {
  const json rules = json::parse(R"({"kernels": [{"phase": "attention", "pattern": "elementwise"}],
                                     "ops": [{"op": "FB", "pattern": "^forward$"}]})");
  KinetoProfile p;
  const KinetoRules mine = KinetoRules::from_json(rules, KinetoRules::builtin());
  read_kineto(small_trace(), mine, "rank0.json", 0, p);
  read_kineto(small_trace(), KinetoRules::builtin(), "rank1.json", 1, p);
  REQUIRE(p.devices.size() == 2);
  CHECK(p.devices[0].phase_us.at("attention") == doctest::Approx(160));
  CHECK_FALSE(p.devices[0].phase_us.count("other"));
  CHECK(p.devices[0].op_us.count("FB"));
  CHECK(p.devices[1].device == 1);
  CHECK(p.devices[1].op_us.count("F"));
}

TEST_CASE("kineto: bad traces and rules get one line naming the place") {
  KinetoProfile p;
  using ppsim::test::error_of;
  CHECK(error_of([&] { read_kineto(json::object(), KinetoRules::builtin(), "x.json", 0, p); }) ==
        "x.json: not a Chrome trace: no 'traceEvents' (a PyTorch profiler's export_chrome_trace file)");
  json bad = small_trace();
  bad["traceEvents"][2]["dur"] = "long";
  CHECK(error_of([&] { read_kineto(bad, KinetoRules::builtin(), "x.json", 0, p); }) ==
        "x.json: traceEvents[2].dur: expected a number, got \"long\"");
  bad = small_trace();
  bad["traceEvents"][2]["ts"] = -5;
  CHECK(error_of([&] { read_kineto(bad, KinetoRules::builtin(), "x.json", 0, p); }).find("ts and dur must be numbers >= 0") !=
        std::string::npos);
  CHECK(error_of([] { KinetoRules::from_json(json::parse(R"({"kernels": [{"phase": "atention", "pattern": "x"}]})"), {}); })
            .find("rules.kernels[0].phase = 'atention' (did you mean 'attention'?)") == 0);
  CHECK(error_of([] { KinetoRules::from_json(json::parse(R"({"ops": [{"op": "F", "pattern": "(("}]})"), {}); })
            .find("rules.ops[0].pattern = '((' is not a regular expression") == 0);
  CHECK(error_of([] { KinetoRules::from_json(json::parse(R"({"op": []})"), {}); }).find("unknown key 'op' (did you mean 'ops'?)") !=
        std::string::npos);
}
