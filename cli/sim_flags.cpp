#include "cli/sim_flags.hpp"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "cli/io.hpp"
#include "cli/units.hpp"
#include "sim/json_parse.hpp"

namespace ppsim::cli {

const std::vector<FlagSpec>& cost_and_link_flags() {
  static const std::vector<FlagSpec> flags = {
      {"unit-costs", true, "same cost on every stage, in us: F=1,B=2,W=1,FB=2.5 (B full backward, Bi = B - W; "
                           "default F=1,B=2,W=1, FB = F + B)"},
      {"costs", true, "per-stage cost table (JSON: {\"default\": {...}, \"stages\": [{\"F\",\"B\",\"W\",\"FB\","
                      "\"p2p_bytes\",\"activation_bytes\"}, ...]})"},
      {"p2p-latency-us", true, "latency of each transfer between ranks, in us (default 0)"},
      {"p2p-bandwidth", true, "bandwidth of each directed rank pair, with its unit (50GB/s, 400Gb/s), shared by its "
                              "transfers (default: unlimited)"},
      {"p2p-bandwidth-gbps", true, "old name of --p2p-bandwidth: a bare number is GB/s (gigabytes)"},
  };
  return flags;
}

CostChoice costs_from(const Args& a) {
  if (a.has("unit-costs") && a.has("costs")) throw std::invalid_argument("give --unit-costs or --costs, not both");
  if (auto path = a.get("costs")) {
    try {
      const auto doc = sim::parse_json(read_file(*path));
      sim::CostTable table = sim::cost_table_from_json(doc);
      const bool uniform = table.stages() == 0;
      return {std::move(table), *path, uniform};
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(*path + ": not valid JSON: " + e.what());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(*path + ": " + e.what());
    }
  }
  const std::string spec = a.get_or("unit-costs", kDefaultUnitCosts);
  return {sim::parse_unit_costs(spec), spec + " (us)", true};
}

sim::LinkSpec link_from(const Args& a) {
  sim::LinkSpec link;
  if (auto v = a.get("p2p-latency-us")) link.latency = sim::parse_us(*v, "--p2p-latency-us");
  if (const auto bytes = bandwidth_flag(a, "p2p-bandwidth", "p2p-bandwidth-gbps"))
    link.bytes_per_second = std::max<std::int64_t>(1, std::llround(*bytes));
  return link;
}

std::string describe(const sim::LinkSpec& link) {
  if (link.latency == 0 && link.bytes_per_second == 0) return "free p2p";
  std::string out = "p2p latency " + sim::format_us(link.latency) + " us";
  if (link.bytes_per_second > 0) out += ", " + sim::format_us(link.bytes_per_second / 1'000'000) + " GB/s per rank pair";
  return out;
}

}  // namespace ppsim::cli
