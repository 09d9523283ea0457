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
  b.offset_device = DeviceArray<int>(b.offset.size(), stream);
  b.bias = DeviceArray<float*>(4 * b.experts.size(), stream);
  std::vector<float*> bias;
  for (auto field : {&CudaStage::b1, &CudaStage::b2, &CudaStage::gb1, &CudaStage::gb2})
    for (const CudaStage& e : b.experts) bias.push_back((e.*field).data());
  kernels::check_cuda(cudaMemcpyAsync(b.offset_device.data(), b.offset.data(), sizeof(int) * b.offset.size(),
                                      cudaMemcpyHostToDevice, stream),
                      "upload expert offsets");
  kernels::check_cuda(cudaMemcpyAsync(b.bias.data(), bias.data(), sizeof(float*) * bias.size(), cudaMemcpyHostToDevice, stream),
                      "upload bias pointers");
  kernels::check_cuda(cudaStreamSynchronize(stream), "upload_block");  // `bias` is a temporary
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

namespace {
// Row `first` of a row-major tensor: an expert's rows are a view, no copy.
float* row(const DeviceTensor& t, int first) { return t.data() + static_cast<long>(first) * t.cols(); }

// f(e, first, n) for each expert e with rows: its rows are [first, first + n) of the slot rows.
template <class F>
void each_expert(const CudaBlock& b, F f) {
  for (int e = 0; e < b.count(); ++e)
    if (const int first = b.offset[e], n = b.offset[e + 1] - first; n > 0) f(e, first, n);
}

// The tokens at the experts' slot rows: the tensor itself when dense, else dispatched (weighted
// by `weight` when given: combine's backward).
DeviceTensor to_slots(const CudaBlock& b, DeviceTensor x, const float* weight, cudaStream_t stream) {
  if (b.dense()) return x;
  DeviceTensor slots(b.slots(), x.cols(), stream);
  kernels::moe_dispatch(stream, x.rows(), b.top_k, x.cols(), b.position.data(), weight, x.data(), slots.data());
  return slots;
}

// Back from the slot rows to `rows` tokens: the tensor itself when dense, else combined
// (weighted by `weight` when given; unweighted: dispatch's backward).
DeviceTensor from_slots(const CudaBlock& b, DeviceTensor slots, int rows, const float* weight, cudaStream_t stream) {
  if (b.dense()) return slots;
  DeviceTensor y(rows, slots.cols(), stream);
  kernels::moe_combine(stream, rows, b.top_k, slots.cols(), b.position.data(), weight, slots.data(), y.data());
  return y;
}
}  // namespace

// Per expert e on its rows: y = gelu(x W1 + b1) W2 + b2, keeping x, z1 = x W1 + b1 and
// a = gelu(z1). MoE first dispatches the tokens to the experts' rows and at the end combines
// them back with the gates; experts without rows are skipped.
DeviceTensor CudaStageMath::forward(const CudaBlock& b, DeviceTensor x, CudaBlockSaved& saved) {
  const int rows = x.rows(), hidden = x.cols(), ffn = b.experts[0].w1.cols(), slots = b.slots();
  DeviceTensor in = to_slots(b, std::move(x), nullptr, stream_);
  DeviceTensor z1(slots, ffn, stream_), a(slots, ffn, stream_), out(slots, hidden, stream_);
  each_expert(b, [&](int e, int first, int n) {
    blas_.gemm(false, false, n, ffn, hidden, 1, row(in, first), b.experts[e].w1.data(), 0, row(z1, first));
  });
  kernels::grouped_bias_act_forward(stream_, b.count(), slots, ffn, b.offset_device.data(), b.b1(), true, z1.data(), a.data());
  each_expert(b, [&](int e, int first, int n) {
    blas_.gemm(false, false, n, hidden, ffn, 1, row(a, first), b.experts[e].w2.data(), 0, row(out, first));
  });
  kernels::grouped_bias_act_forward(stream_, b.count(), slots, hidden, b.offset_device.data(), b.b2(), false, out.data(), nullptr);
  saved.x = std::move(in);
  saved.z1 = std::move(z1);
  saved.a = std::move(a);
  return from_slots(b, std::move(out), rows, b.gate.data(), stream_);
}

// Per expert: dX = ((dY W2^T) * gelu'(z1)) W1^T, keeping dY and dZ1 for the weight grads (z1
// is done with). Combine's backward is a gate-weighted dispatch, dispatch's an unweighted combine.
DeviceTensor CudaStageMath::input_grad(const CudaBlock& b, DeviceTensor dy, CudaBlockSaved& saved) {
  const int rows = dy.rows(), hidden = dy.cols(), ffn = b.experts[0].w1.cols(), slots = b.slots();
  DeviceTensor g = to_slots(b, std::move(dy), b.gate.data(), stream_);
  DeviceTensor da(slots, ffn, stream_), dz1(slots, ffn, stream_), d_in(slots, hidden, stream_);
  each_expert(b, [&](int e, int first, int n) {
    blas_.gemm(false, true, n, ffn, hidden, 1, row(g, first), b.experts[e].w2.data(), 0, row(da, first));
  });
  kernels::gelu_backward(stream_, da.size(), da.data(), saved.z1.data(), dz1.data());
  each_expert(b, [&](int e, int first, int n) {
    blas_.gemm(false, true, n, hidden, ffn, 1, row(dz1, first), b.experts[e].w1.data(), 0, row(d_in, first));
  });
  saved.z1 = DeviceTensor();
  saved.dy = std::move(g);
  saved.dz1 = std::move(dz1);
  return from_slots(b, std::move(d_in), rows, nullptr, stream_);
}

// The deferred W: each expert's products are accumulated straight into its FP32 master
// gradients (beta = 1), the bias sums for all experts at once.
void CudaStageMath::weight_grad(CudaBlock& b, CudaBlockSaved& saved) {
  const int hidden = saved.x.cols(), ffn = saved.a.cols();
  each_expert(b, [&](int e, int first, int n) {
    CudaStage& p = b.experts[e];
    blas_.gemm(true, false, ffn, hidden, n, 1, row(saved.a, first), row(saved.dy, first), 1, p.gw2.data());
    blas_.gemm(true, false, hidden, ffn, n, 1, row(saved.x, first), row(saved.dz1, first), 1, p.gw1.data());
  });
  kernels::grouped_bias_grad_accumulate(stream_, b.count(), hidden, b.offset_device.data(), saved.dy.data(), b.gb2());
  kernels::grouped_bias_grad_accumulate(stream_, b.count(), ffn, b.offset_device.data(), saved.dz1.data(), b.gb1());
  saved = CudaBlockSaved{};
}

DeviceTensor CudaStageMath::loss_grad(const DeviceTensor& y, const DeviceTensor& target, double* loss) {
  DeviceTensor dy(y.rows(), y.cols(), stream_);
  kernels::squared_error(stream_, y.size(), y.data(), target.data(), dy.data(), loss);
  return dy;
}

}  // namespace ppsim::runtime
