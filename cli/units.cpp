#include "cli/units.hpp"

#include <cctype>
#include <cmath>
#include <stdexcept>

#include "sim/numbers.hpp"

namespace ppsim::cli {

namespace {

constexpr const char* kUnits = "a unit: B/s, KB/s, MB/s, GB/s, TB/s (bytes; KiB/s ... binary), Kb/s ... Tb/s (bits), or ...ps";

// The multiplier to bytes per second of a unit like "GB/s", "Gbps", "MiB/s"; 0 when unknown.
double unit_scale(std::string unit) {
  if (unit.size() > 2 && unit.compare(unit.size() - 2, 2, "/s") == 0) unit.resize(unit.size() - 2);
  else if (unit.size() > 2 && unit.compare(unit.size() - 2, 2, "ps") == 0) unit.resize(unit.size() - 2);
  else return 0;
  if (unit.empty()) return 0;
  const char last = unit.back();
  if (last != 'B' && last != 'b') return 0;
  const double per = last == 'B' ? 1.0 : 0.125;  // bytes, or bits
  unit.pop_back();
  if (unit.empty()) return per;
  const bool binary = unit.size() == 2 && unit[1] == 'i';
  if (unit.size() != 1 && !binary) return 0;
  const std::string prefixes = "KMGT";
  const std::size_t at = prefixes.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
  if (at == std::string::npos || (unit[0] == 'k' && binary)) return 0;
  return per * std::pow(binary ? 1024.0 : 1000.0, static_cast<double>(at + 1));
}

}  // namespace

double parse_bandwidth(const std::string& text, const std::string& flag, bool bare_is_gbytes) {
  const std::string quoted = flag + " = '" + text + "'";
  const auto parsed = sim::leading_number(text);  // no hex, inf or nan
  if (!parsed) throw std::invalid_argument(quoted + " is not a bandwidth; write it with " + kUnits + ", e.g. 50GB/s");
  const double number = parsed->value;
  std::string unit = parsed->rest;
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  double scale;
  if (unit.empty()) {
    if (!bare_is_gbytes)
      throw std::invalid_argument(quoted + " has no unit; write " + text + "GB/s for bytes or " + text +
                                  "Gb/s for bits (allowed: " + kUnits + ")");
    scale = 1e9;
  } else {
    scale = unit_scale(unit);
    if (scale == 0) throw std::invalid_argument(quoted + ": unknown unit '" + unit + "'; allowed " + kUnits);
  }
  const double bytes = number * scale;
  if (!std::isfinite(bytes) || bytes <= 0)
    throw std::invalid_argument(quoted + ": allowed > 0 (leave it out for the default)");
  if (bytes < 1e6) throw std::invalid_argument(quoted + " is out of range: at least 1 MB/s");
  if (bytes > 1e15) throw std::invalid_argument(quoted + " is out of range: at most 1 PB/s");
  return bytes;
}

std::optional<double> bandwidth_flag(const Args& a, const std::string& name, const std::string& old_name) {
  if (a.has(name) && a.has(old_name))
    throw std::invalid_argument("give --" + name + " or its old name --" + old_name + ", not both");
  if (auto v = a.get(name)) return parse_bandwidth(*v, "--" + name, false);
  if (auto v = a.get(old_name)) return parse_bandwidth(*v, "--" + old_name, true);
  return std::nullopt;
}

}  // namespace ppsim::cli
