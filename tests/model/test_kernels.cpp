// The compute model by hand: the GEMM model's shape (the catalog's figure on the reference
// problem, waves, tiles, small M, grouped GEMMs, HBM and floor bounds), attention by head
// dimension, every GPU's figures sourced, GEMM shapes adding up to the parameters, the
// optimizer's memory traffic, and the validation table within its bounds.
#include <doctest/doctest.h>

#include <cmath>

#include "model/catalog.hpp"
#include "model/cost_model.hpp"
#include "model/kernels.hpp"
#include "model/study.hpp"
#include "model/validation.hpp"
#include "model/work.hpp"

using namespace ppsim::model;

namespace {

double flops(const GemmShape& g) { return 2 * g.m * g.n * g.k * g.groups; }

}  // namespace

TEST_CASE("every built-in GPU carries measured kernel figures with their source") {
  for (const std::string id : {"h800", "h100", "h200", "a100", "b200", "gb200", "gb300", "mi300x", "mi325x"}) {
    const GpuSpec g = find_gpu(id);
    CAPTURE(id);
    CHECK(g.kernels.measured);
    CHECK(g.kernels.gemm_bf16 > 0.3);
    CHECK(g.kernels.gemm_bf16 <= 1);
    CHECK(g.kernels.hbm > 0.5);
    CHECK(g.kernels.attention.size() >= 2);
    CHECK(g.kernels.source.find("Maximum Achievable Matmul FLOPS") != std::string::npos);  // the GEMM figures' source
    CHECK(g.kernels.source.find("ttention") != std::string::npos);
  }
  // One set per vendor and part, not one for all: the same shape runs at different
  // efficiencies on an H100 and an MI300X.
  const GemmShape big{8192, 8192, 8192, 1};
  CHECK(gemm_efficiency(gemm_rates(find_gpu("h100"), false), big) != doctest::Approx(gemm_efficiency(gemm_rates(find_gpu("mi300x"), false), big)));
}

TEST_CASE("the GEMM model lands on the catalog's figure on the reference problem, no shape beats it, in_training scales it") {
  for (const std::string id : {"h100", "a100", "mi300x", "b200"}) {
    const GpuSpec g = find_gpu(id);
    CAPTURE(id);
    const GemmRates r = gemm_rates(g, false);
    const GemmShape ref = reference_shape(r);
    CHECK(ref.m == g.kernels.tile_m * g.sms);
    CHECK(gemm_efficiency(r, ref) == doctest::Approx(g.kernels.gemm_bf16));
    CHECK(gemm_efficiency(gemm_rates(g, false, 0, 0, 0.84), ref) == doctest::Approx(0.84 * g.kernels.gemm_bf16));
    if (g.fp8_tflops > 0) CHECK(gemm_efficiency(gemm_rates(g, true), ref) == doctest::Approx(g.kernels.gemm_fp8));
    else CHECK_THROWS_AS(gemm_rates(g, true), std::invalid_argument);
    // A sweep of shapes at the reference depth: none above the measured best.
    for (double m = 64; m <= 20000; m *= 1.37)
      for (double n = 64; n <= 20000; n *= 1.61) CHECK(gemm_efficiency(r, {m, n, 8192, 1}) <= g.kernels.gemm_bf16 + 1e-9);
  }
  // An override replaces the figure (and is not scaled again).
  const GemmRates h = gemm_rates(find_gpu("h100"), false, 0.5, 0, 0.84);
  CHECK(gemm_efficiency(h, reference_shape(h)) == doctest::Approx(0.5));
}

