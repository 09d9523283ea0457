#include "traces/tracks.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace ppsim::traces {

namespace {
constexpr int kLanes = 5, kRows = 100, kKinds = 10;
}  // namespace

int Track::tid() const {
  const int lane_id = static_cast<int>(lane);
  if (what == sim::CommKind::None && row == 0) return lane_id;
  return 1000 * (lane_id + 1) + 100 * static_cast<int>(what) + row;
}

int Track::sort_index() const {
  static constexpr int kOrder[kLanes] = {0, 3, 4, 1, 2};  // by Lane: Compute, Send, Recv, Kernel, Comm
  return 1000 * kOrder[static_cast<int>(lane)] + 100 * static_cast<int>(what) + row;
}

std::string Track::name() const {
  std::string n;
  switch (lane) {
    case sim::Lane::Compute: n = "compute"; break;
    case sim::Lane::Send: n = "send"; break;
    case sim::Lane::Recv: n = "recv"; break;
    case sim::Lane::Kernel: n = "compute kernels (phases)"; break;
    case sim::Lane::Comm:
      n = what == sim::CommKind::None ? "communication" : "communication: " + std::string(sim::to_string(what));
      break;
  }
  return row == 0 ? n : n + " (" + std::to_string(row + 1) + ")";
}

std::vector<Track> assign_tracks(const sim::Timeline& t) {
  std::vector<Track> tracks(t.intervals.size());
  // Intervals by (rank, lane, kind), each group in start order (ties: the timeline's order).
  std::map<std::tuple<int, int, int>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < t.intervals.size(); ++i) {
    const sim::Interval& iv = t.intervals[i];
    const sim::CommKind what = iv.lane == sim::Lane::Comm ? iv.what : sim::CommKind::None;
    tracks[i] = {iv.lane, what, 0};
    groups[{iv.rank, static_cast<int>(iv.lane), static_cast<int>(what)}].push_back(i);
  }
  std::vector<sim::Time> row_free;  // per row: when its last interval ends
  for (auto& [key, members] : groups) {
    std::stable_sort(members.begin(), members.end(),
                     [&](std::size_t a, std::size_t b) { return t.intervals[a].start < t.intervals[b].start; });
    row_free.clear();
    for (std::size_t i : members) {
      const sim::Interval& iv = t.intervals[i];
      std::size_t row = 0;
      while (row < row_free.size() && row_free[row] > iv.start) ++row;
      if (row == row_free.size()) row_free.push_back(iv.end);
      else row_free[row] = iv.end;
      // Beyond the last row, the last row: it then overlaps, which only a timeline of more
      // than 100 concurrent transfers of one kind on one rank could make.
      tracks[i].row = static_cast<int>(std::min<std::size_t>(row, kRows - 1));
    }
  }
  return tracks;
}

int lane_of_tid(long long tid) {
  if (tid >= 0 && tid < kLanes) return static_cast<int>(tid);
  if (tid < 1000 || tid >= 1000 * (kLanes + 1)) return -1;
  const int lane = static_cast<int>(tid / 1000) - 1;
  const int what = static_cast<int>(tid % 1000) / 100;
  if (what >= kKinds || (what != 0 && lane != static_cast<int>(sim::Lane::Comm))) return -1;
  return lane;
}

}  // namespace ppsim::traces
