#include "sim/validate.hpp"

#include <algorithm>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <stdexcept>

#include "sim/dependencies.hpp"

namespace ppsim::sim {

namespace {

struct Reporter {
  std::vector<std::string>& errors;
  std::size_t dropped = 0;
  void add(std::string line) {
    if (errors.size() < kMaxReportedErrors) errors.push_back(std::move(line));
    else ++dropped;
  }
  void finish() {
    if (dropped) errors.push_back("... and " + std::to_string(dropped) + " more errors");
  }
};

std::string where(int rank, int pos) {
  return "rank " + std::to_string(rank) + " op #" + std::to_string(pos);
}

bool check_shape(const Schedule& s, Reporter& out) {
  const std::size_t before = out.errors.size();
  if (s.ranks < 1) out.add("ranks = " + std::to_string(s.ranks) + ": must be at least 1");
  if (s.stages < 1) out.add("stages = " + std::to_string(s.stages) + ": must be at least 1");
  if (s.microbatches < 1) out.add("microbatches = " + std::to_string(s.microbatches) + ": must be at least 1");
  if (static_cast<int>(s.per_rank.size()) != s.ranks)
    out.add("per_rank has " + std::to_string(s.per_rank.size()) + " op lists: expected one per rank (" +
            std::to_string(s.ranks) + ")");
  auto check_placement = [&](const std::vector<int>& placement, const std::string& name) {
    if (static_cast<int>(placement.size()) != s.stages) {
      out.add(name + " has " + std::to_string(placement.size()) + " entries: expected one per stage (" +
              std::to_string(s.stages) + ")");
      return;
    }
    for (int st = 0; st < s.stages; ++st)
      if (placement[st] < 0 || placement[st] >= s.ranks)
        out.add(name + "[" + std::to_string(st) + "] = " + std::to_string(placement[st]) +
                ": not a rank (allowed 0.." + std::to_string(s.ranks - 1) + ")");
  };
  check_placement(s.placement, "placement");
  if (s.bidirectional()) {
    check_placement(s.reverse_placement, "reverse_placement");
    if (s.first_reverse_mb < 0 || s.first_reverse_mb > s.microbatches)
      out.add("first reverse micro-batch = " + std::to_string(s.first_reverse_mb) + ": allowed 0.." +
              std::to_string(s.microbatches));
  }
  return out.errors.size() == before;
}

// Every op names a micro-batch and stage in range, on the rank that holds that stage.
bool check_ops(const Schedule& s, Reporter& out) {
  const std::size_t before = out.errors.size();
  for (int r = 0; r < s.ranks; ++r) {
    for (int i = 0; i < static_cast<int>(s.per_rank[r].size()); ++i) {
      const Op& op = s.per_rank[r][i];
      auto check_half = [&](const Op& h) {
        if (h.mb < 0 || h.mb >= s.microbatches) {
          out.add(where(r, i) + " (" + to_string(op) + "): micro-batch " + std::to_string(h.mb) +
                  " out of range 0.." + std::to_string(s.microbatches - 1));
        } else if (h.stage < 0 || h.stage >= s.stages) {
          out.add(where(r, i) + " (" + to_string(op) + "): stage " + std::to_string(h.stage) +
                  " out of range 0.." + std::to_string(s.stages - 1));
        } else if (s.rank_of(h.mb, h.stage) != r) {
          out.add(where(r, i) + " (" + to_string(op) + "): stage " + std::to_string(h.stage) + " of micro-batch " +
                  std::to_string(h.mb) + " is placed on rank " + std::to_string(s.rank_of(h.mb, h.stage)));
        }
      };
      if (op.kind == OpKind::FB) {
        if (op.b_kind != OpKind::B && op.b_kind != OpKind::Bi)
          out.add(where(r, i) + ": the backward half of an FB must be B or Bi, not " +
                  std::string(to_string(op.b_kind)));
        if (op.b_mb == op.mb)
          out.add(where(r, i) + " (" + to_string(op) + "): an FB pairs two different micro-batches");
        check_half(op.forward_half());
        check_half(op.backward_half());
      } else {
        check_half(op);
      }
    }
  }
  return out.errors.size() == before;
}

// Exactly one F and one backward (B, or Bi + W) per (micro-batch, stage).
void check_counts(const Schedule& s, Reporter& out) {
  // Fewer op halves than two per (micro-batch, stage) means some are missing. Where the table of
  // them would be large (a small file may declare a million micro-batches), say so without it:
  // the table is then never bigger than the ops listed.
  long long halves = 0;
  for (const auto& ops : s.per_rank)
    for (const Op& op : ops) halves += op.kind == OpKind::FB ? 2 : 1;
  const long long cells = static_cast<long long>(s.microbatches) * s.stages;
  if (halves < 2 * cells && cells > (1 << 20)) {
    out.add(std::to_string(s.microbatches) + " micro-batches x " + std::to_string(s.stages) + " stages need at least " +
            std::to_string(2 * cells) + " op halves (an F and a backward each); the schedule lists " + std::to_string(halves));
    return;
  }
  struct Count { int f = 0, b = 0, bi = 0, w = 0; };
  std::vector<Count> counts(static_cast<std::size_t>(s.microbatches) * s.stages);
  auto at = [&](const Op& h) -> Count& { return counts[static_cast<std::size_t>(h.mb) * s.stages + h.stage]; };
  auto count = [&](const Op& h) {
    Count& c = at(h);
    switch (h.kind) {
      case OpKind::F: ++c.f; break;
      case OpKind::B: ++c.b; break;
      case OpKind::Bi: ++c.bi; break;
      case OpKind::W: ++c.w; break;
      case OpKind::FB: break;
    }
  };
  for (const auto& ops : s.per_rank)
    for (const Op& op : ops) {
      count(op.forward_half());
      if (op.kind == OpKind::FB) count(op.backward_half());
    }
  for (int mb = 0; mb < s.microbatches; ++mb) {
    for (int st = 0; st < s.stages; ++st) {
      const Count& c = counts[static_cast<std::size_t>(mb) * s.stages + st];
      const std::string name = "micro-batch " + std::to_string(mb) + " stage " + std::to_string(st);
      if (c.f != 1) out.add(name + ": " + std::to_string(c.f) + " forwards (F), expected exactly 1");
      const bool full = c.b == 1 && c.bi == 0 && c.w == 0;
      const bool split = c.b == 0 && c.bi == 1 && c.w == 1;
      if (!full && !split)
        out.add(name + ": backward ops B=" + std::to_string(c.b) + " Bi=" + std::to_string(c.bi) +
                " W=" + std::to_string(c.w) + ", expected one B, or one Bi and one W");
    }
  }
}

struct CycleFound {
  std::vector<int> nodes;
};

// Records the first back edge (u -> v) and returns the cycle v -> ... -> u.
struct CycleVisitor : boost::default_dfs_visitor {
  std::vector<int>* parent;
  template <class Edge, class Graph>
  void tree_edge(Edge e, const Graph& g) const {
    (*parent)[boost::target(e, g)] = static_cast<int>(boost::source(e, g));
  }
  template <class Edge, class Graph>
  void back_edge(Edge e, const Graph& g) const {
    const int u = static_cast<int>(boost::source(e, g));
    const int v = static_cast<int>(boost::target(e, g));
    CycleFound cycle;
    for (int x = u; x != v; x = (*parent)[x]) cycle.nodes.push_back(x);
    cycle.nodes.push_back(v);
    std::reverse(cycle.nodes.begin(), cycle.nodes.end());
    throw cycle;
  }
};

void check_acyclic(const Schedule& s, Reporter& out) {
  const Dependencies deps = build_dependencies(s);
  using Graph = boost::compressed_sparse_row_graph<boost::directedS>;
  const Graph g(boost::edges_are_unsorted_multi_pass, deps.edges.begin(), deps.edges.end(), deps.nodes.size());
  std::vector<int> parent(deps.nodes.size(), -1);
  try {
    boost::depth_first_search(g, boost::visitor(CycleVisitor{{}, &parent}));
  } catch (const CycleFound& cycle) {
    constexpr std::size_t kShown = 8;
    std::string line = "deadlock: a cycle of " + std::to_string(cycle.nodes.size()) + " ops waits on itself: ";
    for (std::size_t i = 0; i < cycle.nodes.size() && i < kShown; ++i) {
      const OpNode& n = deps.nodes[cycle.nodes[i]];
      line += (i ? " -> " : "") + to_string(s.per_rank[n.rank][n.pos]) + " (rank " + std::to_string(n.rank) + ")";
    }
    line += cycle.nodes.size() > kShown ? " -> ..." : " -> back to the first";
    out.add(line);
  }
}

}  // namespace

std::vector<std::vector<std::int64_t>> activations_held(const Schedule& s, const std::vector<std::int64_t>& bytes) {
  const auto weight = [&](int stage) { return bytes.empty() ? std::int64_t{1} : bytes.at(static_cast<std::size_t>(stage)); };
  std::vector<std::vector<std::int64_t>> held(s.per_rank.size());
  for (std::size_t r = 0; r < s.per_rank.size(); ++r) {
    std::int64_t h = 0;
    held[r].reserve(s.per_rank[r].size());
    for (const Op& op : s.per_rank[r]) {
      if (op.kind == OpKind::F || op.kind == OpKind::FB) h += weight(op.stage);
      held[r].push_back(h);  // an FB holds its forward's before its backward's are freed
      const OpKind released = op.kind == OpKind::FB ? op.b_kind : op.kind;
      if (released == OpKind::B || released == OpKind::W) h -= weight(op.backward_half().stage);
    }
  }
  return held;
}

std::vector<int> peak_in_flight(const Schedule& s) {
  std::vector<int> peaks;
  for (const auto& rank : activations_held(s))
    peaks.push_back(static_cast<int>(rank.empty() ? 0 : std::max<std::int64_t>(0, *std::max_element(rank.begin(), rank.end()))));
  return peaks;
}

ValidationReport validate(const Schedule& s) {
  ValidationReport report;
  Reporter out{report.errors};
  if (check_shape(s, out) && check_ops(s, out)) {
    // Dependencies are indexed by (micro-batch, stage): only where that table is no bigger than
    // the ops listed, or small.
    const std::size_t before = out.errors.size() + out.dropped;
    check_counts(s, out);
    if (out.errors.size() + out.dropped == before || static_cast<long long>(s.microbatches) * s.stages <= (1 << 20)) check_acyclic(s, out);
    report.peak_in_flight = peak_in_flight(s);
  }
  out.finish();
  return report;
}

void require_valid(const Schedule& s) {
  const ValidationReport report = validate(s);
  if (report.ok()) return;
  std::string msg = "invalid " + (s.kind.empty() ? std::string("custom") : s.kind) + " schedule: " + report.errors[0];
  if (report.errors.size() > 1) msg += " (+" + std::to_string(report.errors.size() - 1) + " more)";
  throw std::invalid_argument(msg);
}

}  // namespace ppsim::sim
