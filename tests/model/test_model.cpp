// The model catalog, scenario rules, FLOP and parameter counts against hand-derived values,
// memory, and the DeepSeek-V3 calibration point.
#include <doctest/doctest.h>

#include <cmath>

#include "model/cost_model.hpp"
#include "model/study.hpp"
#include "model/work.hpp"
#include "support.hpp"

using namespace ppsim;
using namespace ppsim::model;
using ppsim::test::error_of;

namespace {
bool within(double value, double target, double tolerance) { return std::abs(value / target - 1) <= tolerance; }
}  // namespace

TEST_CASE("every catalog entry parses and carries its source") {
  for (const auto& id : gpu_ids()) {
    INFO(id);
    const GpuSpec g = find_gpu(id);
    CHECK(!g.source.empty());
    CHECK(g.bf16_tflops > 0);
    CHECK((g.fp8_tflops == 0 || g.fp8_tflops >= g.bf16_tflops));
    CHECK(g.price_per_hour > 0);
  }
  for (const auto& id : cluster_ids()) {
    INFO(id);
    const ClusterSpec c = find_cluster(id);
    CHECK_NOTHROW(find_gpu(c.gpu));
    CHECK(c.gpus() > 0);
  }
  for (const auto& id : model_ids()) {
    INFO(id);
    const ModelSpec m = find_model(id);
    CHECK(!m.source.empty());
    CHECK_NOTHROW(make_scenario(id));  // every preset's own plan is consistent
  }
  CHECK(gpu_ids().size() >= 7);
  CHECK(find_cluster("h800-2048").gpus() == 2048);
  CHECK(find_cluster("h800-2048").inter_gbps == 50);
  CHECK(find_cluster("h800-2048").intra_gbps == 160);
}

TEST_CASE("parameter counts match the published sizes") {
  struct Case { const char* id; double total, active, tol; };
  // Published: DeepSeek-V3 671B total / 37B activated; Llama 3 8.03B / 70.6B / 405.9B (dense);
  // GPT-3 175B; Mixtral 8x7B 46.7B total / 12.9B active.
  for (const Case& c : {Case{"deepseek-v3", 671e9, 37e9, 0.02}, Case{"llama3-8b", 8.03e9, 0, 0.01},
                        Case{"llama3-70b", 70.6e9, 0, 0.01}, Case{"llama3-405b", 405.9e9, 0, 0.01},
                        Case{"gpt3-175b", 175e9, 0, 0.01}, Case{"mixtral-8x7b", 46.7e9, 12.9e9, 0.02}}) {
    INFO(c.id, " total ", total_params(find_model(c.id)), " active ", active_params(find_model(c.id)));
    CHECK(within(total_params(find_model(c.id)), c.total, c.tol));
    if (c.active > 0) CHECK(within(active_params(find_model(c.id)), c.active, c.tol));
  }
}

TEST_CASE("training FLOPs per token equal 6 x active parameters + attention, derived by hand") {
  // Llama 3 8B, sequence 8192: GEMMs 6 x (32 layers x (attention 4096 x (4096 + 2 x 1024 + 4096)
  // + SwiGLU 3 x 4096 x 14336) + head 128256 x 4096); attention 3 x 32 x 4 x 32 x 128 x 8193/2.
  const double h = 4096, layer = h * (h + 2 * 1024 + h) + 3 * h * 14336, head = 128256 * h;
  const double llama = 6 * (32 * layer + head) + 3 * 32 * 4.0 * 32 * 128 * 8193 / 2;
  CHECK(training_flops_per_token(make_scenario("llama3-8b")) == doctest::Approx(llama).epsilon(1e-9));
  // About 6 x 8B = 48 GFLOP plus attention at 8K: 51.5 GFLOP.
  CHECK(within(training_flops_per_token(make_scenario("llama3-8b")), 51.5e9, 0.01));

  // DeepSeek-V3: 6 x active (36.6B, plus the MTP module's block, projection and second head)
  // + MLA attention 3 x 62 blocks x 2 x 128 heads x 2048.5 (causal average) x (192 + 128).
  const Scenario ds = make_scenario("deepseek-v3");
  const ModelSpec& m = ds.model;
  const double mla = 7168.0 * 1536 + 1536.0 * 128 * 192 + 7168.0 * 576 + 512.0 * 128 * 256 + 128.0 * 128 * 7168;
  const double expert = 3.0 * 7168 * 2048, dense_mlp = 3.0 * 7168 * 18432, router = 7168.0 * 256;
  const double moe_layer = mla + 9 * expert + router, dense_layer = mla + dense_mlp, ds_head = 129280.0 * 7168;
  const double gemm = 3 * dense_layer + 58 * moe_layer + ds_head + (2.0 * 7168 * 7168 + moe_layer + ds_head);
  const double attention = 62 * 2.0 * 128 * 2048.5 * 320;
  CHECK(training_flops_per_token(ds) == doctest::Approx(6 * gemm + 3 * attention).epsilon(1e-9));
  CHECK(mla == doctest::Approx(187.1e6).epsilon(0.001));  // MLA projections per layer
  CHECK(m.layers == 61);
}

