#pragma once
// Schedule <-> PyTorch's pipelining CSV action format (torch.distributed.pipelining,
// _PipelineScheduleRuntime._dump_csv/_load_csv): one row per rank, one action per cell,
// written as <stage><type><micro-batch>: "0F3", "2B1", "1I0" (input-grad, our Bi), "1W0",
// and an overlapped pair as "(0F5;3B1)OVERLAP_F_B". Empty cells are idle steps.
// Communication, FSDP and reduction actions of PyTorch's lowered "compute_comms" format
// (SEND_F, RECV_B, WAIT_SEND_F, UNSHARD, REDUCE_GRAD, ...) are accepted on input and
// skipped: ppsim derives transfers from the placement.
#include <string>

#include "sim/schedule.hpp"

namespace ppsim::sim {

std::string to_csv(const Schedule& schedule);
// Infers stages and micro-batches (largest index + 1) and the placement from which rank runs
// each stage; a stage on two ranks must split the micro-batches into two directions (DualPipe).
// Throws std::invalid_argument naming row, column and cell. Does not run validate().
Schedule schedule_from_csv(const std::string& text);

}  // namespace ppsim::sim
