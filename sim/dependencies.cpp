#include "sim/dependencies.hpp"

namespace ppsim::sim {

namespace {
// Node ids of the forward, backward (B, Bi or an FB's backward half) and W of each (mb, stage).
struct Producers {
  int stages;
  std::vector<int> fwd, bwd, wgt;
  Producers(int microbatches, int stages_)
      : stages(stages_),
        fwd(static_cast<std::size_t>(microbatches) * stages_, -1),
        bwd(fwd.size(), -1),
        wgt(fwd.size(), -1) {}
  std::size_t at(int mb, int stage) const { return static_cast<std::size_t>(mb) * stages + stage; }
};

bool in_range(const Schedule& s, int mb, int stage) {
  return mb >= 0 && mb < s.microbatches && stage >= 0 && stage < s.stages;
}
}  // namespace

Dependencies build_dependencies(const Schedule& s) {
  Dependencies d;
  Producers p(s.microbatches, s.stages);
  auto note = [&](std::vector<int>& table, const Op& op, int node) {
    if (in_range(s, op.mb, op.stage)) table[p.at(op.mb, op.stage)] = node;
  };
  for (int r = 0; r < static_cast<int>(s.per_rank.size()); ++r) {
    for (int i = 0; i < static_cast<int>(s.per_rank[r].size()); ++i) {
      const int node = static_cast<int>(d.nodes.size());
      d.nodes.push_back({r, i});
      if (i > 0) d.edges.emplace_back(node - 1, node);  // program order
      const Op& op = s.per_rank[r][i];
      switch (op.kind) {
        case OpKind::F: note(p.fwd, op, node); break;
        case OpKind::B:
        case OpKind::Bi: note(p.bwd, op, node); break;
        case OpKind::W: note(p.wgt, op, node); break;
        case OpKind::FB:
          note(p.fwd, op.forward_half(), node);
          note(p.bwd, op.backward_half(), node);
          break;
      }
    }
  }
  auto link = [&](int from, int to) {
    if (from >= 0 && to >= 0) d.edges.emplace_back(from, to);
  };
  for (int mb = 0; mb < s.microbatches; ++mb) {
    for (int st = 0; st < s.stages; ++st) {
      const std::size_t k = p.at(mb, st);
      if (st > 0) link(p.fwd[p.at(mb, st - 1)], p.fwd[k]);
      if (st + 1 < s.stages) link(p.bwd[p.at(mb, st + 1)], p.bwd[k]);
      link(p.fwd[k], p.bwd[k]);  // the last stage's loss, and every stage's saved activations
      link(p.bwd[k], p.wgt[k]);
    }
  }
  return d;
}

}  // namespace ppsim::sim
