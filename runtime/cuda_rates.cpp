#include "runtime/cuda_rates.hpp"

#include <algorithm>

#include "kernels/gemm.hpp"
#include "kernels/kernels.hpp"
#include "runtime/cuda_stage.hpp"
#include "runtime/device_tensor.hpp"

namespace ppsim::runtime {

namespace {

// GPU time per call of `f` over `reps` calls in a row, after one call that loads the kernels
// (and lets cuBLAS pick its kernel for the shape), in ns.
template <class F>
double per_call_ns(cudaStream_t stream, int reps, F&& f) {
  f();
  Event begin(true), end(true);
  begin.record(stream);
  for (int i = 0; i < reps; ++i) f();
  end.record(stream);
  kernels::check_cuda(cudaEventSynchronize(end.get()), "cudaEventSynchronize");
  float ms = 0;
  kernels::check_cuda(cudaEventElapsedTime(&ms, begin.get(), end.get()), "cudaEventElapsedTime");
  return std::max(1.0, static_cast<double>(ms) * 1e6 / reps);
}

}  // namespace

KernelRates measure_gpu_rates(const ExecOptions& o, cudaStream_t stream, int sm_count) {
  const int m = expert_rows(o), h = o.hidden, f = o.ffn;
  KernelRates r;
  {
    kernels::Blas blas(stream, sm_count);
    // Random data: cuBLAS runs measurably faster on zeros.
    const DeviceTensor x = upload(Eigen::MatrixXf::Random(m, h), stream), w1 = upload(Eigen::MatrixXf::Random(h, f), stream),
                       w2 = upload(Eigen::MatrixXf::Random(f, h), stream), z = upload(Eigen::MatrixXf::Random(m, f), stream),
                       dy = upload(Eigen::MatrixXf::Random(m, h), stream), b1 = upload(Eigen::MatrixXf::Random(1, f), stream);
    DeviceTensor out_mf(m, f, stream), act(m, f, stream), out_mh(m, h, stream), out_fh(f, h, stream), out_hf(h, f, stream);
    // Each pass's two GEMMs (cuda_stage.cpp), at the shapes one expert's rows give.
    const double two = 4.0 * m * h * f;
    const int gemm_reps = std::clamp(static_cast<int>(1e10 / two), 3, 500);  // about 1 ms each at 10 TFLOP/s
    const double f_ns = per_call_ns(stream, gemm_reps, [&] {
      blas.gemm(false, false, m, f, h, 1, x.data(), w1.data(), 0, out_mf.data());
      blas.gemm(false, false, m, h, f, 1, z.data(), w2.data(), 0, out_mh.data());
    });
    const double bi_ns = per_call_ns(stream, gemm_reps, [&] {
      blas.gemm(false, true, m, f, h, 1, dy.data(), w2.data(), 0, out_mf.data());
      blas.gemm(false, true, m, h, f, 1, z.data(), w1.data(), 0, out_mh.data());
    });
    const double w_ns = per_call_ns(stream, gemm_reps, [&] {
      blas.gemm(true, false, f, h, m, 1, z.data(), dy.data(), 0, out_fh.data());
      blas.gemm(true, false, h, f, m, 1, x.data(), z.data(), 0, out_hf.data());
    });
    r.gemm_gflops_f = two / f_ns;
    r.gemm_gflops_bi = two / bi_ns;
    r.gemm_gflops_w = two / w_ns;
    r.gemm_gflops = 3 * two / (f_ns + bi_ns + w_ns);
    const double elements = static_cast<double>(m) * f;
    r.activation_ns = per_call_ns(stream, 20, [&] {
                        kernels::bias_act_forward(stream, m, f, b1.data(), true, out_mf.data(), act.data());
                      }) / elements;
    r.activation_grad_ns = per_call_ns(stream, 20, [&] {
                             kernels::gelu_backward(stream, m * static_cast<long>(f), z.data(), out_mf.data(), act.data());
                           }) / elements;
    // Memory through the SMs: a sum over 64 MB (two reads and a write per element).
    const long n = 16L << 20;
    DeviceTensor big_a(static_cast<int>(n / 1024), 1024, stream), big_b(static_cast<int>(n / 1024), 1024, stream);
    kernels::check_cuda(cudaMemsetAsync(big_a.data(), 0, big_a.bytes(), stream), "cudaMemsetAsync");
    kernels::check_cuda(cudaMemsetAsync(big_b.data(), 0, big_b.bytes(), stream), "cudaMemsetAsync");
    r.copy_gbps = 12.0 * static_cast<double>(n) /
                  per_call_ns(stream, 10, [&] { kernels::accumulate(stream, n, big_a.data(), big_b.data()); });
    // One small kernel in a stream: what every launch costs at least.
    r.launch_ns = per_call_ns(stream, 200, [&] { kernels::accumulate(stream, 1, big_a.data(), big_b.data()); });
  }
  kernels::check_cuda(cudaStreamSynchronize(stream), "measure_gpu_rates");  // the frees above
  return r;
}

}  // namespace ppsim::runtime
