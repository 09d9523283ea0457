#include "sim/engine.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "sim/event_queue.hpp"
#include "sim/flow_network.hpp"
#include "sim/phase_runner.hpp"
#include "sim/validate.hpp"

namespace ppsim::sim {

Time Metrics::max_bubble() const {
  Time b = 0;
  for (const RankMetrics& r : per_rank) b = std::max(b, r.bubble);
  return b;
}

Time Metrics::mean_bubble() const {
  Time sum = 0;
  for (const RankMetrics& r : per_rank) sum += r.bubble;
  return per_rank.empty() ? 0 : sum / static_cast<Time>(per_rank.size());
}

namespace {

constexpr int kNone = -1;

// An output that moves to another rank: from producer node to consumer node.
// The parts of a transfer only set-up, sending and the results read; the hot loop reads just
// the consumer (consumer_).
struct EdgeInfo {
  int producer;
  int route;  // in the network's routes
  std::int64_t bytes;
  bool forward;  // an activation (F -> F); else a gradient (backward -> backward)
};

// Everything the hot loop reads or writes about one op, in one cache line: the event loop's
// speed on big schedules is set by how many bytes each event touches.
struct alignas(64) Node {
  Time duration = 0, end = 0;        // start = end - duration
  Time last_arrival = -1;            // when the latest remote input arrived (-1: none has)
  Time producers_done = 0;           // when the latest remote producer finished
  int pending = 0;                   // remote inputs not yet arrived
  int binding_edge = kNone;          // the input that arrived last (critical path)
  int edge_begin = 0, edge_end = 0;  // its outgoing edges
  int rank = 0, pos = 0;
  int hold_stage = kNone;     // stage whose activation it allocates when it starts (F, FB)
  int release_stage = kNone;  // stage whose activation it frees when it ends (B, W, FB with B)
};

// When a transfer left its producer and when it arrived.
struct EdgeTimes {
  Time sent = 0, arrived = 0;
};

class Engine {
 public:
  Engine(const Schedule& s, const CostModel& costs, const SimOptions& opt)
      : s_(s), costs_(costs), opt_(opt), phased_(opt.phases ? costs.phased() : nullptr) {
    simple_.routes.push_back({{}, opt.p2p.latency});  // route 0 of the simple model: the latency alone
    spec_ = opt.network ? opt.network : &simple_;
    index_ops();
    index_edges();
    build_network();
  }

  // The one network transfers, communication phases and tails run on as flows
  // (sim/flow_network.hpp): the given one, or the simple model's -- one resource per directed
  // rank pair that carries transfers when a bandwidth is set (index_edges), and two private
  // channels per rank (scale-out and NVLink) for the phases.
  void build_network() {
    const NetworkSpec* n = opt_.network;
    if (phased_) {
      comm_routes_.resize(s_.ranks);
      if (n && static_cast<int>(n->comm_route.size()) < s_.ranks)
        throw std::invalid_argument("network: no communication route for every rank");
      for (int r = 0; r < s_.ranks; ++r) {
        if (n) {
          const auto& out = n->routes.at(n->comm_route[r]).resources;
          comm_routes_[r] = {out, r < static_cast<int>(n->scale_up_route.size()) ? n->routes.at(n->scale_up_route[r]).resources : out};
          continue;
        }
        const int base = static_cast<int>(simple_.capacity.size());
        simple_.capacity.push_back(phased_->comm_bytes_per_ns());
        simple_.capacity.push_back(phased_->scale_up_bytes_per_ns());
        comm_routes_[r] = {std::vector<int>{base}, std::vector<int>{base + 1}};
      }
    }
    for (const SimOptions::Tail& t : opt_.tails)
      if (!n || t.rank < 0 || t.rank >= s_.ranks || t.route < 0 || t.route >= static_cast<int>(n->routes.size()))
        throw std::invalid_argument("network: a tail transfer names rank " + std::to_string(t.rank) + " or route " +
                                    std::to_string(t.route) + ", which do not exist" + (n ? "" : " (no network given)"));
    tail_start_.assign(opt_.tails.size(), 0);
    bool flows = phased_ || !opt_.tails.empty() || opt_.shared_cores > 0;
    for (const EdgeInfo& e : edges_)
      if (!spec_->routes[e.route].resources.empty()) flows = true;
    if (!flows) return;  // every transfer arrives one route latency after its producer
    std::vector<double> capacity = spec_->capacity;
    if (opt_.shared_cores > 0) {
      // Shared cores: a resource per rank (one core: 1 unit of work per ns) and one for the host
      // (C cores); an op's compute is a flow of its cost in ns across both.
      if (phased_) throw std::invalid_argument("shared cores: ops run as phases here; shared cores price whole ops (turn phases off)");
      core_route_.resize(s_.ranks);
      const int host = static_cast<int>(capacity.size()) + s_.ranks;
      for (int r = 0; r < s_.ranks; ++r) {
        core_route_[r] = {static_cast<int>(capacity.size()), host};
        capacity.push_back(1.0);
      }
      capacity.push_back(static_cast<double>(opt_.shared_cores));
      op_start_.assign(nodes_.size(), 0);
    }
    net_ = std::make_unique<FlowNetwork>(capacity, queue_);
    times_.assign(edges_.size(), EdgeTimes{});
  }

