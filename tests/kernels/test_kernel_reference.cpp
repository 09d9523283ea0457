// The CPU references of kernels/ (checked here on every machine, and against the GPU kernels
// in test_kernels_gpu.cpp) and the host-side launch checks that guard every launch.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/checks.hpp"
#include "kernels/reference.hpp"
#include "runtime/mlp_stage.hpp"
#include "runtime/moe_block.hpp"

using namespace ppsim::kernels;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {
RowMatrix random_matrix(int rows, int cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  RowMatrix m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m(i, j) = normal(rng);
  return m;
}
float max_abs_diff(const RowMatrix& a, const RowMatrix& b) { return (a - b).cwiseAbs().maxCoeff(); }
}  // namespace

TEST_CASE("gemm_ref computes alpha * op(A) * op(B) + beta * C for every transpose") {
  const int m = 5, n = 7, k = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const RowMatrix a = ta ? random_matrix(k, m, 1) : random_matrix(m, k, 1);
      const RowMatrix b = tb ? random_matrix(n, k, 2) : random_matrix(k, n, 2);
      RowMatrix c = random_matrix(m, n, 3);
      const RowMatrix opa = ta ? RowMatrix(a.transpose()) : a;
      const RowMatrix opb = tb ? RowMatrix(b.transpose()) : b;
      const RowMatrix expected = 0.5f * opa * opb + 2.0f * c;
      gemm_ref(ta, tb, m, n, k, 0.5f, a.data(), b.data(), 2.0f, c.data());
      INFO("trans_a=", ta, " trans_b=", tb);
      CHECK(max_abs_diff(c, expected) < 1e-5f);
    }
  // beta = 0 ignores what C held, even NaN, as cuBLAS does.
  RowMatrix c = RowMatrix::Constant(m, n, NAN);
  const RowMatrix a = random_matrix(m, k, 4), b = random_matrix(k, n, 5);
  gemm_ref(false, false, m, n, k, 1.0f, a.data(), b.data(), 0.0f, c.data());
  CHECK(max_abs_diff(c, a * b) < 1e-5f);
}

TEST_CASE("bfloat16 rounds to nearest, ties to even") {
  CHECK(to_bf16(1.0f) == 0x3F80);
  CHECK(to_bf16(-2.0f) == 0xC000);
  CHECK(to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);      // halfway, rounds to the even 1.0
  CHECK(to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);  // halfway, rounds up to even
  CHECK(to_bf16(1.0f + std::ldexp(1.0f, -7)) == 0x3F81);      // exact
  CHECK(std::isinf(from_bf16(to_bf16(3.4e38f))));             // past the largest bfloat16
  CHECK(std::isnan(from_bf16(to_bf16(NAN))));
  for (float x : {0.1f, -3.7f, 1234.5f, 1e-20f}) CHECK(std::abs(from_bf16(to_bf16(x)) - x) <= std::abs(x) * 0.004f);
}

TEST_CASE("gelu_grad is the derivative of gelu") {
  for (float z = -4.0f; z <= 4.0f; z += 0.25f) {
    const double h = 1e-3;
    const double numeric = (gelu(static_cast<float>(z + h)) - gelu(static_cast<float>(z - h))) / (2 * h);
    INFO("z=", z);
    CHECK(gelu_grad(z) == doctest::Approx(numeric).epsilon(2e-3));
  }
}

