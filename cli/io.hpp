#pragma once
// File input/output for the CLI: bounded reads, and writes that never leave a partial file.
#include <cstddef>
#include <ostream>
#include <string>

namespace ppsim::cli {

inline constexpr std::size_t kMaxInputBytes = 256u << 20;  // 256 MiB

// The whole file; throws std::invalid_argument naming the path when it cannot be read or is too big.
std::string read_file(const std::string& path);
// Writes text to path via a temporary file renamed into place; "-" or "" writes to `out`.
void write_output(const std::string& path, const std::string& text, std::ostream& out);

}  // namespace ppsim::cli
