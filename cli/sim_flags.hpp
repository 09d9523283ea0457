#pragma once
// The flags that say what ops cost and what the links between ranks do, shared by simulate
// and compare: --unit-costs | --costs FILE, --p2p-latency-us, --p2p-bandwidth-gbps.
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "sim/costs.hpp"
#include "sim/engine.hpp"

namespace ppsim::cli {

inline constexpr const char* kDefaultUnitCosts = "F=1,B=2,W=1";

const std::vector<FlagSpec>& cost_and_link_flags();

struct CostChoice {
  sim::CostTable table;
  std::string description;  // "F=1,B=2,W=1 (us)" or the file's name
  bool uniform = true;      // one cost for every stage (closed forms apply)
};

CostChoice costs_from(const Args& args);
sim::LinkSpec link_from(const Args& args);
std::string describe(const sim::LinkSpec& link);

}  // namespace ppsim::cli
