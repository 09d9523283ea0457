// execute_cuda in a build without CUDA: one clear refusal.
#include <stdexcept>

#include "runtime/cuda_executor.hpp"

namespace ppsim::runtime {

bool cuda_backend_built() { return false; }

ExecResult<float> execute_cuda(const sim::Schedule&, const ExecOptions&, const CudaOptions&, CudaRunInfo*) {
  throw std::runtime_error("this ppsim was built without CUDA (PPSIM_CUDA=OFF or no nvcc found); rebuild with PPSIM_CUDA=ON");
}

}  // namespace ppsim::runtime
