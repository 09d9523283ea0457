#pragma once
// Suggestions for misspelled names in error messages ("did you mean 'dualpipev'?").
#include <string>
#include <string_view>
#include <vector>

namespace ppsim::sim {

// The closest candidate within a small edit distance, or "" when none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ppsim::sim
