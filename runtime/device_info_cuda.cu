// CUDA build of probe_devices(): asks the CUDA runtime and NCCL what is there.
#include <cuda_runtime.h>
#include <nccl.h>

#include "runtime/device_info.hpp"

namespace ppsim::runtime {

namespace {
std::string version_text(int v, int major_div, int minor_div, int minor_mod) {
  return std::to_string(v / major_div) + "." + std::to_string((v / minor_div) % minor_mod);
}
}  // namespace

DeviceInfo probe_devices() {
  DeviceInfo info;
  info.built_with_cuda = true;
  int runtime_version = 0;
  if (cudaRuntimeGetVersion(&runtime_version) == cudaSuccess)
    info.cuda_runtime = version_text(runtime_version, 1000, 10, 100);
  int nccl_version = 0;
  if (ncclGetVersion(&nccl_version) == ncclSuccess)
    info.nccl = std::to_string(nccl_version / 10000) + "." + std::to_string((nccl_version / 100) % 100) + "." +
                std::to_string(nccl_version % 100);
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    info.note = std::string("no usable GPU: ") + cudaGetErrorString(err);
    return info;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) continue;
    info.gpus.push_back({prop.name, prop.multiProcessorCount, prop.major * 10 + prop.minor,
                         static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0)});
  }
  if (info.gpus.empty()) info.note = "no GPU visible to the CUDA runtime";
  return info;
}

}  // namespace ppsim::runtime
