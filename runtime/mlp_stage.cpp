#include "runtime/mlp_stage.hpp"

#include <cmath>
#include <random>

namespace ppsim::runtime {


template <class S>
MlpStage<S> MlpStage<S>::init(int hidden, int ffn, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  MlpStage st;
  auto fill = [&](Matrix& m, int rows, int cols, double scale) {
    m.resize(rows, cols);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) m(i, j) = static_cast<S>(normal(rng) * scale);
  };
  fill(st.w1, hidden, ffn, 1.0 / std::sqrt(hidden));
  fill(st.w2, ffn, hidden, 1.0 / std::sqrt(ffn));
  st.b1 = Row::Constant(ffn, static_cast<S>(0.01));
  st.b2 = Row::Constant(hidden, static_cast<S>(-0.01));
  st.zero_grad();
  return st;
}

template <class S>
typename MlpStage<S>::Matrix MlpStage<S>::forward(const Matrix& x, Saved& saved) const {
  saved.x = x;
  saved.z1 = (x * w1).rowwise() + b1;
  saved.a = saved.z1.unaryExpr([](S z) { return gelu(z); });
  return (saved.a * w2).rowwise() + b2;
}

template <class S>
typename MlpStage<S>::Matrix MlpStage<S>::input_grad(const Matrix& dy, Saved& saved) const {
  saved.dy = dy;
  const Matrix da = dy * w2.transpose();
  saved.dz1 = da.cwiseProduct(saved.z1.unaryExpr([](S z) { return gelu_grad(z); }));
  return saved.dz1 * w1.transpose();
}

template <class S>
void MlpStage<S>::weight_grad(const Saved& saved) {
  gw2.noalias() += saved.a.transpose() * saved.dy;
  gb2 += saved.dy.colwise().sum();
  gw1.noalias() += saved.x.transpose() * saved.dz1;
  gb1 += saved.dz1.colwise().sum();
}

template <class S>
void MlpStage<S>::zero_grad() {
  gw1 = Matrix::Zero(w1.rows(), w1.cols());
  gw2 = Matrix::Zero(w2.rows(), w2.cols());
  gb1 = Row::Zero(b1.cols());
  gb2 = Row::Zero(b2.cols());
}

template <class S>
S loss_and_grad(const typename MlpStage<S>::Matrix& y, const typename MlpStage<S>::Matrix& target,
                typename MlpStage<S>::Matrix& dy) {
  dy = y - target;
  return static_cast<S>(0.5) * dy.squaredNorm();
}

template struct MlpStage<float>;
template struct MlpStage<double>;
template float loss_and_grad<float>(const MlpStage<float>::Matrix&, const MlpStage<float>::Matrix&, MlpStage<float>::Matrix&);
template double loss_and_grad<double>(const MlpStage<double>::Matrix&, const MlpStage<double>::Matrix&,
                                      MlpStage<double>::Matrix&);

}  // namespace ppsim::runtime
