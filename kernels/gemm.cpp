#include "kernels/gemm.hpp"

#include <stdexcept>
#include <string>

#include "kernels/checks.hpp"

namespace ppsim::kernels {

namespace {
void check_blas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(status));
}
}  // namespace

Blas::Blas(cudaStream_t stream) {
  check_blas(cublasCreate(&handle_), "cublasCreate");
  check_blas(cublasSetStream(handle_, stream), "cublasSetStream");
  check_blas(cublasSetMathMode(handle_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");  // FP32 means FP32: no TF32
}

Blas::~Blas() { cublasDestroy(handle_); }

void Blas::gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c) {
  run(ta, tb, m, n, k, alpha, a, b, CUDA_R_32F, beta, c);
}

void Blas::gemm_bf16(bool ta, bool tb, int m, int n, int k, float alpha, const std::uint16_t* a, const std::uint16_t* b,
                     float beta, float* c) {
  run(ta, tb, m, n, k, alpha, a, b, CUDA_R_16BF, beta, c);
}

// cuBLAS is column-major: a row-major C (m x n) is a column-major C^T (n x m), and
// C^T = op(B)^T op(A)^T, so B goes first and each operand keeps its own transpose flag.
void Blas::run(bool ta, bool tb, int m, int n, int k, float alpha, const void* a, const void* b, cudaDataType type,
               float beta, float* c) {
  check_gemm("gemm", m, n, k);
  check_blas(cublasGemmEx(handle_, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, type,
                          tb ? k : n, a, type, ta ? m : k, &beta, c, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
             "cublasGemmEx");
}

}  // namespace ppsim::kernels