TEST_CASE("stages: DeepSeek-V3's 61 layers + MTP + embedding + head make 64 blocks, 4 per stage on PP16") {
  const Scenario s = make_scenario("deepseek-v3");
  REQUIRE(s.stage_units.size() == 16);
  for (const auto& st : s.stage_units) CHECK(st.size() == 4);
  CHECK(s.stage_units.front().front() == Unit::Embedding);
  CHECK(s.stage_units.back().back() == Unit::Head);
  CHECK(s.stage_units.back()[2] == Unit::Mtp);
  CHECK(s.stage_units[0][1] == Unit::DenseLayer);
  CHECK(s.stage_units[1][0] == Unit::MoeLayer);  // layers 0-2 dense, then MoE
  // Llama 3 70B: 80 layers on PP4 -> 20 each, embedding and head joining the end stages.
  const Scenario l = make_scenario("llama3-70b");
  CHECK(l.stage_units[0].size() == 21);
  CHECK(l.stage_units[3].back() == Unit::Head);
  // DualPipeV halves the stages: 32 of 2 blocks.
  Overrides v;
  v.kind = "dualpipev";
  CHECK(make_scenario("deepseek-v3", v).stage_units.size() == 32);
}

TEST_CASE("every inconsistent plan is refused with the rule it breaks") {
  auto err = [](const char* model, Overrides o) { return error_of([&] { make_scenario(model, o); }); };
  Overrides o;
  o.pp = 128;
  o.ep = 16;
  CHECK(err("deepseek-v3", o).find("62 blocks, and neither 62 nor 64") != std::string::npos);
  o = {};
  o.pp = 12;
  CHECK(err("deepseek-v3", o).find("GPUs = 2048 (256 nodes x 8) is not TP x CP x PP x DP") != std::string::npos);
  o = {};
  o.tp = 3;
  CHECK(err("deepseek-v3", o).find("is not TP x CP x PP x DP") != std::string::npos);
  o = {};
  o.ep = 48;
  CHECK(err("deepseek-v3", o).find("ep = 48 does not divide the 256 routed experts") != std::string::npos);
  o = {};
  o.ep = 4;
  CHECK(err("llama3-8b", o).find("has no experts") != std::string::npos);
  o = {};
  o.tp = 16;
  o.pp = 8;
  CHECK(err("deepseek-v3", o).find("spans more than one NVLink domain") != std::string::npos);
  o = {};
  o.cluster = "a100-1024";
  o.pp = 16;
  CHECK(err("deepseek-v3", o).find("has no FP8 tensor cores") != std::string::npos);
  o = {};
  o.global_batch = 1000;
  CHECK(err("deepseek-v3", o).find("not a multiple of DP x micro-batch size = 128 x 1") != std::string::npos);
  o = {};
  o.comm_sms = 132;
  CHECK(err("deepseek-v3", o).find("comm-sms = 132: allowed 0..131") != std::string::npos);
  o = {};
  o.global_batch = 1280;  // 10 micro-batches per pipeline: DualPipe needs >= 32
  CHECK(err("deepseek-v3", o).find("dualpipe needs microbatches >= 2 x ranks") != std::string::npos);
  o = {};
  o.cluster = "h800-2049";
  CHECK(err("deepseek-v3", o).find("did you mean 'h800-2048'") != std::string::npos);
  CHECK(error_of([] { make_scenario("deepseek-v4"); }).find("model 'deepseek-v4' is not in the catalog") == 0);
  o = {};
  o.tokens = "14.8Q";
  CHECK(err("deepseek-v3", o).find("unit 'Q'") != std::string::npos);
}

