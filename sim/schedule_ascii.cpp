#include "sim/schedule_ascii.hpp"

#include <algorithm>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/topological_sort.hpp>

#include "sim/dependencies.hpp"

namespace ppsim::sim {

namespace {

// Which of its rank's chunks an op half belongs to: a, b, c, ... ('\0' when the rank holds one).
char chunk_letter(const Schedule& s, const std::vector<int>& rank_stages, const Op& h) {
  if (s.bidirectional()) return h.mb >= s.first_reverse_mb ? 'b' : 'a';
  if (rank_stages.size() < 2) return '\0';
  const auto it = std::find(rank_stages.begin(), rank_stages.end(), h.stage);
  return static_cast<char>('a' + (it - rank_stages.begin()));
}

std::string label(const Schedule& s, const std::vector<int>& rank_stages, const Op& op) {
  auto with_chunk = [&](std::string text, const Op& h) {
    const char c = chunk_letter(s, rank_stages, h);
    return c ? text + c : text;
  };
  switch (op.kind) {
    case OpKind::F: return with_chunk("F" + std::to_string(op.mb), op);
    case OpKind::B: return with_chunk("B" + std::to_string(op.mb), op);
    case OpKind::Bi: return with_chunk("I" + std::to_string(op.mb), op);
    case OpKind::W: return with_chunk("W" + std::to_string(op.mb), op);
    case OpKind::FB:
      return with_chunk(std::to_string(op.mb), op.forward_half()) + "|" +
             with_chunk(std::to_string(op.b_mb), op.backward_half());
  }
  return "?";
}

}  // namespace

std::string to_ascii(const Schedule& s) {
  const Dependencies deps = build_dependencies(s);
  using Graph = boost::compressed_sparse_row_graph<boost::directedS>;
  const Graph g(boost::edges_are_unsorted_multi_pass, deps.edges.begin(), deps.edges.end(), deps.nodes.size());
  std::vector<std::size_t> reverse_topo;
  boost::topological_sort(g, std::back_inserter(reverse_topo));

  // start(n) = max over predecessors of start(p) + 1: every op one step long.
  std::vector<int> start(deps.nodes.size(), 0);
  for (auto it = reverse_topo.rbegin(); it != reverse_topo.rend(); ++it) {
    for (auto [e, end] = boost::out_edges(*it, g); e != end; ++e) {
      const auto t = boost::target(*e, g);
      start[t] = std::max(start[t], start[*it] + 1);
    }
  }
  const int steps = deps.nodes.empty() ? 0 : *std::max_element(start.begin(), start.end()) + 1;

  std::vector<std::vector<std::string>> grid(s.ranks, std::vector<std::string>(steps, "."));
  std::size_t width = 1;
  for (int r = 0; r < s.ranks; ++r) {
    const auto rank_stages = s.stages_of(r);
    for (std::size_t n = 0; n < deps.nodes.size(); ++n) {
      if (deps.nodes[n].rank != r) continue;
      auto& text = grid[r][start[n]];
      text = label(s, rank_stages, s.per_rank[r][deps.nodes[n].pos]);
      width = std::max(width, text.size());
    }
  }
  std::string out = s.kind + ": " + std::to_string(s.ranks) + " ranks, " + std::to_string(s.stages) + " stages, " +
                    std::to_string(s.microbatches) + " micro-batches, " + std::to_string(steps) +
                    " unit steps (F/B/I/W: forward/backward/input-grad/weight-grad of a micro-batch; "
                    "x|y: forward x overlapped with backward y; a/b: the rank's chunk; '.': idle)\n";
  const std::size_t label_width = std::to_string(s.ranks - 1).size();
  for (int r = 0; r < s.ranks; ++r) {
    std::string line = "rank " + std::string(label_width - std::to_string(r).size(), ' ') + std::to_string(r) + " |";
    for (const auto& text : grid[r]) line += " " + text + std::string(width - text.size(), ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace ppsim::sim
