#pragma once
// What GPUs and NCCL this build of ppsim can use (ppsim devices). Built against the CUDA
// runtime and NCCL when PPSIM_CUDA finds them; otherwise reports that it was built without.
#include <string>
#include <vector>

namespace ppsim::runtime {

struct GpuInfo {
  std::string name;
  int sm_count = 0;
  int compute_capability = 0;  // e.g. 90 for Hopper
  double memory_gib = 0;
};

struct DeviceInfo {
  bool built_with_cuda = false;
  std::string cuda_runtime;  // "13.0"
  std::string nccl;          // "2.27.7", empty without NCCL
  std::vector<GpuInfo> gpus;
  std::string note;  // why no GPU is usable, when none is
};

DeviceInfo probe_devices();

}  // namespace ppsim::runtime
