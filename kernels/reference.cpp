#include "kernels/reference.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ppsim::kernels {

void gemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, const float* b, float beta,
              float* c) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float sum = 0;
      for (int p = 0; p < k; ++p) {
        const float av = trans_a ? a[static_cast<long>(p) * m + i] : a[static_cast<long>(i) * k + p];
        const float bv = trans_b ? b[static_cast<long>(j) * k + p] : b[static_cast<long>(p) * n + j];
        sum += av * bv;
      }
      float& out = c[static_cast<long>(i) * n + j];
      out = alpha * sum + (beta == 0.0f ? 0.0f : beta * out);  // beta = 0 ignores what C held, as cuBLAS does
    }
}

std::uint16_t to_bf16(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if (std::isnan(x)) return static_cast<std::uint16_t>((bits >> 16) | 0x40);  // stays a (quiet) NaN
  const std::uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);                  // ties to even
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

float from_bf16(std::uint16_t x) {
  const std::uint32_t bits = static_cast<std::uint32_t>(x) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float gelu(float z) {
  const float c = 0.7978845608028654f;
  return 0.5f * z * (1 + std::tanh(c * (z + 0.044715f * z * z * z)));
}

float gelu_grad(float z) {
  const float c = 0.7978845608028654f;
  const float t = std::tanh(c * (z + 0.044715f * z * z * z));
  return 0.5f * (1 + t) + 0.5f * z * (1 - t * t) * c * (1 + 3 * 0.044715f * z * z);
}

void bias_act_forward_ref(int rows, int cols, const float* bias, bool apply_gelu, float* z, float* a) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const long at = static_cast<long>(i) * cols + j;
      z[at] += bias[j];
      if (apply_gelu) a[at] = gelu(z[at]);
    }
}

void gelu_backward_ref(long n, const float* da, const float* z, float* dz) {
  for (long i = 0; i < n; ++i) dz[i] = da[i] * gelu_grad(z[i]);
}

void bias_grad_accumulate_ref(int rows, int cols, const float* dy, float* gb) {
  for (int j = 0; j < cols; ++j) {
    float sum = 0;
    for (int i = 0; i < rows; ++i) sum += dy[static_cast<long>(i) * cols + j];
    gb[j] += sum;
  }
}

void accumulate_ref(long n, const float* partial, float* acc) {
  for (long i = 0; i < n; ++i) acc[i] += partial[i];
}

double squared_error_ref(long n, const float* y, const float* t, float* dy) {
  double sum = 0;
  for (long i = 0; i < n; ++i) {
    dy[i] = y[i] - t[i];
    sum += static_cast<double>(dy[i]) * dy[i];
  }
  return 0.5 * sum;
}

Routing moe_route_ref(int tokens, int top_k, int experts, const int* expert_of) {
  const long slots = static_cast<long>(tokens) * top_k;
  Routing r;
  r.expert_offset.assign(static_cast<std::size_t>(experts) + 1, 0);
  for (long i = 0; i < slots; ++i) {
    if (expert_of[i] < 0 || expert_of[i] >= experts)
      throw std::invalid_argument("moe routing: expert_of[" + std::to_string(i) + "] = " + std::to_string(expert_of[i]) +
                                  ": allowed 0.." + std::to_string(experts - 1));
    ++r.expert_offset[static_cast<std::size_t>(expert_of[i]) + 1];
  }
  for (int e = 0; e < experts; ++e) r.expert_offset[e + 1] += r.expert_offset[e];
  std::vector<int> next(r.expert_offset.begin(), r.expert_offset.end() - 1);
  r.position.resize(static_cast<std::size_t>(slots));
  for (long i = 0; i < slots; ++i) r.position[i] = next[expert_of[i]]++;
  return r;
}

void moe_dispatch_ref(int tokens, int top_k, int hidden, const int* position, const float* weight, const float* x,
                      float* permuted) {
  for (int i = 0; i < tokens; ++i)
    for (int s = 0; s < top_k; ++s) {
      float* to = permuted + static_cast<long>(position[i * top_k + s]) * hidden;
      const float* from = x + static_cast<long>(i) * hidden;
      for (int h = 0; h < hidden; ++h) to[h] = weight ? weight[i * top_k + s] * from[h] : from[h];
    }
}

void moe_combine_ref(int tokens, int top_k, int hidden, const int* position, const float* weight, const float* expert_out,
                     float* y) {
  for (int i = 0; i < tokens; ++i)
    for (int h = 0; h < hidden; ++h) {
      float sum = 0;
      for (int s = 0; s < top_k; ++s)
        sum += (weight ? weight[i * top_k + s] : 1.0f) * expert_out[static_cast<long>(position[i * top_k + s]) * hidden + h];
      y[static_cast<long>(i) * hidden + h] = sum;
    }
}

}  // namespace ppsim::kernels
