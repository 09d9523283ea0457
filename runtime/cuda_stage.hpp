#pragma once
// The runtime's MLP stage (mlp_stage.hpp) on a GPU: the same Linear -> GELU -> Linear and
// squared-error loss, in FP32, with cuBLAS GEMMs and our kernels, on one rank's compute stream.
#include "kernels/gemm.hpp"
#include "runtime/device_tensor.hpp"
#include "runtime/mlp_stage.hpp"
#include "runtime/moe_block.hpp"

#include <vector>

namespace ppsim::runtime {

struct CudaStage {
  DeviceTensor w1, w2, b1, b2;      // hidden x ffn, ffn x hidden, 1 x ffn, 1 x hidden
  DeviceTensor gw1, gw2, gb1, gb2;  // accumulated gradients
};

// A stage on the GPU: one expert (the dense stage) or a small MoE layer (moe_block.hpp) whose
// routing runs through our kernels: moe_route numbers the slots on the device, moe_dispatch
// and moe_combine move tokens to the experts' rows and back. The experts' rows are consecutive
// rows of one tensor, so each expert's GEMMs work in place on its rows, and the bias kernels
// run once for all experts (kernels.hpp's grouped kernels): an op is about two launches per
// expert, not a dozen.
struct CudaBlock {
  std::vector<CudaStage> experts;
  int top_k = 1;
  std::vector<int> offset;          // host: expert e's rows are [offset[e], offset[e+1])
  DeviceArray<int> offset_device;   // the same, for the grouped kernels
  DeviceArray<float*> bias;         // each expert's b1, then its b2, gb1 and gb2 (4 x experts)
  DeviceArray<int> position;        // rows * top_k
  DeviceArray<float> gate;          // rows * top_k
  bool dense() const { return experts.size() == 1 && top_k == 1; }
  int slots() const { return offset.back(); }
  int count() const { return static_cast<int>(experts.size()); }
  float* const* b1() const { return bias.data(); }
  float* const* b2() const { return bias.data() + count(); }
  float* const* gb1() const { return bias.data() + 2 * count(); }
  float* const* gb2() const { return bias.data() + 3 * count(); }
};

// What F keeps for B and B for W, for all of a block's slot rows (grouped by expert).
struct CudaBlockSaved {
  DeviceTensor x, z1, a, dy, dz1;
};

// Host <-> device, with the layout change (Eigen is column-major, the device row-major).
DeviceTensor upload(const Eigen::MatrixXf& m, cudaStream_t stream);
Eigen::MatrixXf download(const DeviceTensor& t, cudaStream_t stream);  // synchronizes `stream`
CudaStage upload_stage(const MlpStage<float>& stage, cudaStream_t stream);
// The block's experts and its routing; checks on the device that moe_route numbered the slots as
// the host's routing does (synchronizes `stream`).
CudaBlock upload_block(const MoeBlock<float>& block, cudaStream_t stream);
MlpStage<float> download_stage(const CudaStage& stage, cudaStream_t stream);

// The stage math of one rank, issued on its compute stream.
class CudaStageMath {
 public:
  CudaStageMath(cudaStream_t stream, int sm_count) : stream_(stream), blas_(stream, sm_count) {}
  cudaStream_t stream() const { return stream_; }
  DeviceTensor forward(const CudaBlock& b, DeviceTensor x, CudaBlockSaved& saved);
  DeviceTensor input_grad(const CudaBlock& b, DeviceTensor dy, CudaBlockSaved& saved);
  void weight_grad(CudaBlock& b, CudaBlockSaved& saved);  // frees what F and B kept
  // dY = y - target, and *loss += 0.5 * |y - target|^2 (loss: a device double).
  DeviceTensor loss_grad(const DeviceTensor& y, const DeviceTensor& target, double* loss);

 private:
  cudaStream_t stream_;
  kernels::Blas blas_;
};

}  // namespace ppsim::runtime
