#pragma once
// Row-major GEMMs through cuBLAS: C[m x n] = alpha * op(A) * op(B) + beta * C, as gemm_ref.
// FP32 runs in true FP32 (no TF32); BF16 takes bfloat16 inputs and accumulates and writes FP32.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace ppsim::kernels {

class Blas {
 public:
  // A handle for the current device (and context). sm_count > 0: cuBLAS picks kernels for that
  // many SMs (a green context's share) instead of the whole GPU.
  explicit Blas(cudaStream_t stream, int sm_count = 0);
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;

  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, const float* b, float beta,
            float* c);
  void gemm_bf16(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const std::uint16_t* a,
                 const std::uint16_t* b, float beta, float* c);

 private:
  void run(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const void* a, const void* b, cudaDataType type,
           float beta, float* c);
  cublasHandle_t handle_ = nullptr;
};

}  // namespace ppsim::kernels
