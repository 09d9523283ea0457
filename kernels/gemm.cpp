#include "kernels/gemm.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

#include "kernels/checks.hpp"

namespace ppsim::kernels {

namespace {

// cuBLAS is opened on first use rather than linked: loading it costs every process about
// 0.16 s, and most ppsim commands never touch a GPU.
struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasDestroy_v2) destroy;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasGetStatusString) status_string;
  decltype(&cublasSetSmCountTarget) set_sm_count_target;
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*,
                            cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int,
                            cublasComputeType_t, cublasGemmAlgo_t);
};

const CublasApi& cublas() {
  static const CublasApi api = [] {
    const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) throw std::runtime_error("cuBLAS: cannot load " + name + ": " + dlerror());
    auto symbol = [&](const char* sym) {
      void* fn = dlsym(lib, sym);
      if (fn == nullptr) throw std::runtime_error("cuBLAS: " + name + " has no " + sym);
      return fn;
    };
    CublasApi a;
    a.create = reinterpret_cast<decltype(a.create)>(symbol("cublasCreate_v2"));
    a.destroy = reinterpret_cast<decltype(a.destroy)>(symbol("cublasDestroy_v2"));
    a.set_stream = reinterpret_cast<decltype(a.set_stream)>(symbol("cublasSetStream_v2"));
    a.status_string = reinterpret_cast<decltype(a.status_string)>(symbol("cublasGetStatusString"));
    a.set_sm_count_target = reinterpret_cast<decltype(a.set_sm_count_target)>(symbol("cublasSetSmCountTarget"));
    a.gemm_ex = reinterpret_cast<decltype(a.gemm_ex)>(symbol("cublasGemmEx"));
    return a;
  }();
  return api;
}

void check_blas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": " + cublas().status_string(status));
}

}  // namespace

Blas::Blas(cudaStream_t stream, int sm_count) {
  check_blas(cublas().create(&handle_), "cublasCreate");
  check_blas(cublas().set_stream(handle_, stream), "cublasSetStream");
  if (sm_count > 0) check_blas(cublas().set_sm_count_target(handle_, sm_count), "cublasSetSmCountTarget");
}

Blas::~Blas() {
  if (handle_ != nullptr) cublas().destroy(handle_);
}

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
  check_blas(cublas().gemm_ex(handle_, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, type,
                          tb ? k : n, a, type, ta ? m : k, &beta, c, CUDA_R_32F, n,
                          // FP32 means FP32: the pedantic compute type rules out TF32 and reduced-precision tricks.
                          type == CUDA_R_32F ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
             "cublasGemmEx");
}

}  // namespace ppsim::kernels
