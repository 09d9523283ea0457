#include "traces/kineto.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "sim/did_you_mean.hpp"

namespace ppsim::traces {

namespace {

using json = nlohmann::json;

const std::vector<std::string>& op_kinds() {
  static const std::vector<std::string> kinds = {"F", "B", "Bi", "W", "FB"};
  return kinds;
}

bool is_comm(const std::string& phase) {
  return phase == "dispatch" || phase == "combine" || phase == "p2p" || phase == "collective";
}

// Rules with their compiled expressions, and a cache: a trace repeats a few hundred names.
class Matcher {
 public:
  explicit Matcher(const std::vector<KinetoRule>& rules) {
    for (const KinetoRule& r : rules) compiled_.emplace_back(r.target, std::regex(r.pattern, std::regex::icase));
  }
  // The first rule's target whose pattern is found in `name`, or "" when none is.
  const std::string& match(const std::string& full_name) {
    // std::regex matches recursively: a name is matched by its first 4 KB (kernel names,
    // templates included, are shorter), so no input can exhaust the stack.
    const std::string name = full_name.substr(0, 4096);
    const auto hit = cache_.find(name);
    if (hit != cache_.end()) return hit->second;
    std::string target;
    for (const auto& [t, re] : compiled_)
      if (std::regex_search(name, re)) {
        target = t;
        break;
      }
    return cache_.emplace(name, target).first->second;
  }

