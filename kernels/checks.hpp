#pragma once
// Host-side checks made before any launch, and the launch shapes they lead to. Plain C++ so
// they are tested on every machine; a bad shape or an impossible launch is one
// std::invalid_argument naming the kernel, the field, its value and what is allowed.
#include <cstddef>

namespace ppsim::kernels {

// What the device (or the green context a rank runs in) allows.
struct DeviceLimits {
  int sm_count = 0;
  int max_threads_per_block = 0;
  int max_grid_x = 0;
  std::size_t shared_per_sm = 0;           // bytes of shared memory per SM
  std::size_t shared_per_block_optin = 0;  // the most one block may ask for
};

struct LaunchShape {
  int blocks = 0;
  int threads = 0;
  std::size_t shared_bytes = 0;  // dynamic shared memory per block
};

// A positive count no larger than `max`.
void check_count(const char* kernel, const char* field, long value, long max);
void check_limits(const char* kernel, const DeviceLimits& limits);

// GEMM dimensions: each of m, n, k in 1..2^31-1 (cuBLAS takes int).
void check_gemm(const char* kernel, long m, long n, long k);

// Elementwise work over n items: 256 threads, enough blocks to cover n (grid-stride beyond
// the grid limit).
LaunchShape plan_elementwise(const char* kernel, long n, const DeviceLimits& limits);

// A row-wise kernel: one block per row (grid-stride past the limit), threads over the columns.
LaunchShape plan_rows(const char* kernel, long rows, long cols, const DeviceLimits& limits);

// The SM-limited copy: exactly `sms` blocks, each asking for more than half an SM's shared
// memory so no SM can hold two of them: the copy never runs on more than `sms` SMs.
LaunchShape plan_sm_copy(std::size_t bytes, int sms, const DeviceLimits& limits);

// A small MoE layer: routing runs one thread per expert in one block.
void check_moe(const char* kernel, long tokens, long top_k, long experts, long hidden, const DeviceLimits& limits);

}  // namespace ppsim::kernels
