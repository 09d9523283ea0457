// Fidelity I: every parallel dimension a production run uses, on the links it really uses --
// collectives, group shapes, CP, SP, ETP, ZeRO-3, recompute by module, uneven stages, NVLink
// domains -- each against counts derived by hand in the comments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "model/collectives.hpp"
#include "model/cost_model.hpp"
#include "model/placement.hpp"
#include "model/study.hpp"
#include "model/work.hpp"
#include "support.hpp"

using namespace ppsim;
using namespace ppsim::model;
using ppsim::test::error_of;

namespace {

const CommSummary* find(const std::vector<CommSummary>& list, sim::CommKind what) {
  const auto it = std::find_if(list.begin(), list.end(), [&](const CommSummary& c) { return c.what == what; });
  return it == list.end() ? nullptr : &*it;
}

bool has_phase(const RooflineCostModel& c, sim::OpKind kind, int stage, sim::CommKind what, sim::Channel channel) {
  for (const sim::Phase& p : c.phases(kind, stage))
    if (p.kind == sim::Phase::Comm && p.what == what && p.channel == channel) return true;
  return false;
}

}  // namespace

TEST_CASE("collectives: bus factors, and the algorithm NCCL would pick with its bytes per link") {
  CHECK(bus_factor(Collective::AllReduce, 4) == 1.5);
  CHECK(bus_factor(Collective::AllGather, 4) == 0.75);
  CHECK(bus_factor(Collective::ReduceScatter, 1) == 0);
  const LinkRates links{100, 50, 1, 5};  // NVLink 100 GB/s, NIC 50 GB/s, 1 us and 5 us per hop

  // All-reduce of 1 GB in one domain of 8: a ring on NVLink, 2 x 7/8 GB sent per GPU, 14 steps.
  const CollectiveCost one = collective_cost(Collective::AllReduce, 1e9, {8, 8, 1}, links);
  CHECK(one.algorithm == "ring");
  CHECK(one.nvlink_bytes == doctest::Approx(1.75e9));
  CHECK(one.nic_bytes == 0);
  CHECK(one.seconds == doctest::Approx(1.75e9 / 100e9 + 14e-6));

  // Over 128 GPUs in 16 domains of 8: NCCL's rings run one per NIC rail, so a GPU's NIC carries
  // 2 x 127/128 x 1 GB / 8 = 248,046,875 bytes and its NVLink 7 times that.
  const CollectiveCost wide = collective_cost(Collective::AllReduce, 1e9, {128, 8, 16}, links);
  CHECK(wide.algorithm == "ring");
  CHECK(wide.nic_bytes == doctest::Approx(248046875.0));
  CHECK(wide.nvlink_bytes == doctest::Approx(7 * 248046875.0));

  // 10 KB over 1024 GPUs, one per domain: a ring pays 2046 hops of 5 us, a tree 2 x 10.
  const CollectiveCost tiny = collective_cost(Collective::AllReduce, 1e4, {1024, 1, 1024}, links);
  CHECK(tiny.algorithm == "tree");
  CHECK(tiny.latency_seconds == doctest::Approx(100e-6));

  // All-to-all of 1 MB over EP64 in 8 domains of 8: 56/64 of it to other domains.
  const CollectiveCost a2a = collective_cost(Collective::AllToAll, 1e6, {64, 8, 8}, links);
  CHECK(a2a.nic_bytes == doctest::Approx(875000.0));
  CHECK(a2a.nvlink_bytes == doctest::Approx(109375.0));
  CHECK(collective_cost(Collective::AllGather, 1e9, {1, 1, 1}, links).algorithm == "none");
}

