// libFuzzer harness: the schedule readers (JSON and PyTorch CSV) and validation on whatever
// they accept. Bad input may only ever throw std::invalid_argument.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sim/schedule_csv.hpp"
#include "sim/schedule_json.hpp"
#include "sim/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (int reader = 0; reader < 2; ++reader) {
    try {
      const auto s = reader == 0 ? ppsim::sim::schedule_from_json_text(text) : ppsim::sim::schedule_from_csv(text);
      if (s.op_count() < 100000) (void)ppsim::sim::validate(s);
    } catch (const std::invalid_argument&) {
    }
  }
  return 0;
}
