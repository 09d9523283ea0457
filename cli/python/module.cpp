// ppsim._core: the C++ behind the Python package (ppsim/__init__.py). The package turns
// keyword arguments into the command line's flags and calls the same code the ppsim command
// runs, in this process: the same checks, the same one-line errors (raised as ppsim.Error),
// the same JSON keys. Only simulate has its own entry, to hand back the timeline as columns.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>
#include <stdexcept>

#include "cli/commands.hpp"
#include "cli/scenario_flags.hpp"
#include "cli/simulation_run.hpp"
#include "sim/one_line.hpp"
#include "sim/op.hpp"
#include "sim/schedule_ascii.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/schedule_json.hpp"
#include "sim/validate.hpp"
#include "traces/chrome_trace.hpp"
#include "traces/svg.hpp"

namespace py = pybind11;
using namespace ppsim;

namespace {

// ppsim COMMAND WORDS...: its exit code and what it wrote to standard output.
std::pair<int, std::string> run_command(const std::string& name, const cli::Words& words) {
  for (const cli::Command& c : cli::commands())
    if (name == c.name) {
      std::ostringstream out, summary;
      int code;
      {
        py::gil_scoped_release unlocked;  // size runs threads; other Python threads may go on
        // schedule's summary line goes to stderr on the command line; here the object says it.
        const cli::Words w = cli::take_work_limit(words);  // --work-limit, or back to 1 for this call
        code = name == "schedule" ? cli::run_schedule(w, out, summary) : c.run(w, out);
      }
      return {code, out.str()};
    }
  throw std::invalid_argument("unknown command '" + name + "'; allowed: " + cli::command_list());
}

// A timeline as columns (name -> list), for a pandas DataFrame.
py::dict intervals_of(const sim::Timeline& t) {
  py::list rank, lane, op, mb, stage, start, end, peer, bytes, what, channel;
  for (const sim::Interval& i : t.intervals) {
    rank.append(i.rank);
    lane.append(sim::to_string(i.lane));
    op.append(sim::to_string(i.op.kind));
    mb.append(i.op.mb);
    stage.append(i.op.stage);
    start.append(static_cast<double>(i.start) * 1e-3);
    end.append(static_cast<double>(i.end) * 1e-3);
    peer.append(i.peer);
    bytes.append(i.bytes);
    what.append(i.what == sim::CommKind::None ? "" : sim::to_string(i.what));
    channel.append(i.lane == sim::Lane::Comm ? sim::to_string(i.channel) : "");
  }
  py::dict d;
  d["rank"] = rank, d["lane"] = lane, d["op"] = op, d["mb"] = mb, d["stage"] = stage, d["start_us"] = start;
  d["end_us"] = end, d["peer"] = peer, d["bytes"] = bytes, d["what"] = what, d["channel"] = channel;
  return d;
}

py::dict memory_of(const sim::Timeline& t) {
  py::list rank, time, held, bytes;
  for (const sim::MemorySample& m : t.memory) {
    rank.append(m.rank);
    time.append(static_cast<double>(m.t) * 1e-3);
    held.append(m.activations);
    bytes.append(m.bytes);
  }
  py::dict d;
  d["rank"] = rank, d["time_us"] = time, d["activations"] = held, d["bytes"] = bytes;
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "ppsim's C++ core (use the ppsim package)";
  m.attr("__version__") = PPSIM_VERSION;
  static py::exception<std::invalid_argument> error(m, "Error", PyExc_ValueError);
  error.attr("__module__") = "ppsim";  // shown as ppsim.Error, where users catch it
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::invalid_argument& e) {
      py::set_error(error, sim::one_line(e.what()).c_str());
    }
  });

  m.def("run", &run_command, py::arg("command"), py::arg("words"),
        "ppsim COMMAND WORDS... in this process: (exit code, standard output)");

  py::class_<cli::SimulationRun>(m, "SimulationRun")
      .def_property_readonly("report", [](const cli::SimulationRun& r) { return r.report.dump(); })
      .def_property_readonly("text", [](const cli::SimulationRun& r) { return r.text; })
      .def("intervals", [](const cli::SimulationRun& r) { return intervals_of(r.timeline); })
      .def("memory", [](const cli::SimulationRun& r) { return memory_of(r.timeline); })
      .def("chrome_trace",
           [](const cli::SimulationRun& r) {
             nlohmann::json extra = r.trace_extra;
             traces::TraceInfo info;
             info.extra = &extra;
             return traces::to_chrome_trace(r.timeline, info).dump();
           })
      .def(
          "svg",
          [](const cli::SimulationRun& r, int width) {
            if (width < 200 || width > 20000)
              throw std::invalid_argument("svg width = " + std::to_string(width) + ": allowed 200..20000");
            traces::SvgOptions svg;
            svg.width = width;
            svg.title = r.svg_title;
            if (r.reverse_from_mb >= 0) svg.reverse_from_mb = r.reverse_from_mb;
            return traces::to_svg(r.timeline, svg);
          },
          py::arg("width") = 1600);

  py::class_<sim::Schedule>(m, "Schedule")
      .def_static("from_json", &sim::schedule_from_json_text, py::arg("text"), "a ppsim JSON schedule")
      .def_static("from_csv", &sim::schedule_from_csv, py::arg("text"), "a PyTorch pipelining CSV schedule")
      .def_readonly("kind", &sim::Schedule::kind)
      .def_readonly("ranks", &sim::Schedule::ranks)
      .def_readonly("stages", &sim::Schedule::stages)
      .def_readonly("microbatches", &sim::Schedule::microbatches)
      .def("to_json", [](const sim::Schedule& s) { return sim::to_json(s).dump(); })
      .def("to_csv", &sim::to_csv)
      .def("to_ascii", &sim::to_ascii)
      .def("validate", &sim::require_valid, "raises ppsim.Error with the first problem (incomplete, deadlock ...)")
      .def("peak_in_flight", &sim::peak_in_flight)
      .def("ops", [](const sim::Schedule& s) {
        py::list rank, position, kind, mb, stage, name;
        for (int r = 0; r < static_cast<int>(s.per_rank.size()); ++r)
          for (int i = 0; i < static_cast<int>(s.per_rank[r].size()); ++i) {
            const sim::Op& op = s.per_rank[r][i];
            rank.append(r), position.append(i), kind.append(sim::to_string(op.kind)), mb.append(op.mb), stage.append(op.stage);
            name.append(sim::to_string(op));
          }
        py::dict d;
        d["rank"] = rank, d["position"] = position, d["op"] = kind, d["mb"] = mb, d["stage"] = stage, d["name"] = name;
        return d;
      });

  m.def(
      "scenario",
      [](const cli::Words& words) {
        const cli::Args args(words, cli::simulate_flags(), "simulate");
        if (!cli::wants_scenario(args)) throw std::invalid_argument("a scenario needs a model (model=...)");
        const model::Scenario s = cli::scenario_from(args);
        const model::Plan& p = s.plan;
        return nlohmann::json{{"model", s.model.id}, {"cluster", s.cluster.id}, {"gpu", s.gpu.id}, {"gpus", s.gpus()},
                              {"kind", sim::to_string(s.kind)},
                              {"plan", {{"tp", p.tp}, {"pp", p.pp}, {"ep", p.ep}, {"dp", p.dp}, {"cp", p.cp}, {"zero", p.zero},
                                        {"microbatch_size", p.microbatch_size}, {"global_batch", p.global_batch},
                                        {"microbatches", s.microbatches()}, {"precision", p.precision},
                                        {"comm_sms", p.comm_sms}}}}
            .dump();
      },
      py::arg("words"), "the scenario simulate's flags describe (checked, not simulated), as JSON");

  m.def(
      "simulate",
      [](const cli::Words& words, const sim::Schedule* given, bool record) {
        const cli::Args args(words, cli::simulate_flags(), "simulate");
        py::gil_scoped_release unlocked;
        return cli::simulate_from(args, record, given);
      },
      py::arg("words"), py::arg("schedule") = py::none(), py::arg("record_timeline") = true,
      "ppsim simulate's flags (and optionally a Schedule): the run, timeline included");
}