TEST_CASE("composed, the references are the runtime's MLP stage: forward, input grad and weight grads") {
  const int rows = 6, hidden = 8, ffn = 12;
  using Stage = ppsim::runtime::MlpStage<float>;
  Stage stage = Stage::init(hidden, ffn, 42);
  const Eigen::MatrixXf x = random_matrix(rows, hidden, 6), dy = random_matrix(rows, hidden, 7);
  Stage::Saved saved;
  const Eigen::MatrixXf y = stage.forward(x, saved);
  const Eigen::MatrixXf dx = stage.input_grad(dy, saved);
  stage.weight_grad(saved);

  // The same stage on row-major buffers with the kernels' references.
  const RowMatrix xr = x, w1 = stage.w1, w2 = stage.w2, dyr = dy;
  const std::vector<float> b1(stage.b1.data(), stage.b1.data() + ffn), b2(stage.b2.data(), stage.b2.data() + hidden);
  RowMatrix z1(rows, ffn), a(rows, ffn), yr(rows, hidden);
  gemm_ref(false, false, rows, ffn, hidden, 1, xr.data(), w1.data(), 0, z1.data());
  bias_act_forward_ref(rows, ffn, b1.data(), true, z1.data(), a.data());
  gemm_ref(false, false, rows, hidden, ffn, 1, a.data(), w2.data(), 0, yr.data());
  bias_act_forward_ref(rows, hidden, b2.data(), false, yr.data(), nullptr);
  CHECK(max_abs_diff(yr, y) < 1e-5f);

  RowMatrix da(rows, ffn), dz1(rows, ffn), dxr(rows, hidden);
  gemm_ref(false, true, rows, ffn, hidden, 1, dyr.data(), w2.data(), 0, da.data());
  gelu_backward_ref(static_cast<long>(rows) * ffn, da.data(), z1.data(), dz1.data());
  gemm_ref(false, true, rows, hidden, ffn, 1, dz1.data(), w1.data(), 0, dxr.data());
  CHECK(max_abs_diff(dxr, dx) < 1e-5f);

  // Deferred W: a partial per micro-batch, accumulated into the master gradient (twice here).
  RowMatrix gw1 = RowMatrix::Zero(hidden, ffn), part(hidden, ffn);
  std::vector<float> gb1(ffn, 0.0f);
  for (int repeat = 0; repeat < 2; ++repeat) {
    gemm_ref(true, false, hidden, ffn, rows, 1, xr.data(), dz1.data(), 0, part.data());
    accumulate_ref(static_cast<long>(hidden) * ffn, part.data(), gw1.data());
    bias_grad_accumulate_ref(rows, ffn, dz1.data(), gb1.data());
  }
  CHECK(max_abs_diff(gw1, RowMatrix(2 * stage.gw1)) < 1e-4f);
  for (int j = 0; j < ffn; ++j) CHECK(gb1[j] == doctest::Approx(2 * stage.gb1(j)).epsilon(1e-5));
}

TEST_CASE("the squared-error reference is the runtime's loss") {
  const Eigen::MatrixXf y = random_matrix(4, 5, 8), t = random_matrix(4, 5, 9);
  Eigen::MatrixXf dy;
  const float loss = ppsim::runtime::loss_and_grad<float>(y, t, dy);
  const RowMatrix yr = y, tr = t;
  RowMatrix dyr(4, 5);
  CHECK(squared_error_ref(20, yr.data(), tr.data(), dyr.data()) == doctest::Approx(loss).epsilon(1e-6));
  CHECK(max_abs_diff(dyr, dy) == 0.0f);
}

TEST_CASE("MoE routing groups slots by expert, stably, and combine undoes dispatch") {
  // 5 tokens, top-2 of 4 experts.
  const std::vector<int> expert_of{2, 0, 1, 2, 0, 3, 2, 1, 0, 2};
  const Routing r = moe_route_ref(5, 2, 4, expert_of.data());
  CHECK(r.expert_offset == std::vector<int>{0, 3, 5, 9, 10});
  CHECK(r.position == std::vector<int>{5, 0, 3, 6, 1, 9, 7, 4, 2, 8});
  std::vector<int> sorted = r.position;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> identity(10);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);

  const int hidden = 3;
  const RowMatrix x = random_matrix(5, hidden, 10);
  RowMatrix permuted(10, hidden);
  moe_dispatch_ref(5, 2, hidden, r.position.data(), nullptr, x.data(), permuted.data());
  for (int s = 0; s < 10; ++s) CHECK(permuted.row(r.position[s]) == x.row(s / 2));
  // Identity experts and weights summing to 1 give the tokens back.
  const std::vector<float> weight{0.25f, 0.75f, 0.5f, 0.5f, 1.0f, 0.0f, 0.125f, 0.875f, 0.3f, 0.7f};
  RowMatrix y(5, hidden);
  moe_combine_ref(5, 2, hidden, r.position.data(), weight.data(), permuted.data(), y.data());
  CHECK(max_abs_diff(y, x) < 1e-6f);

  const std::vector<int> bad{0, 4};
  CHECK_THROWS_WITH(moe_route_ref(1, 2, 4, bad.data()), "moe routing: expert_of[1] = 4: allowed 0..3");
}

