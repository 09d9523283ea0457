#pragma once
// Every kind of event the engine's heap carries, and the ranges of the tags flows carry on
// the network: one place, so no two parts of the engine can pick the same number.
#include <cstdint>

namespace ppsim::sim {

enum class EventKind : std::uint32_t {
  OpEnd,        // engine: an op's compute ended (id: node)
  Arrive,       // engine: a transfer arrived after the latency (id: edge)
  ComputeDone,  // phase runner: a compute phase ended (id: rank; version: the lane's)
  FlowDone,     // flow network: a flow's bytes are through (id: flow slot; version: the flow's)
};

// What a flow on the network is, by its tag.
enum class FlowKind { Transfer, Stream, Tail, Compute };
struct FlowTag {
  static constexpr std::int64_t kStream = std::int64_t{1} << 40;   // + rank * 2 + stream: a phase runner's communication
  static constexpr std::int64_t kTail = std::int64_t{1} << 41;     // + tail index: an end-of-step data-parallel sync
  static constexpr std::int64_t kCompute = std::int64_t{1} << 42;  // + node: an op's compute on cores the ranks share
  // Below kStream: a pipeline transfer, the tag being its edge.
  static FlowKind kind(std::int64_t tag) {
    return tag >= kCompute ? FlowKind::Compute : tag >= kTail ? FlowKind::Tail : tag >= kStream ? FlowKind::Stream : FlowKind::Transfer;
  }
};

}  // namespace ppsim::sim
