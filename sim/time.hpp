#pragma once
// Time inside ppsim: int64 nanoseconds, never floating point, so results are exact and
// repeatable. Costs and results are written in microseconds ("us") with up to three decimals
// (whole nanoseconds), parsed and printed without floating point.
#include <cstdint>
#include <string>
#include <string_view>

namespace ppsim::sim {

using Time = std::int64_t;  // nanoseconds

inline constexpr Time kNsPerUs = 1000;
inline constexpr Time kMaxTime = Time{1} << 62;  // ~146 years: far beyond any training step

// "2.5" -> 2500: a non-negative decimal with at most 3 fractional digits, in thousandths.
// Throws std::invalid_argument naming `what` and the unit for anything else or above kMaxTime.
std::int64_t parse_thousandths(std::string_view text, const std::string& what, const std::string& unit);
// "2.5" (microseconds) -> 2500 ns.
inline Time parse_us(std::string_view text, const std::string& what) {
  return parse_thousandths(text, what, "microseconds");
}
// 2500 -> "2.5", 3000 -> "3", 1 -> "0.001".
std::string format_us(Time ns);
// Durations for people: the unit that fits (s from 1 s, ms from 1 ms, else us), at most three
// decimals, trailing zeros dropped, with the unit: 66000 -> "66 us", 27322116484 -> "27.322 s".
struct TimeUnit {
  const char* name;
  Time ns;  // nanoseconds in one
};
TimeUnit unit_for(Time span);                // the unit for values up to `span` (a table's column, an axis)
std::string format_in(Time ns, TimeUnit u);  // the number alone, in that unit
std::string format_duration(Time ns);        // number and unit
// For JSON output: the microsecond value as a double (exact for anything below 2^53 ns).
inline double to_us(Time ns) { return static_cast<double>(ns) / static_cast<double>(kNsPerUs); }

}  // namespace ppsim::sim
