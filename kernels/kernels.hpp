#pragma once
// Our CUDA kernels, launched on the caller's stream. Every call runs the host-side checks of
// checks.hpp first (std::invalid_argument, nothing launched) and turns a launch error into a
// std::runtime_error naming the kernel. Pointers are device pointers, matrices row-major, and
// each kernel computes what its reference in reference.hpp computes.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/checks.hpp"

namespace ppsim::kernels {

// Throws std::runtime_error("<what>: <CUDA's message>") unless err is cudaSuccess.
inline void check_cuda(cudaError_t err, const std::string& what) {
  if (err != cudaSuccess) throw std::runtime_error(what + ": " + cudaGetErrorString(err));
}

// After a launch: a launch error becomes "<kernel>: launch failed: <CUDA's message>".
inline void check_launch(const std::string& kernel) { check_cuda(cudaGetLastError(), kernel + ": launch failed"); }

// The limits of the current device, asked once per device and kept.
const DeviceLimits& current_device_limits();

void bias_act_forward(cudaStream_t stream, int rows, int cols, const float* bias, bool apply_gelu, float* z, float* a);
void gelu_backward(cudaStream_t stream, long n, const float* da, const float* z, float* dz);
void bias_grad_accumulate(cudaStream_t stream, int rows, int cols, const float* dy, float* gb);
void accumulate(cudaStream_t stream, long n, const float* partial, float* acc);
// The same over a stage's rows grouped by expert, in one launch each (an MoE op would otherwise
// launch them once per expert): rows [offsets[e], offsets[e + 1]) use expert e's bias[e] (and
// accumulate into its gb[e]). offsets (experts + 1 ints, offsets[experts] = rows) and the
// pointer arrays (experts each) are device arrays.
void grouped_bias_act_forward(cudaStream_t stream, int experts, int rows, int cols, const int* offsets,
                              const float* const* bias, bool apply_gelu, float* z, float* a);
void grouped_bias_grad_accumulate(cudaStream_t stream, int experts, int cols, const int* offsets, const float* dy,
                                  float* const* gb);
// dy = y - t, and *loss += 0.5 * sum (y - t)^2 (a fixed grid and order: the same every run, on any GPU).
void squared_error(cudaStream_t stream, long n, const float* y, const float* t, float* dy, double* loss);
void to_bf16(cudaStream_t stream, long n, const float* x, std::uint16_t* out);

// *out = the GPU's global nanosecond timer when the kernel runs: one clock for every context
// and stream on a device.
void global_timer(cudaStream_t stream, unsigned long long* out);

// Copies `bytes` (a multiple of 16) with exactly `sms` blocks, one per SM: the communication
// kernel under a fixed SM budget. With `smids` (device, sms ints) each block writes its SM.
void sm_copy(cudaStream_t stream, void* dst, const void* src, std::size_t bytes, int sms, int* smids = nullptr);

// MoE permutation (see moe_route_ref): offsets (experts + 1) and position (tokens * top_k) are
// written on the device; bad expert indices are counted into *bad (a device int) and get
// position -1, which dispatch and combine skip.
void moe_route(cudaStream_t stream, int tokens, int top_k, int experts, const int* expert_of, int* offsets, int* position,
               int* bad);
// weight may be null (a plain copy; in combine: weights of 1). Weighted dispatch is combine's
// backward, unweighted combine is dispatch's.
void moe_dispatch(cudaStream_t stream, int tokens, int top_k, int hidden, const int* position, const float* weight,
                  const float* x, float* permuted);
void moe_combine(cudaStream_t stream, int tokens, int top_k, int hidden, const int* position, const float* weight,
                 const float* expert_out, float* y);

}  // namespace ppsim::kernels
