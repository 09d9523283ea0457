// current_device_limits(): the CUDA runtime's attributes of the current device, kept per device.
#include <deque>
#include <mutex>

#include "kernels/kernels.hpp"

namespace ppsim::kernels {

const DeviceLimits& current_device_limits() {
  static std::mutex mutex;
  // By device ordinal; sm_count 0 = not asked yet. A deque, because growing it keeps the
  // references handed out for other devices valid.
  static std::deque<DeviceLimits> known;
  int device = 0;
  check_cuda(cudaGetDevice(&device), "current_device_limits: cudaGetDevice");
  std::lock_guard lock(mutex);
  if (known.size() <= static_cast<std::size_t>(device)) known.resize(static_cast<std::size_t>(device) + 1);
  DeviceLimits& l = known[static_cast<std::size_t>(device)];
  if (l.sm_count == 0) {
    auto attr = [&](cudaDeviceAttr a) {
      int v = 0;
      check_cuda(cudaDeviceGetAttribute(&v, a, device), "current_device_limits: cudaDeviceGetAttribute");
      return v;
    };
    DeviceLimits q;
    q.max_threads_per_block = attr(cudaDevAttrMaxThreadsPerBlock);
    q.max_grid_x = attr(cudaDevAttrMaxGridDimX);
    q.shared_per_sm = static_cast<std::size_t>(attr(cudaDevAttrMaxSharedMemoryPerMultiprocessor));
    q.shared_per_block_optin = static_cast<std::size_t>(attr(cudaDevAttrMaxSharedMemoryPerBlockOptin));
    q.sm_count = attr(cudaDevAttrMultiProcessorCount);
    l = q;
  }
  return l;
}

}  // namespace ppsim::kernels
