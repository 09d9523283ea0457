#include "cli/size_merge.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "sim/json_parse.hpp"

namespace ppsim::cli {

namespace {

using json = nlohmann::json;

// Flags that do not change what a part holds: where it goes, how it is shown, how fast.
bool part_neutral(const std::string& flag) {
  return flag == "shard" || flag == "merge" || flag == "out" || flag == "format" || flag == "threads" || flag == "launcher" ||
         flag == "top" || flag == "exhaustive" || flag == "help";
}

std::string fingerprint(const std::string& text) {  // FNV-1a, 64 bits
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// A field of a part, refused unless present, of the right type and in range.
long long whole(const json& j, const char* key, long long lo, long long hi, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw std::invalid_argument(where + ": missing '" + key + "'");
  const json& v = j[key];
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) ||
      v.get<long long>() < lo || v.get<long long>() > hi)
    throw std::invalid_argument(where + "." + key + " = " + v.dump().substr(0, 40) + ": allowed an integer in " + std::to_string(lo) +
                                ".." + std::to_string(hi));
  return v.get<long long>();
}

double real(const json& j, const char* key, double lo, double hi, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw std::invalid_argument(where + ": missing '" + key + "'");
  const json& v = j[key];
  if (!v.is_number() || !(v.get<double>() >= lo) || !(v.get<double>() <= hi))
    throw std::invalid_argument(where + "." + key + " = " + v.dump().substr(0, 40) + ": allowed a number in " + std::to_string(lo) +
                                ".." + std::to_string(hi));
  return v.get<double>();
}

std::string text(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) throw std::invalid_argument(where + ": missing text '" + key + "'");
  return j[key].get<std::string>();
}

}  // namespace

json size_row_json(const model::SizingRow& r) {
  const auto& c = r.config;
  return {{"id", c.id}, {"gpu", c.gpu}, {"gpus", c.gpus}, {"kind", c.kind}, {"tp", c.tp}, {"cp", c.cp}, {"pp", c.pp}, {"ep", c.ep},
          {"comm_sms", c.comm_sms}, {"stages_per_rank", c.stages_per_rank},
          {"dp", r.dp}, {"microbatch_size", c.microbatch_size}, {"microbatches", r.microbatches}, {"days", r.days},
          {"gpu_hours", r.gpu_hours}, {"dollars", r.dollars}, {"mfu", r.mfu}, {"memory_gib", r.memory_gib},
          {"bubble", r.bubble}, {"step_seconds", r.step_seconds}, {"priced", r.bound ? "lower bound" : "simulated"}};
}

namespace {

model::SizingRow row_from_json(const json& j, const std::string& where) {
  constexpr long long kMaxInt = 1ll << 30;
  model::SizingRow r;
  r.config = {static_cast<int>(whole(j, "id", 0, kMaxInt, where)),
              text(j, "gpu", where),
              text(j, "kind", where),
              static_cast<int>(whole(j, "gpus", 1, 1 << 22, where)),
              static_cast<int>(whole(j, "tp", 1, 4096, where)),
              static_cast<int>(whole(j, "pp", 1, 4096, where)),
              static_cast<int>(whole(j, "ep", 1, 1 << 16, where)),
              static_cast<int>(whole(j, "microbatch_size", 1, 1 << 16, where)),
              static_cast<int>(whole(j, "comm_sms", -1, 100000, where)),
              static_cast<int>(whole(j, "stages_per_rank", 0, 64, where)),
              static_cast<int>(whole(j, "cp", 1, 4096, where))};
  r.days = real(j, "days", 0, 1e12, where);
  r.gpu_hours = real(j, "gpu_hours", 0, 1e18, where);
  r.dollars = real(j, "dollars", 0, 1e18, where);
  r.mfu = real(j, "mfu", 0, 1, where);
  r.memory_gib = real(j, "memory_gib", 0, 1e9, where);
  r.bubble = real(j, "bubble", 0, 1, where);
  r.step_seconds = real(j, "step_seconds", 0, 1e12, where);
  r.dp = static_cast<int>(whole(j, "dp", 1, 1 << 22, where));
  r.microbatches = static_cast<int>(whole(j, "microbatches", 1, 1 << 26, where));
  const std::string priced = text(j, "priced", where);
  if (priced != "simulated" && priced != "lower bound")
    throw std::invalid_argument(where + ".priced = '" + priced + "': allowed simulated, lower bound");
  r.bound = priced == "lower bound";
  return r;
}

}  // namespace

json SweepId::to_json() const { return {{"model", model}, {"flags", flags}, {"catalog", catalog}, {"version", version}}; }

SweepId sweep_id(const Args& a, const model::Catalog& catalog) {
  SweepId s;
  s.model = a.get_or("model", "");
  for (const auto& [flag, value] : a.values())
    if (!part_neutral(flag)) s.flags.push_back("--" + flag + (value.empty() ? "" : "=" + value));
  s.catalog = fingerprint(catalog.to_json().dump());
  s.version = PPSIM_VERSION;
  return s;
}

json size_json(const model::SizingResult& r, const SweepId& sweep) {
  json evaluated = json::array(), pareto = json::array();
  for (const auto& row : r.evaluated) evaluated.push_back(size_row_json(row));
  for (const auto& row : model::pareto_front(r.evaluated)) pareto.push_back(size_row_json(row));
  json id = sweep.to_json();
  id["shard"] = sweep.shard;
  id["shards"] = sweep.shards;
  return {{"schema_version", sim::kSchemaVersion}, {"model", sweep.model}, {"sweep", id},
          {"configurations", r.configurations}, {"simulated", r.simulated}, {"evaluated", evaluated},
          {"pareto", pareto}, {"infeasible", r.infeasible}};
}

