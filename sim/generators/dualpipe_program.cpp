#include "sim/generators/dualpipe_program.hpp"

namespace ppsim::sim::gen {

std::vector<PhaseAction> dualpipe_program(int half_ranks, int half_rank, int chunks) {
  const int n = half_ranks;
  const int h = half_rank;
  const bool middle = h == n - 1;  // the two ranks where the directions meet
  std::vector<PhaseAction> p;
  auto F = [&](int phase) { p.push_back({PhaseAction::Forward, phase, 0, false}); };
  auto B = [&](int phase, bool zb) { p.push_back({PhaseAction::Backward, phase, 0, zb}); };
  auto FB = [&](int f, int b) { p.push_back({PhaseAction::ForwardBackward, f, b, false}); };
  auto W = [&] { p.push_back({PhaseAction::Weight, 0, 0, false}); };

  for (int i = 0; i < 2 * (n - h - 1); ++i) F(0);  // 1: forwards of chunk 0 only
  for (int i = 0; i < h + 1; ++i) {                 // 2: alternate chunk 0 and chunk 1
    F(0);
    F(1);
  }
  for (int i = 0; i < n - h - 1; ++i) {  // 3: zero-bubble backward of chunk 1, its W, forward
    B(1, true);
    W();
    F(1);
  }
  for (int i = 0; i < chunks - 2 * n + h + 1; ++i) {  // 4: the main overlapped loop
    if (i == 0 && middle) {  // not overlapped here: it shortens the bubble
      F(0);
      B(1, false);
    } else {
      FB(0, 1);
    }
    FB(1, 0);
  }
  for (int i = 0; i < n - h - 1; ++i) {  // 5
    B(1, false);
    FB(1, 0);
  }
  const int step6 = h + 1;  // 6: the second half of these backwards defer their weight grads
  bool zb = false;
  for (int i = 0; i < step6; ++i) {
    if (i == step6 / 2 && h % 2 == 1) zb = true;
    B(1, zb);
    if (i == step6 / 2 && h % 2 == 0) zb = true;
    B(0, zb);
  }
  for (int i = 0; i < n - h - 1; ++i) {  // 7
    W();
    B(0, true);
  }
  for (int i = 0; i < h + 1; ++i) W();  // 8: drain the deferred weight grads
  return p;
}

}  // namespace ppsim::sim::gen

#include <deque>

namespace ppsim::sim::gen {

std::vector<Op> lower_program(const std::vector<PhaseAction>& program, const PhaseMap& map) {
  int next_f[2] = {0, 0};
  int next_b[2] = {0, 0};
  std::deque<Op> deferred;  // weight grads waiting for a Weight action
  std::vector<Op> ops;
  ops.reserve(program.size());
  auto take_f = [&](int p) { return Op::forward(map.first_mb[p] + next_f[p]++, map.stage[p]); };
  auto take_b = [&](int p) { return Op::backward(map.first_mb[p] + next_b[p]++, map.stage[p]); };

  for (const PhaseAction& a : program) {
    switch (a.kind) {
      case PhaseAction::Forward: ops.push_back(take_f(a.phase)); break;
      case PhaseAction::Backward: {
        Op b = take_b(a.phase);
        if (a.zero_bubble) {
          b.kind = OpKind::Bi;
          deferred.push_back(Op::weight(b.mb, b.stage));
        }
        ops.push_back(b);
        break;
      }
      case PhaseAction::ForwardBackward: {
        const Op f = take_f(a.phase);
        const Op b = take_b(a.backward_phase);
        ops.push_back(Op::overlapped(f.mb, f.stage, OpKind::B, b.mb, b.stage));
        break;
      }
      case PhaseAction::Weight:
        ops.push_back(deferred.front());  // the program never pops an empty queue
        deferred.pop_front();
        break;
    }
  }
  return ops;
}

}  // namespace ppsim::sim::gen