TEST_CASE("groups are drawn in Megatron-Core's order and lie over NVLink domains as counted") {
  const Scenario ds = make_scenario("deepseek-v3");  // TP1 PP16 EP64 DP128 on nodes of 8
  CHECK(group_shape(ds, Group::DpCp).size == 128);
  CHECK(group_shape(ds, Group::DpCp).domains == 16);
  CHECK(group_shape(ds, Group::ExpertDp).size == 2);  // 128 / 64: GPUs 0 and 64
  CHECK(group_gpus(ds, Group::ExpertDp) == std::vector<int>{0, 64});
  Overrides o;
  o.tp = 2;  // DP 64; ETP defaults to TP, so an EP group is 64 GPUs two apart: 16 nodes of 4
  const Scenario tp2 = make_scenario("deepseek-v3", o);
  CHECK(tp2.plan.etp == 2);
  CHECK(group_shape(tp2, Group::Ep).domains == 16);
  CHECK(group_shape(tp2, Group::Ep).per_domain == 4);
  o.etp = 1;  // experts without TP: EP is 64 consecutive GPUs again
  CHECK(group_gpus(make_scenario("deepseek-v3", o), Group::Ep).back() == 63);
  Overrides cp;
  cp.cp = 4;
  cp.tp = 2;
  cp.pp = 4;  // llama3-8b on 1024 GPUs: DP 32; a CP group is 4 GPUs two apart, inside a node
  const Scenario l = make_scenario("llama3-8b", cp);
  CHECK(group_gpus(l, Group::Cp) == std::vector<int>{0, 2, 4, 6});
  CHECK(group_gpus(l, Group::Dp)[1] == 8);
  CHECK(gpu_of(l, 1, 0, 0) == 256);  // the next stage starts after TP x CP x DP = 256 GPUs
}

TEST_CASE("the MoE all-to-all: EP inside a node costs NVLink time, the rest crosses the NICs") {
  // Mixtral's EP8 on one node of 8 (TP1): no copy leaves the node; Megatron's all-to-all sends
  // each of the 2 copies to another GPU 7 times in 8: 1.75 copies over NVLink.
  const Scenario mix = make_scenario("mixtral-8x7b");
  const UnitWork w = unit_work(mix, Unit::MoeLayer);
  CHECK(w.a2a_nic_copies == 0);
  CHECK(w.a2a_copies == doctest::Approx(1.75));
  const RooflineCostModel costs(mix);
  CHECK(has_phase(costs, sim::OpKind::F, 0, sim::CommKind::Dispatch, sim::Channel::ScaleUp));
  const CommSummary* d = find(costs.comm_summary(0), sim::CommKind::Dispatch);
  REQUIRE(d != nullptr);
  CHECK(d->nic_bytes == 0);
  CHECK(d->seconds > 0);
  // DeepSeek-V3's EP64 over 8 nodes with its 4-node limit: 4 x 7/8 = 3.5 copies cross the NIC
  // (one per remote node), and 8 x 7/8 = 7 move on NVLink (local experts and forwarding).
  const UnitWork ds = unit_work(make_scenario("deepseek-v3"), Unit::MoeLayer);
  CHECK(ds.a2a_nic_copies == doctest::Approx(3.5));
  CHECK(ds.a2a_copies - ds.a2a_nic_copies == doctest::Approx(7.0));
}

TEST_CASE("context parallelism: activations divided by CP, K/V passed round the ring") {
  Overrides o;
  const Scenario one = make_scenario("llama3-8b", o);  // TP1 PP4: 8 layers a stage
  o.cp = 2;
  const Scenario two = make_scenario("llama3-8b", o);
  CHECK(two.plan.dp == one.plan.dp / 2);
  CHECK(two.tokens_per_cp_rank() == 4096);
  const RooflineCostModel c1(one), c2(two);
  CHECK(2 * c2.activation_bytes(1) == c1.activation_bytes(1));
  // K and V of a token: 2 x 8 KV heads x 128 x 2 bytes = 4096. A GPU's block of 4096 tokens is
  // 16 MiB; CP2 passes it once in F and twice in the backward (K/V, then dK/dV), for 8 layers:
  // 8 x 3 x 16,777,216 = 402,653,184 bytes, on NVLink (GPUs 0 and 1 share a node).
  CHECK(unit_work(two, Unit::DenseLayer).kv_bytes == 4096);
  const CommSummary* ring = find(c2.comm_summary(1), sim::CommKind::ContextParallel);
  REQUIRE(ring != nullptr);
  CHECK(ring->nvlink_bytes == doctest::Approx(402653184.0));
  CHECK(ring->nic_bytes == 0);
  CHECK(find(c1.comm_summary(1), sim::CommKind::ContextParallel) == nullptr);
  // 128K tokens are expressible; a CP that does not split the sequence into 2 x CP chunks is not.
  o.seq_len = 131072;
  o.global_batch = 512;
  CHECK(make_scenario("llama3-8b", o).model.seq_len == 131072);
  o.seq_len = 8190;
  CHECK(error_of([&] { make_scenario("llama3-8b", o); }).find("cp = 2 does not split the sequence of 8190 tokens") !=
        std::string::npos);
}

