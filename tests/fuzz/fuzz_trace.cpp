// libFuzzer harness: the Chrome trace reader. Bad input may only ever throw std::invalid_argument.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "sim/json_parse.hpp"
#include "traces/chrome_trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto doc = ppsim::sim::parse_json(std::string(reinterpret_cast<const char*>(data), size));  // as ppsim reads files
    (void)ppsim::traces::timeline_from_chrome_trace(doc);
  } catch (const nlohmann::json::exception&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
