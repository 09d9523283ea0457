// Every kernel of kernels/ on the GPU against its CPU reference (reference.hpp), cuBLAS GEMMs
// in FP32 and BF16, the SM budget of the copy kernel, and refusals before launch.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kernels/gemm.hpp"
#include "kernels/kernels.hpp"
#include "kernels/reference.hpp"

using namespace ppsim::kernels;

namespace {

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

// A device copy of a host vector, freed at scope exit.
template <class T>
struct Device {
  T* p = nullptr;
  std::size_t n = 0;
  explicit Device(const std::vector<T>& host) : n(host.size()) {
    check_cuda(cudaMalloc(reinterpret_cast<void**>(&p), sizeof(T) * n), "cudaMalloc");
    check_cuda(cudaMemcpy(p, host.data(), sizeof(T) * n, cudaMemcpyHostToDevice), "upload");
  }
  explicit Device(std::size_t count) : Device(std::vector<T>(count)) {}
  ~Device() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> host(n);
    check_cuda(cudaMemcpy(host.data(), p, sizeof(T) * n, cudaMemcpyDeviceToHost), "download");
    return host;
  }
};

double max_relative(const std::vector<float>& got, const std::vector<float>& want) {
  double worst = 0, scale = 1e-30;
  for (std::size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(got[i] - want[i])));
    scale = std::max(scale, static_cast<double>(std::abs(want[i])));
  }
  return worst / scale;
}

void device_sync() { check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

}  // namespace

TEST_CASE("bias + GELU forward and backward match the references") {
  const int rows = 37, cols = 129;
  const auto z0 = random_vector(rows * cols, 1), bias = random_vector(cols, 2), da = random_vector(rows * cols, 3);
  for (bool gelu_on : {true, false}) {
    Device<float> z(z0), b(bias), a(z0.size());
    bias_act_forward(nullptr, rows, cols, b.p, gelu_on, z.p, gelu_on ? a.p : nullptr);
    device_sync();
    std::vector<float> zr = z0, ar(z0.size());
    bias_act_forward_ref(rows, cols, bias.data(), gelu_on, zr.data(), ar.data());
    CHECK(max_relative(z.get(), zr) == 0.0);  // one addition: exact
    if (gelu_on) CHECK(max_relative(a.get(), ar) < 1e-6);
  }
  Device<float> dz(z0.size()), dad(da), zd(z0);
  gelu_backward(nullptr, static_cast<long>(z0.size()), dad.p, zd.p, dz.p);
  device_sync();
  std::vector<float> dzr(z0.size());
  gelu_backward_ref(static_cast<long>(z0.size()), da.data(), z0.data(), dzr.data());
  CHECK(max_relative(dz.get(), dzr) < 1e-5);  // tanhf is within 2 ulp on both sides, amplified by gelu'(z)
}

TEST_CASE("bias and weight gradients accumulate as the references do") {
  for (const auto& [rows, cols] : {std::pair{64, 300}, std::pair{1000, 70}}) {  // columns not a multiple of the tile
    CAPTURE(rows);
    const auto dy = random_vector(static_cast<std::size_t>(rows) * cols, 4), start = random_vector(cols, 5);
    const auto part = random_vector(static_cast<std::size_t>(rows) * cols, 6);
    Device<float> dyd(dy), gb(start), acc(dy), partd(part);
    bias_grad_accumulate(nullptr, rows, cols, dyd.p, gb.p);
    bias_grad_accumulate(nullptr, rows, cols, dyd.p, gb.p);
    accumulate(nullptr, static_cast<long>(part.size()), partd.p, acc.p);
    device_sync();
    std::vector<float> gbr = start, accr = dy;
    bias_grad_accumulate_ref(rows, cols, dy.data(), gbr.data());
    bias_grad_accumulate_ref(rows, cols, dy.data(), gbr.data());
    accumulate_ref(static_cast<long>(part.size()), part.data(), accr.data());
    CHECK(max_relative(gb.get(), gbr) < 1e-6);  // 32 partial sums, then their sum: rounding apart
    CHECK(max_relative(acc.get(), accr) == 0.0);
    Device<float> again(start);  // a fixed order: the same bits every run
    bias_grad_accumulate(nullptr, rows, cols, dyd.p, again.p);
    bias_grad_accumulate(nullptr, rows, cols, dyd.p, again.p);
    device_sync();
    CHECK(again.get() == gb.get());
  }
}