  // Ops run as phase programs when the cost model has them (sim/phases.hpp).
  void use_phases(Timeline* timeline) {
    if (!phased_) return;
    runner_ = std::make_unique<PhaseRunner>(*phased_, s_.ranks, queue_, timeline, *net_, std::move(comm_routes_));
    op_start_.assign(nodes_.size(), 0);
  }

  // The route a transfer from rank src to rank dst takes (set-up only).
  int route_between(int src, int dst) {
    if (const NetworkSpec* n = opt_.network) {
      const auto it = n->p2p_route.find({src, dst});
      if (it == n->p2p_route.end() || it->second < 0 || it->second >= static_cast<int>(n->routes.size()))
        throw std::invalid_argument("network: no route from rank " + std::to_string(src) + " to rank " + std::to_string(dst));
      return it->second;
    }
    if (opt_.p2p.bytes_per_second == 0) return 0;
    const auto [it, fresh] = pair_route_.try_emplace(static_cast<std::int64_t>(src) * s_.ranks + dst,
                                                     static_cast<int>(simple_.routes.size()));
    if (fresh) {
      simple_.routes.push_back({{static_cast<int>(simple_.capacity.size())}, opt_.p2p.latency});
      simple_.capacity.push_back(static_cast<double>(opt_.p2p.bytes_per_second) * 1e-9);
    }
    return it->second;
  }

  SimResult run() {
    SimResult result;
    result.timeline.kind = s_.kind;
    result.timeline.ranks = s_.ranks;
    if (opt_.record_timeline) {
      result.timeline.intervals.reserve(nodes_.size() + 2 * edges_.size());
      result.timeline.memory.reserve(2 * nodes_.size());
    }
    timeline_ = opt_.record_timeline ? &result.timeline : nullptr;
    queue_.reserve(static_cast<std::size_t>(s_.ranks) * 8 + 2 * edges_.size() + 16);
    use_phases(timeline_);

    const auto loop_start = std::chrono::steady_clock::now();
    for (int r = 0; r < s_.ranks; ++r) try_start(r);
    while (!queue_.empty()) {
      const Event e = queue_.pop();
      now_ = e.time;
      // Every addend is below 2^62 ns, so checking the clock here keeps now_ + any of them from
      // wrapping: a step past 146 years is costs or bytes far out of range.
      if (now_ > kMaxTime)
        throw std::invalid_argument("the simulated step runs past 146 years (2^62 ns): costs, bytes or latencies far too large");
      switch (e.kind()) {
        case EventKind::OpEnd: finish_op(static_cast<int>(e.id)); break;
        case EventKind::Arrive: deliver(static_cast<int>(e.id)); break;
        case EventKind::FlowDone: {
          const std::int64_t tag = net_->on_event(e, now_);
          if (FlowTag::kind(tag) == FlowKind::Tail) {
            tail_end_ = std::max(tail_end_, now_);
            const std::size_t t = static_cast<std::size_t>(tag - FlowTag::kTail);
            const int rank = opt_.tails[t].rank;
            if (timeline_)
              timeline_->intervals.push_back({rank, Lane::Comm, s_.per_rank[rank].back(), tail_start_[t], now_, -1,
                                              static_cast<std::int64_t>(opt_.tails[t].bytes), -1,
                                              CommKind::DataParallelSync, opt_.tails[t].channel});
          } else if (FlowTag::kind(tag) == FlowKind::Stream) {
            if (const int r = runner_->on_flow_done(tag, now_); r >= 0) finish_op(node_of(r, next_pos_[r]));
          } else if (FlowTag::kind(tag) == FlowKind::Compute) {
            finish_op(static_cast<int>(tag - FlowTag::kCompute));
          } else {
            arrive_after_route(static_cast<int>(tag));
          }
          break;
        }
        case EventKind::ComputeDone:
          if (const int r = runner_->on_event(e, now_); r >= 0) finish_op(node_of(r, next_pos_[r]));
      }
      ++events_;
    }
    result.event_loop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start).count();
    check_finished();
    result.metrics = metrics();
    if (timeline_) add_transfer_intervals(result.timeline);
    return result;
  }

