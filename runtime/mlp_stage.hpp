#pragma once
// The toy model the CPU runtime trains: each stage is Linear -> GELU -> Linear (Eigen), the
// last stage adds a squared-error loss. Forward, input-grad backward and the deferred weight
// grads are separate calls, so every op kind of a schedule maps onto real work.
#include <Eigen/Dense>
#include <cmath>
#include <cstdint>

namespace ppsim::runtime {

template <class Scalar>
struct MlpStage {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Row = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;
  Matrix w1, w2;  // hidden x ffn, ffn x hidden
  Row b1, b2;
  Matrix gw1, gw2;  // accumulated gradients
  Row gb1, gb2;

  // What a forward keeps for its backward, and what the input-grad backward leaves for W.
  struct Saved {
    Matrix x, z1, a, dy, dz1;
  };

  static MlpStage init(int hidden, int ffn, std::uint64_t seed);
  Matrix forward(const Matrix& x, Saved& saved) const;
  // dX from dY (keeps dY and dZ1 in `saved` for the weight grads).
  Matrix input_grad(const Matrix& dy, Saved& saved) const;
  void weight_grad(const Saved& saved);
  void zero_grad();
};

// GELU (tanh approximation) and its derivative: the stage's activation.
template <class S>
S gelu(S z) {
  const S c = static_cast<S>(0.7978845608028654);
  return static_cast<S>(0.5) * z * (1 + std::tanh(c * (z + static_cast<S>(0.044715) * z * z * z)));
}
template <class S>
S gelu_grad(S z) {
  const S c = static_cast<S>(0.7978845608028654);
  const S inner = c * (z + static_cast<S>(0.044715) * z * z * z);
  const S t = std::tanh(inner);
  return static_cast<S>(0.5) * (1 + t) + static_cast<S>(0.5) * z * (1 - t * t) * c * (1 + 3 * static_cast<S>(0.044715) * z * z);
}

// Squared-error loss 0.5 * sum((y - t)^2) and its gradient.
template <class Scalar>
Scalar loss_and_grad(const typename MlpStage<Scalar>::Matrix& y, const typename MlpStage<Scalar>::Matrix& target,
                     typename MlpStage<Scalar>::Matrix& dy);

}  // namespace ppsim::runtime
