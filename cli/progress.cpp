#include "cli/progress.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace ppsim::cli {

ProgressLines::ProgressLines(std::string what) : what_(std::move(what)) {
  const char* every = std::getenv("PPSIM_PROGRESS_EVERY_S");
  every_ = std::chrono::milliseconds(every ? static_cast<long long>(std::max(0.0, std::atof(every)) * 1000) : 5000);
  start_ = last_ = std::chrono::steady_clock::now();
}

void ProgressLines::update(int done, int total) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < every_) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::cerr << what_ << " " << done << "/" << total << ", " << static_cast<long long>(elapsed) << " s";
  if (done > 0 && done < total) std::cerr << ", about " << static_cast<long long>(elapsed / done * (total - done)) << " s left";
  std::cerr << "\n";
}

}  // namespace ppsim::cli