TEST_CASE("sequence parallelism splits the norms' activations over TP; the TP traffic stays the same") {
  // Llama 3 70B, TP8, one layer, per token (bytes). Split by heads or columns: Q/K/V
  // 2 x 128 x (64 + 2 x 8) = 20,480; O 2 x 64 x 128 = 16,384; log-sum-exp 4 x 64 = 256; the
  // MLP's gate/up outputs (2 x 2 + 2) x 28,672 = 172,032; together 209,152, / 8 = 26,144.
  // On every TP rank without SP: the norm input and output and the MLP input, 3 x 2 x 8192 =
  // 49,152. With SP that too is / 8 = 6,144.
  Overrides o;
  const Scenario plain = make_scenario("llama3-70b", o);
  o.sp = true;
  const Scenario sp = make_scenario("llama3-70b", o);
  CHECK(unit_work(plain, Unit::DenseLayer).activation_bytes == doctest::Approx(26144.0 + 49152.0));
  CHECK(unit_work(sp, Unit::DenseLayer).activation_bytes == doctest::Approx(26144.0 + 6144.0));
  const CommSummary* a = find(RooflineCostModel(plain).comm_summary(1), sim::CommKind::TensorParallel);
  const CommSummary* b = find(RooflineCostModel(sp).comm_summary(1), sim::CommKind::TensorParallel);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(a->seconds == doctest::Approx(b->seconds));
  CHECK(a->nic_bytes == 0);  // TP inside the node: NVLink only
  CHECK(has_phase(RooflineCostModel(sp), sim::OpKind::F, 1, sim::CommKind::TensorParallel, sim::Channel::ScaleUp));
  o.tp = 1;
  CHECK(error_of([&] { make_scenario("llama3-70b", o); }).find("sp: ") != std::string::npos);
}

TEST_CASE("expert tensor parallelism: its own groups, its own NVLink traffic, its own rule") {
  Overrides o;
  o.tp = 2;
  o.etp = 2;
  const RooflineCostModel costs(make_scenario("deepseek-v3", o));
  const CommSummary* etp = find(costs.comm_summary(1), sim::CommKind::ExpertTensorParallel);
  REQUIRE(etp != nullptr);
  CHECK(etp->nvlink_bytes > 0);
  CHECK(etp->nic_bytes == 0);
  o.etp = 3;
  CHECK(error_of([&] { make_scenario("deepseek-v3", o); }).find("etp x ep = 3 x 64 = 192 does not divide") !=
        std::string::npos);
  Overrides dense;
  dense.etp = 2;
  CHECK(error_of([&] { make_scenario("llama3-8b", dense); }).find("has no experts") != std::string::npos);
}

