#include "runtime/cuda_executor.hpp"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <condition_variable>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "runtime/cuda_rates.hpp"
#include "runtime/cuda_stage.hpp"
#include "runtime/cuda_transport.hpp"
#include "runtime/distributed.hpp"
#include "runtime/green_contexts.hpp"
#include "runtime/rank_program.hpp"
#include "runtime/world.hpp"

namespace ppsim::runtime {

bool cuda_backend_built() { return true; }

namespace {

using Clock = std::chrono::steady_clock;

// Every rank thread waits here until all are set up, so the measured run starts together.
class StartLine {
 public:
  explicit StartLine(int ranks) : left_(ranks) {}
  void arrive_and_wait(const std::atomic<bool>& abort, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_);
    if (--left_ == 0) {
      cv_.notify_all();
      return;
    }
    const auto deadline = Clock::now() + timeout;
    while (left_ > 0) {
      if (abort.load()) throw Aborted();
      if (Clock::now() >= deadline)
        throw std::runtime_error("set-up: " + std::to_string(left_) + " rank(s) not ready within " +
                                 std::to_string(timeout.count()) + " ms: deadline passed");
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int left_;
};

// The CUDA backend of RankProgram for one rank: tensors in device memory, the stage math on
// the rank's compute stream, a CUDA event before and after every op.
struct CudaBackend {
  using Tensor = DeviceTensor;
  using Stage = CudaBlock;
  using Saved = CudaBlockSaved;

  struct Timed {
    sim::Op op;
    Event begin{true}, end{true};
    std::int64_t host_begin_ns = 0, host_end_ns = 0;  // this thread issuing the op's kernels
  };

  CudaBackend(const ExecOptions& o, cudaStream_t compute, int sm_count) : o_(o), math_(compute, sm_count) {
    kernels::check_cuda(cudaMallocAsync(reinterpret_cast<void**>(&loss_), sizeof(double), compute), "cudaMallocAsync");
    kernels::check_cuda(cudaMemsetAsync(loss_, 0, sizeof(double), compute), "cudaMemsetAsync");
  }
  ~CudaBackend() { cudaFreeAsync(loss_, math_.stream()); }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  // Uploads, before the measured run, every stage copy, input and target this rank will use.
  void prepare(const sim::Schedule& s, int rank) {
    std::set<std::pair<int, bool>> copies;
    auto uses = [&](int mb, int st) {
      copies.insert({st, s.bidirectional() && mb >= s.first_reverse_mb});
      if (st == 0) inputs_.try_emplace(mb, upload(microbatch_data<float>(o_, mb, false), math_.stream()));
      if (st + 1 == s.stages) targets_.try_emplace(mb, upload(microbatch_data<float>(o_, mb, true), math_.stream()));
    };
    for (const sim::Op& op : s.per_rank[rank]) {
      uses(op.mb, op.stage);
      if (op.kind == sim::OpKind::FB) uses(op.b_mb, op.b_stage);
    }
    for (const auto& [st, second] : copies) prepared_.emplace(st, upload_block(initial_block<float>(o_, st), math_.stream()));
  }

  // One F, loss, B and W on scratch copies, and one transfer on the communication stream, before
  // the start line: CUDA loads kernels on first launch and cuBLAS picks its kernels per shape,
  // which would otherwise land in the first measured ops.
  void warm_up(const sim::Schedule& s, int rank, cudaStream_t comm, int comm_sms, bool copy_engines) {
    const int stage = s.per_rank[rank].empty() ? 0 : s.per_rank[rank].front().stage;
    CudaBlock block = upload_block(initial_block<float>(o_, stage), math_.stream());
    CudaBlockSaved saved;
    DeviceTensor y = math_.forward(block, upload(microbatch_data<float>(o_, 0, false), math_.stream()), saved);
    const DeviceTensor target = upload(microbatch_data<float>(o_, 0, true), math_.stream());
    DeviceArray<double> scratch_loss(1, math_.stream());
    kernels::check_cuda(cudaMemsetAsync(scratch_loss.data(), 0, sizeof(double), math_.stream()), "cudaMemsetAsync");
    DeviceTensor dy = math_.loss_grad(y, target, scratch_loss.data());
    DeviceTensor dx = math_.input_grad(block, std::move(dy), saved);
    math_.weight_grad(block, saved);
    stream_waits_for(comm, math_.stream());
    DeviceTensor copy(dx.rows(), dx.cols(), comm);
    if (comm_sms > 0) kernels::sm_copy(comm, copy.data(), dx.data(), dx.bytes(), comm_sms);
    else device_copy(copy.data(), dx.data(), dx.bytes(), comm, copy_engines);
    dx.move_to(comm);
  }

