#pragma once
// Flags that pick a model scenario (--model and the plan overrides), shared by simulate and
// compare: --model, --cluster, --gpu, --nodes, --tp, --pp, --ep, --zero, --microbatch-size,
// --global-batch, --precision, --recompute, --comm-sms, --tokens, --price-per-gpu-hour.
#include <vector>

#include "cli/args.hpp"
#include "model/scenario.hpp"
#include "model/study.hpp"

namespace ppsim::cli {

const std::vector<FlagSpec>& scenario_flags();
bool wants_scenario(const Args& args);  // --model given
// The built-in catalog plus the --catalog file's entries, if given.
model::Catalog catalog_from(const Args& args);
// --overlap phases (default) | simple, --network fabric (default) | simple.
model::StudyOptions study_options(const Args& args, bool record_timeline);
// The plan flags given (only those `args` declares), as overrides on a preset.
model::Overrides overrides_from(const Args& args);
// The plan flags ppsim size applies to every candidate (the dimensions it does not enumerate).
const std::vector<FlagSpec>& fixed_plan_flags();
// The scenario for `kind` (or the plan's own when empty); throws naming the rule.
model::Scenario scenario_from(const Args& args, const std::string& kind = "");

}  // namespace ppsim::cli