TEST_CASE("ZeRO-3 / FSDP gathers each layer before F and B and reduce-scatters its gradients") {
  // Llama 3 8B, TP1 PP4 DP256 (32 nodes of 8 per stage). One layer holds 218,112,000 parameters
  // (attention 41,943,040, MLP 176,160,768, norms 8,192): 436,224,000 BF16 bytes. A ring
  // all-gather over 256 GPUs, 8 per node, puts 255/256 x 436,224,000 / 8 = 54,315,000 bytes on
  // each NIC. Stage 1 (8 layers) gathers twice per micro-batch and reduce-scatters once.
  Overrides o;
  o.zero = 3;
  const Scenario s = make_scenario("llama3-8b", o);
  const RooflineCostModel costs(s);
  const CommSummary* gather = find(costs.comm_summary(1), sim::CommKind::ParamGather);
  const CommSummary* scatter = find(costs.comm_summary(1), sim::CommKind::GradReduceScatter);
  REQUIRE(gather != nullptr);
  REQUIRE(scatter != nullptr);
  CHECK(gather->nic_bytes == doctest::Approx(2 * 8 * 54315000.0));
  CHECK(scatter->nic_bytes == doctest::Approx(8 * 54315000.0));
  CHECK(has_phase(costs, sim::OpKind::F, 1, sim::CommKind::ParamGather, sim::Channel::ScaleOut));
  const StudyResult three = run_study(s);
  const StudyResult one = run_study(make_scenario("llama3-8b"));
  CHECK(three.pipeline > one.pipeline);  // the gathers cost time
  CHECK(three.dp_sync == 0);             // no end-of-step sync left
  // Weights: the 1/256 shard, plus the layer running and the one prefetched whole -- on stage 0
  // the embedding, 128,256 x 4096 = 525,336,576 parameters, twice, in BF16.
  const double gib = 1024.0 * 1024 * 1024;
  CHECK(three.peak_memory.weights_gib ==
        doctest::Approx(one.peak_memory.weights_gib / 256 + 2 * 2 * 525336576.0 / gib).epsilon(1e-9));
  o.overlap_grad_reduce = true;
  CHECK(error_of([&] { make_scenario("llama3-8b", o); }).find("overlap-grad-reduce") != std::string::npos);
}

TEST_CASE("--overlap-grad-reduce hides the reduce-scatter under the last backward") {
  Overrides o;
  const double plain = run_study(make_scenario("llama3-70b", o)).run.step_seconds;
  o.overlap_grad_reduce = true;
  const StudyResult overlapped = run_study(make_scenario("llama3-70b", o));
  CHECK(overlapped.run.step_seconds < plain);
  StudyOptions simple;
  simple.network = false;
  const StudyResult formula = run_study(make_scenario("llama3-70b", o), simple);
  CHECK(formula.dp_sync == static_cast<sim::Time>(std::llround(
                               (formula.dense_sync.seconds + formula.expert_sync.seconds) * 1e9)));  // the all-gather only
}

TEST_CASE("recompute by module, each priced at the rate of the kernels it recomputes") {
  // Llama 3 8B, stage 1: 8 layers of 8192 tokens. Recomputing the attention core costs its
  // forward FLOPs again -- 4 x 32 heads x 128 x 4096.5 (mean causal keys) = 67,117,056 per token
  // per layer -- at the attention kernels' BF16 rate (the H100's forward figure at head
  // dimension 128, in training), and drops the core's output, 2 x 32 x 128 = 8192 bytes per
  // token per layer.
  Overrides o;
  o.recompute_modules = "core_attn";
  const Scenario s = make_scenario("llama3-8b", o);
  const Scenario none = make_scenario("llama3-8b");
  const RooflineCostModel with(s), without(none);
  const double rate = s.eff.in_training * attention_efficiency(s.gpu.kernels, 128, false);
  CHECK(rate == doctest::Approx(0.84 * 0.61));
  const double core = 8 * 67117056.0 * 8192 / (s.gpu.bf16_tflops * 1e12 * rate);
  CHECK(static_cast<double>(with.stage(1).input_grad.compute - without.stage(1).input_grad.compute) ==
        doctest::Approx(core * 1e9).epsilon(1e-6));
  CHECK(without.activation_bytes(1) - with.activation_bytes(1) == 8LL * 8192 * 8192);
  // Under FP8 the recomputed core still runs at the attention rate, not the FP8 GEMM rate.
  Overrides fp8 = o;
  fp8.precision = "fp8";
  const Scenario f = make_scenario("llama3-8b", fp8);
  const RooflineCostModel with8(f), without8(make_scenario("llama3-8b", [] {
                                               Overrides x;
                                               x.precision = "fp8";
                                               return x;
                                             }()));
  CHECK(static_cast<double>(with8.stage(1).input_grad.compute - without8.stage(1).input_grad.compute) ==
        doctest::Approx(core * 1e9).epsilon(1e-6));
  // Whole layers: the first N of each stage keep only their input (2 x 4096 bytes a token).
  Overrides whole;
  whole.recompute_layers = 2;
  const Scenario w = make_scenario("llama3-8b", whole);
  const std::vector<bool> flags = recomputed_whole(w, 1);
  CHECK(std::count(flags.begin(), flags.end(), true) == 2);
  const UnitWork kept = unit_work(w, Unit::DenseLayer, true);
  CHECK(kept.activation_bytes == 8192);
  CHECK(kept.recompute_whole);
  CHECK(RooflineCostModel(w).stage(1).input_grad.compute > without.stage(1).input_grad.compute);
  whole.recompute_layers = 9;
  CHECK(error_of([&] { make_scenario("llama3-8b", whole); }).find("recompute-layers = 9") != std::string::npos);
  Overrides bad;
  bad.recompute_modules = "core_atn";
  CHECK(error_of([&] { make_scenario("llama3-8b", bad); }).find("did you mean 'core_attn'") != std::string::npos);
  bad.recompute_modules = "mla_up_proj";
  CHECK(error_of([&] { make_scenario("llama3-8b", bad); }).find("has no MLA") != std::string::npos);
}