  Stage make_stage(int stage) {
    auto it = prepared_.find(stage);
    if (it == prepared_.end()) throw std::logic_error("stage " + std::to_string(stage) + " was not prepared");
    Stage st = std::move(it->second);
    prepared_.erase(it);
    return st;
  }
  Tensor input(int mb) { return take(inputs_, mb, "input"); }
  Tensor forward(const Stage& p, Tensor x, Saved& sv) { return math_.forward(p, std::move(x), sv); }
  Tensor loss_grad(int mb, const Tensor& y) { return math_.loss_grad(y, take(targets_, mb, "target"), loss_); }
  Tensor input_grad(const Stage& p, Tensor dy, Saved& sv) { return math_.input_grad(p, std::move(dy), sv); }
  void weight_grad(Stage& p, Saved& sv) { math_.weight_grad(p, sv); }
  void begin(const sim::Op& op) {
    timed.push_back(Timed{op});
    timed.back().host_begin_ns = steady_now_ns();
    timed.back().begin.record(math_.stream());
  }
  void end(const sim::Op&) {
    timed.back().end.record(math_.stream());
    timed.back().host_end_ns = steady_now_ns();
  }

  double loss() const {
    double h = 0;
    kernels::check_cuda(cudaMemcpyAsync(&h, loss_, sizeof h, cudaMemcpyDeviceToHost, math_.stream()), "download loss");
    kernels::check_cuda(cudaStreamSynchronize(math_.stream()), "download loss");
    return h;
  }

  std::vector<Timed> timed;

 private:
  Tensor take(std::map<int, Tensor>& from, int mb, const char* what) {
    auto it = from.find(mb);
    if (it == from.end()) throw std::logic_error(std::string(what) + " of micro-batch " + std::to_string(mb) + " was not prepared");
    Tensor t = std::move(it->second);
    from.erase(it);
    return t;
  }

