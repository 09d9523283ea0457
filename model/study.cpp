#include "model/study.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include "model/cost_model.hpp"
#include "model/collectives.hpp"
#include "model/kernels.hpp"
#include "model/placement.hpp"
#include "model/work.hpp"
#include "model/simulation_cache.hpp"
#include "sim/bound_costs.hpp"
#include "sim/simulation_key.hpp"

namespace ppsim::model {

namespace {

sim::Time ns(double seconds) { return static_cast<sim::Time>(std::llround(seconds * 1e9)); }

}  // namespace

StudyResult run_study(const Scenario& s, const StudyOptions& options) {
  const bool lower_bound = options.bound != StudyOptions::Bound::None;
  const bool use_phases = options.phases && !lower_bound;
  StudyResult r;
  const RooflineCostModel costs(s);
  sim::ScheduleRequest request = s.schedule_request();
  if (sim::plans_for_costs(request.kind)) {
    // Its scheduler plans for the middle stage's F, Bi and W, and the P2P time of an activation.
    const StageTimes& mid = costs.stage(costs.stages() / 2);
    sim::StageCost c;
    c.f = mid.forward.compute + mid.forward.comm;
    c.w = mid.weight_grad.compute + mid.weight_grad.comm;
    c.b = mid.input_grad.compute + mid.input_grad.comm + c.w;
    const double p2p = static_cast<double>(mid.p2p_bytes) / (s.cluster.inter_gbps * s.eff.network) +
                       s.cluster.inter_latency_us * 1e3;
    request.zb = sim::zb_options_for(c, p2p);
  }
  r.schedule = options.schedule && (options.own_schedule || !sim::plans_for_costs(request.kind)) ? *options.schedule
                                                                                                  : sim::make_schedule(request);
  sim::SimOptions opt;
  opt.record_timeline = options.record_timeline;
  opt.validate = false;  // a generated schedule (the generators are tested against their references)
  opt.phases = use_phases;
  // Pipeline stages sit on different nodes: activations cross the inter-node network.
  opt.p2p.latency = static_cast<sim::Time>(std::llround(s.cluster.inter_latency_us * 1000));
  opt.p2p.bytes_per_second = static_cast<std::int64_t>(s.cluster.inter_gbps * 1e9 * s.eff.network);
  // The end-of-step sync of BF16 gradients and weights (ZeRO 0-2; ZeRO-3 does it per layer):
  // a reduce-scatter and an all-gather (ZeRO-0's all-reduce moves the same), dense ones over
  // DP x CP, routed experts over their expert-DP group, each with the algorithm NCCL would pick.
  const LinkRates rates = link_rates(s);
  const GroupShape dense_group = s.plan.zero < 3 ? group_shape(s, Group::DpCp) : GroupShape{};
  const GroupShape expert_group = s.plan.zero < 3 && s.model.moe.enabled() ? group_shape(s, Group::ExpertDp) : GroupShape{};
  auto sync_of = [&](const HeldParams& held) {
    const CollectiveCost d = collective_cost(Collective::ReduceScatter, held.dense * 2, dense_group, rates);
    const CollectiveCost x = collective_cost(Collective::ReduceScatter, held.experts * 2, expert_group, rates);
    return std::pair{d, x};  // each half of the sync (the all-gather moves the same again)
  };
  sim::NetworkSpec network;
  // The lower bound (ppsim size's screen): no transfer arrives sooner than the shortest route's
  // latency (NVLink, or NIC-leaf-NIC).
  if (lower_bound) {
    opt.phases = false;
    opt.p2p.bytes_per_second = 0;
    opt.p2p.latency = static_cast<sim::Time>(
        std::floor(std::min(s.cluster.intra_latency_us, s.cluster.inter_latency_us / 2) * 1000));
  } else if (options.network) {
    std::vector<std::pair<int, int>> pairs;
    for (const auto* placement : {&r.schedule.placement, &r.schedule.reverse_placement})
      for (std::size_t st = 0; st + 1 < placement->size(); ++st) {
        pairs.emplace_back((*placement)[st], (*placement)[st + 1]);
        pairs.emplace_back((*placement)[st + 1], (*placement)[st]);
      }
    network = network_for(s, Topology(s.cluster, s.fabric), pairs);
    opt.network = &network;
    // Each rank's gradient sync starts when its last op ends (with --overlap-grad-reduce its
    // reduce-scatter starts with that op), on the NIC when its group spans NVLink domains.
    for (int rank = 0; rank < s.plan.pp; ++rank) {
      const auto [d, x] = sync_of(params_held(s, r.schedule, rank));
      for (const CollectiveCost* c : {&d, &x}) {
        if (c->algorithm == "none") continue;
        // On the NIC when the group spans domains, else NVLink; as the bytes that take the
        // collective's whole time there (its NVLink part and latency included).
        const bool nic = c->nic_bytes > 0;
        const int route = nic ? network.dp_route[rank] : network.scale_up_route[rank];
        const double bytes = c->seconds * (nic ? rates.nic_gbps : rates.nvlink_gbps) * 1e9;
        const sim::Channel link = nic ? sim::Channel::ScaleOut : sim::Channel::ScaleUp;
        opt.tails.push_back({rank, route, bytes, s.plan.overlap_grad_reduce, link});  // reduce-scatter
        opt.tails.push_back({rank, route, bytes, false, link});                        // all-gather
      }
    }
  }
  // Its ops: no channel gives a flow more than its NIC or its NVLink (both modes' scale-out
  // channel is at most the NIC). Without phases the bound keeps the exact durations: only its
  // transfers are shorter.
  std::optional<sim::LowerBoundCosts> bound;
  if (lower_bound && options.phases)
    bound.emplace(costs, s.cluster.inter_gbps * s.eff.network, s.cluster.intra_gbps * s.eff.network);
  const sim::CostModel& sim_costs = bound ? static_cast<const sim::CostModel&>(*bound) : costs;
  std::string key;  // the run's inputs, when it may be shared: the schedule must be the sweep's own
  const bool shareable = options.cache && options.schedule && !options.own_schedule && !sim::plans_for_costs(request.kind) &&
                         !options.record_timeline &&
                         options.bound != StudyOptions::Bound::Busy &&
                         sim::simulation_key(*options.schedule, sim_costs, opt, key);
  if (options.bound == StudyOptions::Bound::Busy) {
    r.sim.metrics = sim::busy_bound(r.schedule, sim_costs);
  } else if (auto shared = shareable ? options.cache->find(key) : std::nullopt) {
    r.sim.metrics = std::move(*shared);
  } else {
    r.sim = sim::simulate(r.schedule, sim_costs, opt);
    if (shareable) options.cache->put(key, r.sim.metrics);
  }
  r.pipeline = r.sim.metrics.ops_end;
  for (int rank = 0; rank < r.schedule.ranks; ++rank) {
    // With phases the engine measures the exposure itself; otherwise add what each op's
    // duration hides no communication under.
    sim::Time exposed = r.sim.metrics.per_rank[rank].exposed_comm;
    if (!use_phases && !lower_bound)  // (a bound has no use for the split)
      for (const sim::Op& op : r.schedule.per_rank[rank]) exposed += costs.exposed_comm(op);
    r.exposed_comm.push_back(exposed);
  }

  // Memory per rank.
  for (int rank = 0; rank < s.plan.pp; ++rank) {
    r.memory.push_back(memory_of_rank(s, r.schedule, rank, r.sim.metrics.per_rank[rank].peak_activation_bytes));
    if (r.memory.back().total_gib() > r.peak_memory.total_gib() || rank == 0) r.peak_memory = r.memory.back();
  }
  r.fits = r.peak_memory.total_gib() <= s.gpu.hbm_gib;
  const HeldParams held = params_held(s, r.schedule, r.peak_memory.rank);  // the fullest rank's
  std::tie(r.dense_sync, r.expert_sync) = sync_of(held);
  for (int st = 0; st < costs.stages(); ++st) {
    r.comm.push_back(costs.comm_summary(st));
    r.compute.push_back(costs.stage(st).compute);
    const auto& units = s.stage_units[st];
    r.stage_layers.push_back(static_cast<int>(std::count_if(units.begin(), units.end(), is_layer)));
  }
  // The gradient sync beyond the pipeline: simulated on the fabric, or by formula for the
  // fullest rank (its reduce-scatter hidden under the last op with --overlap-grad-reduce).
  if (options.network) {  // (0 for the lower bound, which has no tails)
    r.dp_sync = r.sim.metrics.makespan - r.sim.metrics.ops_end;
  } else {
    const double half = r.dense_sync.seconds + r.expert_sync.seconds;
    r.dp_sync = ns(s.plan.overlap_grad_reduce ? half : 2 * half);
  }
  // The optimizer reads and writes weights, gradients and its states once, on its shard
  // (ZeRO 1 and up; without ZeRO every replica updates all it holds).
  const double opt_params = s.plan.zero >= 1 ? held.dense / dense_shards(s.plan) + held.experts / expert_shards(s.plan)
                                             : held.dense + held.experts;
  const double opt_bytes = opt_params * (s.plan.weight_bytes + s.plan.grad_bytes + s.plan.optimizer_bytes) * 2;
  r.optimizer = ns(opt_bytes / hbm_bytes_per_second(s.gpu, s.eff.memory));

  RunEstimate& e = r.run;
  e.step_seconds = static_cast<double>(r.pipeline + r.dp_sync + r.optimizer) * 1e-9;
  const double tokens_per_step = static_cast<double>(s.tokens_per_step());
  e.steps = std::ceil(s.tokens / tokens_per_step);
  e.tokens_per_second = tokens_per_step / e.step_seconds;
  const double peak = s.peak_flops();
  const double bf16 = s.gpu.bf16_tflops * 1e12;
  const FlopsPerToken flops = flops_per_token(s);
  const double per_gpu = e.tokens_per_second / s.gpus();  // tokens per second per GPU
  e.model_tflops_per_gpu = flops.model_causal * per_gpu * 1e-12;
  e.hardware_tflops_per_gpu = flops.hardware * per_gpu * 1e-12;
  e.mfu = flops.model_causal * per_gpu / peak;
  e.mfu_bf16 = flops.model_causal * per_gpu / bf16;
  e.mfu_noncausal = flops.model_noncausal * per_gpu / peak;
  e.mfu_noncausal_bf16 = flops.model_noncausal * per_gpu / bf16;
  e.hfu = flops.hardware * per_gpu / peak;
  e.hfu_bf16 = flops.hardware * per_gpu / bf16;
  // The step in parts (mean over ranks): kernels, exposed communication, the rest of the
  // pipeline idle, then the tail and the optimizer.
  StepBreakdown& b = r.breakdown;
  const auto& ranks = r.sim.metrics.per_rank;
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const double exposed = static_cast<double>(r.exposed_comm[i]);
    double compute = use_phases ? static_cast<double>(ranks[i].kernel_busy) : static_cast<double>(ranks[i].busy);
    if (!use_phases && !lower_bound)  // (a bound has no use for the split)
      for (const sim::Op& op : r.schedule.per_rank[i]) compute -= static_cast<double>(costs.exposed_comm(op));
    b.compute += compute * 1e-9 / static_cast<double>(ranks.size());
    b.exposed_comm += exposed * 1e-9 / static_cast<double>(ranks.size());
  }
  // Never below 0: the three parts are sums of doubles, and a step without idle time can come
  // out a rounding error short of them.
  b.bubble = std::max(0.0, static_cast<double>(r.pipeline) * 1e-9 - b.compute - b.exposed_comm);
  b.dp_tail = static_cast<double>(r.dp_sync) * 1e-9;
  b.optimizer = static_cast<double>(r.optimizer) * 1e-9;
  const double hours = e.steps * e.step_seconds / 3600;
  e.gpu_hours = hours * s.gpus();
  e.days = hours / 24;
  e.dollars = e.gpu_hours * s.price_per_hour;
  // Power: 30% of TDP when idle, all of it when busy, weighted by the pipeline's busy time.
  double busy = 0;
  for (const auto& m : r.sim.metrics.per_rank) busy += static_cast<double>(m.busy);
  const double busy_fraction = busy / (static_cast<double>(r.sim.metrics.per_rank.size()) * e.step_seconds * 1e9);
  e.kwh = e.gpu_hours * s.gpu.tdp_w * (0.3 + 0.7 * std::min(1.0, busy_fraction)) / 1000;
  const double trillions = s.tokens / 1e12;
  e.gpu_hours_per_t = e.gpu_hours / trillions;
  e.days_per_t = e.days / trillions;
  e.dollars_per_t = e.dollars / trillions;
  e.kwh_per_t = e.kwh / trillions;
  return r;
}

}  // namespace ppsim::model
