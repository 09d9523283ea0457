#include "sim/engine.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>

#include "sim/dependencies.hpp"
#include "sim/event_queue.hpp"
#include "sim/validate.hpp"

namespace ppsim::sim {

Time Metrics::max_bubble() const {
  Time b = 0;
  for (const RankMetrics& r : per_rank) b = std::max(b, r.bubble);
  return b;
}

namespace {

constexpr std::uint32_t kOpEnd = 0;     // an op's compute ended
constexpr std::uint32_t kBytesDone = 1; // a transfer's bytes left its link
constexpr std::uint32_t kArrive = 2;    // a transfer arrived (after the latency)
constexpr int kNone = -1;
// Transfer progress needs bytes * 1e9 * ranks of headroom: 128-bit integers keep it exact.
__extension__ typedef __int128 Wide;
constexpr Wide kNanoBytesPerByte = 1'000'000'000;  // remaining work unit: bytes * 1e9

// An output that moves to another rank: from producer node to consumer node.
struct Edge {
  int producer;
  int consumer;
  int link;
  std::int64_t bytes;
  bool forward;  // an activation (F -> F); else a gradient (backward -> backward)
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

  SimResult run() {
    SimResult result;
    result.timeline.kind = s_.kind;
    result.timeline.ranks = s_.ranks;
    if (opt_.record_timeline) {
      result.timeline.intervals.reserve(nodes_.size() + 2 * edges_.size());
      result.timeline.memory.reserve(2 * nodes_.size());
    }
    timeline_ = opt_.record_timeline ? &result.timeline : nullptr;
    queue_.reserve(static_cast<std::size_t>(s_.ranks) + 2 * edges_.size() + 16);

    for (int r = 0; r < s_.ranks; ++r) try_start(r);
    while (!queue_.empty()) {
      const Event e = queue_.pop();
      now_ = e.time;
      switch (e.kind) {
        case kOpEnd: finish_op(static_cast<int>(e.id)); break;
        case kBytesDone:
          if (e.version != flows_[e.id].version) continue;  // rescheduled since
          bytes_done(static_cast<int>(e.id));
          break;
        case kArrive: deliver(static_cast<int>(e.id)); break;
      }
      ++events_;
    }
    check_finished();
    result.metrics = metrics();
    if (timeline_) add_transfer_intervals(result.timeline);
    return result;
  }

 private:
  // ---- set-up: nodes (one per op), their costs, and the transfers between ranks
  void index_ops() {
    rank_base_.resize(s_.ranks + 1, 0);
    for (int r = 0; r < s_.ranks; ++r) rank_base_[r + 1] = rank_base_[r] + static_cast<int>(s_.per_rank[r].size());
    const int n = rank_base_[s_.ranks];
    nodes_.resize(n);
    duration_.resize(n);
    for (int r = 0; r < s_.ranks; ++r)
      for (int i = 0; i < static_cast<int>(s_.per_rank[r].size()); ++i) {
        const int node = rank_base_[r] + i;
        nodes_[node] = {r, i};
        duration_[node] = costs_.duration(s_.per_rank[r][i]);
      }
    pending_.assign(n, 0);
    start_.assign(n, 0);
    end_.assign(n, 0);
    binding_edge_.assign(n, kNone);
    last_arrival_.assign(n, -1);
    producers_done_.assign(n, 0);
    next_pos_.assign(s_.ranks, 0);
    running_.assign(s_.ranks, false);
    rank_free_.assign(s_.ranks, 0);
    held_.assign(s_.ranks, 0);
    held_bytes_.assign(s_.ranks, 0);
    rank_metrics_.assign(s_.ranks, RankMetrics{});
  }

  const Op& op_of(int node) const { return s_.per_rank[nodes_[node].rank][nodes_[node].pos]; }