TEST_CASE("grouped bias kernels give each expert's rows what the per-expert references give") {
  // Three experts, the middle one without rows: its bias is never read, its gradient untouched.
  const std::vector<int> offsets = {0, 5, 5, 12};
  const int experts = 3, rows = 12, cols = 129;
  const auto z0 = random_vector(rows * cols, 21), dy = random_vector(rows * cols, 22);
  std::vector<std::vector<float>> bias, gb;
  for (int e = 0; e < experts; ++e) {
    bias.push_back(random_vector(cols, 23 + e));
    gb.push_back(random_vector(cols, 33 + e));
  }
  std::vector<std::unique_ptr<Device<float>>> bias_d, gb_d;
  for (int e = 0; e < experts; ++e) {
    bias_d.push_back(std::make_unique<Device<float>>(bias[e]));
    gb_d.push_back(std::make_unique<Device<float>>(gb[e]));
  }
  std::vector<float*> bias_p, gb_p;
  for (int e = 0; e < experts; ++e) {
    bias_p.push_back(bias_d[e]->p);
    gb_p.push_back(gb_d[e]->p);
  }
  Device<int> off(offsets);
  Device<float*> bias_ptrs(bias_p), gb_ptrs(gb_p);
  for (bool gelu_on : {true, false}) {
    Device<float> z(z0), a(z0.size());
    grouped_bias_act_forward(nullptr, experts, rows, cols, off.p, bias_ptrs.p, gelu_on, z.p, gelu_on ? a.p : nullptr);
    device_sync();
    std::vector<float> zr = z0, ar(z0.size());
    for (int e = 0; e < experts; ++e) {
      const long first = static_cast<long>(offsets[e]) * cols;
      if (offsets[e + 1] > offsets[e])
        bias_act_forward_ref(offsets[e + 1] - offsets[e], cols, bias[e].data(), gelu_on, zr.data() + first, ar.data() + first);
    }
    CHECK(max_relative(z.get(), zr) == 0.0);
    if (gelu_on) CHECK(max_relative(a.get(), ar) < 1e-6);
  }
  Device<float> dyd(dy);
  grouped_bias_grad_accumulate(nullptr, experts, cols, off.p, dyd.p, gb_ptrs.p);
  grouped_bias_grad_accumulate(nullptr, experts, cols, off.p, dyd.p, gb_ptrs.p);
  device_sync();
  for (int e = 0; e < experts; ++e) {
    std::vector<float> want = gb[e];
    const int n = offsets[e + 1] - offsets[e];
    for (int twice = 0; twice < 2 && n > 0; ++twice)
      bias_grad_accumulate_ref(n, cols, dy.data() + static_cast<long>(offsets[e]) * cols, want.data());
    CHECK(max_relative(gb_d[e]->get(), want) < 1e-6);  // rounding apart
    if (n == 0) CHECK(gb_d[e]->get() == gb[e]);
  }
}

TEST_CASE("the squared-error loss adds up on the device, the same every run") {
  const long n = 64 * 257;
  const auto y = random_vector(n, 7), t = random_vector(n, 8);
  Device<float> yd(y), td(t), dy(static_cast<std::size_t>(n));
  Device<double> loss(std::vector<double>{1.5});
  squared_error(nullptr, n, yd.p, td.p, dy.p, loss.p);
  squared_error(nullptr, n, yd.p, td.p, dy.p, loss.p);
  device_sync();
  std::vector<float> dyr(static_cast<std::size_t>(n));
  const double want = squared_error_ref(n, y.data(), t.data(), dyr.data());
  CHECK(loss.get()[0] == doctest::Approx(1.5 + 2 * want).epsilon(1e-12));
  CHECK(max_relative(dy.get(), dyr) == 0.0);
}

TEST_CASE("FP32 -> BF16 rounds exactly as the reference") {
  auto x = random_vector(10000, 9);
  x.push_back(1.0f + std::ldexp(1.0f, -8));
  x.push_back(3.4e38f);
  Device<float> xd(x);
  Device<std::uint16_t> out(x.size());
  to_bf16(nullptr, static_cast<long>(x.size()), xd.p, out.p);
  device_sync();
  const auto got = out.get();
  int wrong = 0;
  for (std::size_t i = 0; i < x.size(); ++i) wrong += got[i] != ppsim::kernels::to_bf16(x[i]);
  CHECK(wrong == 0);
}

TEST_CASE("cuBLAS GEMMs match gemm_ref: FP32 (no TF32) and BF16 inputs") {
  const int m = 67, n = 45, k = 129;
  Blas blas(nullptr);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const auto a = random_vector(static_cast<std::size_t>(m) * k, 10), b = random_vector(static_cast<std::size_t>(k) * n, 11);
      const auto c0 = random_vector(static_cast<std::size_t>(m) * n, 12);
      Device<float> ad(a), bd(b), cd(c0);
      blas.gemm(ta, tb, m, n, k, 0.5f, ad.p, bd.p, 2.0f, cd.p);
      device_sync();
      std::vector<float> cr = c0;
      gemm_ref(ta, tb, m, n, k, 0.5f, a.data(), b.data(), 2.0f, cr.data());
      INFO("trans_a=", ta, " trans_b=", tb);
      CHECK(max_relative(cd.get(), cr) < 1e-5);

      // BF16: the reference multiplies the same rounded inputs in FP32.
      std::vector<std::uint16_t> a16(a.size()), b16(b.size());
      std::vector<float> ar(a.size()), br(b.size());
      for (std::size_t i = 0; i < a.size(); ++i) ar[i] = from_bf16(a16[i] = ppsim::kernels::to_bf16(a[i]));
      for (std::size_t i = 0; i < b.size(); ++i) br[i] = from_bf16(b16[i] = ppsim::kernels::to_bf16(b[i]));
      Device<std::uint16_t> a16d(a16), b16d(b16);
      Device<float> c16(static_cast<std::size_t>(m) * n);
      blas.gemm_bf16(ta, tb, m, n, k, 1.0f, a16d.p, b16d.p, 0.0f, c16.p);
      device_sync();
      std::vector<float> c16r(static_cast<std::size_t>(m) * n);
      gemm_ref(ta, tb, m, n, k, 1.0f, ar.data(), br.data(), 0.0f, c16r.data());
      CHECK(max_relative(c16.get(), c16r) < 1e-4);
    }
  CHECK_THROWS_AS(blas.gemm(false, false, 0, 4, 4, 1, nullptr, nullptr, 0, nullptr), std::invalid_argument);
}

