#include "runtime/green_contexts.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ppsim::runtime {

namespace {

// The driver API through the runtime's entry points, so ppsim never links libcuda itself and
// still starts (and says "no usable GPU") on machines without an NVIDIA driver.
template <class F>
F driver(const char* symbol) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found{};
  if (cudaGetDriverEntryPointByVersion(symbol, &fn, CUDA_VERSION, cudaEnableDefault, &found) != cudaSuccess ||
      found != cudaDriverEntryPointSuccess || fn == nullptr)
    throw std::runtime_error(std::string("green contexts: the driver has no ") + symbol + " (CUDA " +
                             std::to_string(CUDA_VERSION / 1000) + "." + std::to_string(CUDA_VERSION % 1000 / 10) + " API)");
  return reinterpret_cast<F>(fn);
}
#define PPSIM_DRIVER(name) driver<decltype(&name)>(#name)

void check_cu(CUresult r, const char* what) {
  if (r == CUDA_SUCCESS) return;
  const char* text = nullptr;
  PPSIM_DRIVER(cuGetErrorString)(r, &text);
  throw std::runtime_error(std::string("green contexts: ") + what + ": " + (text ? text : "unknown driver error"));
}

}  // namespace

GreenContexts::GreenContexts(int device, int parts) {
  // The caller has made the device's primary context active (cudaFree(nullptr)) first; it is
  // what restore() makes current again.
  check_cu(PPSIM_DRIVER(cuCtxGetCurrent)(&primary_), "cuCtxGetCurrent");
  CUdevice dev;
  check_cu(PPSIM_DRIVER(cuDeviceGet)(&dev, device), "cuDeviceGet");
  CUdevResource all{};
  check_cu(PPSIM_DRIVER(cuDeviceGetDevResource)(dev, &all, CU_DEV_RESOURCE_TYPE_SM), "cuDeviceGetDevResource");
  device_sms_ = static_cast<int>(all.sm.smCount);
  const int align = std::max(1, static_cast<int>(all.sm.smCoscheduledAlignment));
  const int min_size = std::max(align, static_cast<int>(all.sm.minSmPartitionSize));
  // The largest aligned share the driver really splits `parts` ways (cluster rules may give
  // fewer groups than SMs / share): ask for the count first, shrinking the share until it fits.
  const auto split = PPSIM_DRIVER(cuDevSmResourceSplitByCount);
  int share = (device_sms_ / parts) / align * align;
  for (; share >= min_size; share -= align) {
    unsigned int would = static_cast<unsigned int>(parts);  // in: how many we want; out: how many it would make
    if (split(nullptr, &would, &all, nullptr, 0, static_cast<unsigned int>(share)) == CUDA_SUCCESS &&
        would >= static_cast<unsigned int>(parts))
      break;
  }
  if (share < min_size)
    throw std::runtime_error("single-GPU mode: " + std::to_string(parts) + " ranks on " + std::to_string(device_sms_) +
                             " SMs: green contexts need at least " + std::to_string(min_size) + " SMs each (at most " +
                             std::to_string(device_sms_ / min_size) + " ranks)");
  std::vector<CUdevResource> groups(static_cast<std::size_t>(parts));
  unsigned int made = static_cast<unsigned int>(parts);
  CUdevResource remaining{};
  check_cu(split(groups.data(), &made, &all, &remaining, 0, static_cast<unsigned int>(share)), "cuDevSmResourceSplitByCount");
  if (made < static_cast<unsigned int>(parts))
    throw std::runtime_error("single-GPU mode: the driver made " + std::to_string(made) + " SM groups of " +
                             std::to_string(share) + ", " + std::to_string(parts) + " ranks need one each");
  sms_per_group_ = static_cast<int>(groups[0].sm.smCount);
  for (auto& group : groups) {
    CUdevResourceDesc desc;
    check_cu(PPSIM_DRIVER(cuDevResourceGenerateDesc)(&desc, &group, 1), "cuDevResourceGenerateDesc");
    CUgreenCtx green;
    check_cu(PPSIM_DRIVER(cuGreenCtxCreate)(&green, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM), "cuGreenCtxCreate");
    green_.push_back(green);
    CUcontext ctx;
    check_cu(PPSIM_DRIVER(cuCtxFromGreenCtx)(&ctx, green), "cuCtxFromGreenCtx");
    contexts_.push_back(ctx);
  }
}

GreenContexts::~GreenContexts() {
  restore();
  const auto destroy = PPSIM_DRIVER(cuGreenCtxDestroy);
  for (CUgreenCtx g : green_) destroy(g);
}

void GreenContexts::make_current(int i) const { check_cu(PPSIM_DRIVER(cuCtxSetCurrent)(contexts_.at(static_cast<std::size_t>(i))), "cuCtxSetCurrent"); }

void GreenContexts::restore() const {
  if (primary_ != nullptr) PPSIM_DRIVER(cuCtxSetCurrent)(primary_);
}

CUstream GreenContexts::create_stream(int i) const {
  CUstream s;
  check_cu(PPSIM_DRIVER(cuGreenCtxStreamCreate)(&s, green_.at(static_cast<std::size_t>(i)), CU_STREAM_NON_BLOCKING, 0), "cuGreenCtxStreamCreate");
  return s;
}

}  // namespace ppsim::runtime
