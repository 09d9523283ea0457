// The communication kernel under a fixed SM budget (DeepSeek-V3 gives its all-to-all 20 of 132
// SMs): exactly `sms` blocks, each reserving more than half an SM's shared memory, so no SM
// holds two and the copy occupies at most `sms` SMs while compute keeps the rest.
#include <cstdint>

#include "kernels/kernels.hpp"

namespace ppsim::kernels {

namespace {

__global__ void sm_copy_kernel(uint4* dst, const uint4* src, std::size_t vectors, int* smids) {
  extern __shared__ unsigned char reserved[];  // never read: it only keeps other copy blocks off this SM
  if (smids != nullptr && threadIdx.x == 0) {
    unsigned smid;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(smid));
    smids[blockIdx.x] = static_cast<int>(smid);
    reserved[0] = 0;
  }
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < vectors; i += stride)
    dst[i] = src[i];
}

__global__ void global_timer_kernel(unsigned long long* out) {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  *out = t;
}

}  // namespace

void global_timer(cudaStream_t stream, unsigned long long* out) {
  global_timer_kernel<<<1, 1, 0, stream>>>(out);
  check_launch("global_timer");
}

void sm_copy(cudaStream_t stream, void* dst, const void* src, std::size_t bytes, int sms, int* smids) {
  const LaunchShape l = plan_sm_copy(bytes, sms, current_device_limits());
  check_cuda(cudaFuncSetAttribute(sm_copy_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.shared_bytes)),
             "sm_copy: cudaFuncSetAttribute");
  sm_copy_kernel<<<l.blocks, l.threads, l.shared_bytes, stream>>>(static_cast<uint4*>(dst), static_cast<const uint4*>(src),
                                                                   bytes / 16, smids);
  check_launch("sm_copy");
}

}  // namespace ppsim::kernels
