#include "sim/costs.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "sim/did_you_mean.hpp"
#include "sim/json_parse.hpp"

namespace ppsim::sim {

namespace {

Time pair_duration(const StageCost& fwd, const StageCost& bwd, OpKind b_kind) {
  const Time saving_f = fwd.f + fwd.b - fwd.fb;
  const Time saving_b = bwd.f + bwd.b - bwd.fb;
  const Time b = b_kind == OpKind::Bi ? bwd.b - bwd.w : bwd.b;
  return std::max({fwd.f + b - std::min(saving_f, saving_b), fwd.f, b});
}

}  // namespace

void check_stage_cost(const StageCost& c, const std::string& where) {
  auto fail = [&](const std::string& what) { throw std::invalid_argument(where + ": " + what); };
  if (c.f <= 0) fail("F = " + format_us(c.f) + " must be > 0");
  if (c.b <= 0) fail("B = " + format_us(c.b) + " must be > 0");
  if (c.w < 0 || c.w >= c.b)
    fail("W = " + format_us(c.w) + " must be >= 0 and < B = " + format_us(c.b) + " (Bi = B - W must be > 0)");
  if (c.fb < std::max(c.f, c.b))
    fail("FB = " + format_us(c.fb) + " must be >= max(F, B) = " + format_us(std::max(c.f, c.b)) +
         ": an overlapped pair cannot be shorter than either half");
  if (c.p2p_bytes < 0) fail("p2p_bytes = " + std::to_string(c.p2p_bytes) + " must be >= 0");
  if (c.activation_bytes < 0) fail("activation_bytes = " + std::to_string(c.activation_bytes) + " must be >= 0");
}

CostTable::CostTable(StageCost uniform) : uniform_(uniform) { check_stage_cost(uniform_, "costs"); }

CostTable::CostTable(std::vector<StageCost> per_stage) : per_stage_(std::move(per_stage)) {
  if (per_stage_.empty()) throw std::invalid_argument("costs: 'stages' is empty: give one entry per stage");
  for (std::size_t s = 0; s < per_stage_.size(); ++s) check_stage_cost(per_stage_[s], "costs.stages[" + std::to_string(s) + "]");
}

Time CostTable::duration(const Op& op) const {
  const StageCost& c = at(op.stage);
  switch (op.kind) {
    case OpKind::F: return c.f;
    case OpKind::B: return c.b;
    case OpKind::Bi: return c.b - c.w;
    case OpKind::W: return c.w;
    case OpKind::FB: return pair_duration(c, at(op.b_stage), op.b_kind);
  }
  return 0;
}

CostTable parse_unit_costs(const std::string& spec) {
  StageCost c;
  bool have_f = false, have_b = false, have_fb = false;
  std::vector<std::string> seen;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("--unit-costs item '" + item + "' is not KEY=VALUE: expected e.g. F=1,B=2,W=1,FB=2.5");
    const std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    const std::string what = "--unit-costs " + key;
    if (std::count(seen.begin(), seen.end(), key) > 0)
      throw std::invalid_argument("--unit-costs " + key + " given twice");
    seen.push_back(key);
    if (key == "F") c.f = parse_us(value, what), have_f = true;
    else if (key == "B") c.b = parse_us(value, what), have_b = true;
    else if (key == "W") c.w = parse_us(value, what);
    else if (key == "FB") c.fb = parse_us(value, what), have_fb = true;
    else
      throw std::invalid_argument("--unit-costs key '" + key + "' is unknown" + did_you_mean(key, {"F", "B", "W", "FB"}) +
                                  ": allowed F, B, W, FB");
    if (end == spec.size()) break;
  }
  if (!have_f || !have_b) throw std::invalid_argument("--unit-costs needs F and B (e.g. F=1,B=2)");
  if (!have_fb) c.fb = c.f + c.b;  // no overlap benefit unless told
  check_stage_cost(c, "--unit-costs");
  return CostTable(c);
}

