// MoE dispatch and combine on one GPU: tokens to their experts' contiguous rows and back,
// in the order moe_route_ref defines (experts in order, slots in token order within one).
#include "kernels/kernels.hpp"

namespace ppsim::kernels {

namespace {

// One block, one thread per expert: count, prefix-sum, then each expert numbers its own slots
// in token order. Small MoE stages only (experts <= threads per block).
__global__ void moe_route_kernel(long slots, int experts, const int* expert_of, int* offsets, int* position, int* bad) {
  extern __shared__ int count[];
  const int e = static_cast<int>(threadIdx.x);
  if (e < experts) {
    int c = 0;
    for (long i = 0; i < slots; ++i) c += expert_of[i] == e;
    count[e] = c;
  }
  __syncthreads();
  if (e == 0) {
    int sum = 0, out_of_range = 0;
    for (int x = 0; x < experts; ++x) {
      offsets[x] = sum;
      sum += count[x];
    }
    offsets[experts] = sum;
    for (long i = 0; i < slots; ++i)
      if (expert_of[i] < 0 || expert_of[i] >= experts) {
        position[i] = -1;  // dispatch and combine skip it
        ++out_of_range;
      }
    *bad = out_of_range;
  }
  __syncthreads();
  if (e < experts) {
    int next = offsets[e];
    for (long i = 0; i < slots; ++i)
      if (expert_of[i] == e) position[i] = next++;
  }
}

// One block per (token, slot): its row goes to its expert's row.
__global__ void moe_dispatch_kernel(long slots, int top_k, int hidden, const int* position, const float* weight,
                                    const float* x, float* permuted) {
  for (long s = blockIdx.x; s < slots; s += gridDim.x) {
    if (position[s] < 0) continue;  // routed to no expert (moe_route counted it as bad)
    const float* from = x + (s / top_k) * hidden;
    float* to = permuted + static_cast<long>(position[s]) * hidden;
    if (weight == nullptr)
      for (int h = static_cast<int>(threadIdx.x); h < hidden; h += blockDim.x) to[h] = from[h];
    else
      for (int h = static_cast<int>(threadIdx.x); h < hidden; h += blockDim.x) to[h] = weight[s] * from[h];
  }
}

// One block per token: the weighted sum of its slots' expert rows, slots in order.
__global__ void moe_combine_kernel(int tokens, int top_k, int hidden, const int* position, const float* weight,
                                   const float* expert_out, float* y) {
  for (long i = blockIdx.x; i < tokens; i += gridDim.x)
    for (int h = static_cast<int>(threadIdx.x); h < hidden; h += blockDim.x) {
      float sum = 0;
      for (int s = 0; s < top_k; ++s) {
        const int row = position[i * top_k + s];
        if (row >= 0) sum += (weight ? weight[i * top_k + s] : 1.0f) * expert_out[static_cast<long>(row) * hidden + h];
      }
      y[i * hidden + h] = sum;
    }
}

}  // namespace

void moe_route(cudaStream_t stream, int tokens, int top_k, int experts, const int* expert_of, int* offsets, int* position,
               int* bad) {
  check_moe("moe_route", tokens, top_k, experts, 1, current_device_limits());
  const int threads = ((experts + 31) / 32) * 32;
  moe_route_kernel<<<1, threads, sizeof(int) * static_cast<std::size_t>(experts), stream>>>(
      static_cast<long>(tokens) * top_k, experts, expert_of, offsets, position, bad);
  check_launch("moe_route");
}

void moe_dispatch(cudaStream_t stream, int tokens, int top_k, int hidden, const int* position, const float* weight,
                  const float* x, float* permuted) {
  const DeviceLimits& limits = current_device_limits();
  check_moe("moe_dispatch", tokens, top_k, top_k, hidden, limits);
  const LaunchShape l = plan_rows("moe_dispatch", static_cast<long>(tokens) * top_k, hidden, limits);
  moe_dispatch_kernel<<<l.blocks, l.threads, 0, stream>>>(static_cast<long>(tokens) * top_k, top_k, hidden, position,
                                                          weight, x, permuted);
  check_launch("moe_dispatch");
}

void moe_combine(cudaStream_t stream, int tokens, int top_k, int hidden, const int* position, const float* weight,
                 const float* expert_out, float* y) {
  const DeviceLimits& limits = current_device_limits();
  check_moe("moe_combine", tokens, top_k, top_k, hidden, limits);
  const LaunchShape l = plan_rows("moe_combine", tokens, hidden, limits);
  moe_combine_kernel<<<l.blocks, l.threads, 0, stream>>>(tokens, top_k, hidden, position, weight, expert_out, y);
  check_launch("moe_combine");
}

}  // namespace ppsim::kernels
