#include "sim/timeline.hpp"

#include <algorithm>

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

}  // namespace ppsim::sim