 private:
  std::vector<std::pair<std::string, std::regex>> compiled_;
  std::unordered_map<std::string, std::string> cache_;
};

struct Span {
  double start, end;
};

// The merged union of spans, sorted.
std::vector<Span> merged(std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  std::vector<Span> out;
  for (const Span& s : spans)
    if (!out.empty() && s.start <= out.back().end) out.back().end = std::max(out.back().end, s.end);
    else out.push_back(s);
  return out;
}

// Total length of a merged union.
double length_of(const std::vector<Span>& spans) {
  double total = 0;
  for (const Span& s : spans) total += s.end - s.start;
  return total;
}

// Length of the intersection of two merged unions.
double overlap_length(const std::vector<Span>& a, const std::vector<Span>& b) {
  double total = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const double lo = std::max(a[i].start, b[j].start), hi = std::min(a[i].end, b[j].end);
    if (hi > lo) total += hi - lo;
    (a[i].end < b[j].end ? i : j)++;
  }
  return total;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A number field of an event, or `fallback` when absent; refuses other types, naming the event.
double number_of(const json& e, const char* key, double fallback, const std::string& where) {
  if (!e.contains(key)) return fallback;
  const json& v = e[key];
  if (!v.is_number()) throw std::invalid_argument(where + "." + key + ": expected a number, got " + v.dump().substr(0, 40));
  return v.get<double>();
}

// The device of a GPU event: args.device, else its pid.
int device_of(const json& e, const std::string& where) {
  if (e.contains("args") && e["args"].is_object() && e["args"].contains("device") && e["args"]["device"].is_number_integer())
    return e["args"]["device"].get<int>();
  if (e.contains("pid") && e["pid"].is_number_integer()) return e["pid"].get<int>();
  throw std::invalid_argument(where + ": a GPU event without an integer args.device or pid");
}

}  // namespace

KinetoRules KinetoRules::builtin() {
  KinetoRules r;
  r.kernels = {
      {"p2p", R"(nccl\w*(SendRecv|_Send|_Recv)|SendRecv)"},
      {"dispatch", R"(dispatch)"},
      {"combine", R"(combine)"},
      {"collective", R"(nccl|all_?reduce|reduce_?scatter|all_?gather|all_?to_?all|cross_device_reduce)"},
      {"attention", R"(flash|fmha|attention|attn|sdpa|mha_|paged_?atten)"},
      {"gemm", R"(gemm|cutlass|xmma|cublas|matmul|wgmma|gemv|sm[0-9]{2,3}_|ampere_|hopper_)"},
      {"memory", R"(^memcpy|^memset)"},
  };
  r.ops = {
      {"FB", R"(forward.?backward|overlapped|f&b|\bFB\b)"},
      {"Bi", R"(backward.?(input|dx|dgrad)|input.?grad|\bBi\b)"},
      {"W", R"(backward.?(weight|dw|wgrad)|weight.?grad|\bW\b)"},
      {"B", R"(backward|\bB\b)"},
      {"F", R"(forward|\bF\b)"},
  };
  return r;
}

KinetoRules KinetoRules::from_json(const json& doc, const KinetoRules& base) {
  if (!doc.is_object()) throw std::invalid_argument("rules: expected an object with 'kernels' and/or 'ops'");
  KinetoRules out;
  for (const auto& [key, list] : doc.items()) {
    if (key == "schema_version") continue;
    if (key != "kernels" && key != "ops")
      throw std::invalid_argument("rules: unknown key '" + key + "'" + sim::did_you_mean(key, {"kernels", "ops"}) +
                                  "; allowed: kernels, ops");
    if (!list.is_array()) throw std::invalid_argument("rules." + key + ": expected an array of rules");
    const bool kernels = key == "kernels";
    const char* field = kernels ? "phase" : "op";
    const std::vector<std::string>& allowed = kernels ? kineto_phases() : op_kinds();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = "rules." + key + "[" + std::to_string(i) + "]";
      const json& r = list[i];
      if (!r.is_object() || !r.contains(field) || !r.contains("pattern") || !r[field].is_string() || !r["pattern"].is_string() ||
          r.size() != 2)
        throw std::invalid_argument(where + ": expected {\"" + field + "\": ..., \"pattern\": \"a regular expression\"}");
      const std::string target = r[field].get<std::string>();
      if (std::find(allowed.begin(), allowed.end(), target) == allowed.end()) {
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
        throw std::invalid_argument(where + "." + field + " = '" + target + "'" + sim::did_you_mean(target, allowed) +
                                    "; allowed: " + names);
      }
      const std::string pattern = r["pattern"].get<std::string>();
      if (pattern.empty() || pattern.size() > 200)
        throw std::invalid_argument(where + ".pattern: " + std::to_string(pattern.size()) + " characters; allowed 1..200");
      try {
        std::regex check(pattern, std::regex::icase);
      } catch (const std::regex_error& e) {
        throw std::invalid_argument(where + ".pattern = '" + pattern.substr(0, 80) + "' is not a regular expression: " + e.what());
      }
      (kernels ? out.kernels : out.ops).push_back({target, pattern});
    }
  }
  for (const KinetoRule& r : base.kernels) out.kernels.push_back(r);
  for (const KinetoRule& r : base.ops) out.ops.push_back(r);
  return out;
}

