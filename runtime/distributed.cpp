#include "runtime/distributed.hpp"

#include <stdexcept>

#include "runtime/cpu_backend.hpp"
#include "runtime/rank_program.hpp"

namespace ppsim::runtime {

namespace {

template <class Dense>
void put_dense(ByteWriter& w, const Dense& m) {
  w.put(static_cast<std::int64_t>(m.rows())).put(static_cast<std::int64_t>(m.cols()));
  w.put_raw(m.data(), static_cast<std::size_t>(m.size()) * sizeof(typename Dense::Scalar));
}

template <class Dense>
void get_dense(ByteReader& r, Dense& m) {
  const auto rows = r.template get<std::int64_t>(), cols = r.template get<std::int64_t>();
  if (rows < 0 || cols < 0 || rows > (1 << 20) || cols > (1 << 20)) throw std::runtime_error("a tensor arrived with a bad shape");
  m.resize(rows, cols);
  r.get_raw(m.data(), static_cast<std::size_t>(m.size()) * sizeof(typename Dense::Scalar));
}

}  // namespace

template <class Tensor>
std::uint64_t WorldTransport<Tensor>::tag_of(Tag t) const {
  const std::uint64_t tag = (static_cast<std::uint64_t>(t.mb) * static_cast<std::uint64_t>(stages_) + static_cast<std::uint64_t>(t.stage)) * 2 +
                            (t.grad ? 1 : 0);
  if (tag >= world_.user_tag_limit())
    throw std::runtime_error("micro-batch " + std::to_string(t.mb) + " of stage " + std::to_string(t.stage) +
                             " needs a message tag above the " + world_.launcher() + " launcher's limit " +
                             std::to_string(world_.user_tag_limit()));
  return tag;
}

template <class Tensor>
void WorldTransport<Tensor>::send(int, int dst, Tag tag, Tensor data) {
  ByteWriter w;
  put_dense(w, data);
  world_.send(dst, tag_of(tag), w.take());
}

template <class Tensor>
Tensor WorldTransport<Tensor>::recv(int, int src, Tag tag) {
  const Bytes bytes = world_.recv(src, tag_of(tag));
  ByteReader r(bytes);
  Tensor t;
  get_dense(r, t);
  return t;
}

template <class Tensor>
void WorldTransport<Tensor>::flush(int) {
  world_.wait_sends();
}

template <class S>
DistributedResult<S> execute_distributed(const sim::Schedule& s, const ExecOptions& o, World& world) {
  check_options(o);
  if (world.size() != s.ranks)
    throw std::invalid_argument("--launcher " + world.launcher() + ": " + std::to_string(world.size()) + " processes for a " +
                                std::to_string(s.ranks) + "-rank schedule: start one process per rank (mpirun -np " +
                                std::to_string(s.ranks) + ")");
  DistributedResult<S> out;
  out.root = world.rank() == 0;
  out.before = sync_clocks(world);
  world.barrier();
  const auto epoch = std::chrono::steady_clock::now();
  const std::int64_t epoch_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(epoch.time_since_epoch()).count();

  CpuBackend<S> backend{o, world.rank(), epoch, 0, {}, {}};
  WorldTransport<typename MlpStage<S>::Matrix> net(world, s.stages);
  RankProgram<CpuBackend<S>> program(s, world.rank(), backend, net, o.timeout);
  const std::atomic<bool> never{false};
  program.run(never);
  out.after = sync_clocks(world);

  RankReport<S> report;
  report.epoch_ns = epoch_ns;
  report.loss = static_cast<double>(backend.loss);
  report.intervals = std::move(backend.intervals);
  for (const auto& [key, block] : program.copies())
    for (int e = 0; e < o.experts; ++e) report.copies.emplace_back(key.first * o.experts + e, block.experts[static_cast<std::size_t>(e)]);
  const std::vector<Bytes> all = world.gather(encode_report(report));
  if (out.root) out.run = merge_reports<S>(s, o, all, out.before);
  return out;
}

template <class S>
Bytes encode_report(const RankReport<S>& r) {
  ByteWriter w;
  w.put(r.epoch_ns).put(r.loss).put(static_cast<std::int64_t>(r.intervals.size()));
  for (const sim::Interval& iv : r.intervals) w.put(iv.op).put(iv.start).put(iv.end);
  w.put(static_cast<std::int64_t>(r.copies.size()));
  for (const auto& [key, g] : r.copies) {
    w.put(key);
    put_dense(w, g.gw1);
    put_dense(w, g.gw2);
    put_dense(w, g.gb1);
    put_dense(w, g.gb2);
  }
  return w.take();
}

template <class S>
ExecResult<S> merge_reports(const sim::Schedule& s, const ExecOptions& o, const std::vector<Bytes>& all, const ClockSync& clocks) {
  ExecResult<S> result;
  result.timeline.kind = s.kind;
  result.timeline.ranks = s.ranks;
  std::vector<std::pair<int, MlpStage<S>>> owned;  // the copies the sums point into
  std::int64_t root_epoch = 0;
  for (int r = 0; r < s.ranks; ++r) {
    ByteReader in(all.at(static_cast<std::size_t>(r)));
    const auto rank_epoch = in.get<std::int64_t>();
    if (r == 0) root_epoch = rank_epoch;
    result.loss += static_cast<S>(in.get<double>());
    // This rank's times on rank 0's clock, from rank 0's epoch.
    const std::int64_t shift = rank_epoch - clocks.offset_ns.at(static_cast<std::size_t>(r)) - root_epoch;
    for (std::int64_t i = 0, n = in.get<std::int64_t>(); i < n; ++i) {
      sim::Interval iv;
      iv.rank = r;
      iv.op = in.get<sim::Op>();
      iv.start = in.get<sim::Time>() + shift;
      iv.end = in.get<sim::Time>() + shift;
      result.timeline.intervals.push_back(iv);
    }
    for (std::int64_t i = 0, n = in.get<std::int64_t>(); i < n; ++i) {
      const int key = in.get<int>();
      MlpStage<S> g;
      get_dense(in, g.gw1);
      get_dense(in, g.gw2);
      get_dense(in, g.gb1);
      get_dense(in, g.gb2);
      owned.emplace_back(key, std::move(g));
    }
  }
  std::vector<std::pair<int, const MlpStage<S>*>> copies;
  for (const auto& [key, g] : owned) copies.emplace_back(key, &g);
  result.stages = sum_stage_copies<S>(o, s.stages, copies);
  return result;
}

template class WorldTransport<MlpStage<float>::Matrix>;
template class WorldTransport<MlpStage<double>::Matrix>;
template DistributedResult<float> execute_distributed<float>(const sim::Schedule&, const ExecOptions&, World&);
template DistributedResult<double> execute_distributed<double>(const sim::Schedule&, const ExecOptions&, World&);
template Bytes encode_report<float>(const RankReport<float>&);
template Bytes encode_report<double>(const RankReport<double>&);
template ExecResult<float> merge_reports<float>(const sim::Schedule&, const ExecOptions&, const std::vector<Bytes>&, const ClockSync&);
template ExecResult<double> merge_reports<double>(const sim::Schedule&, const ExecOptions&, const std::vector<Bytes>&, const ClockSync&);

}  // namespace ppsim::runtime
