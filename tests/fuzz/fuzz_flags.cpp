// libFuzzer harness: the flag parser and the parsers of flag values -- words split at NUL bytes
// into Args (with a spec of switches and valued flags), then every typed getter, bandwidths,
// unit costs and efficiency overrides on each value. Bad input may only ever throw
// std::invalid_argument (anything else is a finding).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/units.hpp"
#include "model/scenario.hpp"
#include "sim/costs.hpp"
#include "sim/numbers.hpp"

namespace {

const std::vector<ppsim::cli::FlagSpec> kSpecs = {
    {"kind", true, ""},  {"ranks", true, ""}, {"microbatches", true, ""}, {"unit-costs", true, ""},
    {"p2p-bandwidth", true, ""}, {"efficiency", true, ""}, {"tp-options", true, ""}, {"format", true, ""},
    {"max-usd", true, ""}, {"exhaustive", false, ""}, {"help", false, ""}};

template <class F>
void quietly(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> words;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t nul = text.find('\0', from);
    words.push_back(text.substr(from, nul == std::string::npos ? std::string::npos : nul - from));
    if (nul == std::string::npos) break;
    from = nul + 1;
  }
  quietly([&] {
    const ppsim::cli::Args a(words, kSpecs, "fuzz");
    quietly([&] { (void)a.get_int("ranks", 8, 1, 4096); });
    quietly([&] { (void)a.get_double("max-usd", 0, 0, 1e12); });
    quietly([&] { (void)a.get_int_list("tp-options", 1, 4096); });
    quietly([&] { (void)a.get_choice("format", "text", {"text", "json"}); });
    for (const auto& entry : a.values()) {
      const std::string& flag = entry.first;  // plain names: clang's lambdas cannot capture bindings
      const std::string& value = entry.second;
      quietly([&] { (void)ppsim::cli::parse_bandwidth(value, "--" + flag, flag == "p2p-bandwidth"); });
      quietly([&] { (void)ppsim::sim::parse_unit_costs(value); });
      quietly([&] { (void)ppsim::model::parse_efficiencies(value, ppsim::model::Efficiencies{}); });
      (void)ppsim::sim::parse_decimal(value);
    }
  });
  return 0;
}
