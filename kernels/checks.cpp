#include "kernels/checks.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace ppsim::kernels {

namespace {
[[noreturn]] void refuse(const char* kernel, const char* field, long value, const std::string& allowed) {
  throw std::invalid_argument(std::string(kernel) + ": " + field + " = " + std::to_string(value) + ": allowed " + allowed);
}
}  // namespace

void check_count(const char* kernel, const char* field, long value, long max) {
  if (value < 1 || value > max) refuse(kernel, field, value, "1.." + std::to_string(max));
}

void check_limits(const char* kernel, const DeviceLimits& l) {
  if (l.sm_count < 1 || l.max_threads_per_block < 32 || l.max_grid_x < 1 || l.shared_per_sm == 0 ||
      l.shared_per_block_optin == 0)
    throw std::invalid_argument(std::string(kernel) + ": the device limits are not known (sm_count = " +
                                std::to_string(l.sm_count) + "): query them on a device first");
}

void check_gemm(const char* kernel, long m, long n, long k) {
  check_count(kernel, "m", m, INT_MAX);
  check_count(kernel, "n", n, INT_MAX);
  check_count(kernel, "k", k, INT_MAX);
}

LaunchShape plan_elementwise(const char* kernel, long n, const DeviceLimits& l) {
  check_limits(kernel, l);
  check_count(kernel, "n", n, LONG_MAX / 2);
  const int threads = std::min(256, l.max_threads_per_block);
  const long blocks = std::min<long>((n + threads - 1) / threads, std::min<long>(l.max_grid_x, 65535L * 16));
  return {static_cast<int>(blocks), threads, 0};
}

LaunchShape plan_rows(const char* kernel, long rows, long cols, const DeviceLimits& l) {
  check_limits(kernel, l);
  check_count(kernel, "rows", rows, INT_MAX);
  check_count(kernel, "cols", cols, INT_MAX);
  const int threads = std::min(256, l.max_threads_per_block);
  return {static_cast<int>(std::min<long>(rows, l.max_grid_x)), threads, 0};
}

LaunchShape plan_sm_copy(std::size_t bytes, int sms, const DeviceLimits& l) {
  const char* kernel = "sm_copy";
  check_limits(kernel, l);
  check_count(kernel, "sms", sms, l.sm_count);
  if (bytes % 16 != 0) refuse(kernel, "bytes", static_cast<long>(bytes), "a multiple of 16 (the copy moves 16-byte vectors)");
  const std::size_t shared = l.shared_per_sm / 2 + 1024;
  if (shared > l.shared_per_block_optin)
    throw std::invalid_argument(std::string(kernel) + ": one block per SM needs " + std::to_string(shared) +
                                " bytes of shared memory, the device allows " + std::to_string(l.shared_per_block_optin));
  return {sms, std::min(512, l.max_threads_per_block), shared};
}

void check_moe(const char* kernel, long tokens, long top_k, long experts, long hidden, const DeviceLimits& l) {
  check_limits(kernel, l);
  check_count(kernel, "experts", experts, l.max_threads_per_block);
  check_count(kernel, "top_k", top_k, experts);
  check_count(kernel, "tokens", tokens, INT_MAX / top_k);
  check_count(kernel, "hidden", hidden, INT_MAX);
}

}  // namespace ppsim::kernels
