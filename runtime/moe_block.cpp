#include "runtime/moe_block.hpp"

namespace ppsim::runtime {

MoeRouting fixed_routing(int rows, int experts, int top_k, int stage) {
  MoeRouting r;
  r.rows = rows;
  r.experts = experts;
  r.top_k = top_k;
  const std::size_t slots = static_cast<std::size_t>(rows) * static_cast<std::size_t>(top_k);
  r.expert_of.resize(slots);
  r.gate.resize(slots);
  const double gate_sum = top_k * (top_k + 1) / 2.0;
  for (int t = 0; t < rows; ++t) {
    const auto h = static_cast<int>((static_cast<unsigned>(t) * 2654435761u + static_cast<unsigned>(stage) * 40503u) >> 8);
    for (int s = 0; s < top_k; ++s) {
      r.expert_of[static_cast<std::size_t>(t * top_k + s)] = (h + s) % experts;
      r.gate[static_cast<std::size_t>(t * top_k + s)] = (s + 1) / gate_sum;
    }
  }
  // Group the slots by expert, in token order within one (as kernels::moe_route_ref does).
  r.offset.assign(static_cast<std::size_t>(experts) + 1, 0);
  for (int e : r.expert_of) ++r.offset[static_cast<std::size_t>(e) + 1];
  for (int e = 0; e < experts; ++e) r.offset[e + 1] += r.offset[e];
  std::vector<int> next(r.offset.begin(), r.offset.end() - 1);
  r.position.resize(slots);
  for (std::size_t i = 0; i < slots; ++i) r.position[i] = next[static_cast<std::size_t>(r.expert_of[i])]++;
  return r;
}

namespace {
// Expert e's local row of slot i.
int local_row(const MoeRouting& r, std::size_t i) {
  return r.position[i] - r.offset[static_cast<std::size_t>(r.expert_of[i])];
}
int rows_of(const MoeRouting& r, int e) { return r.offset[e + 1] - r.offset[e]; }
}  // namespace

template <class S>
typename MoeBlock<S>::Matrix MoeBlock<S>::forward(const Matrix& x, Saved& saved) const {
  saved.experts.resize(experts.size());
  if (dense()) return experts[0].forward(x, saved.experts[0]);
  const MoeRouting& r = routing;
  const int hidden = static_cast<int>(x.cols());
  std::vector<Matrix> in(experts.size()), out(experts.size());
  for (int e = 0; e < r.experts; ++e) in[e].resize(rows_of(r, e), hidden);
  for (std::size_t i = 0; i < r.expert_of.size(); ++i)  // dispatch
    in[r.expert_of[i]].row(local_row(r, i)) = x.row(static_cast<int>(i) / r.top_k);
  for (int e = 0; e < r.experts; ++e) out[e] = experts[e].forward(in[e], saved.experts[e]);
  Matrix y = Matrix::Zero(x.rows(), hidden);
  for (std::size_t i = 0; i < r.expert_of.size(); ++i)  // combine, slots in order
    y.row(static_cast<int>(i) / r.top_k) += static_cast<S>(r.gate[i]) * out[r.expert_of[i]].row(local_row(r, i));
  return y;
}

template <class S>
typename MoeBlock<S>::Matrix MoeBlock<S>::input_grad(const Matrix& dy, Saved& saved) const {
  if (dense()) return experts[0].input_grad(dy, saved.experts[0]);
  const MoeRouting& r = routing;
  const int hidden = static_cast<int>(dy.cols());
  std::vector<Matrix> d_out(experts.size());
  for (int e = 0; e < r.experts; ++e) d_out[e].resize(rows_of(r, e), hidden);
  for (std::size_t i = 0; i < r.expert_of.size(); ++i)  // combine's backward: a weighted dispatch
    d_out[r.expert_of[i]].row(local_row(r, i)) = static_cast<S>(r.gate[i]) * dy.row(static_cast<int>(i) / r.top_k);
  Matrix dx = Matrix::Zero(dy.rows(), hidden);
  std::vector<Matrix> d_in(experts.size());
  for (int e = 0; e < r.experts; ++e) d_in[e] = experts[e].input_grad(d_out[e], saved.experts[e]);
  for (std::size_t i = 0; i < r.expert_of.size(); ++i)  // dispatch's backward: an unweighted combine
    dx.row(static_cast<int>(i) / r.top_k) += d_in[r.expert_of[i]].row(local_row(r, i));
  return dx;
}

template <class S>
void MoeBlock<S>::weight_grad(const Saved& saved) {
  for (std::size_t e = 0; e < experts.size(); ++e) experts[e].weight_grad(saved.experts[e]);
}

template struct MoeBlock<float>;
template struct MoeBlock<double>;

}  // namespace ppsim::runtime