TEST_CASE("memory: ZeRO shards optimizer states; a DualPipe rank holds two stages") {
  Overrides one_f;
  one_f.kind = "1f1b";
  const Scenario a = make_scenario("deepseek-v3", one_f);
  const Scenario d = make_scenario("deepseek-v3");
  const auto sa = sim::make_schedule(a.schedule_request());
  const auto sd = sim::make_schedule(d.schedule_request());
  const MemoryBreakdown ma = memory_of_rank(a, sa, 5, 0), md = memory_of_rank(d, sd, 5, 0);
  CHECK(md.params == doctest::Approx(2 * ma.params));  // rank 5 holds stages 5 and 10 (same sizes)
  Overrides zero0 = one_f;
  zero0.zero = 0;
  const Scenario z = make_scenario("deepseek-v3", zero0);
  // ZeRO-1 shards dense states 128 ways but routed experts only over their 2 expert-data-
  // parallel replicas (DP 128 / EP 64), and experts dominate: about 4.5x less, not 128x.
  CHECK(memory_of_rank(z, sa, 5, 0).optimizer_gib > 4 * ma.optimizer_gib);
  CHECK(memory_of_rank(z, sa, 5, 0).weights_gib == doctest::Approx(ma.weights_gib));
}

TEST_CASE("DeepSeek-V3 as published lands within 10% of the report's GPU-hours, days and dollars") {
  const StudyResult r = run_study(make_scenario("deepseek-v3"));
  // DeepSeek-V3 report, Table 1: 180K H800 GPU-hours and 3.7 days per trillion tokens,
  // 2.664M GPU-hours ($5.328M at $2/hour) for 14.8T tokens of pre-training.
  INFO("GPU-h/T ", r.run.gpu_hours_per_t, " days/T ", r.run.days_per_t, " GPU-h ", r.run.gpu_hours, " step ",
       r.run.step_seconds, " s, MFU ", r.run.mfu);
  CHECK(within(r.run.gpu_hours_per_t, 180e3, 0.10));
  CHECK(within(r.run.days_per_t, 3.7, 0.10));
  CHECK(within(r.run.gpu_hours, 2.664e6, 0.10));
  CHECK(within(r.run.dollars, 5.328e6, 0.10));
  CHECK(r.fits);  // it trained on 80 GB GPUs
  CHECK(r.peak_memory.total_gib() < 80);
}

TEST_CASE("DualPipe hides the all-to-all that 1F1B exposes on DeepSeek-V3") {
  Overrides one_f;
  one_f.kind = "1f1b";
  const StudyResult d = run_study(make_scenario("deepseek-v3"));
  const StudyResult f = run_study(make_scenario("deepseek-v3", one_f));
  CHECK(d.run.step_seconds < 0.8 * f.run.step_seconds);
  sim::Time exposed_d = 0, exposed_f = 0;
  for (sim::Time t : d.exposed_comm) exposed_d += t;
  for (sim::Time t : f.exposed_comm) exposed_f += t;
  CHECK(exposed_d * 2 < exposed_f);  // what remains is the warm-up and cool-down's unpaired ops
  // Without experts or TP (Llama 3 8B, TP1) only pipeline transfers are left to wait for.
  const StudyResult l = run_study(make_scenario("llama3-8b"));
  for (sim::Time t : l.exposed_comm) CHECK(t < l.pipeline / 20);
}

TEST_CASE("the roofline model slows overlapped pairs by the SMs communication takes") {
  Overrides none;
  none.comm_sms = 0;
  const RooflineCostModel free_sms(make_scenario("deepseek-v3", none));
  const RooflineCostModel with_sms(make_scenario("deepseek-v3"));  // 20 of 132 SMs
  const sim::Op pair = sim::Op::overlapped(40, 1, sim::OpKind::B, 70, 14);
  CHECK(with_sms.duration(pair) >= free_sms.duration(pair));
  CHECK(with_sms.duration(sim::Op::forward(0, 1)) == free_sms.duration(sim::Op::forward(0, 1)));
  const StageTimes& t = with_sms.stage(1);
  CHECK(t.forward.comm > 0);              // MoE all-to-all across nodes
  CHECK(t.weight_grad.comm == 0);         // weight grads send nothing
  CHECK(t.input_grad.compute > t.forward.compute);
}