namespace {

Time json_us(const nlohmann::json& v, const std::string& path) {
  if (v.is_string()) return parse_us(v.get<std::string>(), path);
  if (!v.is_number() || v.is_boolean())
    throw std::invalid_argument(path + ": expected microseconds (a number), got " + std::string(v.type_name()));
  const double us = v.get<double>();
  if (!std::isfinite(us) || us < 0 || us > static_cast<double>(kMaxTime / kNsPerUs))
    throw std::invalid_argument(path + ": " + v.dump() + " is out of range: allowed 0.." +
                                std::to_string(kMaxTime / kNsPerUs) + " microseconds");
  const double ns = us * static_cast<double>(kNsPerUs);
  const double whole = std::round(ns);
  if (std::fabs(ns - whole) > 1e-6 * std::max(1.0, whole))
    throw std::invalid_argument(path + ": " + v.dump() + " has more than 3 decimals (times are whole nanoseconds)");
  return static_cast<Time>(whole);
}

std::int64_t json_bytes(const nlohmann::json& v, const std::string& path) {
  // At most 2^50 bytes (a petabyte) per transfer: more is a typo, and its time in ns must not wrap.
  constexpr long long kMaxBytes = 1ll << 50;
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<unsigned long long>() > kMaxBytes) ||
      v.get<long long>() < 0 || v.get<long long>() > kMaxBytes)
    throw std::invalid_argument(path + ": expected an integer number of bytes in 0..2^50 (1 PB), got " + v.dump().substr(0, 40));
  return v.get<std::int64_t>();
}

StageCost stage_from_json(const nlohmann::json& v, const std::string& path, const StageCost& base) {
  if (!v.is_object()) throw std::invalid_argument(path + ": expected an object of costs, got " + std::string(v.type_name()));
  static const std::vector<std::string> keys = {"F", "B", "W", "FB", "p2p_bytes", "activation_bytes"};
  StageCost c = base;
  bool fb_given = false;
  for (const auto& [key, value] : v.items()) {
    const std::string p = path + "." + key;
    if (key == "F") c.f = json_us(value, p);
    else if (key == "B") c.b = json_us(value, p);
    else if (key == "W") c.w = json_us(value, p);
    else if (key == "FB") c.fb = json_us(value, p), fb_given = true;
    else if (key == "p2p_bytes") c.p2p_bytes = json_bytes(value, p);
    else if (key == "activation_bytes") c.activation_bytes = json_bytes(value, p);
    else {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      throw std::invalid_argument(path + ": unknown key '" + key + "'" + did_you_mean(key, keys) + "; allowed: " + list);
    }
  }
  if (!fb_given && (v.contains("F") || v.contains("B") || base.fb == 0)) c.fb = c.f + c.b;
  return c;
}

}  // namespace

CostTable cost_table_from_json(const nlohmann::json& doc) {
  if (!doc.is_object()) throw std::invalid_argument("costs: expected an object with 'default' and/or 'stages'");
  for (const auto& [key, value] : doc.items())
    if (key != "default" && key != "stages" && key != "unit" && key != "schema_version")
      throw std::invalid_argument("costs: unknown key '" + key + "'" + did_you_mean(key, {"default", "stages", "unit"}) +
                                  "; allowed: default, stages, unit, schema_version");
  check_schema_version(doc, "costs");
  if (doc.contains("unit") && doc["unit"] != "us")
    throw std::invalid_argument("costs.unit: " + doc["unit"].dump() + " is not allowed: times are in \"us\"");
  StageCost base;
  const bool has_default = doc.contains("default");
  if (has_default) base = stage_from_json(doc["default"], "costs.default", StageCost{});
  if (!doc.contains("stages")) {
    if (!has_default) throw std::invalid_argument("costs: give 'default' (every stage) or 'stages' (one entry per stage)");
    return CostTable(base);
  }
  const auto& stages = doc["stages"];
  if (!stages.is_array()) throw std::invalid_argument("costs.stages: expected an array with one entry per stage");
  std::vector<StageCost> per_stage;
  for (std::size_t s = 0; s < stages.size(); ++s)
    per_stage.push_back(stage_from_json(stages[s], "costs.stages[" + std::to_string(s) + "]", base));
  return CostTable(std::move(per_stage));
}

}  // namespace ppsim::sim
