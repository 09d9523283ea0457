#include "sim/closed_forms.hpp"

#include <algorithm>

namespace ppsim::sim {

std::optional<ClosedForm> closed_form_bubble(ScheduleKind kind, int ranks, const StageCost& c) {
  const Time P = ranks;
  const Time bi = c.b - c.w;
  switch (kind) {
    case ScheduleKind::GPipe:
    case ScheduleKind::OneFOneB:
    case ScheduleKind::Interleaved1F1B:
    case ScheduleKind::Interleaved1F1BMegatron:
      return ClosedForm{"(P-1)(F+B)", (P - 1) * (c.f + c.b), true, "any F, B", false};
    case ScheduleKind::ZB1P:
      return ClosedForm{"(P-1)(F+B-2W)", (P - 1) * (c.f + c.b - 2 * c.w), c.w <= std::min(c.f, bi),
                        "W <= min(F, Bi)", false};
    case ScheduleKind::DualPipe:
    case ScheduleKind::DualPipeV: {
      const Time PP = kind == ScheduleKind::DualPipe ? P : 2 * P;
      return ClosedForm{kind == ScheduleKind::DualPipe ? "(P/2-1)(F&B+B-3W)" : "(P-1)(F&B+B-3W)",
                        (PP / 2 - 1) * (c.fb + c.b - 3 * c.w), c.f == bi && c.w <= c.f && c.fb <= c.f + c.b,
                        "F = Bi, W <= F, F&B <= F+B", true};
    }
    case ScheduleKind::ZBV:
    case ScheduleKind::ZBVGreedy:
    case ScheduleKind::VHalf:
    case ScheduleKind::VMin:
    case ScheduleKind::ZB2P: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace ppsim::sim
