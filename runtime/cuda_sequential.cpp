// The sequential reference on one GPU (cuda_executor.hpp): every micro-batch forward through
// all stages, its loss, backward through all stages, on one stream, with the same kernels.
#include <cuda_runtime_api.h>

#include "runtime/cuda_executor.hpp"
#include "runtime/cuda_stage.hpp"

namespace ppsim::runtime {

ExecResult<float> run_sequential_cuda(int stages, int microbatches, const ExecOptions& o, int device) {
  check_options(o);
  kernels::check_cuda(cudaSetDevice(device), "cudaSetDevice");
  cudaStream_t stream = nullptr;
  kernels::check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  ExecResult<float> r;
  try {
    CudaStageMath math(stream, 0);
    std::vector<CudaBlock> blocks;
    for (int st = 0; st < stages; ++st) blocks.push_back(upload_block(initial_block<float>(o, st), stream));
    std::vector<CudaBlockSaved> saved(static_cast<std::size_t>(stages));
    DeviceArray<double> loss(1, stream);
    kernels::check_cuda(cudaMemsetAsync(loss.data(), 0, sizeof(double), stream), "cudaMemsetAsync");
    for (int mb = 0; mb < microbatches; ++mb) {
      DeviceTensor x = upload(microbatch_data<float>(o, mb, false), stream);
      for (int st = 0; st < stages; ++st) x = math.forward(blocks[st], std::move(x), saved[st]);
      const DeviceTensor target = upload(microbatch_data<float>(o, mb, true), stream);
      DeviceTensor dy = math.loss_grad(x, target, loss.data());
      for (int st = stages - 1; st >= 0; --st) {
        dy = math.input_grad(blocks[st], std::move(dy), saved[st]);
        math.weight_grad(blocks[st], saved[st]);
      }
    }
    double h = 0;
    kernels::check_cuda(cudaMemcpyAsync(&h, loss.data(), sizeof h, cudaMemcpyDeviceToHost, stream), "download loss");
    kernels::check_cuda(cudaStreamSynchronize(stream), "the sequential run on the GPU");
    r.loss = static_cast<float>(h);
    for (const CudaBlock& b : blocks)
      for (const CudaStage& e : b.experts) r.stages.push_back(download_stage(e, stream));
  } catch (...) {
    cudaStreamSynchronize(stream);
    cudaStreamDestroy(stream);
    throw;
  }
  kernels::check_cuda(cudaStreamSynchronize(stream), "the sequential run on the GPU");
  cudaStreamDestroy(stream);
  return r;
}

}  // namespace ppsim::runtime
