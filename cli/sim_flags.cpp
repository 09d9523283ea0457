#include "cli/sim_flags.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/io.hpp"
#include "sim/json_parse.hpp"

namespace ppsim::cli {

const std::vector<FlagSpec>& cost_and_link_flags() {
  static const std::vector<FlagSpec> flags = {
      {"unit-costs", true, "same cost on every stage, in us: F=1,B=2,W=1,FB=2.5 (B full backward, Bi = B - W; "
                           "default F=1,B=2,W=1, FB = F + B)"},
      {"costs", true, "per-stage cost table (JSON: {\"default\": {...}, \"stages\": [{\"F\",\"B\",\"W\",\"FB\","
                      "\"p2p_bytes\",\"activation_bytes\"}, ...]})"},
      {"p2p-latency-us", true, "latency of each transfer between ranks, in us (default 0)"},
      {"p2p-bandwidth-gbps", true, "bandwidth of each directed rank pair in GB/s, shared by its transfers "
                                   "(default: unlimited)"},
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
  if (auto v = a.get("p2p-bandwidth-gbps")) {
    const std::int64_t thousandths = sim::parse_thousandths(*v, "--p2p-bandwidth-gbps", "GB/s");
    if (thousandths == 0) throw std::invalid_argument("--p2p-bandwidth-gbps = 0: allowed > 0 (leave it out for unlimited)");
    if (thousandths > 1'000'000'000) throw std::invalid_argument("--p2p-bandwidth-gbps = " + *v + " is out of range: at most 1000000");
    link.bytes_per_second = thousandths * 1'000'000;
  }
  return link;
}

std::string describe(const sim::LinkSpec& link) {
  if (link.latency == 0 && link.bytes_per_second == 0) return "free p2p";
  std::string out = "p2p latency " + sim::format_us(link.latency) + " us";
  if (link.bytes_per_second > 0) out += ", " + sim::format_us(link.bytes_per_second / 1'000'000) + " GB/s per rank pair";
  return out;
}

}  // namespace ppsim::cli
