#include "runtime/cuda_transport.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>

#include "runtime/rank_program.hpp"

namespace ppsim::runtime {

void check_nccl(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw std::runtime_error(std::string(what) + ": " + ncclGetErrorString(r));
}

namespace {
std::atomic<bool> batch_refused{false};
std::mutex refusal_mutex;
std::string refusal;  // CUDA's message when the batch call was refused
}  // namespace

void device_copy(void* dst, const void* src, std::size_t bytes, cudaStream_t stream, bool copy_engines) {
  if (copy_engines && !batch_refused.load()) {
    cudaMemcpyAttributes attrs{};
    attrs.srcAccessOrder = cudaMemcpySrcAccessOrderStream;  // after the work before it on `stream`
    attrs.flags = cudaMemcpyFlagPreferOverlapWithCompute;
    std::size_t first = 0, size = bytes;
    void* dsts[] = {dst};
    const void* srcs[] = {src};
    const cudaError_t err = cudaMemcpyBatchAsync(dsts, srcs, &size, 1, &attrs, &first, 1, stream);
    if (err == cudaSuccess) return;
    // A driver that refuses the call (or is older than this runtime): copy the plain way from
    // now on, and say so in the report (device_copy_method). Any other error is the run's.
    if (err != cudaErrorNotSupported && err != cudaErrorInvalidValue && err != cudaErrorCallRequiresNewerDriver)
      kernels::check_cuda(err, "P2P copy (cudaMemcpyBatchAsync)");
    cudaGetLastError();
    std::lock_guard lock(refusal_mutex);
    refusal = cudaGetErrorString(err);
    batch_refused.store(true);
  }
  kernels::check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream), "P2P copy");
}

std::string device_copy_method() {
  if (!batch_refused.load()) return "copy engines preferred (cudaMemcpyBatchAsync)";
  std::lock_guard lock(refusal_mutex);
  return "cudaMemcpyAsync (cudaMemcpyBatchAsync refused: " + refusal + ")";
}

DeviceCopyTransport::DeviceCopyTransport(int ranks, const std::vector<RankStreams>& streams, int comm_sms, bool copy_engines,
                                         std::chrono::milliseconds timeout, const std::atomic<bool>& abort)
    : streams_(streams), comm_sms_(comm_sms), copy_engines_(copy_engines), mailbox_(ranks, 1024, timeout, abort) {}

void DeviceCopyTransport::send(int src, int dst, Tag tag, DeviceTensor data) {
  const RankStreams& s = streams_[src];
  stream_waits_for(s.comm, s.compute);  // the tensor is complete on the compute stream
  DeviceTensor copy(data.rows(), data.cols(), s.comm);
  if (comm_sms_ > 0) kernels::sm_copy(s.comm, copy.data(), data.data(), data.bytes(), comm_sms_);
  else device_copy(copy.data(), data.data(), data.bytes(), s.comm, copy_engines_);
  data.move_to(s.comm);  // freed after the copy has read it
  Event ready(false);
  ready.record(s.comm);
  mailbox_.send(src, dst, tag, Message{std::move(copy), std::move(ready)});
}

DeviceTensor DeviceCopyTransport::recv(int dst, int src, Tag tag) {
  Message m = mailbox_.recv(dst, src, tag);
  m.ready.make_wait(streams_[dst].compute);
  m.tensor.move_to(streams_[dst].compute);
  return std::move(m.tensor);
}

NcclTransport::NcclTransport(const sim::Schedule& s, const std::vector<ncclComm_t>& comms,
                             const std::vector<RankStreams>& streams, int rows, int cols)
    : comms_(comms), streams_(streams), rows_(rows), cols_(cols), pending_(s.ranks), stash_(s.ranks) {
  expected_.resize(s.ranks);
  received_.assign(s.ranks, std::vector<std::size_t>(s.ranks, 0));
  for (int dst = 0; dst < s.ranks; ++dst)
    for (int src = 0; src < s.ranks; ++src) expected_[dst].push_back(messages_between(s, src, dst));
}

