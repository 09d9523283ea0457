// Builds without MPI: the mpi launcher refuses in one line.
#include <stdexcept>

#include "runtime/world.hpp"

namespace ppsim::runtime {

std::unique_ptr<World> make_mpi_world(std::chrono::milliseconds) {
  throw std::invalid_argument("--launcher mpi: this build has no MPI (scripts/setup installs OpenMPI; rebuild)");
}

}  // namespace ppsim::runtime
