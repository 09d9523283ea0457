#include "runtime/predict.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sched.h>
#include <thread>

namespace ppsim::runtime {

namespace {

// The fastest of `reps` timed runs (after one warm-up), in ns.
template <class F>
double best_ns(int reps, F&& f) {
  f();
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
  }
  return std::max(best, 1.0);
}

std::filesystem::path cache_file() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::filesystem::path base = xdg && *xdg ? xdg : home && *home ? std::filesystem::path(home) / ".cache" : "";
  return base.empty() ? "" : base / "ppsim" / "cpu-rates.json";
}

std::string cache_key(const ExecOptions& o, int scalar_bytes) {
  return std::to_string(scalar_bytes) + "/" + std::to_string(expert_rows(o)) + "x" + std::to_string(o.hidden) + "x" +
         std::to_string(o.ffn);
}

}  // namespace

int expert_rows(const ExecOptions& o) { return std::max(1, (o.rows * o.top_k + o.experts / 2) / o.experts); }

template <class S>
KernelRates measure_cpu_rates(const ExecOptions& o) {
  const std::string key = cache_key(o, sizeof(S));
  const std::filesystem::path file = cache_file();
  nlohmann::json cache = nlohmann::json::object();
  if (!file.empty()) {
    std::ifstream in(file);
    try {
      if (in) cache = nlohmann::json::parse(in);
    } catch (const std::exception&) {
      cache = nlohmann::json::object();  // a damaged cache is measured again
    }
    if (cache.is_object() && cache.contains(key) && cache[key].is_object()) {
      const auto& c = cache[key];
      KernelRates r{c.value("gemm_gflops", 0.0), c.value("activation_ns", 0.0), c.value("activation_grad_ns", 0.0),
                 c.value("copy_gbps", 0.0), 0, true};
      if (r.gemm_gflops > 0 && r.activation_ns > 0 && r.activation_grad_ns > 0 && r.copy_gbps > 0) return r;
    }
  }
  using Matrix = typename MlpStage<S>::Matrix;
  const int m = expert_rows(o), h = o.hidden, f = o.ffn;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto random = [&](int rows, int cols) {
    Matrix x(rows, cols);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<S>(normal(rng));
    return x;
  };
  const Matrix x = random(m, h), w1 = random(h, f), w2 = random(f, h), a = random(m, f), dy = random(m, h), z = random(m, f);
  Matrix out;
  // Enough repetitions for about 20 ms of each kind of work at these shapes.
  const double one_gemm = 2.0 * m * h * f;
  const int reps = std::clamp(static_cast<int>(2e7 / std::max(one_gemm, 1.0)), 3, 2000);
  const double gemm_ns = best_ns(reps, [&] { out.noalias() = x * w1; }) + best_ns(reps, [&] { out.noalias() = a * w2; }) +
                         best_ns(reps, [&] { out.noalias() = dy * w2.transpose(); }) +
                         best_ns(reps, [&] { out.noalias() = a * w1.transpose(); }) +
                         best_ns(reps, [&] { out.noalias() = a.transpose() * dy; }) +
                         best_ns(reps, [&] { out.noalias() = x.transpose() * z; });
  KernelRates r;
  r.gemm_gflops = 6 * one_gemm / gemm_ns;
  const double elements = static_cast<double>(m) * f;
  r.activation_ns = best_ns(reps, [&] { out = z.unaryExpr([](S v) { return gelu(v); }); }) / elements;
  r.activation_grad_ns = best_ns(reps, [&] { out = a.cwiseProduct(z.unaryExpr([](S v) { return gelu_grad(v); })); }) / elements;
  // Memory: a copy that leaves the caches (at least 32 MB each way).
  const Eigen::Index n = std::max<Eigen::Index>(static_cast<Eigen::Index>(m) * f, (32 << 20) / static_cast<Eigen::Index>(sizeof(S)));
  const Matrix big = Matrix::Constant(n, 1, static_cast<S>(1));
  Matrix copy;
  r.copy_gbps = 2.0 * static_cast<double>(n) * sizeof(S) / best_ns(3, [&] { copy = big; });
  if (!file.empty()) {
    cache[key] = {{"gemm_gflops", r.gemm_gflops}, {"activation_ns", r.activation_ns},
                  {"activation_grad_ns", r.activation_grad_ns}, {"copy_gbps", r.copy_gbps}};
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    const std::filesystem::path tmp = file.string() + "." + std::to_string(std::random_device{}());
    std::ofstream(tmp) << cache.dump(1) << "\n";
    std::filesystem::rename(tmp, file, ec);  // a cache that cannot be written is measured again next time
    if (ec) std::filesystem::remove(tmp, ec);
  }
  return r;
}

