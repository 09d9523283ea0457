#pragma once
// CPU references of every kernel in kernels/: the same computation, written plainly, so the
// GPU versions are checked against them (tests/kernels) and they are checked everywhere.
// Matrices are row-major flat arrays: element (i, j) of an r x c matrix is at i * c + j.
#include <cstdint>
#include <vector>

namespace ppsim::kernels {

// C[m x n] = alpha * op(A) * op(B) + beta * C; op(A) is m x k, op(B) is k x n.
void gemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, const float* b, float beta,
              float* c);

// Round to the nearest bfloat16 (ties to even), as __float2bfloat16_rn does; NaN stays NaN.
std::uint16_t to_bf16(float x);
float from_bf16(std::uint16_t x);

// GELU, tanh approximation (the one runtime/mlp_stage.cpp uses), and its derivative.
float gelu(float z);
float gelu_grad(float z);

// z[rows x cols] += bias (per column); with apply_gelu also a = gelu(z).
void bias_act_forward_ref(int rows, int cols, const float* bias, bool apply_gelu, float* z, float* a);
// dz = da * gelu'(z), elementwise over n.
void gelu_backward_ref(long n, const float* da, const float* z, float* dz);
// gb[cols] += column sums of dy[rows x cols]: the bias gradient.
void bias_grad_accumulate_ref(int rows, int cols, const float* dy, float* gb);
// acc += partial: deferred weight gradients summed into the master gradient.
void accumulate_ref(long n, const float* partial, float* acc);
// dy = y - t; returns 0.5 * sum (y - t)^2 (summed in double).
double squared_error_ref(long n, const float* y, const float* t, float* dy);

// MoE routing: token i sends its slot s (0 <= s < top_k) to expert expert_of[i * top_k + s].
// Rows are grouped by expert (experts in order, slots in token order within an expert).
struct Routing {
  std::vector<int> expert_offset;  // experts + 1: rows of expert e are [offset[e], offset[e+1])
  std::vector<int> position;       // tokens * top_k: the permuted row of each (token, slot)
};
// Throws std::invalid_argument naming the first index outside 0..experts-1.
Routing moe_route_ref(int tokens, int top_k, int experts, const int* expert_of);
// permuted[position[i*k+s]] = weight[i*k+s] * x[i] (just x[i] when weight is null): tokens to
// experts. With the gate weights it is also the backward of combine.
void moe_dispatch_ref(int tokens, int top_k, int hidden, const int* position, const float* weight, const float* x,
                      float* permuted);
// y[i] = sum_s weight[i*k+s] * expert_out[position[i*k+s]] (slots in order; weight 1 when null):
// experts back to tokens. With null weights it is also the backward of dispatch.
void moe_combine_ref(int tokens, int top_k, int hidden, const int* position, const float* weight, const float* expert_out,
                     float* y);

}  // namespace ppsim::kernels
