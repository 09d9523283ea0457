// libFuzzer harness: a user catalog file (models, GPUs, clusters) merged and turned into a
// scenario and its costs. Bad input may only ever throw std::invalid_argument.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "model/cost_model.hpp"
#include "model/scenario.hpp"
#include "sim/json_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto doc = ppsim::sim::parse_json(std::string(reinterpret_cast<const char*>(data), size));  // as ppsim reads files
    ppsim::model::Catalog c = ppsim::model::Catalog::builtin();
    c.merge(doc, "fuzz");
    for (const auto& id : c.model_ids()) {
      try {
        const auto s = ppsim::model::make_scenario(c, id);
        if (ppsim::sim::make_schedule(s.schedule_request()).op_count() < 20000) (void)ppsim::model::RooflineCostModel(s);
      } catch (const std::invalid_argument&) {
      }
    }
  } catch (const nlohmann::json::exception&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