OpWork stage_work(const ExecOptions& o, int scalar_bytes) {
  // Per expert (m rows of its tokens), summed over the experts; MoE adds the dispatch and
  // combine copies of every token's top-k slots.
  const double m = expert_rows(o), h = o.hidden, f = o.ffn, e = o.experts, sb = scalar_bytes;
  const double gemms = 2 * (2 * m * h * f) * e;  // two GEMMs per pass
  OpWork w;
  // Launches (cuda_stage.cpp): two GEMMs per expert and per pass, and kernels over all
  // experts' rows at once. F: x*w1 + b1, GELU, a*w2 + b2; keeps x, z1, a; two bias kernels.
  w.f = {gemms, m * f * e, sb * e * (3 * m * f + 4 * m * h), 2 * e + 2};
  // Bi: dy*w2^T, GELU'(z1) . da, dz1*w1^T; keeps dy, dz1; the GELU' kernel.
  w.bi = {gemms, m * f * e, sb * e * (4 * m * f + 3 * m * h), 2 * e + 1};
  // W: a^T*dy, x^T*dz1 into the gradients, and the bias sums; two bias-sum kernels.
  w.w = {gemms, 0, sb * e * (2 * m * f + 2 * m * h + 2 * h * f), 2 * e + 2};
  if (o.experts > 1 || o.top_k > 1) {
    const double slots = static_cast<double>(o.rows) * o.top_k * h * sb;
    w.f.bytes += 4 * slots;   // dispatch and combine, read and write
    w.bi.bytes += 4 * slots;  // their transposes
    w.f.kernels += 2;  // dispatch and combine
    w.bi.kernels += 2;
  }
  return w;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

double core_share(int ranks) { return std::max(1.0, static_cast<double>(ranks) / available_cores()); }

int shared_cores_for(int ranks) {
  const int cores = available_cores();
  return ranks > cores ? cores : 0;
}

sim::StageCost predict_stage_cost(const ExecOptions& o, const KernelRates& r, int scalar_bytes, double share) {
  const OpWork w = stage_work(o, scalar_bytes);
  auto ns = [&](const StageWork& s, double gemm_gflops, double act_ns) {
    const double gflops = gemm_gflops > 0 ? gemm_gflops : r.gemm_gflops;
    return share * (s.gemm_flops / gflops + s.activation_elements * act_ns + s.bytes / r.copy_gbps + s.kernels * r.launch_ns);
  };
  sim::StageCost c;
  c.f = static_cast<sim::Time>(ns(w.f, r.gemm_gflops_f, r.activation_ns));
  const auto bi = static_cast<sim::Time>(ns(w.bi, r.gemm_gflops_bi, r.activation_grad_ns));
  c.w = static_cast<sim::Time>(ns(w.w, r.gemm_gflops_w, 0));
  c.b = bi + c.w;
  c.fb = c.f + c.b;
  return c;
}

template KernelRates measure_cpu_rates<float>(const ExecOptions&);
template KernelRates measure_cpu_rates<double>(const ExecOptions&);

}  // namespace ppsim::runtime