TEST_CASE("uneven stages: Megatron's first/last pipeline layers, embedding and head where they sit") {
  auto layers = [](const std::vector<Unit>& stage) { return std::count_if(stage.begin(), stage.end(), is_layer); };
  // Llama 3 405B: 126 layers on 16 stages, 7 on the first and the last, 8 on each of the 14 others.
  const auto split = split_units(find_model("llama3-405b"), 16, 7, 7);
  CHECK(layers(split.front()) == 7);
  CHECK(split.front().front() == Unit::Embedding);
  for (int st = 1; st < 15; ++st) CHECK(layers(split[st]) == 8);
  CHECK(layers(split.back()) == 7);
  CHECK(split.back().back() == Unit::Head);
  // 60 layers on 16 stages: 2 + 14 x 4 + 2.
  ModelSpec sixty = find_model("llama3-8b");
  sixty.layers = 60;
  const auto even = split_units(sixty, 16, 2, 2);
  CHECK(layers(even[0]) == 2);
  CHECK(layers(even[7]) == 4);
  CHECK(error_of([&] { split_units(sixty, 16, 3, 3); }).find("leave 54 for the other 14 stages") != std::string::npos);
  CHECK(error_of([&] { split_units(sixty, 16, 0, 61); }).find("leave -1") != std::string::npos);
  // In a scenario: DeepSeek-V3's MTP module joins the last stage with the head.
  Overrides o;
  o.first_stage_layers = 1;
  o.last_stage_layers = 0;
  o.pp = 16;
  o.kind = "1f1b";
  const Scenario s = make_scenario("deepseek-v3", o);  // 1 + 15 x 4 = 61
  CHECK(layers(s.stage_units.front()) == 1);
  CHECK(s.stage_units.back().back() == Unit::Head);
  CHECK(std::count(s.stage_units.back().begin(), s.stage_units.back().end(), Unit::Mtp) == 1);
}

