#pragma once
// Progress of long work on stderr, whatever stderr is: a line every few seconds (done/total,
// elapsed, time left), nothing for work that ends sooner. PPSIM_PROGRESS_EVERY_S sets the
// period (default 5; tests set 0).
#include <chrono>
#include <string>

namespace ppsim::cli {

class ProgressLines {
 public:
  explicit ProgressLines(std::string what);  // "compare: kinds"
  void update(int done, int total);          // prints a line when the period has passed

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_, last_;
  std::chrono::milliseconds every_;
};

}  // namespace ppsim::cli