TEST_CASE("GEMM efficiency: monotone in size over whole waves, a step where a wave begins, small M pays") {
  const GemmRates r = gemm_rates(find_gpu("h100"), false);
  // Square problems: each size at least as efficient as the one before.
  double last = 0;
  for (double s : {256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0}) {
    const double e = gemm_efficiency(r, {s, s, s, 1});
    CAPTURE(s);
    CHECK(e >= last - 1e-12);
    last = e;
  }
  // H100, 132 SMs, 128x256 tiles: 12 x 11 = 132 tiles fill one wave exactly; one more row
  // starts a second wave, which takes (almost) as long as the first.
  const GemmPlan one = gemm_plan(r, {1536, 2816, 8192, 1}), more = gemm_plan(r, {1537, 2816, 8192, 1});
  CHECK(one.waves == 1);
  CHECK(one.tile_m == 128);
  CHECK(one.tile_n == 256);
  CHECK(more.seconds > 1.5 * one.seconds);
  CHECK(std::string(one.bound) == "compute");
  // Small M (few tokens, an expert's share): a tile's rows mostly empty.
  CHECK(gemm_efficiency(r, {64, 8192, 8192, 1}) < 0.25 * gemm_efficiency(r, {8192, 8192, 8192, 1}));
  // Grouped GEMMs: 8 experts of 16 tokens each do the FLOPs of one 128-token GEMM, but read 8
  // weight matrices from HBM: bound by memory, several times slower.
  const GemmShape grouped{16, 4096, 7168, 8}, dense{128, 4096, 7168, 1};
  CHECK(flops(grouped) == flops(dense));
  CHECK(gemm_seconds(r, grouped) > 4 * gemm_seconds(r, dense));
  CHECK(std::string(gemm_plan(r, grouped).bound) == "memory");
  // Split-K: 128 x 4096 tiles leave most SMs idle over a depth of 7168; splitting the depth
  // fills them (at least 4 ways), and beats the unsplit single wave by half at least.
  const GemmPlan deep = gemm_plan(r, dense);
  CHECK(deep.split_k >= 4);
  CHECK(deep.seconds < 0.5 * 2.0 * 128 * 256 * (7168 + 128) / r.sm_rate);
  // The floor: a tiny GEMM takes the kernel floor.
  CHECK(gemm_seconds(r, {8, 8, 8, 1}) == doctest::Approx(find_gpu("h100").kernels.kernel_us * 1e-6));
}

TEST_CASE("attention efficiency: the catalog's points, linear between them, flat past the ends") {
  const KernelFigures k = find_gpu("h100").kernels;
  CHECK(attention_efficiency(k, 128, false) == doctest::Approx(0.61));
  CHECK(attention_efficiency(k, 128, true) == doctest::Approx(0.46));
  CHECK(attention_efficiency(k, 192, false) == doctest::Approx((0.61 + 0.67) / 2));
  CHECK(attention_efficiency(k, 32, false) == doctest::Approx(0.42));
  CHECK(attention_efficiency(k, 512, false) == doctest::Approx(0.67));
}

TEST_CASE("GEMM shapes add up to the parameters a token passes (hand counts)") {
  for (const std::string id : {"llama3-8b", "deepseek-v3", "gpt3-175b"}) {
    const Scenario s = make_scenario(id);
    CAPTURE(id);
    for (const auto& stage : s.stage_units)
      for (Unit u : stage) {
        const UnitWork w = unit_work(s, u);
        double dense = 0, expert = 0, head = 0;
        for (const GemmWeight& g : w.gemms) (g.cls == GemmClass::Expert ? expert : g.cls == GemmClass::Head ? head : dense) += g.n * g.k;
        CHECK(head == doctest::Approx(w.head_params));
        // The routed experts are listed once (one expert's matrices); a token passes k of them.
        const double k = w.moe ? s.model.moe.experts_per_token : 0;
        CHECK(dense + k * expert == doctest::Approx(w.gemm_params + w.expert_gemm_params));
      }
  }
  // Llama 3 8B's attention by hand: QKV 4096 x (32 + 2 x 8) x 128, output 4096 x 4096.
  const UnitWork w = unit_work(make_scenario("llama3-8b"), Unit::DenseLayer);
  REQUIRE(w.gemms.size() == 4);
  CHECK(w.gemms[0].n == 48 * 128);
  CHECK(w.gemms[0].k == 4096);
  CHECK(w.gemms[1].n == 4096);
  CHECK(w.gemms[1].split == 'k');
  CHECK(w.gemms[2].n == 2 * 14336);  // SwiGLU's up and gate, fused
  CHECK(w.qk_head_dim == 128);
}

TEST_CASE("the optimizer step is its memory traffic, on the shard ZeRO gives it") {
  // Llama 3 8B on 1024 H100: each byte of weights, gradients and states read and written once.
  Overrides o;
  o.zero = 0;
  const Scenario s0 = make_scenario("llama3-8b", o);
  const StudyResult r0 = run_study(s0);
  o.zero = 1;
  const Scenario s1 = make_scenario("llama3-8b", o);
  const StudyResult r1 = run_study(s1);
  const double per_param = 2.0 * (s0.plan.weight_bytes + s0.plan.grad_bytes + s0.plan.optimizer_bytes);
  const double hbm = s0.gpu.hbm_tbps * 1e12 * s0.gpu.kernels.hbm;
  const double held = r0.peak_memory.params;
  CHECK(static_cast<double>(r0.optimizer) == doctest::Approx(held * per_param / hbm * 1e9).epsilon(1e-5));
  CHECK(static_cast<double>(r1.optimizer) == doctest::Approx(held / s1.plan.dp * per_param / hbm * 1e9).epsilon(1e-5));
}

