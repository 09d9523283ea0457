// The launcher's world (in ppsim_runtime_mpi, which holds the MPI world or its refusal).
#include <stdexcept>

#include "runtime/world.hpp"

namespace ppsim::runtime {

std::unique_ptr<World> make_world(const std::string& launcher, std::chrono::milliseconds timeout) {
  if (launcher == "mpi") return make_mpi_world(timeout);
  if (launcher == "env") return make_env_world(timeout);
  throw std::invalid_argument("--launcher = '" + launcher + "' is not allowed; allowed: threads, mpi, env");
}

}  // namespace ppsim::runtime