TEST_CASE("NVLink domains larger than a node, and groups that straddle them") {
  // Two H100 nodes as one 16-GPU NVLink domain: TP16 fits in it; on plain nodes of 8 it does not.
  Overrides o;
  o.cluster = "h100-2048";
  o.tp = 16;
  o.nvlink_domain = 16;
  const Scenario big = make_scenario("llama3-405b", o);
  CHECK(group_shape(big, Group::Tp).domains == 1);
  CHECK(group_shape(big, Group::Tp).per_domain == 16);
  o.nvlink_domain.reset();
  CHECK(error_of([&] { make_scenario("llama3-405b", o); }).find("spans more than one NVLink domain (8 GPUs)") !=
        std::string::npos);
  // A GB200 NVL72 rack is 72 GPUs: TP16 would put GPUs 64-79 in two racks.
  Overrides rack;
  rack.cluster = "gb200-nvl72-2304";
  rack.nodes = 512;  // 2048 GPUs in 4-GPU trays
  rack.tp = 16;
  CHECK(error_of([&] { make_scenario("llama3-405b", rack); }).find("tp = 16 does not divide the NVLink domain of 72") !=
        std::string::npos);
  rack.tp = 8;
  CHECK(group_shape(make_scenario("llama3-405b", rack), Group::Tp).domains == 1);
  // DeepSeek-V3's EP64 there: GPUs 0-63 sit in rack 0, but GPUs 64-127 in racks 0 and 1, and
  // the step waits for that group. Node-limited routing reaches both racks, one remotely half
  // the time: 2 x 1/2 = 1 copy a token over the NIC, against 3.5 on H800 nodes of 8.
  Overrides ds;
  ds.cluster = "gb200-nvl72-2304";
  ds.nodes = 512;
  const Scenario s = make_scenario("deepseek-v3", ds);
  CHECK(s.ep_shape.domains == 2);
  CHECK(unit_work(s, Unit::MoeLayer).a2a_nic_copies == doctest::Approx(1.0));
  CHECK(find_cluster("gb300-nvl72-2304").domain() == 72);
}

TEST_CASE("MFU and HFU under each convention, and a step decomposed into parts that add up") {
  // Llama 3 8B at 8192 tokens: counting attention over the whole sequence instead of the keys a
  // token sees adds 3 x 32 layers x 4 x 32 heads x 128 x (8192 - 4096.5) = 6,441,664,512 FLOPs.
  const Scenario s = make_scenario("llama3-8b");
  const FlopsPerToken f = flops_per_token(s);
  CHECK(f.model_causal == doctest::Approx(training_flops_per_token(s)).epsilon(1e-12));
  CHECK(f.model_noncausal - f.model_causal == doctest::Approx(6441664512.0).epsilon(1e-9));
  CHECK(f.hardware == f.model_causal);  // nothing recomputed
  // Recomputing the core adds its forward, 32 x 67,117,056; whole layers add each layer's
  // forward, 32 x (2 x 218,103,808 GEMM parameters + 67,117,056) = 16,106,389,504.
  Overrides core;
  core.recompute_modules = "core_attn";
  CHECK(flops_per_token(make_scenario("llama3-8b", core)).hardware - f.model_causal ==
        doctest::Approx(2147745792.0).epsilon(1e-9));
  Overrides full;
  full.recompute = "full";
  CHECK(flops_per_token(make_scenario("llama3-8b", full)).hardware - f.model_causal ==
        doctest::Approx(16106389504.0).epsilon(1e-9));
  // The same step in each convention; the parts add up to the step.
  for (const char* model : {"llama3-8b", "deepseek-v3"}) {
    INFO(model);
    const Scenario m = make_scenario(model);
    for (const bool phases : {true, false}) {
      StudyOptions opt;
      opt.phases = opt.network = phases;
      const StudyResult r = run_study(m, opt);
      CHECK(r.breakdown.total() == doctest::Approx(r.run.step_seconds).epsilon(1e-9));
      CHECK(r.breakdown.compute > 0);
      CHECK(r.breakdown.bubble >= 0);
      const double ratio = (m.plan.precision == "fp8" ? m.gpu.fp8_tflops : m.gpu.bf16_tflops) / m.gpu.bf16_tflops;
      CHECK(r.run.mfu_bf16 == doctest::Approx(r.run.mfu * ratio).epsilon(1e-12));
      CHECK(r.run.model_tflops_per_gpu ==
            doctest::Approx(r.run.mfu * (m.plan.precision == "fp8" ? m.gpu.fp8_tflops : m.gpu.bf16_tflops)).epsilon(1e-12));
      CHECK(r.run.mfu_noncausal > r.run.mfu);
      CHECK(r.run.hfu >= r.run.mfu);
    }
  }
}