MergedSweep merge_parts(const std::vector<std::pair<std::string, std::string>>& parts) {
  MergedSweep out;
  std::map<int, std::string> seen;  // shard -> its part
  json first;
  std::string first_origin;
  long long configurations = 0, simulated = 0;
  for (const auto& [origin, body] : parts) {
    const std::string where = origin;
    json doc;
    try {
      doc = sim::parse_json(body);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": not a ppsim size JSON output: " + e.what());
    }
    if (!doc.is_object() || !doc.contains("evaluated"))
      throw std::invalid_argument(where + ": not a ppsim size JSON output (no 'evaluated')");
    sim::check_schema_version(doc, where);
    if (!doc.contains("sweep") || !doc["sweep"].is_object())
      throw std::invalid_argument(where + ": no 'sweep' (written by a ppsim before 0.1.0's checked merges?): run its shard again");
    const json& sweep = doc["sweep"];
    for (const char* k : {"model", "catalog", "version"}) text(sweep, k, where + ".sweep");
    if (!sweep.contains("flags") || !sweep["flags"].is_array() ||
        !std::all_of(sweep["flags"].begin(), sweep["flags"].end(), [](const json& f) { return f.is_string(); }))
      throw std::invalid_argument(where + ".sweep.flags: expected an array of flags");
    if (text(doc, "model", where) != sweep["model"].get<std::string>())
      throw std::invalid_argument(where + ".model: not the model of its sweep");
    const long long shards = whole(sweep, "shards", 1, 1 << 20, where + ".sweep");
    const long long shard = whole(sweep, "shard", 0, shards - 1, where + ".sweep");
    json identity = sweep;
    identity.erase("shard");
    identity.erase("shards");
    identity["shards"] = shards;
    if (first.is_null()) {
      first = identity, first_origin = origin;
    } else if (identity != first) {
      std::string field = "shards";
      for (const char* k : {"model", "flags", "catalog", "version"})
        if (identity.value(k, json()) != first.value(k, json())) {
          field = k;
          break;
        }
      throw std::invalid_argument(where + ": not the same sweep as " + first_origin + " (its " + field + " differ" +
                                  (field == "flags" || field == "shards" ? "" : "s") + ": " +
                                  identity.value(field, json()).dump().substr(0, 80) + " vs " +
                                  first.value(field, json()).dump().substr(0, 80) + ")");
    }
    if (const auto [it, fresh] = seen.emplace(static_cast<int>(shard), origin); !fresh)
      throw std::invalid_argument(where + ": shard " + std::to_string(shard) + "/" + std::to_string(shards) + " given twice (also " +
                                  it->second + ")");
    configurations += whole(doc, "configurations", 0, 1ll << 40, where);
    simulated += whole(doc, "simulated", 0, 1ll << 40, where);
    if (!doc["evaluated"].is_array()) throw std::invalid_argument(where + ".evaluated: expected an array of plans");
    for (std::size_t i = 0; i < doc["evaluated"].size(); ++i)
      out.result.evaluated.push_back(row_from_json(doc["evaluated"][i], where + ".evaluated[" + std::to_string(i) + "]"));
    if (!doc.contains("infeasible") || !doc["infeasible"].is_object())
      throw std::invalid_argument(where + ": missing the 'infeasible' counts");
    for (const auto& [reason, count] : doc["infeasible"].items())
      out.result.infeasible[reason] += whole(doc["infeasible"], reason.c_str(), 0, 1ll << 40, where + ".infeasible");
  }
  if (parts.empty()) throw std::invalid_argument("--merge: no parts given");
  const long long shards = first["shards"].get<long long>();
  for (long long s = 0; s < shards; ++s)
    if (!seen.count(static_cast<int>(s)))
      throw std::invalid_argument("--merge: shard " + std::to_string(s) + "/" + std::to_string(shards) + " is missing (" +
                                  std::to_string(seen.size()) + " of " + std::to_string(shards) + " given)");
  if (configurations > (1ll << 31) - 1 || simulated > configurations)
    throw std::invalid_argument("--merge: the parts count " + std::to_string(configurations) + " configurations and " +
                                std::to_string(simulated) + " simulated: out of range");
  out.result.configurations = static_cast<int>(configurations);
  out.result.simulated = static_cast<int>(simulated);
  std::sort(out.result.evaluated.begin(), out.result.evaluated.end(),
            [](const auto& x, const auto& y) { return x.config.id < y.config.id; });
  for (std::size_t i = 1; i < out.result.evaluated.size(); ++i)
    if (out.result.evaluated[i].config.id == out.result.evaluated[i - 1].config.id)
      throw std::invalid_argument("--merge: plan " + std::to_string(out.result.evaluated[i].config.id) +
                                  " is in two parts (the shards overlap)");
  out.sweep.model = first["model"].get<std::string>();
  out.sweep.flags = first["flags"].get<std::vector<std::string>>();
  out.sweep.catalog = first["catalog"].get<std::string>();
  out.sweep.version = first["version"].get<std::string>();
  return out;
}

}  // namespace ppsim::cli
