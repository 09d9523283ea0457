#pragma once
// Helpers shared by the test suites.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ppsim::test {

// 64-bit FNV-1a, as hex: the hash the golden reference orders are stored under.
inline std::string fnv1a64(const std::string& text) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Golden data lives beside the tests; CMake passes the folder in, so no test depends on
// the working directory.
inline std::string golden_path(const std::string& name) { return std::string(PPSIM_GOLDEN_DIR) + "/" + name; }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The message of the std::invalid_argument `fn` throws ("" when it throws nothing).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

}  // namespace ppsim::test