TEST_CASE("Megatron-LM's FLOP formula by hand") {
  // The 1T model: 96 x 3072 x 2048 x 128 x 25600^2 x (1 + 2048 / 153600 + 51200 / 52428800).
  const double f = megatron_flops_per_step(3072, 2048, 128, 25600, 51200);
  CHECK(f == doctest::Approx(96.0 * 3072 * 2048 * 128 * 25600.0 * 25600 * (1 + 2048.0 / 153600 + 51200.0 / 52428800)));
}

TEST_CASE("the validation table: every published run within 10%, the mean within 5%") {
  const ValidationSummary v = run_validation();
  REQUIRE(v.rows.size() >= 17);
  for (const ValidationRow& r : v.rows) {
    CAPTURE(r.c.id);
    CHECK(std::abs(r.error) <= 0.10);
    CHECK(!r.c.source.empty());
  }
  CHECK(v.mean_abs_error <= 0.05);
  CHECK(v.max_abs_error <= 0.10);
}

TEST_CASE("unfused attention (Megatron-LM 2021) by hand: batched GEMMs over the whole score matrix, softmax through HBM") {
  Overrides o;
  o.attention_kernel = "unfused";
  const Scenario s = make_scenario("gpt3-175b", o);
  const RooflineCostModel costs(s);
  // One layer, one micro-batch: (micro-batch x heads / TP) score matrices of s x s.
  const double seq = s.model.seq_len, hd = s.model.head_dim;
  const double groups = s.plan.microbatch_size * static_cast<double>(s.model.heads) / s.plan.tp;
  const GemmRates r = gemm_rates(s.gpu, false, 0, 0, s.eff.in_training);
  const double hbm = s.gpu.hbm_tbps * 1e12 * s.gpu.kernels.hbm, scores = groups * seq * seq;
  const double f = gemm_seconds(r, {seq, seq, hd, groups}) + gemm_seconds(r, {seq, hd, seq, groups}) + 9 * scores / hbm;
  const double b = gemm_seconds(r, {seq, seq, hd, groups}) + gemm_seconds(r, {seq, hd, seq, groups}) +
                   2 * gemm_seconds(r, {seq, hd, seq, groups}) + 11 * scores / hbm;
  int layers = 0;
  for (Unit u : s.stage_units[1]) layers += is_layer(u) ? 1 : 0;
  REQUIRE(layers > 0);
  CHECK(costs.stage(1).compute.attention == doctest::Approx(layers * (f + b)));
  // It keeps the scores for the backward: 5 bytes each per token and head, over TP.
  const UnitWork flash = unit_work(make_scenario("gpt3-175b"), Unit::DenseLayer), unfused = unit_work(s, Unit::DenseLayer);
  CHECK(unfused.activation_bytes - flash.activation_bytes == doctest::Approx(5.0 * s.model.heads * seq / s.plan.tp));
}

TEST_CASE("routed experts run as one grouped GEMM of the tokens their EP group sends them") {
  // DeepSeek-V3: 4,096 tokens per GPU, EP64, top-8 of 256 experts, imbalance 1.2: each of the
  // GPU's 4 experts gets 4,096 x 64 x 8 / 256 x 1.2 = 9,830.4 rows.
  const Scenario s = make_scenario("deepseek-v3");
  const RooflineCostModel costs(s);
  const UnitWork w = unit_work(s, Unit::MoeLayer);
  const GemmRates r = gemm_rates(s.gpu, true, 0, 0, s.eff.in_training);
  const double rows = 4096.0 * 64 * 8 / 256 * 1.2, h = s.model.hidden, ffn = s.model.moe.expert_ffn;
  const double f = gemm_seconds(r, {rows, 2 * ffn, h, 4}) + gemm_seconds(r, {rows, h, ffn, 4});
  const double bi = gemm_seconds(r, {rows, h, 2 * ffn, 4}) + gemm_seconds(r, {rows, ffn, h, 4});
  const double wg = gemm_seconds(r, {h, 2 * ffn, rows, 4}) + gemm_seconds(r, {ffn, h, rows, 4});
  int moe_layers = 0;
  for (Unit u : s.stage_units[8]) moe_layers += u == Unit::MoeLayer ? 1 : 0;
  REQUIRE(moe_layers == 4);
  REQUIRE(w.moe);
  CHECK(costs.stage(8).compute.expert_gemm == doctest::Approx(moe_layers * (f + bi + wg)));
}
