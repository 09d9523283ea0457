#pragma once
// File input/output for the CLI: bounded reads, and outputs that are checked before the work
// starts and land whole and together, or not at all.
#include <atomic>
#include <cstddef>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/args.hpp"

namespace ppsim::cli {

inline constexpr std::size_t kMaxInputBytes = 256u << 20;  // 256 MiB

// The whole file; throws std::invalid_argument naming the path when it cannot be read or is too big.
std::string read_file(const std::string& path);

// A command's output flags, checked before its work starts: each path's folder exists and is
// writable, the path is not a folder, not another output's path, and not a file that any other
// flag names (an input: --from-json, --catalog, --merge a,b, ...). Throws naming the flag.
void check_outputs(const Args& args, const std::vector<std::string>& output_flags);

// A command's outputs, all or none: every file is written whole to a temporary next to its
// target (O_EXCL), and only when all are written are they renamed into place (SIGINT and
// SIGTERM held off meanwhile); devices and FIFOs are written in place; "-" or "" goes to `out`,
// last. A failure removes every temporary. (A rename in one folder fails only when the folder
// changes underneath; the outputs renamed before it then stay.)
void write_outputs(const std::vector<std::pair<std::string, std::string>>& path_and_text, std::ostream& out);
// One output: write_outputs({{path, text}}, out).
void write_output(const std::string& path, const std::string& text, std::ostream& out);

// For SIGINT/SIGTERM: removes the temporaries being written (async-signal-safe).
void remove_temporaries() noexcept;
// True once a command's outputs have been renamed into place (what a stop message says).
extern std::atomic<bool> outputs_written;

}  // namespace ppsim::cli
