#pragma once
// Which track (Chrome "thread") each interval of a timeline goes on, so that slices on one
// track never overlap and Perfetto draws every one of them: a track per lane and, for
// communication, per kind (dispatch, combine, TP, DP gradient sync ...); where intervals of one
// kind overlap (the two halves of an F&B pair dispatching at once, concurrent transfers), more
// rows of that kind, each interval on the first row free at its start.
//
// Track ids: lane L with no kind and row 0 keeps the old id L (0 compute, 1 send, 2 recv,
// 3 kernels, 4 communication), so older traces still read; any other track is
// 1000 x (L + 1) + 100 x kind + row, rows up to 99.
#include <string>
#include <vector>

#include "sim/timeline.hpp"

namespace ppsim::traces {

struct Track {
  sim::Lane lane = sim::Lane::Compute;
  sim::CommKind what = sim::CommKind::None;
  int row = 0;
  int tid() const;
  int sort_index() const;  // compute, kernels, communication by kind, send, recv
  std::string name() const;
};

// One track per interval, in the timeline's order.
std::vector<Track> assign_tracks(const sim::Timeline& timeline);
// The lane of a track id, or -1 when the id is not one assign_tracks makes.
int lane_of_tid(long long tid);

}  // namespace ppsim::traces