 private:
  // ---- set-up: one node per op (ranks in order), its cost, and the transfers between ranks
  // Node ids go round-robin over the ranks by program position (every rank's first op, then
  // every rank's second, ...). Ranks advance at similar rates, so the ops in flight at any
  // moment sit close together in memory, and so do their edges: the hot loop stays in cache
  // however many ranks there are.
  void index_ops() {
    rank_base_.resize(s_.ranks + 1, 0);
    std::size_t longest = 0;
    for (int r = 0; r < s_.ranks; ++r) {
      rank_base_[r + 1] = rank_base_[r] + static_cast<int>(s_.per_rank[r].size());
      longest = std::max(longest, s_.per_rank[r].size());
    }
    nodes_.resize(rank_base_[s_.ranks]);
    node_at_.resize(nodes_.size());
    int id = 0;
    for (std::size_t pos = 0; pos < longest; ++pos)
      for (int r = 0; r < s_.ranks; ++r) {
        if (pos >= s_.per_rank[r].size()) continue;
        const Op& op = s_.per_rank[r][pos];
        Node& n = nodes_[id];
        n.rank = r;
        n.pos = static_cast<int>(pos);
        n.duration = costs_.duration(op);
        if (op.kind == OpKind::F || op.kind == OpKind::FB) n.hold_stage = op.stage;
        const OpKind released = op.kind == OpKind::FB ? op.b_kind : op.kind;
        if (released == OpKind::B || released == OpKind::W) n.release_stage = op.backward_half().stage;
        node_at_[rank_base_[r] + pos] = id++;
      }
    rank_len_.resize(s_.ranks);
    for (int r = 0; r < s_.ranks; ++r) rank_len_[r] = static_cast<int>(s_.per_rank[r].size());
    activation_bytes_.resize(s_.stages);
    for (int st = 0; st < s_.stages; ++st) activation_bytes_[st] = costs_.activation_bytes(st);
    next_pos_.assign(s_.ranks, 0);
    running_.assign(s_.ranks, 0);
    rank_free_.assign(s_.ranks, 0);
    held_.assign(s_.ranks, 0);
    held_bytes_.assign(s_.ranks, 0);
    rank_metrics_.assign(s_.ranks, RankMetrics{});
  }

  int node_of(int rank, int pos) const { return node_at_[rank_base_[rank] + pos]; }

  const Op& op_of(int node) const { return s_.per_rank[nodes_[node].rank][nodes_[node].pos]; }

