#pragma once
// One function per generator (sim/generators/*.cpp); requests are checked by make_schedule first.
#include <string>

#include "sim/schedule.hpp"

namespace ppsim::sim::gen {

Schedule gpipe(int ranks, int microbatches);
Schedule one_f_one_b(int ranks, int microbatches);
Schedule interleaved_1f1b(int ranks, int microbatches, int stages_per_rank);
// `group`: Megatron's microbatch_group_size_per_vp_stage (ranks by default).
Schedule interleaved_1f1b_megatron(int ranks, int microbatches, int stages_per_rank, int group);
// Megatron-LM's refusals for that schedule, as one line; empty when it runs.
std::string megatron_interleaved_problem(int ranks, int microbatches, int group);
Schedule zb1p(int ranks, int microbatches);
Schedule zbv(int ranks, int microbatches);
Schedule v_greedy(int ranks, int microbatches, bool half);  // V-Half (half) or V-Min
Schedule dualpipe(int ranks, int microbatches);
Schedule dualpipev(int ranks, int microbatches);

// Placement helpers shared by the generators.
std::vector<int> identity_placement(int ranks);
std::vector<int> looping_placement(int ranks, int stages_per_rank);  // stage s on rank s % ranks
std::vector<int> v_placement(int ranks);  // rank r holds stages r and 2*ranks-1-r

}  // namespace ppsim::sim::gen