TEST_CASE("each preset's training FLOPs per token: 6 x its published active parameters plus attention") {
  // Published active parameters (embeddings excluded where the publication counts them,
  // within 3%) and the attention term 3 x layers x (QK + AV) at the preset's sequence length.
  struct Case { const char* id; double active; double attention_per_layer; int blocks; };
  const double s8k = 8193 / 2.0, s4k = 4097 / 2.0, s2k = 2049 / 2.0;
  for (const Case& c : {Case{"llama3-8b", 7.5e9, 4.0 * 32 * 128 * s8k, 32}, Case{"llama3-70b", 69.5e9, 4.0 * 64 * 128 * s8k, 80},
                        Case{"llama3-405b", 403.7e9, 4.0 * 128 * 128 * s8k, 126}, Case{"gpt3-175b", 174.6e9, 4.0 * 96 * 128 * s2k, 96},
                        Case{"mixtral-8x7b", 12.9e9, 4.0 * 32 * 128 * s4k, 32},
                        Case{"deepseek-v3", 37e9 + 1.6e9, 2.0 * 128 * 320 * s4k, 62}}) {  // + MTP block and head
    const double expect = 6 * c.active + 3 * c.blocks * c.attention_per_layer;
    INFO(c.id, ": ", training_flops_per_token(make_scenario(c.id)), " vs ", expect);
    CHECK(within(training_flops_per_token(make_scenario(c.id)), expect, 0.03));
  }
}

TEST_CASE("a user's catalog file adds and replaces entries, checked when loaded") {
  Catalog c = Catalog::builtin();
  c.merge(nlohmann::json::parse(R"({
    "gpus": {"x1": {"bf16_tflops": 500, "fp8_tflops": 1000, "hbm_gib": 96, "hbm_tbps": 4, "sms": 100,
                    "scale_up_gbps": 400, "nic_gbps": 50, "tdp_w": 600, "price_per_hour": 1.25}},
    "clusters": {"x1-512": {"gpu": "x1", "nodes": 64, "gpus_per_node": 8, "intra_gbps": 200, "inter_gbps": 50}}
  })"), "mine.json");
  CHECK(c.gpu("x1").hbm_gib == 96);
  Overrides o;
  o.cluster = "x1-512";
  o.tp = 2;
  const Scenario s = make_scenario(c, "llama3-70b", o);
  CHECK(s.plan.dp == 64);
  CHECK(s.price_per_hour == 1.25);
  CHECK(error_of([&] { c.merge(nlohmann::json::parse(R"({"gpus": {"bad": {"bf16_tflops": -1}}})"), "mine.json"); })
            .rfind("mine.json: gpus.bad.bf16_tflops = -1 is out of range", 0) == 0);
  CHECK(error_of([&] { c.merge(nlohmann::json::parse(R"({"gpu": {}})"), "mine.json"); })
            .find("unknown key 'gpu' (did you mean 'gpus'?)") != std::string::npos);
  CHECK(error_of([] { Catalog::builtin().gpu("x1"); }).find("gpu 'x1' is not in the catalog") == 0);
}

