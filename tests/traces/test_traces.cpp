// Chrome traces: well-formed events, a lossless round trip, clear errors on bad files; SVG.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "model/study.hpp"
#include "sim/engine.hpp"
#include "sim/generators.hpp"
#include "support.hpp"
#include "traces/chrome_trace.hpp"
#include "traces/svg.hpp"
#include "traces/tracks.hpp"

using namespace ppsim;
using nlohmann::json;

namespace {
sim::SimResult run_with_transfers() {
  const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::DualPipe, 4, 8, 0});
  sim::SimOptions opt;
  opt.p2p = {300, 25'000'000'000};
  return sim::simulate(s, sim::CostTable(sim::StageCost{1000, 2000, 1000, 2500, 1 << 20, 1 << 24}), opt);
}
}  // namespace

TEST_CASE("every event is well formed: ph, ts, dur, pid, tid, names, flows, counters") {
  const sim::SimResult r = run_with_transfers();
  const json trace = json::parse(traces::to_chrome_trace(r.timeline).dump());
  REQUIRE(trace.contains("traceEvents"));
  std::set<int> named_ranks;
  std::map<long long, int> flow_starts, flow_ends;
  int complete = 0, counters = 0;
  for (const json& e : trace["traceEvents"]) {
    REQUIRE(e.contains("ph"));
    const std::string ph = e["ph"];
    CHECK(e.contains("pid"));
    if (ph == "X") {
      ++complete;
      for (const char* key : {"ts", "dur", "pid", "tid", "name", "args"}) CHECK(e.contains(key));
      CHECK(e["ts"].get<double>() >= 0);
      CHECK(e["dur"].get<double>() >= 0);
      CHECK(traces::lane_of_tid(e["tid"].get<int>()) >= 0);
    } else if (ph == "M") {
      if (e["name"] == "process_name") named_ranks.insert(e["pid"].get<int>());
    } else if (ph == "s") {
      ++flow_starts[e["id"].get<long long>()];
    } else if (ph == "f") {
      ++flow_ends[e["id"].get<long long>()];
      CHECK(e["bp"] == "e");
    } else if (ph == "C") {
      ++counters;
      CHECK(e["args"].contains("held"));
    } else {
      FAIL("unexpected phase " << ph);
    }
  }
  CHECK(named_ranks.size() == 4);
  CHECK(complete == static_cast<int>(r.timeline.intervals.size()));
  CHECK(!flow_starts.empty());
  CHECK(flow_starts == flow_ends);  // every arrow starts once and ends once
  for (const auto& [id, n] : flow_starts) CHECK(n == 1);
  CHECK(counters == static_cast<int>(r.timeline.memory.size()));
  CHECK(trace["otherData"]["kind"] == "dualpipe");
  CHECK(trace["otherData"]["makespan_us"].get<double>() == doctest::Approx(sim::to_us(r.metrics.makespan)));
}

TEST_CASE("a trace reads back into the same timeline, to the nanosecond") {
  const sim::SimResult r = run_with_transfers();
  const sim::Timeline back = traces::timeline_from_chrome_trace(json::parse(traces::to_chrome_trace(r.timeline).dump()));
  CHECK(back.kind == r.timeline.kind);
  CHECK(back.ranks == r.timeline.ranks);
  REQUIRE(back.intervals.size() == r.timeline.intervals.size());
  for (std::size_t i = 0; i < back.intervals.size(); ++i) {
    const sim::Interval& a = r.timeline.intervals[i];
    const sim::Interval& b = back.intervals[i];
    CHECK(a.rank == b.rank);
    CHECK(a.lane == b.lane);
    CHECK(a.op == b.op);
    CHECK(a.start == b.start);
    CHECK(a.end == b.end);
    CHECK(a.peer == b.peer);
    CHECK(a.bytes == b.bytes);
    CHECK(a.flow == b.flow);
  }
  REQUIRE(back.memory.size() == r.timeline.memory.size());
  for (std::size_t i = 0; i < back.memory.size(); ++i) {
    CHECK(back.memory[i].t == r.timeline.memory[i].t);
    CHECK(back.memory[i].activations == r.timeline.memory[i].activations);
    CHECK(back.memory[i].bytes == r.timeline.memory[i].bytes);
  }
  CHECK(back.makespan() == r.metrics.makespan);
}

