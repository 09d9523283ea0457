#pragma once
// One function per generator (sim/generators/*.cpp); requests are checked by make_schedule first.
#include "sim/schedule.hpp"

namespace ppsim::sim::gen {

Schedule gpipe(int ranks, int microbatches);
Schedule one_f_one_b(int ranks, int microbatches);
Schedule interleaved_1f1b(int ranks, int microbatches, int stages_per_rank);
Schedule zb1p(int ranks, int microbatches);
Schedule zbv(int ranks, int microbatches);
Schedule dualpipe(int ranks, int microbatches);
Schedule dualpipev(int ranks, int microbatches);

// Placement helpers shared by the generators.
std::vector<int> identity_placement(int ranks);
std::vector<int> looping_placement(int ranks, int stages_per_rank);  // stage s on rank s % ranks
std::vector<int> v_placement(int ranks);  // rank r holds stages r and 2*ranks-1-r

}  // namespace ppsim::sim::gen
