#include "sim/timeline.hpp"

#include <algorithm>
#include <cstdint>

namespace ppsim::sim {

std::string_view to_string(Lane lane) {
  switch (lane) {
    case Lane::Compute: return "compute";
    case Lane::Send: return "send";
    case Lane::Recv: return "recv";
    case Lane::Kernel: return "kernels";
    case Lane::Comm: return "comm";
  }
  return "?";
}

Time Timeline::makespan() const {
  Time end = 0;
  for (const Interval& i : intervals) end = std::max(end, i.end);
  return end;
}

ComputeSpan compute_span(const Timeline& t, int ranks) {
  ComputeSpan c;
  c.busy.assign(static_cast<std::size_t>(std::max(ranks, 0)), 0);
  c.start = INT64_MAX;
  for (const Interval& iv : t.intervals) {
    if (iv.lane != Lane::Compute) continue;
    c.any = true;
    c.start = std::min(c.start, iv.start);
    c.end = std::max(c.end, iv.end);
    c.busy[iv.rank] += iv.end - iv.start;
  }
  if (!c.any) c.start = 0;
  return c;
}

}  // namespace ppsim::sim