void read_kineto(const json& trace, const KinetoRules& rules, const std::string& origin, int device_offset,
                 KinetoProfile& profile) {
  const json* events = &trace;
  if (trace.is_object()) {
    if (!trace.contains("traceEvents"))
      throw std::invalid_argument(origin + ": not a Chrome trace: no 'traceEvents' (a PyTorch profiler's export_chrome_trace file)");
    events = &trace["traceEvents"];
  }
  if (!events->is_array()) throw std::invalid_argument(origin + ": 'traceEvents' is not an array");
  Matcher kernel_rules(rules.kernels), op_rules(rules.ops);
  struct Found {
    std::map<std::string, std::vector<Span>> phases;  // kernel spans by phase
    std::map<std::string, std::string> examples;      // phase -> the first kernel name it took
    std::vector<std::pair<std::string, Span>> gpu_ops, cpu_ops;
  };
  std::map<int, Found> found;
  std::vector<std::pair<std::string, Span>> cpu_ops;  // CPU-side ranges: their device is the file's only one
  bool any_gpu_annotation = false;
  for (std::size_t i = 0; i < events->size(); ++i) {
    const json& e = (*events)[i];
    if (!e.is_object() || !e.contains("ph") || !e["ph"].is_string() || e["ph"].get_ref<const std::string&>() != "X") continue;
    const std::string where = origin + ": traceEvents[" + std::to_string(i) + "]";
    if (!e.contains("cat") || !e["cat"].is_string() || !e.contains("name") || !e["name"].is_string()) continue;
    const std::string cat = lower(e["cat"].get<std::string>());
    const bool kernel = cat == "kernel" || cat == "gpu_memcpy" || cat == "gpu_memset";
    const bool gpu_range = cat == "gpu_user_annotation", cpu_range = cat == "user_annotation";
    if (!kernel && !gpu_range && !cpu_range) continue;
    const double ts = number_of(e, "ts", -1, where), dur = number_of(e, "dur", -1, where);
    if (!(ts >= 0) || !(dur >= 0) || dur > 1e12)
      throw std::invalid_argument(where + ": ts and dur must be numbers >= 0 (microseconds); got ts = " +
                                  e.value("ts", json()).dump().substr(0, 30) + ", dur = " + e.value("dur", json()).dump().substr(0, 30));
    const std::string& name = e["name"].get_ref<const std::string&>();
    const Span span{ts, ts + dur};
    if (kernel) {
      const int device = device_of(e, where) + device_offset;
      std::string phase = cat == "kernel" ? kernel_rules.match(name) : std::string("memory");
      if (phase.empty()) phase = "other";
      Found& f = found[device];
      f.phases[phase].push_back(span);
      f.examples.emplace(phase, name.substr(0, 80));
      ++profile.kernels;
      continue;
    }
    const std::string& op = op_rules.match(name);
    if (op.empty()) continue;
    if (gpu_range) {
      any_gpu_annotation = true;
      found[device_of(e, where) + device_offset].gpu_ops.emplace_back(op, span);
    } else {
      cpu_ops.emplace_back(op, span);
    }
  }
  profile.gpu_annotations = profile.gpu_annotations || any_gpu_annotation;
  if (!any_gpu_annotation && found.size() == 1) found.begin()->second.cpu_ops = std::move(cpu_ops);
  for (auto& [device, f] : found) {
    if (f.phases.empty()) continue;  // annotations on a device without kernels
    KinetoDevice& d = profile.devices.emplace_back();  // device ids are new: a later file's are offset
    d.device = device;
    d.examples = std::move(f.examples);
    std::vector<Span> all, comm, compute;
    for (auto& [phase, spans] : f.phases) {
      d.phase_kernels[phase] = static_cast<int>(spans.size());
      for (const Span& s : spans) {
        d.phase_us[phase] += s.end - s.start;
        all.push_back(s);
        (is_comm(phase) ? comm : compute).push_back(s);
      }
    }
    if (!all.empty()) {
      double first = all.front().start, last = all.front().end;
      for (const Span& s : all) first = std::min(first, s.start), last = std::max(last, s.end);
      d.span_us = last - first;
    }
    const std::vector<Span> comm_union = merged(std::move(comm));
    d.busy_us = length_of(merged(std::move(all)));
    d.comm_us = length_of(comm_union);
    d.comm_overlapped_us = overlap_length(comm_union, merged(std::move(compute)));
    // Ops: the outermost ranges only (a forward annotated per layer inside a forward chunk
    // counts once).
    auto& ops = f.gpu_ops.empty() ? f.cpu_ops : f.gpu_ops;
    std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) {
      return a.second.start != b.second.start ? a.second.start < b.second.start : a.second.end > b.second.end;
    });
    double covered_until = -1;
    for (const auto& [kind, span] : ops) {
      if (span.end <= covered_until) continue;
      covered_until = span.end;
      d.op_us[kind].push_back(span.end - span.start);
      ++profile.annotations_used;
    }
  }
  std::sort(profile.devices.begin(), profile.devices.end(), [](const auto& a, const auto& b) { return a.device < b.device; });
}

}  // namespace ppsim::traces