TEST_CASE("launch checks: one clear refusal before any launch") {
  DeviceLimits h200{132, 1024, 2147483647, 233472, 232448};
  CHECK_THROWS_WITH(check_gemm("gemm", 0, 4, 4), "gemm: m = 0: allowed 1..2147483647");
  CHECK_THROWS_WITH(check_gemm("gemm", 4, 4, 3000000000L), "gemm: k = 3000000000: allowed 1..2147483647");
  CHECK_THROWS_WITH(plan_sm_copy(1024, 0, h200), "sm_copy: sms = 0: allowed 1..132");
  CHECK_THROWS_WITH(plan_sm_copy(1024, 133, h200), "sm_copy: sms = 133: allowed 1..132");
  CHECK_THROWS_WITH(plan_sm_copy(1000, 20, h200), doctest::Contains("bytes = 1000: allowed a multiple of 16"));
  CHECK_THROWS_WITH(plan_sm_copy(1024, 20, DeviceLimits{}), doctest::Contains("device limits are not known"));
  CHECK_THROWS_WITH(check_moe("moe_route", 8, 9, 8, 16, h200), "moe_route: top_k = 9: allowed 1..8");
  CHECK_THROWS_WITH(check_moe("moe_route", 8, 2, 2048, 16, h200), "moe_route: experts = 2048: allowed 1..1024");
  CHECK_THROWS_WITH(plan_elementwise("gelu_backward", -5, h200), "gelu_backward: n = -5: allowed 1..4611686018427387903");

  // The SM-limited copy: exactly N blocks, and two of them never fit on one SM.
  const LaunchShape copy = plan_sm_copy(1 << 20, 20, h200);
  CHECK(copy.blocks == 20);
  CHECK(2 * copy.shared_bytes > h200.shared_per_sm);
  CHECK(copy.shared_bytes <= h200.shared_per_block_optin);
  // Elementwise covers n with 256-thread blocks, grid-striding past the grid limit.
  CHECK(plan_elementwise("x", 1000, h200).blocks == 4);
  CHECK(plan_elementwise("x", 1L << 40, h200).blocks == 65535 * 16);
  const DeviceLimits tiny_shared{4, 1024, 65535, 65536, 16384};
  CHECK_THROWS_WITH(plan_sm_copy(1024, 2, tiny_shared), doctest::Contains("one block per SM needs 33792 bytes"));
}

TEST_CASE("composed, the MoE references are the runtime's MoE block: routing, forward and input grad") {
  using Block = ppsim::runtime::MoeBlock<float>;
  const int rows = 10, hidden = 6, ffn = 8, experts = 4, top_k = 2;
  Block block;
  for (int e = 0; e < experts; ++e) block.experts.push_back(ppsim::runtime::MlpStage<float>::init(hidden, ffn, 100 + e));
  block.routing = ppsim::runtime::fixed_routing(rows, experts, top_k, 3);
  const Routing r = moe_route_ref(rows, top_k, experts, block.routing.expert_of.data());
  CHECK(r.position == block.routing.position);  // the GPU's moe_route numbers slots the same way
  CHECK(r.expert_offset == block.routing.offset);

  const Eigen::MatrixXf x = random_matrix(rows, hidden, 20), dy = random_matrix(rows, hidden, 21);
  Block::Saved saved;
  const RowMatrix y = block.forward(x, saved);
  const RowMatrix dx = block.input_grad(dy, saved);

  const RowMatrix xr = x, dyr = dy;
  const std::vector<float> gate(block.routing.gate.begin(), block.routing.gate.end());
  RowMatrix permuted(rows * top_k, hidden), out(rows * top_k, hidden), yr(rows, hidden);
  moe_dispatch_ref(rows, top_k, hidden, r.position.data(), nullptr, xr.data(), permuted.data());
  RowMatrix d_out(rows * top_k, hidden), d_in(rows * top_k, hidden), dxr(rows, hidden);
  moe_dispatch_ref(rows, top_k, hidden, r.position.data(), gate.data(), dyr.data(), d_out.data());
  for (int e = 0; e < experts; ++e) {
    const int first = r.expert_offset[e], n = r.expert_offset[e + 1] - first;
    ppsim::runtime::MlpStage<float>::Saved sv;
    out.middleRows(first, n) = block.experts[e].forward(permuted.middleRows(first, n), sv);
    d_in.middleRows(first, n) = block.experts[e].input_grad(d_out.middleRows(first, n), sv);
  }
  moe_combine_ref(rows, top_k, hidden, r.position.data(), gate.data(), out.data(), yr.data());
  moe_combine_ref(rows, top_k, hidden, r.position.data(), nullptr, d_in.data(), dxr.data());
  CHECK(max_abs_diff(yr, y) < 1e-6f);
  CHECK(max_abs_diff(dxr, dx) < 1e-6f);
}