  // Edges are generated producer by producer in node order, so the hot loop walks them in
  // step with the ops.
  void index_edges() {
    const std::size_t cells = static_cast<std::size_t>(s_.microbatches) * s_.stages;
    std::vector<int> fwd(cells, kNone), bwd(cells, kNone);
    auto at = [&](int mb, int stage) { return static_cast<std::size_t>(mb) * s_.stages + stage; };
    for (int node = 0; node < static_cast<int>(nodes_.size()); ++node) {
      const Op& op = op_of(node);
      if (op.kind == OpKind::F || op.kind == OpKind::FB) fwd[at(op.mb, op.stage)] = node;
      if (op.kind == OpKind::B || op.kind == OpKind::Bi || op.kind == OpKind::FB)
        bwd[at(op.backward_half().mb, op.backward_half().stage)] = node;
    }
    auto add_edge = [&](int producer, int consumer, std::int64_t bytes, bool forward) {
      const int src = nodes_[producer].rank, dst = nodes_[consumer].rank;
      if (src == dst) return;  // same rank: program order already delivers it
      consumer_.push_back(consumer);
      edges_.push_back({producer, route_between(src, dst), bytes, forward});
      ++nodes_[consumer].pending;
    };
    edges_.reserve(nodes_.size() + nodes_.size() / 2);
    consumer_.reserve(edges_.capacity());
    for (int node = 0; node < static_cast<int>(nodes_.size()); ++node) {
      nodes_[node].edge_begin = static_cast<int>(edges_.size());
      const Op& op = op_of(node);
      if ((op.kind == OpKind::F || op.kind == OpKind::FB) && op.stage + 1 < s_.stages)
        add_edge(node, fwd[at(op.mb, op.stage + 1)], costs_.p2p_bytes(op.stage), true);
      if (op.kind == OpKind::B || op.kind == OpKind::Bi || op.kind == OpKind::FB) {
        const Op b = op.backward_half();
        if (b.stage > 0) add_edge(node, bwd[at(b.mb, b.stage - 1)], costs_.p2p_bytes(b.stage - 1), false);
      }
      nodes_[node].edge_end = static_cast<int>(edges_.size());
    }
  }

  // ---- the event handlers
  void try_start(int r) {
    if (running_[r] || next_pos_[r] == rank_len_[r]) return;
    const int node = node_of(r, next_pos_[r]);
    Node& n = nodes_[node];
    if (n.pending > 0) return;
    running_[r] = 1;
    if (n.last_arrival >= 0) {  // it had remote inputs
      rank_metrics_[r].exposed_comm += std::max<Time>(0, now_ - std::max(rank_free_[r], n.producers_done));
      // For the critical path: the input that arrived last, unless the rank was busy longer.
      if (n.last_arrival < rank_free_[r]) n.binding_edge = kNone;
    }
    if (n.hold_stage != kNone) hold(r, n.hold_stage, +1);
    if (n.pos + 1 == rank_len_[r]) start_tails(r, true);
    if (runner_) {
      op_start_[node] = now_;
      if (runner_->start(r, node, s_.per_rank[r][n.pos], now_)) finish_op(node);
      return;
    }
    if (!core_route_.empty()) {
      op_start_[node] = now_;
      net_->start(core_route_[r].data(), 2, n.duration, now_, FlowTag::kCompute + node);
      return;
    }
    queue_.push(now_ + n.duration, EventKind::OpEnd, static_cast<std::uint32_t>(node));
    // While the op runs, other events are handled; fetch what its end will touch meanwhile:
    // the nodes waiting for its outputs and the rank's next op.
    for (int e = n.edge_begin; e < n.edge_end; ++e) __builtin_prefetch(&nodes_[consumer_[e]]);
    if (n.pos + 1 < rank_len_[r]) __builtin_prefetch(&nodes_[node_of(r, n.pos + 1)]);
  }

  void finish_op(int node) {
    Node& n = nodes_[node];
    const int r = n.rank;
    if (runner_ || !core_route_.empty()) n.duration = now_ - op_start_[node];  // the phases or the shared cores decided
    n.end = now_;
    running_[r] = 0;
    rank_free_[r] = now_;
    ++next_pos_[r];
    rank_metrics_[r].busy += n.duration;
    if (n.release_stage != kNone) hold(r, n.release_stage, -1);
    if (timeline_) timeline_->intervals.push_back({r, Lane::Compute, s_.per_rank[r][n.pos], now_ - n.duration, now_});
    for (int e = n.edge_begin; e < n.edge_end; ++e) send(e);
    if (next_pos_[r] == rank_len_[r]) start_tails(r, false);
    try_start(r);
  }

