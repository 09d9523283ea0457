#include "runtime/cuda_stage.hpp"

#include <stdexcept>
#include <string>

#include "kernels/kernels.hpp"

namespace ppsim::runtime {

namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

DeviceTensor upload(const Eigen::MatrixXf& m, cudaStream_t stream) {
  const RowMajor rows = m;
  DeviceTensor t(static_cast<int>(m.rows()), static_cast<int>(m.cols()), stream);
  kernels::check_cuda(cudaMemcpyAsync(t.data(), rows.data(), t.bytes(), cudaMemcpyHostToDevice, stream), "upload");
  kernels::check_cuda(cudaStreamSynchronize(stream), "upload");  // `rows` is a temporary
  return t;
}

Eigen::MatrixXf download(const DeviceTensor& t, cudaStream_t stream) {
  RowMajor rows(t.rows(), t.cols());
  kernels::check_cuda(cudaMemcpyAsync(rows.data(), t.data(), t.bytes(), cudaMemcpyDeviceToHost, stream), "download");
  kernels::check_cuda(cudaStreamSynchronize(stream), "download");
  return rows;
}

CudaStage upload_stage(const MlpStage<float>& s, cudaStream_t stream) {
  return {upload(s.w1, stream),  upload(s.w2, stream),  upload(s.b1, stream),  upload(s.b2, stream),
          upload(s.gw1, stream), upload(s.gw2, stream), upload(s.gb1, stream), upload(s.gb2, stream)};
}

CudaBlock upload_block(const MoeBlock<float>& block, cudaStream_t stream) {
  CudaBlock b;
  for (const auto& e : block.experts) b.experts.push_back(upload_stage(e, stream));
  const MoeRouting& r = block.routing;
  b.top_k = r.top_k;
  b.offset = r.offset;
  if (b.dense()) return b;
  const std::size_t slots = r.expert_of.size();
  const std::vector<float> gate(r.gate.begin(), r.gate.end());
  DeviceArray<int> expert_of(slots, stream), offsets(r.offset.size(), stream), bad(1, stream);
  b.position = DeviceArray<int>(slots, stream);
  b.gate = DeviceArray<float>(slots, stream);
  kernels::check_cuda(cudaMemcpyAsync(expert_of.data(), r.expert_of.data(), sizeof(int) * slots, cudaMemcpyHostToDevice, stream),
                      "upload routing");
  kernels::check_cuda(cudaMemcpyAsync(b.gate.data(), gate.data(), sizeof(float) * slots, cudaMemcpyHostToDevice, stream),
                      "upload gates");
  kernels::moe_route(stream, r.rows, r.top_k, r.experts, expert_of.data(), offsets.data(), b.position.data(), bad.data());
  std::vector<int> position(slots), offset(r.offset.size());
  int bad_slots = 0;
  kernels::check_cuda(cudaMemcpyAsync(position.data(), b.position.data(), sizeof(int) * slots, cudaMemcpyDeviceToHost, stream),
                      "download routing");
  kernels::check_cuda(cudaMemcpyAsync(offset.data(), offsets.data(), sizeof(int) * offset.size(), cudaMemcpyDeviceToHost, stream),
                      "download routing");
  kernels::check_cuda(cudaMemcpyAsync(&bad_slots, bad.data(), sizeof(int), cudaMemcpyDeviceToHost, stream), "download routing");
  kernels::check_cuda(cudaStreamSynchronize(stream), "moe_route");
  if (bad_slots != 0 || position != r.position || offset != r.offset)
    throw std::runtime_error("moe_route on the GPU numbered the slots differently from the host's routing (" +
                             std::to_string(bad_slots) + " bad expert indices)");
  return b;
}

MlpStage<float> download_stage(const CudaStage& s, cudaStream_t stream) {
  MlpStage<float> h;
  h.w1 = download(s.w1, stream);
  h.w2 = download(s.w2, stream);
  h.b1 = download(s.b1, stream);
  h.b2 = download(s.b2, stream);
  h.gw1 = download(s.gw1, stream);
  h.gw2 = download(s.gw2, stream);
  h.gb1 = download(s.gb1, stream);
  h.gb2 = download(s.gb2, stream);
  return h;
}

// y = gelu(x W1 + b1) W2 + b2, keeping x, z1 = x W1 + b1 and a = gelu(z1).
DeviceTensor CudaStageMath::forward(const CudaStage& p, DeviceTensor x, CudaSaved& saved) {
  const int rows = x.rows(), hidden = p.w1.rows(), ffn = p.w1.cols();
  DeviceTensor z1(rows, ffn, stream_), a(rows, ffn, stream_), y(rows, hidden, stream_);
  blas_.gemm(false, false, rows, ffn, hidden, 1, x.data(), p.w1.data(), 0, z1.data());
  kernels::bias_act_forward(stream_, rows, ffn, p.b1.data(), true, z1.data(), a.data());
  blas_.gemm(false, false, rows, hidden, ffn, 1, a.data(), p.w2.data(), 0, y.data());
  kernels::bias_act_forward(stream_, rows, hidden, p.b2.data(), false, y.data(), nullptr);
  saved.x = std::move(x);
  saved.z1 = std::move(z1);
  saved.a = std::move(a);
  return y;
}

// dX = ((dY W2^T) * gelu'(z1)) W1^T, keeping dY and dZ1 for the weight grads.
DeviceTensor CudaStageMath::input_grad(const CudaStage& p, DeviceTensor dy, CudaSaved& saved) {
  const int rows = dy.rows(), hidden = p.w1.rows(), ffn = p.w1.cols();
  DeviceTensor da(rows, ffn, stream_), dz1(rows, ffn, stream_), dx(rows, hidden, stream_);
  blas_.gemm(false, true, rows, ffn, hidden, 1, dy.data(), p.w2.data(), 0, da.data());
  kernels::gelu_backward(stream_, da.size(), da.data(), saved.z1.data(), dz1.data());
  blas_.gemm(false, true, rows, hidden, ffn, 1, dz1.data(), p.w1.data(), 0, dx.data());
  saved.dy = std::move(dy);
  saved.dz1 = std::move(dz1);
  return dx;
}

// The deferred W: each partial product is accumulated into the FP32 master gradient.
void CudaStageMath::weight_grad(CudaStage& p, CudaSaved& saved) {
  const int rows = saved.x.rows(), hidden = p.w1.rows(), ffn = p.w1.cols();
  DeviceTensor part2(ffn, hidden, stream_), part1(hidden, ffn, stream_);
  blas_.gemm(true, false, ffn, hidden, rows, 1, saved.a.data(), saved.dy.data(), 0, part2.data());
  kernels::accumulate(stream_, part2.size(), part2.data(), p.gw2.data());
  kernels::bias_grad_accumulate(stream_, rows, hidden, saved.dy.data(), p.gb2.data());
  blas_.gemm(true, false, hidden, ffn, rows, 1, saved.x.data(), saved.dz1.data(), 0, part1.data());
  kernels::accumulate(stream_, part1.size(), part1.data(), p.gw1.data());
  kernels::bias_grad_accumulate(stream_, rows, ffn, saved.dz1.data(), p.gb1.data());
  saved = CudaSaved{};
}

namespace {
// Copies rows [first, first + to.rows()) of `from` into `to`, and `from` into rows from `first` of `to`.
void copy_rows(const DeviceTensor& from, int first, DeviceTensor& to, cudaStream_t stream) {
  kernels::check_cuda(cudaMemcpyAsync(to.data(), from.data() + static_cast<long>(first) * from.cols(), to.bytes(),
                                      cudaMemcpyDeviceToDevice, stream),
                      "copy expert rows");
}
void copy_into_rows(const DeviceTensor& from, DeviceTensor& to, int first, cudaStream_t stream) {
  kernels::check_cuda(cudaMemcpyAsync(to.data() + static_cast<long>(first) * to.cols(), from.data(), from.bytes(),
                                      cudaMemcpyDeviceToDevice, stream),
                      "copy expert rows");
}
// For each expert with rows: its rows of `from` through `op`, into the same rows of `to`.
template <class Op>
void per_expert(const CudaBlock& b, const DeviceTensor& from, DeviceTensor& to, cudaStream_t stream, Op op) {
  for (std::size_t e = 0; e < b.experts.size(); ++e) {
    const int first = b.offset[e], n = b.offset[e + 1] - first;
    if (n == 0) continue;
    DeviceTensor rows(n, from.cols(), stream);
    copy_rows(from, first, rows, stream);
    copy_into_rows(op(e, std::move(rows)), to, first, stream);
  }
}

}  // namespace

// MoE: dispatch the tokens to the experts' rows, each expert's MLP on its rows, combine back
// with the gates. Experts that got no rows are skipped.
DeviceTensor CudaStageMath::forward(const CudaBlock& b, DeviceTensor x, CudaBlockSaved& saved) {
  saved.experts.resize(b.experts.size());
  if (b.dense()) return forward(b.experts[0], std::move(x), saved.experts[0]);
  const int rows = x.rows(), hidden = x.cols(), slots = rows * b.top_k;
  DeviceTensor permuted(slots, hidden, stream_), out(slots, hidden, stream_), y(rows, hidden, stream_);
  kernels::moe_dispatch(stream_, rows, b.top_k, hidden, b.position.data(), nullptr, x.data(), permuted.data());
  per_expert(b, permuted, out, stream_, [&](std::size_t e, DeviceTensor in) {
    return forward(b.experts[e], std::move(in), saved.experts[e]);
  });
  kernels::moe_combine(stream_, rows, b.top_k, hidden, b.position.data(), b.gate.data(), out.data(), y.data());
  return y;
}

// Combine's backward is a gate-weighted dispatch, dispatch's an unweighted combine.
DeviceTensor CudaStageMath::input_grad(const CudaBlock& b, DeviceTensor dy, CudaBlockSaved& saved) {
  if (b.dense()) return input_grad(b.experts[0], std::move(dy), saved.experts[0]);
  const int rows = dy.rows(), hidden = dy.cols(), slots = rows * b.top_k;
  DeviceTensor d_out(slots, hidden, stream_), d_in(slots, hidden, stream_), dx(rows, hidden, stream_);
  kernels::moe_dispatch(stream_, rows, b.top_k, hidden, b.position.data(), b.gate.data(), dy.data(), d_out.data());
  per_expert(b, d_out, d_in, stream_, [&](std::size_t e, DeviceTensor g) {
    return input_grad(b.experts[e], std::move(g), saved.experts[e]);
  });
  kernels::moe_combine(stream_, rows, b.top_k, hidden, b.position.data(), nullptr, d_in.data(), dx.data());
  return dx;
}

void CudaStageMath::weight_grad(CudaBlock& b, CudaBlockSaved& saved) {
  for (std::size_t e = 0; e < b.experts.size(); ++e)
    if (b.offset[e + 1] > b.offset[e]) weight_grad(b.experts[e], saved.experts[e]);
  saved = CudaBlockSaved{};
}

DeviceTensor CudaStageMath::loss_grad(const DeviceTensor& y, const DeviceTensor& target, double* loss) {
  DeviceTensor dy(y.rows(), y.cols(), stream_);
  kernels::squared_error(stream_, y.size(), y.data(), target.data(), dy.data(), loss);
  return dy;
}

}  // namespace ppsim::runtime