  void index_edges() {
    const std::size_t cells = static_cast<std::size_t>(s_.microbatches) * s_.stages;
    std::vector<int> fwd(cells, kNone), bwd(cells, kNone);
    auto at = [&](const Op& h) { return static_cast<std::size_t>(h.mb) * s_.stages + h.stage; };
    for (int node = 0; node < static_cast<int>(nodes_.size()); ++node) {
      const Op& op = op_of(node);
      if (op.kind == OpKind::F || op.kind == OpKind::FB) fwd[at(op.forward_half())] = node;
      if (op.kind == OpKind::B || op.kind == OpKind::Bi || op.kind == OpKind::FB) bwd[at(op.backward_half())] = node;
    }
    std::map<std::pair<int, int>, int> link_ids;
    auto add_edge = [&](int producer, int consumer, std::int64_t bytes, bool forward) {
      const int src = nodes_[producer].rank, dst = nodes_[consumer].rank;
      if (src == dst) return;  // same rank: program order already delivers it
      const auto [it, fresh] = link_ids.try_emplace({src, dst}, static_cast<int>(links_.size()));
      if (fresh) links_.push_back({src, dst});
      edges_.push_back({producer, consumer, it->second, bytes, forward});
      ++pending_[consumer];
    };
    for (int node = 0; node < static_cast<int>(nodes_.size()); ++node) {
      const Op& op = op_of(node);
      if (op.kind == OpKind::F || op.kind == OpKind::FB) {
        const Op f = op.forward_half();
        if (f.stage > 0) add_edge(fwd[at({OpKind::F, f.mb, f.stage - 1})], node, costs_.p2p_bytes(f.stage - 1), true);
      }
      if (op.kind == OpKind::B || op.kind == OpKind::Bi || op.kind == OpKind::FB) {
        const Op b = op.backward_half();
        if (b.stage + 1 < s_.stages) add_edge(bwd[at({OpKind::B, b.mb, b.stage + 1})], node, costs_.p2p_bytes(b.stage), false);
      }
    }
    // Outgoing edges of each producer, contiguous (CSR), in the order they were found.
    out_begin_.assign(nodes_.size() + 1, 0);
    for (const Edge& e : edges_) ++out_begin_[e.producer + 1];
    for (std::size_t i = 1; i < out_begin_.size(); ++i) out_begin_[i] += out_begin_[i - 1];
    out_edges_.resize(edges_.size());
    std::vector<int> fill(out_begin_.begin(), out_begin_.end() - 1);
    for (int e = 0; e < static_cast<int>(edges_.size()); ++e) out_edges_[fill[edges_[e].producer]++] = e;
    flows_.resize(edges_.size());
    arrival_.assign(edges_.size(), 0);
  }

  // ---- the event handlers
  void try_start(int r) {
    if (running_[r] || next_pos_[r] == static_cast<int>(s_.per_rank[r].size())) return;
    const int node = rank_base_[r] + next_pos_[r];
    if (pending_[node] > 0) return;
    running_[r] = true;
    start_[node] = now_;
    RankMetrics& m = rank_metrics_[r];
    if (has_inputs(node)) m.exposed_comm += std::max<Time>(0, now_ - std::max(rank_free_[r], producers_done_[node]));
    // The binding predecessor, for the critical path: the input that arrived last, unless the
    // rank itself was busy longer.
    if (binding_edge_[node] != kNone && last_arrival_[node] < rank_free_[r]) binding_edge_[node] = kNone;
    const Op& op = op_of(node);
    if (op.kind == OpKind::F || op.kind == OpKind::FB) hold(r, op.stage, +1);
    queue_.push(now_ + duration_[node], kOpEnd, static_cast<std::uint32_t>(node));
  }

  bool has_inputs(int node) const { return last_arrival_[node] >= 0; }

  void finish_op(int node) {
    const int r = nodes_[node].rank;
    end_[node] = now_;
    running_[r] = false;
    rank_free_[r] = now_;
    ++next_pos_[r];
    rank_metrics_[r].busy += duration_[node];
    const Op& op = op_of(node);
    const OpKind released = op.kind == OpKind::FB ? op.b_kind : op.kind;
    if (released == OpKind::B || released == OpKind::W) hold(r, op.backward_half().stage, -1);
    if (timeline_) timeline_->intervals.push_back({r, Lane::Compute, op, start_[node], now_});
    for (int i = out_begin_[node]; i < out_begin_[node + 1]; ++i) send(out_edges_[i]);
    try_start(r);
  }