  // The rank's tail transfers that start now: at its last op's start, or at its end.
  void start_tails(int r, bool at_start) {
    if (opt_.tails.empty()) return;
    for (std::size_t t = 0; t < opt_.tails.size(); ++t) {
      const SimOptions::Tail& tail = opt_.tails[t];
      if (tail.rank != r || tail.at_last_op_start != at_start) continue;
      tail_start_[t] = now_;
      net_->start(opt_.network->routes[tail.route].resources, std::llround(tail.bytes), now_, FlowTag::kTail + static_cast<std::int64_t>(t));
    }
  }

  // A transfer leaves as its producer ends: a flow on its route when the route crosses
  // resources, then the route's latency.
  void send(int e) {
    Node& consumer = nodes_[consumer_[e]];
    consumer.producers_done = std::max(consumer.producers_done, now_);
    if (!times_.empty()) {
      times_[e].sent = now_;
      const NetworkSpec::Route& route = spec_->routes[edges_[e].route];
      if (!route.resources.empty() && edges_[e].bytes > 0) {
        net_->start(route.resources, edges_[e].bytes, now_, e);
        return;
      }
    }
    arrive_after_route(e);
  }

  // A transfer's bytes are through the network: it arrives one route latency later.
  void arrive_after_route(int e) {
    const Time latency = spec_->routes[edges_[e].route].latency;
    if (latency > 0) queue_.push(now_ + latency, EventKind::Arrive, static_cast<std::uint32_t>(e));
    else deliver(e);
  }

  void deliver(int e) {
    if (!times_.empty()) times_[e].arrived = now_;
    Node& n = nodes_[consumer_[e]];
    if (now_ >= n.last_arrival) {
      n.last_arrival = now_;
      n.binding_edge = e;
    }
    if (--n.pending == 0) try_start(n.rank);
  }

  void hold(int r, int stage, int delta) {
    held_[r] += delta;
    held_bytes_[r] += delta * activation_bytes_[stage];
    RankMetrics& m = rank_metrics_[r];
    m.peak_activations = std::max(m.peak_activations, held_[r]);
    m.peak_activation_bytes = std::max(m.peak_activation_bytes, held_bytes_[r]);
    if (timeline_) timeline_->memory.push_back({r, now_, held_[r], held_bytes_[r]});
  }

  // ---- results
  void check_finished() const {
    for (int r = 0; r < s_.ranks; ++r)
      if (next_pos_[r] != static_cast<int>(s_.per_rank[r].size()))
        throw std::invalid_argument("invalid schedule: the engine stalled: rank " + std::to_string(r) + " never ran " +
                                    to_string(s_.per_rank[r][next_pos_[r]]) + " (its inputs never arrived: a deadlock)");
  }

  Metrics metrics() {
    Metrics m;
    m.events = events_;
    int last = kNone;
    for (int node = 0; node < static_cast<int>(nodes_.size()); ++node)
      if (last == kNone || nodes_[node].end > nodes_[last].end) last = node;
    m.ops_end = last == kNone ? 0 : nodes_[last].end;
    m.makespan = std::max(m.ops_end, tail_end_);
    for (int rank = 0; runner_ && rank < s_.ranks; ++rank) {
      rank_metrics_[rank].exposed_comm += runner_->exposed(rank);
      rank_metrics_[rank].kernel_busy = runner_->kernel_busy(rank);
    }
    for (RankMetrics& r : rank_metrics_) {
      r.bubble = m.makespan - r.busy;
      r.bubble_fraction = m.makespan > 0 ? static_cast<double>(r.bubble) / static_cast<double>(m.makespan) : 0.0;
    }
    m.per_rank = rank_metrics_;
    // Walk back from the op that ends last along what made each op wait.
    for (int node = last; node != kNone;) {
      const Node& n = nodes_[node];
      const Time start = n.end - n.duration;
      m.critical_path.push_back({n.rank, Lane::Compute, op_of(node), start, n.end});
      if (n.binding_edge != kNone) {
        const int producer = edges_[n.binding_edge].producer;
        const EdgeTimes t = times_of(n.binding_edge);
        if (t.arrived > t.sent)
          m.critical_path.push_back({nodes_[producer].rank, Lane::Send, op_of(producer), t.sent, t.arrived, n.rank});
        node = producer;
      } else {
        node = n.pos > 0 && start > 0 ? node_of(n.rank, n.pos - 1) : kNone;
      }
    }
    std::reverse(m.critical_path.begin(), m.critical_path.end());
    return m;
  }