TEST_CASE("the SM-limited copy copies every byte on exactly N distinct SMs") {
  const DeviceLimits& limits = current_device_limits();
  const std::size_t bytes = 64u << 20;
  std::vector<float> src(bytes / sizeof(float));
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i % 9973);
  Device<float> from(src), to(src.size());
  for (int sms : {1, 8, std::min(20, limits.sm_count), limits.sm_count}) {
    Device<int> smids(static_cast<std::size_t>(sms));
    check_cuda(cudaMemset(to.p, 0, bytes), "cudaMemset");
    sm_copy(nullptr, to.p, from.p, bytes, sms, smids.p);
    device_sync();
    CHECK(to.get() == src);
    const auto ids = smids.get();
    INFO("sms=", sms);
    CHECK(std::set<int>(ids.begin(), ids.end()).size() == static_cast<std::size_t>(sms));
  }
  CHECK_THROWS_WITH(sm_copy(nullptr, to.p, from.p, bytes, 0), doctest::Contains("sm_copy: sms = 0"));
  CHECK_THROWS_WITH(sm_copy(nullptr, to.p, from.p, 1000, 4), doctest::Contains("a multiple of 16"));
}

TEST_CASE("MoE dispatch and combine match the references, and bad experts are counted") {
  const int tokens = 300, top_k = 2, experts = 16, hidden = 96;
  std::mt19937 rng(13);
  std::vector<int> expert_of(tokens * top_k);
  for (auto& e : expert_of) e = static_cast<int>(rng() % experts);
  const Routing r = moe_route_ref(tokens, top_k, experts, expert_of.data());
  Device<int> ed(expert_of), offsets(static_cast<std::size_t>(experts) + 1), position(expert_of.size()), bad(1);
  moe_route(nullptr, tokens, top_k, experts, ed.p, offsets.p, position.p, bad.p);
  device_sync();
  CHECK(offsets.get() == r.expert_offset);
  CHECK(position.get() == r.position);
  CHECK(bad.get()[0] == 0);

  const auto x = random_vector(static_cast<std::size_t>(tokens) * hidden, 14);
  const auto weight = random_vector(expert_of.size(), 15);
  Device<float> xd(x), permuted(expert_of.size() * hidden), wd(weight), y(x.size());
  moe_dispatch(nullptr, tokens, top_k, hidden, position.p, nullptr, xd.p, permuted.p);
  moe_combine(nullptr, tokens, top_k, hidden, position.p, wd.p, permuted.p, y.p);
  device_sync();
  std::vector<float> pr(expert_of.size() * hidden), yr(x.size());
  moe_dispatch_ref(tokens, top_k, hidden, r.position.data(), nullptr, x.data(), pr.data());
  moe_combine_ref(tokens, top_k, hidden, r.position.data(), weight.data(), pr.data(), yr.data());
  CHECK(permuted.get() == pr);
  CHECK(max_relative(y.get(), yr) < 1e-6);
  // The backward pair: a gate-weighted dispatch (combine's backward), an unweighted combine.
  moe_dispatch(nullptr, tokens, top_k, hidden, position.p, wd.p, xd.p, permuted.p);
  moe_combine(nullptr, tokens, top_k, hidden, position.p, nullptr, permuted.p, y.p);
  device_sync();
  moe_dispatch_ref(tokens, top_k, hidden, r.position.data(), weight.data(), x.data(), pr.data());
  moe_combine_ref(tokens, top_k, hidden, r.position.data(), nullptr, pr.data(), yr.data());
  CHECK(max_relative(permuted.get(), pr) == 0.0);  // one multiplication: exact
  CHECK(max_relative(y.get(), yr) < 1e-6);

  expert_of[5] = experts;
  expert_of[9] = -1;
  Device<int> bad_experts(expert_of);
  moe_route(nullptr, tokens, top_k, experts, bad_experts.p, offsets.p, position.p, bad.p);
  device_sync();
  CHECK(bad.get()[0] == 2);
  const auto bad_positions = position.get();
  CHECK(bad_positions[5] == -1);
  CHECK(bad_positions[9] == -1);
  CHECK_THROWS_WITH(moe_route(nullptr, tokens, 3, 2, ed.p, offsets.p, position.p, bad.p), "moe_route: top_k = 3: allowed 1..2");
}
