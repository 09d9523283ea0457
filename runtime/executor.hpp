#pragma once
// Runs a Schedule for real on CPU threads: one worker per rank executes its ops in order on
// the MLP model (mlp_stage.hpp), tensors move through a Transport, and every op's start and
// end is measured into the same Timeline type the simulator produces. A sequential run of the
// same model over the same micro-batches is the reference the pipelined one must reproduce.
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "runtime/mlp_stage.hpp"
#include "runtime/moe_block.hpp"
#include "runtime/transport.hpp"
#include "sim/schedule.hpp"
#include "sim/timeline.hpp"

namespace ppsim::runtime {

struct ExecOptions {
  int hidden = 32;   // model width
  int ffn = 64;      // MLP inner width
  int rows = 8;      // tokens per micro-batch
  int experts = 1;   // > 1: every stage is a small MoE layer of this many MLP experts (moe_block.hpp)
  int top_k = 1;     // experts per token
  std::uint64_t seed = 1;
  std::chrono::milliseconds timeout{10000};  // the deadline of every wait
  std::size_t mailbox_capacity = 64;
};

template <class Scalar>
struct ExecResult {
  Scalar loss = 0;  // summed over micro-batches
  // Per (stage, expert), at stage * experts + expert; gradients summed over a stage's copies.
  std::vector<MlpStage<Scalar>> stages;
  sim::Timeline timeline;                 // measured (empty for the sequential reference)
};

// The pieces every backend shares, so all of them train the same model on the same data.
void check_options(const ExecOptions& options);  // std::invalid_argument naming the field
template <class Scalar>
typename MlpStage<Scalar>::Matrix microbatch_data(const ExecOptions& options, int mb, bool target);
template <class Scalar>
MlpStage<Scalar> initial_expert(const ExecOptions& options, int stage, int expert);
template <class Scalar>
MoeBlock<Scalar> initial_block(const ExecOptions& options, int stage);  // experts and routing
// Each (stage, expert)'s initial parameters with the gradients of all its copies summed; the
// copies are keyed by stage * experts + expert.
template <class Scalar>
std::vector<MlpStage<Scalar>> sum_stage_copies(const ExecOptions& options, int stages,
                                               const std::vector<std::pair<int, const MlpStage<Scalar>*>>& copies);

// Throws std::runtime_error naming the rank, the op and the peer it waited for when a wait
// passes its deadline (a broken schedule never hangs), and std::invalid_argument for bad options.
template <class Scalar>
ExecResult<Scalar> execute(const sim::Schedule& schedule, const ExecOptions& options);

// The same run over the caller's transport (tests watch the messages with it); `abort` is the
// flag the transport's waits watch.
template <class Scalar>
ExecResult<Scalar> execute(const sim::Schedule& schedule, const ExecOptions& options,
                           Transport<typename MlpStage<Scalar>::Matrix>& transport, std::atomic<bool>& abort);

template <class Scalar>
ExecResult<Scalar> run_sequential(int stages, int microbatches, const ExecOptions& options);

// A float run widened to double, to compare with the double reference.
ExecResult<double> to_double(const ExecResult<float>& run);

// max over the loss and every parameter gradient of |pipelined - reference|_max / |reference|_max.
template <class Scalar>
double max_relative_error(const ExecResult<Scalar>& pipelined, const ExecResult<Scalar>& reference);

}  // namespace ppsim::runtime
