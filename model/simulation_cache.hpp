#pragma once
// Simulations shared between the plans of a sweep whose inputs are equal (sim/simulation_key.hpp):
// e.g. one GPU at two prices, or plans that differ only in what the engine does not see. Keys
// are the inputs themselves, not a hash of them, so a match is never a collision. Thread-safe.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "sim/engine.hpp"

namespace ppsim::model {

class SimulationCache {
 public:
  std::optional<sim::Metrics> find(const std::string& key) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = runs_.find(key);
    if (it == runs_.end()) return std::nullopt;
    ++hits_;
    return it->second;
  }
  void put(const std::string& key, const sim::Metrics& metrics) {
    const std::lock_guard<std::mutex> lock(mutex_);
    runs_.emplace(key, metrics);
  }
  long hits() const { return hits_.load(); }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, sim::Metrics> runs_;
  mutable std::atomic<long> hits_{0};
};

}  // namespace ppsim::model
