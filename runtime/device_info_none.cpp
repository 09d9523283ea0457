// probe_devices() for builds without CUDA (PPSIM_CUDA=OFF or no toolkit found).
#include "runtime/device_info.hpp"

namespace ppsim::runtime {

DeviceInfo probe_devices() {
  DeviceInfo info;
  info.note = "this ppsim was built without CUDA (configure with -DPPSIM_CUDA=ON on a machine with the toolkit)";
  return info;
}

}  // namespace ppsim::runtime
