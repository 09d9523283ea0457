#include "sim/schedule_json.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "sim/did_you_mean.hpp"
#include "sim/generators.hpp"
#include "sim/json_parse.hpp"

namespace ppsim::sim {

using nlohmann::json;

namespace {

json half_json(const Op& h, bool with_kind) {
  json j = {{"mb", h.mb}, {"stage", h.stage}};
  if (with_kind) j["op"] = std::string(to_string(h.kind));
  return j;
}

json op_json(const Op& op) {
  if (op.kind != OpKind::FB) return {{"op", std::string(to_string(op.kind))}, {"mb", op.mb}, {"stage", op.stage}};
  return {{"op", "FB"}, {"f", half_json(op.forward_half(), false)}, {"b", half_json(op.backward_half(), true)}};
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument(path + ": " + what);
}

std::string describe(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(v.type_name()) + " " + text;
}

void only_keys(const json& obj, const std::string& path, const std::vector<std::string>& allowed) {
  if (!obj.is_object()) fail(path, "expected an object, got " + describe(obj));
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(path, "unknown key '" + key + "'" + did_you_mean(key, allowed) + "; allowed: " + list);
    }
  }
}

const json& member(const json& obj, const std::string& path, const std::string& key) {
  const auto it = obj.find(key);
  if (it == obj.end()) fail(path, "missing key '" + key + "'");
  return *it;
}

int int_in(const json& v, const std::string& path, long long lo, long long hi) {
  if (!v.is_number_integer()) fail(path, "expected an integer, got " + describe(v));
  // An unsigned value past 2^63 would read as negative: its own text is shown.
  const bool huge = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi);
  const long long x = huge ? hi : v.get<long long>();
  if (huge || x < lo || x > hi) fail(path, v.dump() + " is out of range: allowed " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(x);
}

std::vector<int> ranks_of_stages(const json& v, const std::string& path, int ranks) {
  if (!v.is_array()) fail(path, "expected an array of ranks, got " + describe(v));
  std::vector<int> out;
  for (std::size_t i = 0; i < v.size(); ++i)
    out.push_back(int_in(v[i], path + "[" + std::to_string(i) + "]", 0, ranks - 1));
  return out;
}

// The "mb" and "stage" of an op object (its keys are checked by the caller).
Op mb_and_stage(const json& v, const std::string& path, const Schedule& s) {
  Op h;
  h.mb = int_in(member(v, path, "mb"), path + ".mb", 0, s.microbatches - 1);
  h.stage = int_in(member(v, path, "stage"), path + ".stage", 0, s.stages - 1);
  return h;
}

Op op_from_json(const json& v, const std::string& path, const Schedule& s) {
  if (!v.is_object()) fail(path, "expected an op object, got " + describe(v));
  const json& k = member(v, path, "op");
  if (!k.is_string()) fail(path + ".op", "expected one of \"F\", \"B\", \"Bi\", \"W\", \"FB\", got " + describe(k));
  OpKind kind;
  try {
    kind = parse_op_kind(k.get<std::string>());
  } catch (const std::invalid_argument& e) {
    fail(path + ".op", e.what());
  }
  if (kind == OpKind::FB) {
    only_keys(v, path, {"op", "f", "b"});
    const json& fj = member(v, path, "f");
    only_keys(fj, path + ".f", {"mb", "stage"});
    const Op f = mb_and_stage(fj, path + ".f", s);
    const json& bj = member(v, path, "b");
    only_keys(bj, path + ".b", {"op", "mb", "stage"});
    const json& bk = member(bj, path + ".b", "op");
    if (bk != "B" && bk != "Bi")
      fail(path + ".b.op", "the backward half of an FB is \"B\" or \"Bi\", got " + describe(bk));
    const Op b = mb_and_stage(bj, path + ".b", s);
    return Op::overlapped(f.mb, f.stage, bk == "B" ? OpKind::B : OpKind::Bi, b.mb, b.stage);
  }
  only_keys(v, path, {"op", "mb", "stage"});
  Op op = mb_and_stage(v, path, s);
  op.kind = kind;
  return op;
}

}  // namespace

json to_json(const Schedule& s) {
  json per_rank = json::array();
  for (const auto& ops : s.per_rank) {
    json row = json::array();
    for (const Op& op : ops) row.push_back(op_json(op));
    per_rank.push_back(std::move(row));
  }
  json doc = {{"schema_version", kSchemaVersion}, {"kind", s.kind}, {"ranks", s.ranks}, {"stages", s.stages},
              {"microbatches", s.microbatches}, {"placement", s.placement}};
  if (s.bidirectional()) {
    doc["reverse_placement"] = s.reverse_placement;
    doc["reverse_from_microbatch"] = s.first_reverse_mb;
  }
  doc["per_rank"] = std::move(per_rank);
  return doc;
}

Schedule schedule_from_json(const json& doc) {
  const std::string root = "schedule";
  only_keys(doc, root, {"schema_version", "kind", "ranks", "stages", "microbatches", "placement", "reverse_placement",
                        "reverse_from_microbatch", "per_rank"});
  check_schema_version(doc, root);
  Schedule s;
  const json& kind = member(doc, root, "kind");
  if (!kind.is_string()) fail(root + ".kind", "expected a string, got " + describe(kind));
  s.kind = kind.get<std::string>();
  s.ranks = int_in(member(doc, root, "ranks"), root + ".ranks", 1, kMaxRanks);
  s.stages = int_in(member(doc, root, "stages"), root + ".stages", 1, kMaxRanks * kMaxStagesPerRank);
  s.microbatches = int_in(member(doc, root, "microbatches"), root + ".microbatches", 1, kMaxMicrobatches);
  s.placement = ranks_of_stages(member(doc, root, "placement"), root + ".placement", s.ranks);
  s.first_reverse_mb = s.microbatches;
  const bool has_reverse = doc.contains("reverse_placement");
  if (has_reverse != doc.contains("reverse_from_microbatch"))
    fail(root, "'reverse_placement' and 'reverse_from_microbatch' come together (bidirectional schedules)");
  if (has_reverse) {
    s.reverse_placement = ranks_of_stages(doc["reverse_placement"], root + ".reverse_placement", s.ranks);
    s.first_reverse_mb = int_in(doc["reverse_from_microbatch"], root + ".reverse_from_microbatch", 0, s.microbatches);
  }
  for (const auto* key : {"placement", "reverse_placement"}) {
    if (doc.contains(key) && static_cast<int>(doc[key].size()) != s.stages)
      fail(root + "." + key, "has " + std::to_string(doc[key].size()) + " entries, expected one per stage (" +
                                 std::to_string(s.stages) + ")");
  }
  const json& per_rank = member(doc, root, "per_rank");
  if (!per_rank.is_array() || static_cast<int>(per_rank.size()) != s.ranks)
    fail(root + ".per_rank", "expected an array of " + std::to_string(s.ranks) + " op lists (one per rank), got " +
                                 describe(per_rank));
  for (int r = 0; r < s.ranks; ++r) {
    const std::string path = root + ".per_rank[" + std::to_string(r) + "]";
    if (!per_rank[r].is_array()) fail(path, "expected an array of ops, got " + describe(per_rank[r]));
    std::vector<Op> ops;
    for (std::size_t i = 0; i < per_rank[r].size(); ++i)
      ops.push_back(op_from_json(per_rank[r][i], path + "[" + std::to_string(i) + "]", s));
    s.per_rank.push_back(std::move(ops));
  }
  return s;
}

Schedule schedule_from_json_text(const std::string& text) { return schedule_from_json(parse_json(text)); }

}  // namespace ppsim::sim
