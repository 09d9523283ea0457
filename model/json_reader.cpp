#include "model/json_reader.hpp"

#include <cmath>
#include <stdexcept>

#include "sim/did_you_mean.hpp"
#include "sim/numbers.hpp"

namespace ppsim::model {

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}
std::string shown(const nlohmann::json& v) {
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}
}  // namespace

JsonReader::JsonReader(const nlohmann::json& obj, std::string path, std::vector<std::string> allowed)
    : obj_(obj), path_(std::move(path)) {
  if (!obj_.is_object()) throw std::invalid_argument(path_ + ": expected an object, got " + shown(obj_));
  for (const auto& [key, value] : obj_.items()) {
    if (key.rfind("_", 0) == 0 || key == "source") continue;  // comments and citations
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw std::invalid_argument(path_ + ": unknown key '" + key + "'" + sim::did_you_mean(key, allowed) +
                                  "; allowed: " + join(allowed));
  }
}

const nlohmann::json& JsonReader::at(const std::string& key) const {
  const auto it = obj_.find(key);
  if (it == obj_.end()) throw std::invalid_argument(path_ + ": missing '" + key + "'");
  return *it;
}

double JsonReader::number(const std::string& key, double lo, double hi) const {
  const nlohmann::json& v = at(key);
  if (!v.is_number() || v.is_boolean())
    throw std::invalid_argument(path_ + "." + key + ": expected a number, got " + shown(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw std::invalid_argument(path_ + "." + key + " = " + shown(v) + " is out of range: allowed " +
                                nlohmann::json(lo).dump() + ".." + nlohmann::json(hi).dump());
  return x;
}

double JsonReader::number_or(const std::string& key, double fallback, double lo, double hi) const {
  return has(key) ? number(key, lo, hi) : fallback;
}

long long JsonReader::integer(const std::string& key, long long lo, long long hi) const {
  const nlohmann::json& v = at(key);
  if (!v.is_number_integer()) throw std::invalid_argument(path_ + "." + key + ": expected an integer, got " + shown(v));
  // An unsigned value past 2^63 would read as negative: its own text is shown.
  const bool huge = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi);
  const long long x = huge ? hi : v.get<long long>();
  if (huge || x < lo || x > hi)
    throw std::invalid_argument(path_ + "." + key + " = " + v.dump() + " is out of range: allowed " + std::to_string(lo) + ".." +
                                std::to_string(hi));
  return x;
}

long long JsonReader::integer_or(const std::string& key, long long fallback, long long lo, long long hi) const {
  return has(key) ? integer(key, lo, hi) : fallback;
}

std::string JsonReader::string(const std::string& key) const {
  const nlohmann::json& v = at(key);
  if (!v.is_string()) throw std::invalid_argument(path_ + "." + key + ": expected a string, got " + shown(v));
  return v.get<std::string>();
}

std::string JsonReader::string_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

bool JsonReader::boolean_or(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const nlohmann::json& v = at(key);
  if (!v.is_boolean()) throw std::invalid_argument(path_ + "." + key + ": expected true or false, got " + shown(v));
  return v.get<bool>();
}

std::string JsonReader::choice_or(const std::string& key, const std::string& fallback,
                                  const std::vector<std::string>& allowed) const {
  const std::string v = string_or(key, fallback);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
    throw std::invalid_argument(path_ + "." + key + " = '" + v + "' is not allowed" + sim::did_you_mean(v, allowed) +
                                ": use " + join(allowed));
  return v;
}

JsonReader JsonReader::object(const std::string& key, std::vector<std::string> allowed) const {
  return JsonReader(at(key), path_ + "." + key, std::move(allowed));
}

double parse_token_count(const std::string& text, const std::string& what) {
  const auto parsed = sim::leading_number(text);  // no hex: "0x10T" is not 16T
  if (!parsed) throw std::invalid_argument(what + " = '" + text + "' is not a token count: use e.g. 14.8T, 300B, 2e12");
  const double value = parsed->value;
  const std::string& suffix = parsed->rest;
  double scale = 1;
  if (suffix == "K" || suffix == "k") scale = 1e3;
  else if (suffix == "M") scale = 1e6;
  else if (suffix == "B" || suffix == "G") scale = 1e9;
  else if (suffix == "T") scale = 1e12;
  else if (!suffix.empty())
    throw std::invalid_argument(what + " = '" + text + "' has unit '" + suffix + "': allowed K, M, B, T (or none)");
  const double tokens = value * scale;
  if (!std::isfinite(tokens) || tokens < 1 || tokens > 1e16)
    throw std::invalid_argument(what + " = '" + text + "' is out of range: allowed 1 to 1e16 tokens");
  return tokens;
}

}  // namespace ppsim::model
