#include "sim/time.hpp"

#include <stdexcept>

namespace ppsim::sim {

std::int64_t parse_thousandths(std::string_view text, const std::string& what, const std::string& unit) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument(what + " = '" + std::string(text) + "' " + why + ": allowed a non-negative number of " +
                                 unit + " with at most 3 decimals");
  };
  if (text.empty()) throw bad("is empty");
  Time whole = 0, frac = 0;
  int frac_digits = 0;
  bool seen_dot = false, seen_digit = false;
  for (char c : text) {
    if (c == '.') {
      if (seen_dot) throw bad("is not a number");
      seen_dot = true;
    } else if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_dot) {
        if (++frac_digits > 3) throw bad("has more than 3 decimals");
        frac = frac * 10 + (c - '0');
      } else {
        whole = whole * 10 + (c - '0');
        if (whole > kMaxTime / kNsPerUs) throw bad("is too large");
      }
    } else {
      throw bad("is not a number");
    }
  }
  if (!seen_digit) throw bad("is not a number");
  for (int i = frac_digits; i < 3; ++i) frac *= 10;
  return whole * kNsPerUs + frac;
}

std::string format_us(Time ns) {
  const bool negative = ns < 0;
  const Time a = negative ? -ns : ns;
  std::string out = (negative ? "-" : "") + std::to_string(a / kNsPerUs);
  Time frac = a % kNsPerUs;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

TimeUnit unit_for(Time span) {
  const Time a = span < 0 ? -span : span;
  if (a >= 1'000'000'000) return {"s", 1'000'000'000};
  if (a >= 1'000'000) return {"ms", 1'000'000};
  return {"us", kNsPerUs};
}

std::string format_in(Time ns, TimeUnit u) {
  // Thousandths of the unit, rounded half away from zero, then format_us's digits.
  const Time per_thousandth = u.ns / 1000;
  const Time a = ns < 0 ? -ns : ns;
  const Time thousandths = (a + per_thousandth / 2) / per_thousandth;
  return (ns < 0 ? "-" : "") + format_us(thousandths);
}

std::string format_duration(Time ns) {
  const TimeUnit u = unit_for(ns);
  return format_in(ns, u) + " " + u.name;
}

}  // namespace ppsim::sim
