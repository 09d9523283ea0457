#pragma once
// ppsim validate --held-out (validate_held_out.cpp).
#include <ostream>

#include "cli/args.hpp"
#include "runtime/executor.hpp"

namespace ppsim::cli {

// Exit code: 0 when every kind reproduced the sequential run, else 1.
int run_held_out(const Args& args, const runtime::ExecOptions& options, bool single_precision, std::ostream& out);

}  // namespace ppsim::cli
