#pragma once
// A schedule run with one process per rank (World: mpi or env launcher), on the CPU backend.
// Before the run the ranks' clocks are measured against rank 0's (ping-pong), and again after
// it (drift); each rank then runs its own ops, tensors crossing processes through the world;
// afterwards rank 0 gathers the loss, every stage copy's gradients and every op's interval,
// and puts the timeline on its own clock.
#include "runtime/executor.hpp"
#include "runtime/transport.hpp"
#include "runtime/world.hpp"

namespace ppsim::runtime {

template <class S>
struct DistributedResult {
  bool root = false;   // rank 0: `run` holds every rank's results; elsewhere it is empty
  ExecResult<S> run;   // the loss, the gradients summed over copies, the timeline on rank 0's clock
  ClockSync before, after;  // offsets to rank 0 measured before and after the run (rank 0 only)
};

// What one rank reports to rank 0 after a distributed run (CPU or GPU backend).
template <class S>
struct RankReport {
  std::int64_t epoch_ns = 0;  // the rank's clock when it left the start line
  double loss = 0;
  std::vector<sim::Interval> intervals;              // relative to its epoch
  std::vector<std::pair<int, MlpStage<S>>> copies;   // (stage * experts + expert, its gradients)
};
template <class S>
Bytes encode_report(const RankReport<S>& report);
// On rank 0: every rank's report (gathered, in rank order) into one result, each rank's times
// moved onto rank 0's clock with the offsets measured before the run.
template <class S>
ExecResult<S> merge_reports(const sim::Schedule& schedule, const ExecOptions& options, const std::vector<Bytes>& reports,
                            const ClockSync& clocks);

// std::invalid_argument when the world's size is not the schedule's ranks; std::runtime_error
// naming the rank, op and peer when a wait passes its deadline.
template <class S>
DistributedResult<S> execute_distributed(const sim::Schedule& schedule, const ExecOptions& options, World& world);

// The transport of one process: tensors as bytes through the world, tags from (grad, mb, stage).
template <class Tensor>
class WorldTransport final : public Transport<Tensor> {
 public:
  WorldTransport(World& world, int stages) : world_(world), stages_(stages) {}
  void send(int src, int dst, Tag tag, Tensor data) override;
  Tensor recv(int dst, int src, Tag tag) override;
  void flush(int rank) override;

 private:
  std::uint64_t tag_of(Tag t) const;
  World& world_;
  int stages_;
};

}  // namespace ppsim::runtime
