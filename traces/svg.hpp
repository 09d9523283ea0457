#pragma once
// A timeline as an SVG picture, like the schedule figures of the DualPipe README: ranks as
// rows, ops as boxes coloured by kind, micro-batch numbers in the boxes, a time axis.
#include <string>

#include "sim/timeline.hpp"

namespace ppsim::traces {

struct SvgOptions {
  int width = 1600;       // pixels for the time axis (ppsim simulate --svg-width)
  int row_height = 26;
  int reverse_from_mb = -1;  // bidirectional schedules: micro-batches >= this are drawn paler
  std::string title;      // first line above the picture
};

std::string to_svg(const sim::Timeline& timeline, const SvgOptions& options = {});

}  // namespace ppsim::traces
