#include "traces/chrome_trace.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <utility>

#include "sim/json_parse.hpp"
#include "traces/tracks.hpp"

namespace ppsim::traces {

using nlohmann::json;
using sim::Interval;
using sim::Lane;
using sim::Op;
using sim::OpKind;
using sim::Time;

namespace {

// Microseconds with three decimals: exact whole nanoseconds after a round trip.
double us(Time ns) { return sim::to_us(ns); }

json op_args(const Op& op) {
  json a = {{"op", std::string(sim::to_string(op.kind))}, {"mb", op.mb}, {"stage", op.stage}};
  if (op.kind == OpKind::FB) {
    a["b_op"] = std::string(sim::to_string(op.b_kind));
    a["b_mb"] = op.b_mb;
    a["b_stage"] = op.b_stage;
  }
  return a;
}

json metadata(const char* what, int pid, int tid, const std::string& name) {
  json e = {{"ph", "M"}, {"name", what}, {"pid", pid}, {"args", {{"name", name}}}};
  if (tid >= 0) e["tid"] = tid;
  return e;
}

}  // namespace

json to_chrome_trace(const sim::Timeline& t, const TraceInfo& info) {
  json events = json::array();
  const std::vector<Track> tracks = assign_tracks(t);
  std::set<std::pair<int, int>> named;  // (rank, tid) with a name
  auto name_track = [&](int rank, const Track& track) {
    if (!named.insert({rank, track.tid()}).second) return;
    events.push_back(metadata("thread_name", rank, track.tid(), track.name()));
    events.push_back({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", rank}, {"tid", track.tid()},
                      {"args", {{"sort_index", track.sort_index()}}}});
  };
  for (int r = 0; r < t.ranks; ++r) {
    events.push_back(metadata("process_name", r, -1, "rank " + std::to_string(r)));
    events.push_back({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", r}, {"args", {{"sort_index", r}}}});
    for (Lane lane : {Lane::Compute, Lane::Send, Lane::Recv}) name_track(r, {lane});
  }
  for (std::size_t i = 0; i < t.intervals.size(); ++i) {
    const Interval& iv = t.intervals[i];
    const int tid = tracks[i].tid();
    name_track(iv.rank, tracks[i]);
    json e = {{"ph", "X"}, {"pid", iv.rank}, {"tid", tid}, {"ts", us(iv.start)}, {"dur", us(iv.end - iv.start)}};
    json args = op_args(iv.op);
    args["bytes"] = iv.bytes;
    if (iv.lane == Lane::Compute || iv.lane == Lane::Kernel || iv.lane == Lane::Comm) {
      e["name"] = (iv.lane == Lane::Kernel ? "kernels " : "") +
                  (iv.lane == Lane::Comm ? std::string(sim::to_string(iv.what)) + " " : "") + sim::to_string(iv.op);
      e["cat"] = iv.lane == Lane::Comm ? "comm" : "compute";
      if (iv.lane == Lane::Comm) {  // what it moves and on which wires (NIC or NVLink)
        args["what"] = std::string(sim::to_string(iv.what));
        args["link"] = std::string(sim::to_string(iv.channel));
      }
    } else {
      const bool out = iv.lane == Lane::Send;
      e["name"] = std::string(out ? "send " : "recv ") + sim::to_string(iv.op) + (out ? " -> rank " : " <- rank ") +
                  std::to_string(iv.peer);
      e["cat"] = "p2p";
      args["peer"] = iv.peer;
      args["flow"] = iv.flow;
      // The arrow from the sender's send slice to the receiver's recv slice.
      json f = {{"ph", out ? "s" : "f"}, {"name", "p2p"}, {"cat", "p2p"}, {"id", iv.flow},
                {"pid", iv.rank}, {"tid", tid}, {"ts", us(iv.start)}};
      if (!out) f["bp"] = "e";
      events.push_back(std::move(e));
      events.back()["args"] = std::move(args);
      events.push_back(std::move(f));
      continue;
    }
    e["args"] = std::move(args);
    events.push_back(std::move(e));
  }
  for (const sim::MemorySample& m : t.memory)
    events.push_back({{"ph", "C"}, {"name", "activations"}, {"pid", m.rank}, {"ts", us(m.t)},
                      {"args", {{"held", m.activations}, {"bytes", m.bytes}}}});
  json other = {{"schema_version", sim::kSchemaVersion}, {"generator", "ppsim"}, {"source", info.source}, {"kind", t.kind}, {"ranks", t.ranks},
                {"unit", info.unit}, {"makespan_us", us(t.makespan())}};
  if (info.extra) other.update(*info.extra);
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}, {"otherData", std::move(other)}};
}

namespace {

[[noreturn]] void fail(std::size_t index, const std::string& what) {
  throw std::invalid_argument("traceEvents[" + std::to_string(index) + "]: " + what);
}

const json& field(const json& e, std::size_t index, const char* key) {
  const auto it = e.find(key);
  if (it == e.end()) fail(index, std::string("missing '") + key + "'");
  return *it;
}

int int_field(const json& e, std::size_t index, const char* key, long long lo, long long hi) {
  const json& v = field(e, index, key);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
    fail(index, std::string("'") + key + "' = " + v.dump() + ": expected an integer in " + std::to_string(lo) + ".." +
                    std::to_string(hi));
  return static_cast<int>(v.get<long long>());
}

Time time_field(const json& e, std::size_t index, const char* key) {
  const json& v = field(e, index, key);
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
      v.get<double>() > static_cast<double>(sim::kMaxTime / sim::kNsPerUs))
    fail(index, std::string("'") + key + "' = " + v.dump() + ": expected a non-negative time in microseconds");
  return static_cast<Time>(std::llround(v.get<double>() * static_cast<double>(sim::kNsPerUs)));
}

Op op_from_args(const json& a, std::size_t index) {
  if (!a.is_object()) fail(index, "missing 'args' with the op");
  Op op;
  try {
    op.kind = sim::parse_op_kind(field(a, index, "op").get<std::string>());
    if (op.kind == OpKind::FB) op.b_kind = sim::parse_op_kind(field(a, index, "b_op").get<std::string>());
  } catch (const json::exception&) {
    fail(index, "'args.op' must be a string");
  } catch (const std::invalid_argument& e) {
    fail(index, e.what());
  }
  op.mb = int_field(a, index, "mb", 0, 1 << 30);
  op.stage = int_field(a, index, "stage", 0, 1 << 30);
  if (op.kind == OpKind::FB) {
    op.b_mb = int_field(a, index, "b_mb", 0, 1 << 30);
    op.b_stage = int_field(a, index, "b_stage", 0, 1 << 30);
  }
  return op;
}

}  // namespace