TEST_CASE("malformed traces are refused with the event and field named") {
  using ppsim::test::error_of;
  CHECK(error_of([] { traces::timeline_from_chrome_trace(json::object()); }) == "trace: no 'traceEvents' array");
  CHECK(error_of([] { traces::timeline_from_chrome_trace(json::parse(R"({"traceEvents": 3})")); }) ==
        "trace: 'traceEvents' must be an array");
  CHECK(error_of([] {
          traces::timeline_from_chrome_trace(json::parse(R"([{"ph":"X","pid":0,"tid":0,"dur":1,"args":{"op":"F","mb":0,"stage":0}}])"));
        }) == "traceEvents[0]: missing 'ts'");
  CHECK(error_of([] {
          traces::timeline_from_chrome_trace(
              json::parse(R"([{"ph":"X","pid":0,"tid":0,"ts":1,"dur":-2,"args":{"op":"F","mb":0,"stage":0}}])"));
        }).find("'dur' = -2: expected a non-negative time") != std::string::npos);
  CHECK(error_of([] {
          traces::timeline_from_chrome_trace(json::parse(R"([{"ph":"X","pid":0,"tid":7,"ts":1,"dur":2,"args":{}}])"));
        }).find("'tid' = 7") != std::string::npos);  // lanes are 0..4
  CHECK(error_of([] {
          traces::timeline_from_chrome_trace(json::parse(R"([{"ph":"X","pid":0,"tid":0,"ts":1,"dur":2,"args":{"op":"Q","mb":0,"stage":0}}])"));
        }).find("op kind 'Q' is not allowed") != std::string::npos);
  CHECK(error_of([] { traces::timeline_from_chrome_trace(json::parse(R"([7])")); }) == "traceEvents[0]: not an object");
}

TEST_CASE("SVG picture: a row per rank, a box per op, a legend") {
  const sim::SimResult r = run_with_transfers();
  traces::SvgOptions o;
  o.title = "dualpipe <test>";
  o.reverse_from_mb = 4;
  const std::string svg = traces::to_svg(r.timeline, o);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("dualpipe &lt;test&gt;") != std::string::npos);
  for (int rank = 0; rank < 4; ++rank) CHECK(svg.find(">rank " + std::to_string(rank) + "<") != std::string::npos);
  std::size_t rects = 0;
  for (std::size_t p = svg.find("<rect"); p != std::string::npos; p = svg.find("<rect", p + 1)) ++rects;
  std::size_t compute = 0;
  for (const auto& iv : r.timeline.intervals) compute += iv.lane == sim::Lane::Compute;
  CHECK(rects > compute);
  CHECK(svg.find("overlapped F&amp;B pair") != std::string::npos);
  CHECK(svg.find("second direction") != std::string::npos);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  // Eight different shades: a pale full backward is not an input-grad backward's colour.
  std::set<std::string> fills;
  for (std::size_t p = svg.find("width=\"12\" height=\"12\" fill=\"#"); p != std::string::npos;
       p = svg.find("width=\"12\" height=\"12\" fill=\"#", p + 1))
    fills.insert(svg.substr(p + 29, 7));  // "#rrggbb"
  CHECK(fills.size() == 8);
  // The time axis in the unit that fits: this run lasts tens of microseconds.
  CHECK(svg.find("time (us)") != std::string::npos);
  // The width asked for.
  o.width = 400;
  CHECK(traces::to_svg(r.timeline, o).find("width=\"490\"") != std::string::npos);  // 70 labels + 400 + 20
  sim::Timeline longer = r.timeline;
  for (auto& iv : longer.intervals) iv.start *= 1000, iv.end *= 1000;
  CHECK(traces::to_svg(longer, o).find("time (ms)") != std::string::npos);
}

