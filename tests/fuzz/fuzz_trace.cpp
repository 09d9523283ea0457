// libFuzzer harness: the Chrome trace reader. Bad input may only ever throw std::invalid_argument.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "traces/chrome_trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto doc = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(data), size));
    (void)ppsim::traces::timeline_from_chrome_trace(doc);
  } catch (const nlohmann::json::exception&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
