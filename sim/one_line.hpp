#pragma once
// An error message as one line: control characters a user's value brought in (a newline, a
// NUL, a tab) are written as \n, \xHH ..., so the message never spans or breaks lines.
#include <cstdio>
#include <string>

namespace ppsim::sim {

inline std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace ppsim::sim
