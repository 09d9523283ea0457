// libFuzzer harness: the PyTorch profiler (Kineto) trace reader and the rules reader of ppsim
// calibrate. Bad input may only ever throw std::invalid_argument (anything else is a finding).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sim/json_parse.hpp"
#include "traces/kineto.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto doc = ppsim::sim::parse_json(std::string(reinterpret_cast<const char*>(data), size));  // as ppsim reads files
    ppsim::traces::KinetoProfile profile;
    ppsim::traces::read_kineto(doc, ppsim::traces::KinetoRules::builtin(), "fuzz.json", 0, profile);
  } catch (const std::invalid_argument&) {
  }
  try {
    const auto doc = ppsim::sim::parse_json(std::string(reinterpret_cast<const char*>(data), size));
    (void)ppsim::traces::KinetoRules::from_json(doc, ppsim::traces::KinetoRules::builtin());
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