namespace {
// Every track's slices are disjoint (touching allowed): Perfetto drops or garbles slices on a
// track that overlap without nesting. Times in whole nanoseconds, as written.
void check_tracks_nest(const json& trace, const std::string& what) {
  std::map<std::pair<int, int>, std::vector<std::pair<long long, long long>>> slices;
  std::map<std::pair<int, int>, std::string> names;
  for (const json& e : trace["traceEvents"]) {
    const std::pair<int, int> track{e["pid"].get<int>(), e.value("tid", -1)};
    if (e["ph"] == "M" && e["name"] == "thread_name") names[track] = e["args"]["name"];
    if (e["ph"] != "X") continue;
    const long long start = std::llround(e["ts"].get<double>() * 1000), dur = std::llround(e["dur"].get<double>() * 1000);
    slices[track].push_back({start, start + dur});
  }
  int overlaps = 0;
  for (auto& [track, list] : slices) {
    CHECK(names.count(track));  // every track is named
    std::sort(list.begin(), list.end());
    for (std::size_t i = 1; i < list.size(); ++i) overlaps += list[i].first < list[i - 1].second;
  }
  INFO(what);
  CHECK(overlaps == 0);
}
}  // namespace

TEST_CASE("slices on one track never overlap, for every kind: F&B halves and concurrent transfers get their own rows") {
  for (sim::ScheduleKind k : sim::all_schedule_kinds()) {
    // Simple costs with shared links (transfers overlap on send and recv)...
    const sim::Schedule s = sim::make_schedule({k, 4, 8, 0});
    sim::SimOptions opt;
    opt.p2p = {300, 2'000'000'000};
    const sim::SimResult r = sim::simulate(s, sim::CostTable(sim::StageCost{1000, 2000, 1000, 2500, 1 << 20, 1 << 24}), opt);
    check_tracks_nest(traces::to_chrome_trace(r.timeline), std::string(sim::to_string(k)) + " with links");
    // ... and DeepSeek-V3 with phases and the fabric: dispatch and combine of both halves of an
    // F&B pair at once, the DP sync beside the last op's communication.
    model::Overrides o;
    o.kind = std::string(sim::to_string(k));
    o.pp = 4;
    o.global_batch = 512 * 8;  // 8 micro-batches over DP 512
    model::Scenario sc;
    try {
      sc = model::make_scenario("deepseek-v3", o);
    } catch (const std::invalid_argument&) {
      continue;  // a kind that does not take this shape
    }
    model::StudyOptions study;
    study.record_timeline = true;
    const json trace = traces::to_chrome_trace(model::run_study(sc, study).sim.timeline);
    check_tracks_nest(trace, std::string(sim::to_string(k)) + " DeepSeek-V3 phases + fabric");
    std::set<std::string> names;
    for (const json& e : trace["traceEvents"])
      if (e["ph"] == "M" && e["name"] == "thread_name") names.insert(e["args"]["name"].get<std::string>());
    CHECK(names.count("communication: dispatch"));  // communication named by what it is
    CHECK(names.count("communication: combine"));
  }
}

TEST_CASE("a trace with extra rows reads back into the same lanes") {
  const sim::SimResult r = run_with_transfers();
  const sim::Timeline back = traces::timeline_from_chrome_trace(json::parse(traces::to_chrome_trace(r.timeline).dump()));
  REQUIRE(back.intervals.size() == r.timeline.intervals.size());
  for (std::size_t i = 0; i < back.intervals.size(); ++i) CHECK(back.intervals[i].lane == r.timeline.intervals[i].lane);
  CHECK(traces::lane_of_tid(4) == static_cast<int>(sim::Lane::Comm));
  CHECK(traces::lane_of_tid(5000 + 100 * static_cast<int>(sim::CommKind::Dispatch) + 1) == static_cast<int>(sim::Lane::Comm));
  CHECK(traces::lane_of_tid(2001) == static_cast<int>(sim::Lane::Send));
  CHECK(traces::lane_of_tid(2101) == -1);  // a communication kind on the send lane
  CHECK(traces::lane_of_tid(7) == -1);
}
