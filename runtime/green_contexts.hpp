#pragma once
// Single-GPU mode: the GPU's SMs split into equal, disjoint groups, one green context per
// virtual rank (CUDA driver API), so P ranks on one GPU each compute on their own share.
#include <cuda.h>

#include <string>
#include <vector>

namespace ppsim::runtime {

class GreenContexts {
 public:
  // Throws std::runtime_error when the device cannot give `parts` groups (too many ranks for
  // its partition granularity, or a driver without green contexts).
  GreenContexts(int device, int parts);
  ~GreenContexts();
  GreenContexts(const GreenContexts&) = delete;
  GreenContexts& operator=(const GreenContexts&) = delete;

  // Makes group i current on the calling thread (one thread per group at a time).
  void make_current(int i) const;
  // Makes the device's primary context current again on the calling thread.
  void restore() const;
  // A stream whose kernels run only on group i's SMs.
  CUstream create_stream(int i) const;
  int sms_per_group() const { return sms_per_group_; }
  int device_sms() const { return device_sms_; }

 private:
  std::vector<CUgreenCtx> green_;
  std::vector<CUcontext> contexts_;
  CUcontext primary_ = nullptr;
  int sms_per_group_ = 0, device_sms_ = 0;
};

}  // namespace ppsim::runtime
