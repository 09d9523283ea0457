#include "sim/engine.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <limits>
#include <stdexcept>

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

namespace {

constexpr int kNone = -1;
// Transfer progress needs bytes * 1e9 * ranks of headroom: 128-bit integers keep it exact.
__extension__ typedef __int128 Wide;
constexpr Wide kNanoBytesPerByte = 1'000'000'000;  // remaining work unit: bytes * 1e9

// An output that moves to another rank: from producer node to consumer node.
// The parts of a transfer only set-up, bandwidth sharing and the results read; the hot loop
// reads just the consumer (consumer_).
struct EdgeInfo {
  int producer;
  int link;  // kNone unless a bandwidth is set
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

struct Flow {
  Wide remaining = 0;  // nano-bytes still to send
  Time start = 0;
  Time last_update = 0;
  std::uint32_t version = 0;
  int prev = kNone, next = kNone;  // the link's active flows, as an intrusive list
};

struct Link {
  int src, dst;
  int head = kNone;
  int active = 0;
};

class Engine {
 public:
  Engine(const Schedule& s, const CostModel& costs, const SimOptions& opt) : s_(s), costs_(costs), opt_(opt) {
    index_ops();
    index_edges();
  }

  // Ops run as phase programs when the cost model has them (sim/phases.hpp).
  void use_phases(Timeline* timeline) {
    const PhasedCosts* phased = opt_.phases ? costs_.phased() : nullptr;
    if (!phased) return;
    runner_ = std::make_unique<PhaseRunner>(*phased, s_.ranks, queue_, timeline, net_.get(), opt_.network);
    op_start_.assign(nodes_.size(), 0);
  }