  const ExecOptions& o_;
  CudaStageMath math_;
  double* loss_ = nullptr;
  std::multimap<int, CudaBlock> prepared_;
  std::map<int, DeviceTensor> inputs_, targets_;
};

// Polls until the rank's GPU work is done. The deadline restarts whenever another op
// finishes, so it bounds each wait, not the whole run.
void wait_until_done(int rank, const std::vector<CudaBackend::Timed>& timed, const RankStreams& st,
                     const std::atomic<bool>& abort, std::chrono::milliseconds timeout) {
  std::size_t finished = 0;
  auto deadline = Clock::now() + timeout;
  while (true) {
    while (finished < timed.size() && timed[finished].end.done()) {
      ++finished;
      deadline = Clock::now() + timeout;
    }
    const bool idle = finished == timed.size() && stream_idle(st.compute) && stream_idle(st.comm);
    if (idle) return;
    if (abort.load()) throw Aborted();
    if (Clock::now() >= deadline) {
      if (finished < timed.size())
        throw std::runtime_error("rank " + std::to_string(rank) + ": " + sim::to_string(timed[finished].op) +
                                 " did not finish on the GPU within " + std::to_string(timeout.count()) +
                                 " ms (waiting for a peer's tensor): deadline passed");
      throw std::runtime_error("rank " + std::to_string(rank) + ": its last sends were not received within " +
                               std::to_string(timeout.count()) + " ms: deadline passed");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// The set-up's uploads and NCCL's connection exchange, done before the start line; polled, so
// a peer that never connects ends in a deadline rather than a hang.
void wait_for_set_up(int rank, const RankStreams& st, const std::atomic<bool>& abort, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!(stream_idle(st.compute) && stream_idle(st.comm))) {
    if (abort.load()) throw Aborted();
    if (Clock::now() >= deadline)
      throw std::runtime_error("rank " + std::to_string(rank) + ": set-up (uploads, NCCL connections) not done within " +
                               std::to_string(timeout.count()) + " ms: deadline passed");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

sim::Time elapsed_ns(const Event& from, const Event& to) {
  float ms = 0;
  kernels::check_cuda(cudaEventElapsedTime(&ms, from.get(), to.get()), "cudaEventElapsedTime");
  return static_cast<sim::Time>(static_cast<double>(ms) * 1e6);
}

// What one rank leaves behind for the result.
struct RankOutcome {
  std::vector<std::pair<int, MlpStage<float>>> copies;  // (stage * experts + expert, parameters and gradients)
  double loss = 0;
  std::vector<sim::Interval> intervals;  // relative to the rank's epoch
  std::optional<Event> epoch;
  DeviceArray<unsigned long long> stamp;  // %globaltimer right after the epoch
  unsigned long long stamp_ns = 0;
  std::int64_t host_epoch_ns = 0;  // this process's steady clock as the rank left the start line
  // Ops whose kernels were all issued before the GPU began them (host time from the host epoch
  // against GPU time from the GPU epoch, recorded after it: a conservative test), and the host
  // time spent issuing.
  int issued_ahead = 0;
  double issue_ns = 0;
};

void check_cuda_options(const sim::Schedule& s, const ExecOptions& o, const CudaOptions& c) {
  check_options(o);
  if (c.comm_sms < 0 || c.comm_sms > 1024)
    throw std::invalid_argument("comm_sms = " + std::to_string(c.comm_sms) + ": allowed 0..1024");
  if (c.comm_sms > 0 && o.hidden % 4 != 0)
    throw std::invalid_argument("hidden = " + std::to_string(o.hidden) +
                                ": the SM-limited copy moves 16-byte vectors, so with comm SMs the width must be a multiple of 4");
  if (s.ranks < 1) throw std::invalid_argument("ranks = " + std::to_string(s.ranks) + ": allowed 1 or more");
}

std::string gpu_name(int device) {
  cudaDeviceProp prop{};
  kernels::check_cuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return std::string(prop.name) + " (" + std::to_string(prop.multiProcessorCount) + " SMs)";
}

// What a rank needs to set itself up.
struct RankSetup {
  const sim::Schedule& s;
  const ExecOptions& o;
  bool nccl;
  GreenContexts* green;  // null: no partition
  int sms_per_rank, comm_sms, device;
  std::chrono::milliseconds set_up_timeout;
};

// One rank, in its thread or its process: streams, uploads, warm-up, NCCL's connections, the
// start line, the measured run, then its intervals, gradients and loss into `out`. On failure
// its NCCL communicator is aborted so the peers' kernels end.
void run_rank(int r, const RankSetup& k, std::vector<ncclComm_t>& comms, RankStreams& st, Transport<DeviceTensor>& net,
              const std::function<void()>& start_line, RankOutcome& out, const std::atomic<bool>& abort) {
  const sim::Schedule& s = k.s;
  if (k.green) k.green->make_current(r);
  else kernels::check_cuda(cudaSetDevice(k.device), "cudaSetDevice");
  if (k.green) {
    st.compute = k.green->create_stream(r);
    st.comm = k.green->create_stream(r);
  } else {
    kernels::check_cuda(cudaStreamCreateWithFlags(&st.compute, cudaStreamNonBlocking), "cudaStreamCreate");
    kernels::check_cuda(cudaStreamCreateWithFlags(&st.comm, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  try {
    CudaBackend backend(k.o, st.compute, k.sms_per_rank);
    backend.prepare(s, r);
    backend.warm_up(s, r, st.comm, k.comm_sms, k.green == nullptr);
    if (k.nccl) {  // NCCL connects peers lazily: do it now, outside the measured run
      DeviceTensor probe(1, 4, st.comm), sink(s.ranks, 4, st.comm);  // a row of the sink per peer
      NcclGroup group;
      for (int peer = 0; peer < s.ranks; ++peer)
        if (peer != r && (!messages_between(s, r, peer).empty() || !messages_between(s, peer, r).empty())) {
          check_nccl(ncclSend(probe.data(), 4, ncclFloat, peer, comms[r], st.comm), "ncclSend");
          check_nccl(ncclRecv(sink.data() + 4 * peer, 4, ncclFloat, peer, comms[r], st.comm), "ncclRecv");
        }
      group.end();
    }
    wait_for_set_up(r, st, abort, k.set_up_timeout);
    start_line();

    out.host_epoch_ns = steady_now_ns();
    out.stamp = DeviceArray<unsigned long long>(1, st.compute);  // the epoch on the GPU's global clock
    kernels::global_timer(st.compute, out.stamp.data());
    out.epoch.emplace(true);
    out.epoch->record(st.compute);
    RankProgram<CudaBackend> program(s, r, backend, net, k.o.timeout);
    program.run(abort);
    wait_until_done(r, backend.timed, st, abort, k.o.timeout);

    for (const auto& t : backend.timed) {
      out.intervals.push_back({r, sim::Lane::Compute, t.op, elapsed_ns(*out.epoch, t.begin), elapsed_ns(*out.epoch, t.end)});
      out.issued_ahead += t.host_end_ns - out.host_epoch_ns <= out.intervals.back().start ? 1 : 0;
      out.issue_ns += static_cast<double>(t.host_end_ns - t.host_begin_ns);
    }
    for (auto& [key, block] : program.copies())
      for (std::size_t e = 0; e < block.experts.size(); ++e)
        out.copies.emplace_back(key.first * k.o.experts + static_cast<int>(e), download_stage(block.experts[e], st.compute));
    out.loss = backend.loss();  // synchronizes the compute stream: the stamp is written
    kernels::check_cuda(cudaMemcpy(&out.stamp_ns, out.stamp.data(), sizeof out.stamp_ns, cudaMemcpyDeviceToHost),
                        "download the epoch stamp");
    out.stamp = {};
  } catch (...) {
    out.stamp = {};  // freed while its stream still exists
    if (k.nccl && comms[r] != nullptr) {  // unblock the peers' NCCL kernels
      ncclCommAbort(comms[r]);
      comms[r] = nullptr;
    }
    throw;
  }
}

// The stream-ordered allocator of `device`: keep freed memory (a synchronize would otherwise
// hand it back and measured ops would pay to grow the pool again), and never make one rank's
// stream wait for another's free to reuse memory (false bubbles).
void keep_pool(int device) {
  cudaMemPool_t pool;
  kernels::check_cuda(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
  std::uint64_t keep = UINT64_MAX;
  int no = 0;
  kernels::check_cuda(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep), "cudaMemPoolSetAttribute");
  kernels::check_cuda(cudaMemPoolSetAttribute(pool, cudaMemPoolReuseAllowInternalDependencies, &no), "cudaMemPoolSetAttribute");
}

// Drains and destroys a rank's streams (after an NCCL abort they are left to the driver) and
// its communicator.
void tear_down(RankStreams& st, ncclComm_t& comm, bool nccl) {
  for (cudaStream_t stream : {st.compute, st.comm}) {
    if (stream == nullptr) continue;
    if (!nccl || comm != nullptr) cudaStreamSynchronize(stream);
    cudaStreamDestroy(stream);
  }
  if (nccl && comm != nullptr) ncclCommDestroy(comm);
  comm = nullptr;
}

}  // namespace

ExecResult<float> execute_cuda(const sim::Schedule& s, const ExecOptions& o, const CudaOptions& c, CudaRunInfo* info) {
  check_cuda_options(s, o, c);
  int devices = 0;
  if (const cudaError_t err = cudaGetDeviceCount(&devices); err != cudaSuccess || devices == 0)
    throw std::runtime_error(std::string("no usable GPU: ") + (err != cudaSuccess ? cudaGetErrorString(err) : "none visible"));
  const bool nccl = c.mode == CudaOptions::Mode::Nccl;
  if (nccl && devices < s.ranks)
    throw std::runtime_error("NCCL mode runs one rank per GPU: " + std::to_string(s.ranks) + " ranks, " +
                             std::to_string(devices) + " GPU(s) visible; use single-GPU mode");
  if (!nccl && (c.device < 0 || c.device >= devices))
    throw std::invalid_argument("device = " + std::to_string(c.device) + ": allowed 0.." + std::to_string(devices - 1));
  kernels::check_cuda(cudaSetDevice(nccl ? 0 : c.device), "cudaSetDevice");
  kernels::check_cuda(cudaFree(nullptr), "CUDA initialisation");  // the primary context, before green contexts
  for (int d = 0; d < (nccl ? s.ranks : 1); ++d) keep_pool(nccl ? d : c.device);

  CudaRunInfo run_info;
  run_info.gpu = gpu_name(nccl ? 0 : c.device);
  run_info.mode = nccl ? "nccl" : "single-gpu";
  std::unique_ptr<GreenContexts> green;
  if (nccl) {
    run_info.partition = "none: one GPU per rank";
  } else if (c.partition != CudaOptions::Partition::None) {
    try {
      green = std::make_unique<GreenContexts>(c.device, s.ranks);
      run_info.sms_per_rank = green->sms_per_group();
      run_info.partition = "green contexts: " + std::to_string(green->sms_per_group()) + " of " +
                           std::to_string(green->device_sms()) + " SMs per rank";
    } catch (const std::runtime_error& e) {
      if (c.partition == CudaOptions::Partition::Green) throw;
      run_info.partition = std::string("none: ") + e.what();
    }
  } else {
    run_info.partition = "none: asked for";
  }
  if (green && c.comm_sms > green->sms_per_group())
    throw std::invalid_argument("comm_sms = " + std::to_string(c.comm_sms) + ": allowed 0.." +
                                std::to_string(green->sms_per_group()) + " (the SMs of one rank)");

  if (c.measure_rates) {  // on rank 0's SMs, before any rank starts
    const GpuRates rates = measure_gpu_rates(o, green.get(), s.ranks, run_info.sms_per_rank);
    run_info.rates = rates.loaded;
    run_info.rates_alone = rates.alone;
    run_info.rates_busy_partitions = rates.busy_partitions;
  }

  std::vector<ncclComm_t> comms(static_cast<std::size_t>(nccl ? s.ranks : 0), nullptr);
  if (nccl) {
    std::vector<int> ids(static_cast<std::size_t>(s.ranks));
    for (int r = 0; r < s.ranks; ++r) ids[r] = r;
    check_nccl(ncclCommInitAll(comms.data(), s.ranks, ids.data()), "ncclCommInitAll");
  }

  std::atomic<bool> abort{false};
  std::vector<RankStreams> streams(static_cast<std::size_t>(s.ranks));
  std::unique_ptr<Transport<DeviceTensor>> net;
  if (nccl) net = std::make_unique<NcclTransport>(s, comms, streams, o.rows, o.hidden);
  else net = std::make_unique<DeviceCopyTransport>(s.ranks, streams, c.comm_sms, !green, o.timeout, abort);
  std::vector<RankOutcome> outcomes(static_cast<std::size_t>(s.ranks));
  StartLine start(s.ranks);
  // Set-up loads cuBLAS and the kernels on first use: it gets a deadline of its own, at least a minute.
  const auto set_up_timeout = std::max(o.timeout, std::chrono::milliseconds(60000));

  auto rank_thread = [&](int r) {
    RankSetup setup{s, o, nccl, green.get(), run_info.sms_per_rank, nccl ? 0 : c.comm_sms, nccl ? r : c.device, set_up_timeout};
    run_rank(r, setup, comms, streams[r], *net, [&] { start.arrive_and_wait(abort, set_up_timeout); }, outcomes[r], abort);
  };
  std::string failure;
  try {
    run_rank_threads(s.ranks, abort, rank_thread);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  net.reset();  // what a failed run left in the mailboxes goes before the streams
  for (int r = 0; r < s.ranks; ++r) {
    if (nccl) cudaSetDevice(r);
    if (green) green->make_current(r);  // each stream drained and destroyed in its own context
    // Drained first (green contexts must outlive their streams' work). In single-GPU mode this
    // cannot block for long: every wait between streams points at work issued before it.
    ncclComm_t none = nullptr;
    tear_down(streams[r], nccl ? comms[r] : none, nccl);
  }
  if (green) green->restore();
  if (!failure.empty()) throw std::runtime_error(failure);

  // One clock for all ranks: each rank's epoch against rank 0's, where CUDA can compare them
  // (same device); otherwise the epochs were recorded together after the start line.
  ExecResult<float> result;
  result.timeline.kind = s.kind;
  result.timeline.ranks = s.ranks;
  std::vector<std::pair<int, const MlpStage<float>*>> copies;
  run_info.one_clock = !nccl;
  for (int r = 0; r < s.ranks; ++r) {
    RankOutcome& out = outcomes[r];
    sim::Time offset = 0;
    if (r > 0 && !nccl) {
      if (green) green->make_current(r);
      // Events compared across green contexts where CUDA allows it; else the global timer.
      float ms = 0;
      if (cudaEventElapsedTime(&ms, outcomes[0].epoch->get(), out.epoch->get()) == cudaSuccess)
        offset = static_cast<sim::Time>(static_cast<double>(ms) * 1e6);
      else
        offset = static_cast<sim::Time>(out.stamp_ns) - static_cast<sim::Time>(outcomes[0].stamp_ns);
      cudaGetLastError();  // a refused comparison is not an error of the run
    }
    for (sim::Interval iv : out.intervals) {
      iv.start += offset;
      iv.end += offset;
      result.timeline.intervals.push_back(iv);
    }
    result.loss += static_cast<float>(out.loss);
    for (const auto& [st, copy] : out.copies) copies.emplace_back(st, &copy);
    run_info.ops_issued_ahead += out.issued_ahead;
    run_info.ops += static_cast<int>(out.intervals.size());
    run_info.issue_us += out.issue_ns / 1e3;
  }
  result.stages = sum_stage_copies<float>(o, s.stages, copies);
  sim::Time first = 0;
  for (const auto& iv : result.timeline.intervals) first = std::min(first, iv.start);
  for (auto& iv : result.timeline.intervals) {
    iv.start -= first;
    iv.end -= first;
  }
  for (auto& out : outcomes) out.epoch.reset();
  if (green) green->restore();
  if (run_info.ops > 0) run_info.issue_us /= run_info.ops;
  run_info.p2p = nccl              ? "NCCL"
                 : c.comm_sms > 0  ? "SM-limited copy kernel on " + std::to_string(c.comm_sms) + " SMs"
                 : green           ? "cudaMemcpyAsync (copy engines not asked for in green contexts)"
                                   : device_copy_method();
  if (info) *info = run_info;
  return result;
}

CudaDistributedResult execute_cuda_distributed(const sim::Schedule& s, const ExecOptions& o, const CudaOptions& c, World& w) {
  check_cuda_options(s, o, c);
  if (w.size() != s.ranks)
    throw std::invalid_argument("--launcher " + w.launcher() + ": " + std::to_string(w.size()) + " processes for a " +
                                std::to_string(s.ranks) + "-rank schedule: start one process per rank");
  int devices = 0;
  if (const cudaError_t err = cudaGetDeviceCount(&devices); err != cudaSuccess || devices == 0)
    throw std::runtime_error(std::string("no usable GPU: ") + (err != cudaSuccess ? cudaGetErrorString(err) : "none visible"));
  const int r = w.rank(), device = w.local_rank() % devices;
  kernels::check_cuda(cudaSetDevice(device), "cudaSetDevice");
  kernels::check_cuda(cudaFree(nullptr), "CUDA initialisation");
  keep_pool(device);

  // Rank 0's unique id, to every rank through the world (the env launcher's TCP store or MPI).
  ncclUniqueId id{};
  if (r == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  const Bytes shared = w.broadcast(r == 0 ? ByteWriter().put(id).take() : Bytes{});
  ByteReader in(shared);
  id = in.get<ncclUniqueId>();
  std::vector<ncclComm_t> comms(static_cast<std::size_t>(s.ranks), nullptr);
  check_nccl(ncclCommInitRank(&comms[static_cast<std::size_t>(r)], s.ranks, id, r), "ncclCommInitRank");

  CudaDistributedResult result;
  result.root = r == 0;
  result.info.gpu = gpu_name(device);
  result.info.mode = "nccl, " + w.launcher() + " launcher";
  result.info.p2p = "NCCL";
  result.info.partition = "none: one GPU per rank";
  std::vector<RankStreams> streams(static_cast<std::size_t>(s.ranks));
  RankOutcome out;
  const std::atomic<bool> never{false};
  const auto set_up_timeout = std::max(o.timeout, std::chrono::milliseconds(60000));
  std::string failure;
  {
    NcclTransport net(s, comms, streams, o.rows, o.hidden);
    try {
      // Each process its GPU's rates before the run (rank 0's go into the prediction), with no
      // other partition to load: all at once, so no rank waits on another's measurement within
      // the world's deadline. A failure here tears down like any other.
      if (c.measure_rates) result.info.rates = result.info.rates_alone = measure_gpu_rates(o, nullptr, 1, 0).alone;
      result.before = sync_clocks(w);
      const RankSetup setup{s, o, true, nullptr, 0, 0, device, set_up_timeout};
      run_rank(r, setup, comms, streams[static_cast<std::size_t>(r)], net, [&] { w.barrier(); }, out, never);
      result.after = sync_clocks(w);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  tear_down(streams[static_cast<std::size_t>(r)], comms[static_cast<std::size_t>(r)], true);
  if (!failure.empty()) throw std::runtime_error("rank " + std::to_string(r) + ": " + failure);

  // Rank 0 gathers every rank's report and puts the timeline on its own clock.
  RankReport<float> report;
  report.epoch_ns = out.host_epoch_ns;
  report.loss = out.loss;
  report.intervals = std::move(out.intervals);
  report.copies = std::move(out.copies);
  const std::vector<Bytes> all = w.gather(encode_report(report));
  if (result.root) result.run = merge_reports<float>(s, o, all, result.before);
  return result;
}

}  // namespace ppsim::runtime