  void send(int e) {
    Flow& f = flows_[e];
    f.start = now_;
    const Edge& edge = edges_[e];
    producers_done_[edge.consumer] = std::max(producers_done_[edge.consumer], now_);
    if (opt_.p2p.bytes_per_second > 0 && edge.bytes > 0) {
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
      queue_.push(now_ + opt_.p2p.latency, kArrive, static_cast<std::uint32_t>(e));
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
      queue_.push(now_ + static_cast<Time>(dt), kBytesDone, static_cast<std::uint32_t>(e), f.version);
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
    if (opt_.p2p.latency > 0) queue_.push(now_ + opt_.p2p.latency, kArrive, static_cast<std::uint32_t>(e));
    else deliver(e);
  }

  void deliver(int e) {
    const Edge& edge = edges_[e];
    arrival_[e] = now_;
    const int c = edge.consumer;
    if (now_ >= last_arrival_[c]) {
      last_arrival_[c] = now_;
      binding_edge_[c] = e;
    }
    if (--pending_[c] == 0) try_start(nodes_[c].rank);
  }

  void hold(int r, int stage, int delta) {
    held_[r] += delta;
    held_bytes_[r] += delta * costs_.activation_bytes(stage);
    RankMetrics& m = rank_metrics_[r];
    m.peak_activations = std::max(m.peak_activations, held_[r]);
    m.peak_activation_bytes = std::max(m.peak_activation_bytes, held_bytes_[r]);
    if (timeline_) timeline_->memory.push_back({r, now_, held_[r], held_bytes_[r]});
  }

  // ---- results
  void check_finished() const {
    for (int r = 0; r < s_.ranks; ++r)
      if (next_pos_[r] != static_cast<int>(s_.per_rank[r].size()))
        throw std::runtime_error("engine stalled: rank " + std::to_string(r) + " never ran " +
                                 to_string(s_.per_rank[r][next_pos_[r]]) + " (a deadlock validate() missed)");
  }

  Metrics metrics() {
    Metrics m;
    m.events = events_;
    int last = kNone;
    for (int node = 0; node < static_cast<int>(nodes_.size()); ++node)
      if (last == kNone || end_[node] > end_[last]) last = node;
    m.makespan = last == kNone ? 0 : end_[last];
    for (RankMetrics& r : rank_metrics_) {
      r.bubble = m.makespan - r.busy;
      r.bubble_fraction = m.makespan > 0 ? static_cast<double>(r.bubble) / static_cast<double>(m.makespan) : 0.0;
    }
    m.per_rank = rank_metrics_;
    // Walk back from the op that ends last along what made each op wait.
    for (int node = last; node != kNone;) {
      const int r = nodes_[node].rank;
      m.critical_path.push_back({r, Lane::Compute, op_of(node), start_[node], end_[node]});
      const int e = binding_edge_[node];
      if (e != kNone) {
        const Edge& edge = edges_[e];
        const bool moved = arrival_[e] > end_[edge.producer];
        if (moved)
          m.critical_path.push_back({nodes_[edge.producer].rank, Lane::Send, op_of(edge.producer),
                                     end_[edge.producer], arrival_[e], r});
        node = edge.producer;
      } else {
        node = nodes_[node].pos > 0 && start_[node] > 0 ? node - 1 : kNone;
      }
    }
    std::reverse(m.critical_path.begin(), m.critical_path.end());
    return m;
  }

  void add_transfer_intervals(Timeline& t) const {
    for (int e = 0; e < static_cast<int>(edges_.size()); ++e) {
      const Edge& edge = edges_[e];
      const int src = nodes_[edge.producer].rank, dst = nodes_[edge.consumer].rank;
      const Op& op = op_of(edge.producer);
      const Op half = edge.forward ? op.forward_half() : op.backward_half();
      t.intervals.push_back({src, Lane::Send, half, flows_[e].start, arrival_[e], dst, edge.bytes, e});
      t.intervals.push_back({dst, Lane::Recv, half, flows_[e].start, arrival_[e], src, edge.bytes, e});
    }
  }

  const Schedule& s_;
  const CostModel& costs_;
  const SimOptions& opt_;
  Timeline* timeline_ = nullptr;
  EventQueue queue_;
  Time now_ = 0;
  std::uint64_t events_ = 0;

  std::vector<int> rank_base_;
  std::vector<OpNode> nodes_;
  std::vector<Time> duration_, start_, end_, last_arrival_, producers_done_, rank_free_, arrival_;
  std::vector<int> pending_, binding_edge_, next_pos_, held_;
  std::vector<std::int64_t> held_bytes_;
  std::vector<bool> running_;
  std::vector<RankMetrics> rank_metrics_;
  std::vector<Edge> edges_;
  std::vector<int> out_begin_, out_edges_;
  std::vector<Flow> flows_;
  std::vector<Link> links_;
};

}  // namespace

SimResult simulate(const Schedule& schedule, const CostModel& costs, const SimOptions& options) {
  require_valid(schedule);
  if (costs.stages() != 0 && costs.stages() != schedule.stages)
    throw std::invalid_argument("costs describe " + std::to_string(costs.stages()) + " stages but the schedule has " +
                                std::to_string(schedule.stages) + ": give one cost entry per stage");
  if (options.p2p.latency < 0) throw std::invalid_argument("p2p latency must be >= 0");
  if (options.p2p.bytes_per_second < 0) throw std::invalid_argument("p2p bandwidth must be >= 0 (0: unlimited)");
  return Engine(schedule, costs, options).run();
}

}  // namespace ppsim::sim
