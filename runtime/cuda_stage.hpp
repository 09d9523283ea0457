#pragma once
// The runtime's MLP stage (mlp_stage.hpp) on a GPU: the same Linear -> GELU -> Linear and
// squared-error loss, in FP32, with cuBLAS GEMMs and our kernels, on one rank's compute stream.
#include "kernels/gemm.hpp"
#include "runtime/device_tensor.hpp"
#include "runtime/mlp_stage.hpp"

namespace ppsim::runtime {

struct CudaStage {
  DeviceTensor w1, w2, b1, b2;      // hidden x ffn, ffn x hidden, 1 x ffn, 1 x hidden
  DeviceTensor gw1, gw2, gb1, gb2;  // accumulated gradients
};

struct CudaSaved {
  DeviceTensor x, z1, a, dy, dz1;
};

// Host <-> device, with the layout change (Eigen is column-major, the device row-major).
DeviceTensor upload(const Eigen::MatrixXf& m, cudaStream_t stream);
Eigen::MatrixXf download(const DeviceTensor& t, cudaStream_t stream);  // synchronizes `stream`
CudaStage upload_stage(const MlpStage<float>& stage, cudaStream_t stream);
MlpStage<float> download_stage(const CudaStage& stage, cudaStream_t stream);

// The stage math of one rank, issued on its compute stream.
class CudaStageMath {
 public:
  explicit CudaStageMath(cudaStream_t stream) : stream_(stream), blas_(stream) {}
  cudaStream_t stream() const { return stream_; }
  DeviceTensor forward(const CudaStage& p, DeviceTensor x, CudaSaved& saved);
  DeviceTensor input_grad(const CudaStage& p, DeviceTensor dy, CudaSaved& saved);
  void weight_grad(CudaStage& p, CudaSaved& saved);  // frees what the backward kept
  // dY = y - target, and *loss += 0.5 * |y - target|^2 (loss: a device double).
  DeviceTensor loss_grad(const DeviceTensor& y, const DeviceTensor& target, double* loss);

 private:
  cudaStream_t stream_;
  kernels::Blas blas_;
};

}  // namespace ppsim::runtime