  void add_transfer_intervals(Timeline& t) const {
    for (int e = 0; e < static_cast<int>(edges_.size()); ++e) {
      const EdgeInfo& edge = edges_[e];
      const int src = nodes_[edge.producer].rank, dst = nodes_[consumer_[e]].rank;
      const Op& op = op_of(edge.producer);
      const Op half = edge.forward ? op.forward_half() : op.backward_half();
      const EdgeTimes times = times_of(e);
      t.intervals.push_back({src, Lane::Send, half, times.sent, times.arrived, dst, edge.bytes, e});
      t.intervals.push_back({dst, Lane::Recv, half, times.sent, times.arrived, src, edge.bytes, e});
    }
  }

  // Without flows a transfer leaves when its producer ends and arrives one route latency later.
  EdgeTimes times_of(int e) const {
    if (!times_.empty()) return times_[e];
    const Time sent = nodes_[edges_[e].producer].end;
    return {sent, sent + spec_->routes[edges_[e].route].latency};
  }

  const Schedule& s_;
  const CostModel& costs_;
  const SimOptions& opt_;
  const PhasedCosts* phased_;  // ops run as phases (null: each op takes duration())
  NetworkSpec simple_;         // the simple model's network, when none is given
  const NetworkSpec* spec_;    // the network every transfer runs on
  std::unordered_map<std::int64_t, int> pair_route_;  // simple model: src * ranks + dst -> route
  PhaseRunner::Routes comm_routes_;                   // per rank, for the phase runner
  Timeline* timeline_ = nullptr;
  EventQueue queue_;
  Time now_ = 0;
  std::uint64_t events_ = 0;

  std::vector<Time> tail_start_;
  Time tail_end_ = 0;
  std::unique_ptr<FlowNetwork> net_;     // only when some transfer, phase or tail is a flow
  std::unique_ptr<PhaseRunner> runner_;  // only when ops run as phases
  std::vector<Time> op_start_;           // per node, with phases or shared cores
  std::vector<std::array<int, 2>> core_route_;  // per rank, with shared cores: its core, the host's
  std::vector<int> rank_base_;  // first slot of each rank in node_at_
  std::vector<int> node_at_;    // (rank, position) -> node id
  std::vector<Node> nodes_;
  std::vector<int> consumer_;        // per edge: the node waiting for it (the hot part)
  std::vector<EdgeInfo> edges_;      // per edge: the rest
  std::vector<EdgeTimes> times_;     // per edge, only with flows
  std::vector<std::int64_t> activation_bytes_;  // per stage
  // Per rank.
  std::vector<int> rank_len_, next_pos_, held_;
  std::vector<char> running_;
  std::vector<Time> rank_free_;
  std::vector<std::int64_t> held_bytes_;
  std::vector<RankMetrics> rank_metrics_;
};

}  // namespace

SimResult simulate(const Schedule& schedule, const CostModel& costs, const SimOptions& options) {
  if (options.validate) require_valid(schedule);
  if (costs.stages() != 0 && costs.stages() != schedule.stages)
    throw std::invalid_argument("costs describe " + std::to_string(costs.stages()) + " stages but the schedule has " +
                                std::to_string(schedule.stages) + ": give one cost entry per stage");
  if (options.p2p.latency < 0) throw std::invalid_argument("p2p latency must be >= 0");
  if (options.p2p.bytes_per_second < 0) throw std::invalid_argument("p2p bandwidth must be >= 0 (0: unlimited)");
  if (options.shared_cores < 0) throw std::invalid_argument("shared cores must be >= 0 (0: a core per rank)");
  return Engine(schedule, costs, options).run();
}

}  // namespace ppsim::sim