void NcclTransport::send(int src, int dst, Tag, DeviceTensor data) {
  Event made(false);
  made.record(streams_[src].compute);  // the producing op's kernels are the last on the stream
  pending_[src].push_back({dst, std::move(data), std::move(made)});  // posted when the op ends
}

void NcclTransport::post_sends(int rank, std::vector<DeviceTensor>& sent) {
  if (pending_[rank].empty()) return;
  const RankStreams& s = streams_[rank];
  for (Pending& p : pending_[rank]) {
    p.made.make_wait(s.comm);  // this tensor's op, not everything issued since
    check_nccl(ncclSend(p.tensor.data(), static_cast<std::size_t>(p.tensor.size()), ncclFloat, p.dst, comms_[rank], s.comm),
               "ncclSend");
    p.tensor.move_to(s.comm);  // freed on the comm stream, after the send has read it
    sent.push_back(std::move(p.tensor));
  }
  pending_[rank].clear();
}

void NcclTransport::post_receives(int dst, int src, Tag tag, std::vector<std::pair<std::pair<int, Tag>, DeviceTensor>>& posted) {
  const RankStreams& s = streams_[dst];
  const auto& order = expected_[dst][src];
  std::size_t& next = received_[dst][src];
  const auto same = [&](const Tag& t) { return !(t < tag) && !(tag < t); };
  if (std::find_if(order.begin() + static_cast<long>(next), order.end(), same) == order.end())
    throw std::runtime_error("rank " + std::to_string(dst) + " waits for a " + (tag.grad ? "gradient" : "activation") +
                             " of micro-batch " + std::to_string(tag.mb) + " that rank " + std::to_string(src) + " never sends");
  while (true) {
    const Tag t = order[next++];
    DeviceTensor buffer(rows_, cols_, s.comm);
    check_nccl(ncclRecv(buffer.data(), static_cast<std::size_t>(buffer.size()), ncclFloat, src, comms_[dst], s.comm), "ncclRecv");
    posted.emplace_back(std::pair{src, t}, std::move(buffer));
    if (same(t)) break;
  }
}

// One NCCL group: the rank's held-back sends, and the receives of `wanted` not yet posted.
// Everything a group receives is stashed with the event that marks the group done.
void NcclTransport::post_group(int rank, const std::vector<Expected>& wanted) {
  std::vector<Expected> missing;
  for (const Expected& e : wanted)
    if (!stash_[rank].count({e.src, e.tag})) missing.push_back(e);
  if (pending_[rank].empty() && missing.empty()) return;
  std::vector<std::pair<std::pair<int, Tag>, DeviceTensor>> posted;
  std::vector<DeviceTensor> sent;  // declared before the group: freed after it is issued
  NcclGroup group;
  post_sends(rank, sent);
  for (const Expected& e : missing) post_receives(rank, e.src, e.tag, posted);
  group.end();
  if (posted.empty()) return;
  auto ready = std::make_shared<Event>(false);
  ready->record(streams_[rank].comm);
  for (auto& [key, buffer] : posted) stash_[rank].emplace(key, Arrived{std::move(buffer), ready});
}

void NcclTransport::end_op(int rank, const std::vector<Expected>& next) { post_group(rank, next); }

DeviceTensor NcclTransport::recv(int dst, int src, Tag tag) {
  auto& stash = stash_[dst];
  if (!stash.count({src, tag})) post_group(dst, {{src, tag}});  // not announced ahead: the first op's inputs
  auto it = stash.find({src, tag});
  Arrived a = std::move(it->second);
  stash.erase(it);
  a.ready->make_wait(streams_[dst].compute);
  a.tensor.move_to(streams_[dst].compute);
  return std::move(a.tensor);
}

void NcclTransport::flush(int rank) { post_group(rank, {}); }

}  // namespace ppsim::runtime
