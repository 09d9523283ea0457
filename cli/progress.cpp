#include "cli/progress.hpp"

#include <algorithm>
#include <cstdlib>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

namespace ppsim::cli {

std::chrono::milliseconds progress_period() {
  const char* every = std::getenv("PPSIM_PROGRESS_EVERY_S");
  return std::chrono::milliseconds(every ? static_cast<long long>(std::max(0.0, std::atof(every)) * 1000) : 5000);
}

ProgressLines::ProgressLines(std::string what) : what_(std::move(what)), every_(progress_period()) {
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

struct Heartbeat::State {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread thread;
};

Heartbeat::Heartbeat(std::string what) : state_(std::make_unique<State>()) {
  const auto every = std::max(progress_period(), std::chrono::milliseconds(1));
  state_->thread = std::thread([s = state_.get(), what = std::move(what), every] {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(s->m);
    while (!s->cv.wait_for(lock, every, [&] { return s->done; })) {
      const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cerr << what << ": " << static_cast<long long>(elapsed) << " s so far\n";
    }
  });
}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard lock(state_->m);
    state_->done = true;
  }
  state_->cv.notify_all();
  state_->thread.join();
}

}  // namespace ppsim::cli
