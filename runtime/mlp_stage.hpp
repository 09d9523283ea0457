#pragma once
// The toy model the CPU runtime trains: each stage is Linear -> GELU -> Linear (Eigen), the
// last stage adds a squared-error loss. Forward, input-grad backward and the deferred weight
// grads are separate calls, so every op kind of a schedule maps onto real work.
#include <Eigen/Dense>
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

// Squared-error loss 0.5 * sum((y - t)^2) and its gradient.
template <class Scalar>
Scalar loss_and_grad(const typename MlpStage<Scalar>::Matrix& y, const typename MlpStage<Scalar>::Matrix& target,
                     typename MlpStage<Scalar>::Matrix& dy);

}  // namespace ppsim::runtime
