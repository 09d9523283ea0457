#include "sim/work_limit.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace ppsim::sim {

namespace {
std::atomic<double> g_factor{1.0};
}

double work_limit() { return g_factor.load(); }

void set_work_limit(double factor) {
  if (!(factor > 0 && factor <= 1e6))
    throw std::invalid_argument("--work-limit = " + std::to_string(factor) + ": allowed a factor in (0, 1e6]");
  g_factor.store(factor);
}

std::string short_count(double n) {
  char b[32];
  if (n >= 1e15) std::snprintf(b, sizeof b, "%.3gP", n / 1e15);
  else if (n >= 1e12) std::snprintf(b, sizeof b, "%.3gT", n / 1e12);
  else if (n >= 1e9) std::snprintf(b, sizeof b, "%.3gG", n / 1e9);
  else if (n >= 1e6) std::snprintf(b, sizeof b, "%.3gM", n / 1e6);
  else if (n >= 1e4) std::snprintf(b, sizeof b, "%.3gk", n / 1e3);
  else std::snprintf(b, sizeof b, "%.0f", n);
  return b;
}

void check_work(const std::string& what, double estimate, double limit_per_unit, const std::string& unit) {
  const double limit = limit_per_unit * work_limit();
  if (estimate <= limit) return;
  const double needed = std::ceil(estimate / limit_per_unit * 10) / 10;  // the factor that would do, rounded up
  char factor[32];
  std::snprintf(factor, sizeof factor, "%g", needed);
  auto amount = [&](double x) {
    if (unit != "bytes") return short_count(x) + " " + unit;
    char b[32];
    std::snprintf(b, sizeof b, "%.3g GiB", x / (1ull << 30));
    return std::string(b);
  };
  throw std::invalid_argument(what + " = about " + amount(estimate) + "; allowed at most " + amount(limit) +
                              " on this machine class (raise with --work-limit " + factor + ")");
}

}  // namespace ppsim::sim
