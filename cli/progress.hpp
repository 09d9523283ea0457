#pragma once
// Progress of long work on stderr, whatever stderr is: a line every few seconds (done/total,
// elapsed, time left), nothing for work that ends sooner. PPSIM_PROGRESS_EVERY_S sets the
// period (default 5; tests set 0).
#include <chrono>
#include <memory>
#include <string>

namespace ppsim::cli {

// The period of progress lines: PPSIM_PROGRESS_EVERY_S seconds, 5 by default.
std::chrono::milliseconds progress_period();

class ProgressLines {
 public:
  explicit ProgressLines(std::string what);  // "compare: kinds"
  void update(int done, int total);          // prints a line when the period has passed

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_, last_;
  std::chrono::milliseconds every_;
};

// For work without steps to count: while it lives, a line every period ("what: 10 s so far"),
// from a thread of its own; work that ends within the period prints nothing.
class Heartbeat {
 public:
  explicit Heartbeat(std::string what);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ppsim::cli