  // Transfers as flows on a network, when one is given; every route they need must exist.
  void use_network() {
    const NetworkSpec* n = opt_.network;
    if (!n) return;
    for (const EdgeInfo& e : edges_) {
      const int src = nodes_[e.producer].rank;
      const int dst = nodes_[consumer_[&e - edges_.data()]].rank;
      if (!n->p2p_route.count({src, dst}))
        throw std::invalid_argument("network: no route from rank " + std::to_string(src) + " to rank " + std::to_string(dst));
    }
    if (static_cast<int>(n->comm_route.size()) < s_.ranks && opt_.phases && costs_.phased())
      throw std::invalid_argument("network: no communication route for every rank");
    net_ = std::make_unique<FlowNetwork>(n->capacity, queue_);
    times_.assign(edges_.size(), EdgeTimes{});
    tail_start_.assign(opt_.tails.size(), 0);
    for (const SimOptions::Tail& t : opt_.tails)
      if (t.rank < 0 || t.rank >= s_.ranks || t.route < 0 || t.route >= static_cast<int>(n->routes.size()))
        throw std::invalid_argument("network: a tail transfer names rank " + std::to_string(t.rank) + " or route " +
                                    std::to_string(t.route) + ", which do not exist");
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
    use_network();
    use_phases(timeline_);

    const auto loop_start = std::chrono::steady_clock::now();
    for (int r = 0; r < s_.ranks; ++r) try_start(r);
    while (!queue_.empty()) {
      const Event e = queue_.pop();
      now_ = e.time;
      switch (e.kind) {
        case EventKind::OpEnd: finish_op(static_cast<int>(e.id)); break;
        case EventKind::BytesDone:
          if (e.version != flows_[e.id].version) continue;  // rescheduled since
          bytes_done(static_cast<int>(e.id));
          break;
        case EventKind::Arrive: deliver(static_cast<int>(e.id)); break;
        case EventKind::FlowDone: {
          const std::int64_t tag = net_->on_event(e, now_);
          if (tag < 0) continue;  // rescheduled since
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
          } else {
            arrive_after_route(static_cast<int>(tag));
          }
          break;
        }
        case EventKind::ComputeDone:
        case EventKind::CommDone:
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
  // step with the ops. Links (for bandwidth sharing) exist only when a bandwidth is set.
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
    const bool shared_links = opt_.p2p.bytes_per_second > 0;
    std::vector<int> link_of_pair;  // src * ranks + dst -> link id, only with shared links
    if (shared_links) link_of_pair.assign(static_cast<std::size_t>(s_.ranks) * s_.ranks, kNone);
    auto add_edge = [&](int producer, int consumer, std::int64_t bytes, bool forward) {
      const int src = nodes_[producer].rank, dst = nodes_[consumer].rank;
      if (src == dst) return;  // same rank: program order already delivers it
      int link = kNone;
      if (shared_links) {
        int& id = link_of_pair[static_cast<std::size_t>(src) * s_.ranks + dst];
        if (id == kNone) {
          id = static_cast<int>(links_.size());
          links_.push_back({src, dst});
        }
        link = id;
      }
      consumer_.push_back(consumer);
      edges_.push_back({producer, link, bytes, forward});
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
    // Without a bandwidth a transfer's times follow from its producer's end (plus the latency).
    if (shared_links) {
      times_.assign(edges_.size(), EdgeTimes{});
      flows_.assign(edges_.size(), Flow{});
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
    queue_.push(now_ + n.duration, EventKind::OpEnd, static_cast<std::uint32_t>(node));
    // While the op runs, other events are handled; fetch what its end will touch meanwhile:
    // the nodes waiting for its outputs and the rank's next op.
    for (int e = n.edge_begin; e < n.edge_end; ++e) __builtin_prefetch(&nodes_[consumer_[e]]);
    if (n.pos + 1 < rank_len_[r]) __builtin_prefetch(&nodes_[node_of(r, n.pos + 1)]);
  }

  void finish_op(int node) {
    Node& n = nodes_[node];
    const int r = n.rank;
    if (runner_) n.duration = now_ - op_start_[node];  // the phases decided how long it took
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
    if (!net_) return;
    for (std::size_t t = 0; t < opt_.tails.size(); ++t) {
      const SimOptions::Tail& tail = opt_.tails[t];
      if (tail.rank != r || tail.at_last_op_start != at_start) continue;
      tail_start_[t] = now_;
      net_->start(opt_.network->routes[tail.route].resources, tail.bytes, now_, FlowTag::kTail + static_cast<std::int64_t>(t));
    }
  }

  void send(int e) {
    Node& consumer = nodes_[consumer_[e]];
    consumer.producers_done = std::max(consumer.producers_done, now_);
    if (net_) {
      times_[e].sent = now_;
      const NetworkSpec::Route& route = route_of(e);
      if (edges_[e].bytes > 0) net_->start(route.resources, static_cast<double>(edges_[e].bytes), now_, e);
      else arrive_after_route(e);
      return;
    }
    if (!flows_.empty() && edges_[e].bytes > 0) {
      const EdgeInfo& edge = edges_[e];
      times_[e].sent = now_;
      Flow& f = flows_[e];
      f.remaining = static_cast<Wide>(edge.bytes) * kNanoBytesPerByte;
      Link& link = links_[edge.link];
      advance(link);
      f.prev = kNone;
      f.next = link.head;
      if (link.head != kNone) flows_[link.head].prev = e;
      link.head = e;
      ++link.active;
      f.last_update = now_;
      reschedule(link);
    } else if (opt_.p2p.latency > 0) {
      queue_.push(now_ + opt_.p2p.latency, EventKind::Arrive, static_cast<std::uint32_t>(e));
    } else {
      deliver(e);
    }
  }

  // Progress every flow on the link up to now at its fair share of the bandwidth.
  void advance(Link& link) {
    if (link.active == 0) return;
    const Wide bw = opt_.p2p.bytes_per_second;
    for (int e = link.head; e != kNone; e = flows_[e].next) {
      Flow& f = flows_[e];
      f.remaining -= std::min(f.remaining, static_cast<Wide>(now_ - f.last_update) * bw / link.active);
      f.last_update = now_;
    }
  }

  // New completion times for every flow on the link; older events become stale.
  void reschedule(const Link& link) {
    const Wide bw = opt_.p2p.bytes_per_second;
    for (int e = link.head; e != kNone; e = flows_[e].next) {
      Flow& f = flows_[e];
      const Wide dt = (f.remaining * link.active + bw - 1) / bw;
      ++f.version;
      queue_.push(now_ + static_cast<Time>(dt), EventKind::BytesDone, static_cast<std::uint32_t>(e), f.version);
    }
  }

  void bytes_done(int e) {
    Flow& f = flows_[e];
    Link& link = links_[edges_[e].link];
    advance(link);
    f.remaining = 0;
    if (f.prev != kNone) flows_[f.prev].next = f.next;
    else link.head = f.next;
    if (f.next != kNone) flows_[f.next].prev = f.prev;
    --link.active;
    reschedule(link);
    if (opt_.p2p.latency > 0) queue_.push(now_ + opt_.p2p.latency, EventKind::Arrive, static_cast<std::uint32_t>(e));
    else deliver(e);
  }

  const NetworkSpec::Route& route_of(int e) const {
    const int src = nodes_[edges_[e].producer].rank, dst = nodes_[consumer_[e]].rank;
    return opt_.network->routes[opt_.network->p2p_route.at({src, dst})];
  }

  // A transfer's bytes are through the network: it arrives one route latency later.
  void arrive_after_route(int e) {
    const Time latency = route_of(e).latency;
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

  // A transfer leaves when its producer ends; without a bandwidth it arrives one latency later.
  EdgeTimes times_of(int e) const {
    if (!times_.empty() && (edges_[e].bytes > 0 || net_)) return times_[e];
    const Time sent = nodes_[edges_[e].producer].end;
    return {sent, sent + opt_.p2p.latency};
  }

  const Schedule& s_;
  const CostModel& costs_;
  const SimOptions& opt_;
  Timeline* timeline_ = nullptr;
  EventQueue queue_;
  Time now_ = 0;
  std::uint64_t events_ = 0;

  std::vector<Time> tail_start_;
  Time tail_end_ = 0;
  std::unique_ptr<FlowNetwork> net_;     // only with a network
  std::unique_ptr<PhaseRunner> runner_;  // only when ops run as phases
  std::vector<Time> op_start_;           // per node, with phases
  std::vector<int> rank_base_;  // first slot of each rank in node_at_
  std::vector<int> node_at_;    // (rank, position) -> node id
  std::vector<Node> nodes_;
  std::vector<int> consumer_;        // per edge: the node waiting for it (the hot part)
  std::vector<EdgeInfo> edges_;      // per edge: the rest
  std::vector<EdgeTimes> times_;     // per edge, only with a bandwidth
  std::vector<Flow> flows_;          // per edge, only with a bandwidth
  std::vector<Link> links_;
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
  return Engine(schedule, costs, options).run();
}

}  // namespace ppsim::sim
