#pragma once
// Decimal numbers as people write them, and nothing else: an optional sign, digits with an
// optional point, an optional exponent. std::stod would also take hex ("0x10" is 16), "inf",
// "nan" and leading spaces, which no flag or field of ppsim means.
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace ppsim::sim {

// The length of the longest decimal number at the start of `text` (0: none).
inline std::size_t decimal_prefix(std::string_view text) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - from;
  };
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  std::size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return 0;
  const std::size_t before_exponent = i;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return before_exponent;  // "2e" is the number 2 and a letter
  }
  return i;
}

// A number and what follows it ("14.8T": 14.8 and "T"; "50 GB/s": 50 and " GB/s").
struct LeadingNumber {
  double value;
  std::string rest;
};
// The decimal number `text` starts with, or nothing when it starts with none.
inline std::optional<LeadingNumber> leading_number(std::string_view text) {
  const std::size_t n = decimal_prefix(text);
  if (n == 0) return std::nullopt;
  return LeadingNumber{std::strtod(std::string(text.substr(0, n)).c_str(), nullptr), std::string(text.substr(n))};
}

// The whole of `text` as a finite decimal number, or nothing.
inline std::optional<double> parse_decimal(std::string_view text) {
  const auto n = leading_number(text);
  if (!n || !n->rest.empty()) return std::nullopt;
  const double v = n->value;
  if (!(v == v) || v > 1.7e308 || v < -1.7e308) return std::nullopt;  // overflowed to infinity
  return v;
}

}  // namespace ppsim::sim
