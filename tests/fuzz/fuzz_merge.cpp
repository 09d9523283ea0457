// libFuzzer harness: ppsim size --merge, the parts of a sharded sweep. The input is cut into
// parts at "\n---\n"; every part is checked (one sweep, each shard once, fields in range) and
// merged. Bad input may only ever throw std::invalid_argument (anything else is a finding).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli/size_merge.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> parts;
  const std::string cut = "\n---\n";
  std::size_t from = 0;
  while (true) {
    const std::size_t at = text.find(cut, from);
    parts.emplace_back("part" + std::to_string(parts.size()) + ".json", text.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) break;
    from = at + cut.size();
  }
  try {
    (void)ppsim::cli::merge_parts(parts);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