TEST_CASE("bandwidth fields are named by their unit (*_GBps); the old *_gbps names are read and written anew") {
  Catalog c = Catalog::builtin();
  c.merge(nlohmann::json::parse(R"({
    "gpus": {"x2": {"bf16_tflops": 500, "hbm_gib": 96, "hbm_TBps": 4, "sms": 100, "scale_up_GBps": 400, "nic_GBps": 50,
                    "tdp_w": 600, "price_per_hour": 1.25},
             "x1": {"bf16_tflops": 500, "hbm_gib": 96, "hbm_tbps": 4, "sms": 100, "scale_up_gbps": 400, "nic_gbps": 50,
                    "tdp_w": 600, "price_per_hour": 1.25}},
    "clusters": {"x1-512": {"gpu": "x1", "nodes": 64, "gpus_per_node": 8, "intra_gbps": 200, "inter_GBps": 50}}
  })"), "mine.json");
  CHECK(c.gpu("x1").nic_gbps == c.gpu("x2").nic_gbps);
  CHECK(c.cluster("x1-512").intra_gbps == 200);
  const nlohmann::json doc = c.to_json();
  CHECK(doc["gpus"]["x1"].contains("scale_up_GBps"));
  CHECK_FALSE(doc["gpus"]["x1"].contains("scale_up_gbps"));
  CHECK(doc["clusters"]["x1-512"].contains("intra_GBps"));
  CHECK(doc["gpus"]["h800"].contains("hbm_TBps"));  // the built-in presets use the new names
  CHECK(error_of([&] {
          c.merge(nlohmann::json::parse(R"({"clusters": {"y": {"gpu": "x1", "nodes": 1, "gpus_per_node": 8, "intra_gbps": 200,
                                                                  "intra_GBps": 200, "inter_GBps": 50}}})"),
                  "mine.json");
        }) == "mine.json: clusters.y: give intra_GBps or its old name intra_gbps, not both");
  CHECK(parse_efficiencies("comm_GBps_per_sm=4", {}).comm_gbps_per_sm == 4);
  CHECK(parse_efficiencies("comm_gbps_per_sm=4", {}).comm_gbps_per_sm == 4);
}

TEST_CASE("efficiency overrides change the times, and bad ones are refused") {
  Overrides slow;
  slow.efficiency = "gemm=0.275,expert_gemm=0.2,attention=0.2";
  const double base = run_study(make_scenario("llama3-8b")).run.step_seconds;
  const double halved = run_study(make_scenario("llama3-8b", slow)).run.step_seconds;
  CHECK(halved > 1.5 * base);
  CHECK(error_of([] { parse_efficiencies("gemm=1.5", {}); }) == "efficiency gemm = 1.5: allowed 0.01..1");
  CHECK(error_of([] { parse_efficiencies("gem=0.5", {}); }).find("did you mean 'gemm'") != std::string::npos);
  CHECK(error_of([] { parse_efficiencies("expert_imbalance=0.5", {}); }).find("allowed 1..8") != std::string::npos);
}

// Property: a slower GPU or network never gives a faster step. Every efficiency lowered (the
// expert imbalance raised) and every bandwidth halved, one at a time, on fixed-order schedules
// with phases and the fabric.
TEST_CASE("monotone: lowering any efficiency or bandwidth never shortens the step") {
  struct Knob {
    const char* name;
    std::string faster, slower;  // --efficiency specs
  };
  const std::vector<Knob> knobs = {
      {"gemm", "gemm=0.8", "gemm=0.4"},
      {"expert_gemm", "expert_gemm=0.8", "expert_gemm=0.4"},
      {"attention", "attention=0.8", "attention=0.4"},
      {"memory", "memory=0.8", "memory=0.4"},
      {"network", "network=0.8", "network=0.4"},
      {"in_training", "in_training=0.84", "in_training=0.42"},
      {"comm_GBps_per_sm", "comm_GBps_per_sm=3.2", "comm_GBps_per_sm=1.6"},
      {"expert_imbalance", "expert_imbalance=1.2", "expert_imbalance=2.4"},
  };
  for (const char* model : {"deepseek-v3", "llama3-8b"})
    for (const char* kind : {"dualpipe", "1f1b"}) {
      Overrides base;
      base.kind = kind;
      const double step = run_study(make_scenario(model, base)).run.step_seconds;
      for (const Knob& k : knobs) {
        Overrides fast = base, slow = base;
        fast.efficiency = k.faster;
        slow.efficiency = k.slower;
        const double a = run_study(make_scenario(model, fast)).run.step_seconds;
        const double b = run_study(make_scenario(model, slow)).run.step_seconds;
        INFO(model, " ", kind, " ", k.name, ": ", a, " -> ", b);
        CHECK(b >= a);
      }
      const Scenario s = make_scenario(model, base);
      for (const char* link : {"inter", "intra"}) {
        Overrides halved = base;
        (std::string(link) == "inter" ? halved.inter_gbps : halved.intra_gbps) =
            (std::string(link) == "inter" ? s.cluster.inter_gbps : s.cluster.intra_gbps) / 2;
        const double b = run_study(make_scenario(model, halved)).run.step_seconds;
        INFO(model, " ", kind, " ", link, " bandwidth halved: ", step, " -> ", b);
        CHECK(b >= step);
      }
    }
}
