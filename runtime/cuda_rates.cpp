#include "runtime/cuda_rates.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "kernels/gemm.hpp"
#include "kernels/kernels.hpp"
#include "runtime/cuda_stage.hpp"
#include "runtime/device_tensor.hpp"
#include "runtime/green_contexts.hpp"

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

// GEMM repetitions for two GEMMs of `two` FLOP together: about 1 ms at 10 TFLOP/s.
int gemm_reps(double two) { return std::clamp(static_cast<int>(1e10 / two), 3, 500); }

// The stage's F GEMM (x W1) queued again and again on one partition's stream.
class GemmLoad {
 public:
  GemmLoad(const ExecOptions& o, cudaStream_t stream, int sm_count)
      : blas_(stream, sm_count),
        x_(upload(Eigen::MatrixXf::Random(expert_rows(o), o.hidden), stream)),
        w_(upload(Eigen::MatrixXf::Random(o.hidden, o.ffn), stream)),
        out_(expert_rows(o), o.ffn, stream) {}
  void queue(int gemms) {
    for (int i = 0; i < gemms; ++i) blas_.gemm(false, false, x_.rows(), w_.cols(), x_.cols(), 1, x_.data(), w_.data(), 0, out_.data());
  }

 private:
  kernels::Blas blas_;
  DeviceTensor x_, w_, out_;
};

// One partition's load: its stream, made and drained and destroyed in its own green context.
class PartitionLoad {
 public:
  PartitionLoad(GreenContexts& green, int part, const ExecOptions& o, int sm_count) : green_(green), part_(part) {
    green_.make_current(part_);
    stream_ = green_.create_stream(part_);
    try {
      load_.emplace(o, stream_, sm_count);
    } catch (...) {
      cudaStreamDestroy(stream_);
      throw;
    }
  }
  ~PartitionLoad() {
    try {
      green_.make_current(part_);
    } catch (...) {  // a destructor must not throw: drain from whatever context is current
    }
    load_.reset();
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
  PartitionLoad(const PartitionLoad&) = delete;
  PartitionLoad& operator=(const PartitionLoad&) = delete;
  void queue(int gemms) {
    green_.make_current(part_);
    load_->queue(gemms);
  }

 private:
  GreenContexts& green_;
  int part_;
  cudaStream_t stream_ = nullptr;
  std::optional<GemmLoad> load_;
};

// measure_gpu_rates on a stream of rank 0's partition (or of the whole GPU).
KernelRates measure_on_rank0(const ExecOptions& o, GreenContexts* green, int sms_per_rank) {
  if (green) green->make_current(0);
  cudaStream_t stream = nullptr;
  if (green) stream = green->create_stream(0);
  else kernels::check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  try {
    const KernelRates r = measure_gpu_rates(o, stream, sms_per_rank);
    cudaStreamDestroy(stream);
    return r;
  } catch (...) {
    cudaStreamSynchronize(stream);
    cudaStreamDestroy(stream);
    throw;
  }
}

}  // namespace

GpuRates measure_gpu_rates(const ExecOptions& o, GreenContexts* green, int ranks, int sms_per_rank) {
  GpuRates r;
  r.alone = r.loaded = measure_on_rank0(o, green, sms_per_rank);
  if (green != nullptr && ranks > 1) {
    // Enough GEMMs on every other partition to outlast the second measurement even if the load
    // slowed it fourfold: its GEMMs' time alone, plus 50 ms for the rest and the set-up. They
    // are queued up front, the partitions in turn, 64 at a time: at model sizes a few hundred
    // GEMMs each, well within CUDA's launch queue; for GEMMs of microseconds the queue fills and
    // the host waits, but every partition then holds the same queued work, so none runs dry
    // first. Even so the load may end before the measurement does (it is then lighter).
    const double two = 4.0 * expert_rows(o) * o.hidden * o.ffn;
    const double measuring_ns = 3.0 * (gemm_reps(two) + 1) * two / r.alone.gemm_gflops + 50e6;
    const int gemms = static_cast<int>(std::clamp(std::ceil(4 * measuring_ns / (two / 2 / r.alone.gemm_gflops_f)), 1.0, 1e6));
    std::vector<std::unique_ptr<PartitionLoad>> loads;
    try {
      for (int part = 1; part < ranks; ++part) loads.push_back(std::make_unique<PartitionLoad>(*green, part, o, sms_per_rank));
      constexpr int kChunk = 64;
      for (int queued = 0; queued < gemms; queued += kChunk)
        for (auto& load : loads) load->queue(std::min(kChunk, gemms - queued));
      r.loaded = measure_on_rank0(o, green, sms_per_rank);
    } catch (...) {
      loads.clear();
      green->restore();
      throw;
    }
    loads.clear();  // drains the rest of the load
    r.busy_partitions = ranks - 1;
  }
  if (green) green->restore();
  return r;
}

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
    for (const DeviceTensor* t : {&out_fh, &out_hf})  // W accumulates into them
      kernels::check_cuda(cudaMemsetAsync(t->data(), 0, t->bytes(), stream), "cudaMemsetAsync");
    // Each pass's two GEMMs (cuda_stage.cpp), at the shapes one expert's rows give.
    const double two = 4.0 * m * h * f;
    const int reps = gemm_reps(two);
    const double f_ns = per_call_ns(stream, reps, [&] {
      blas.gemm(false, false, m, f, h, 1, x.data(), w1.data(), 0, out_mf.data());
      blas.gemm(false, false, m, h, f, 1, z.data(), w2.data(), 0, out_mh.data());
    });
    const double bi_ns = per_call_ns(stream, reps, [&] {
      blas.gemm(false, true, m, f, h, 1, dy.data(), w2.data(), 0, out_mf.data());
      blas.gemm(false, true, m, h, f, 1, z.data(), w1.data(), 0, out_mh.data());
    });
    const double w_ns = per_call_ns(stream, reps, [&] {
      blas.gemm(true, false, f, h, m, 1, z.data(), dy.data(), 1, out_fh.data());  // into the gradients
      blas.gemm(true, false, h, f, m, 1, x.data(), z.data(), 1, out_hf.data());
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
