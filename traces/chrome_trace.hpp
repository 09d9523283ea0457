#pragma once
// Timelines as Chrome Trace Event Format JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open. Layout: one process per rank ("rank r"), threads for its tracks
// (compute, kernels, communication by kind, send, recv; more rows where intervals of one kind
// overlap, so slices on a track never do: traces/tracks.hpp); a complete event ("X") per op
// named like "F mb3 s2" with args
// {op, mb, stage, bytes}; per transfer an "X" on the sender's send lane and on the receiver's
// recv lane, joined by a flow arrow ("s" -> "f"); a counter ("C") "activations" per rank; and
// the run's metadata under "otherData". Times are microseconds with nanosecond decimals.
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "sim/timeline.hpp"

namespace ppsim::traces {

struct TraceInfo {
  std::string source = "simulated";  // or "measured"
  std::string unit = "us";
  nlohmann::json* extra = nullptr;   // more metadata for "otherData" (optional)
};

nlohmann::json to_chrome_trace(const sim::Timeline& timeline, const TraceInfo& info = {});
// Reads a trace written by to_chrome_trace (or one with the same layout) back into a Timeline.
// Throws std::invalid_argument naming the event index and field when the file does not fit.
sim::Timeline timeline_from_chrome_trace(const nlohmann::json& trace);

inline constexpr std::size_t kMaxTraceEvents = 20'000'000;

}  // namespace ppsim::traces
