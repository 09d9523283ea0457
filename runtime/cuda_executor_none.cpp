// execute_cuda in a build without CUDA: one clear refusal.
#include <stdexcept>

#include "runtime/cuda_executor.hpp"

namespace ppsim::runtime {

bool cuda_backend_built() { return false; }

namespace {
[[noreturn]] void refuse() {
  throw std::runtime_error("this ppsim was built without CUDA (PPSIM_CUDA=OFF or no nvcc found); rebuild with PPSIM_CUDA=ON");
}
}  // namespace

ExecResult<float> execute_cuda(const sim::Schedule&, const ExecOptions&, const CudaOptions&, CudaRunInfo*) { refuse(); }

ExecResult<float> run_sequential_cuda(int, int, const ExecOptions&, int) { refuse(); }

CudaDistributedResult execute_cuda_distributed(const sim::Schedule&, const ExecOptions&, const CudaOptions&, World&) { refuse(); }

}  // namespace ppsim::runtime