sim::Timeline timeline_from_chrome_trace(const json& trace) {
  const json* events = &trace;
  if (trace.is_object()) {
    const auto it = trace.find("traceEvents");
    if (it == trace.end()) throw std::invalid_argument("trace: no 'traceEvents' array");
    events = &*it;
  }
  if (!events->is_array()) throw std::invalid_argument("trace: 'traceEvents' must be an array");
  if (events->size() > kMaxTraceEvents)
    throw std::invalid_argument("trace has " + std::to_string(events->size()) + " events: at most " +
                                std::to_string(kMaxTraceEvents) + " are read");
  sim::Timeline t;
  int max_pid = -1;
  for (std::size_t i = 0; i < events->size(); ++i) {
    const json& e = (*events)[i];
    if (!e.is_object()) fail(i, "not an object");
    const json& ph = field(e, i, "ph");
    if (!ph.is_string()) fail(i, "'ph' must be a string");
    const std::string phase = ph.get<std::string>();
    if (phase == "X") {
      Interval iv;
      iv.rank = int_field(e, i, "pid", 0, 1 << 20);
      const json& tid = field(e, i, "tid");
      const int lane = tid.is_number_integer() ? lane_of_tid(tid.get<long long>()) : -1;
      if (lane < 0)
        fail(i, "'tid' = " + tid.dump() + ": expected a ppsim track (0..4: compute, send, recv, kernels, communication; or "
                "1000 x (lane + 1) + 100 x communication kind + row)");
      iv.lane = static_cast<Lane>(lane);
      iv.start = time_field(e, i, "ts");
      iv.end = iv.start + time_field(e, i, "dur");  // each below 2^62 ns: the sum cannot wrap
      if (iv.end > sim::kMaxTime) fail(i, "'ts' + 'dur' ends past 146 years: expected times of a training step");
      const json& args = field(e, i, "args");
      iv.op = op_from_args(args, i);
      if (args.contains("bytes")) {
        if (!args["bytes"].is_number_integer()) fail(i, "'args.bytes' must be an integer");
        iv.bytes = args["bytes"].get<std::int64_t>();
      }
      if (iv.lane == Lane::Comm) {
        if (args.contains("what") && args["what"].is_string()) iv.what = sim::comm_kind_from(args["what"].get<std::string>());
        if (args.contains("link") && args["link"] == "nvlink") iv.channel = sim::Channel::ScaleUp;
      }
      if (iv.lane == Lane::Send || iv.lane == Lane::Recv) {
        iv.peer = int_field(args, i, "peer", 0, 1 << 20);
        iv.flow = int_field(args, i, "flow", 0, 1 << 30);
      }
      max_pid = std::max(max_pid, iv.rank);
      t.intervals.push_back(iv);
    } else if (phase == "C") {
      sim::MemorySample m;
      m.rank = int_field(e, i, "pid", 0, 1 << 20);
      m.t = time_field(e, i, "ts");
      const json& args = field(e, i, "args");
      m.activations = int_field(args, i, "held", -(1 << 30), 1 << 30);
      if (args.contains("bytes") && args["bytes"].is_number_integer()) m.bytes = args["bytes"].get<std::int64_t>();
      t.memory.push_back(m);
    }  // metadata, flow arrows and anything else carry nothing a Timeline needs
  }
  t.ranks = max_pid + 1;
  if (trace.is_object() && trace.contains("otherData")) {
    const json& other = trace["otherData"];
    if (other.contains("kind") && other["kind"].is_string()) t.kind = other["kind"].get<std::string>();
    if (other.contains("ranks") && other["ranks"].is_number_integer() && other["ranks"].get<long long>() >= 0 &&
        other["ranks"].get<long long>() <= (1 << 20))
      t.ranks = std::max(t.ranks, other["ranks"].get<int>());
  }
  return t;
}

}  // namespace ppsim::traces
