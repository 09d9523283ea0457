#pragma once
// Exact 128-bit integer division for the engine's rates and amounts (sim/flow_network.cpp,
// sim/phase_runner.cpp), without libgcc's general 128-by-128 routine where a cheaper exact one
// applies: a 64-bit division when both fit, the CPU's 128-by-64 divide when the quotient fits
// in 64 bits (every completion time does). Same quotient in every case, so runs stay bit for
// bit whatever path a division takes.
#include <cstdint>

namespace ppsim::sim {

__extension__ typedef __int128 Wide;
__extension__ typedef unsigned __int128 UWide;

// n / d for n >= 0, d > 0.
inline Wide divide(Wide n, Wide d) {
  const auto un = static_cast<UWide>(n), ud = static_cast<UWide>(d);
  const auto hi = static_cast<std::uint64_t>(un >> 64);
  if ((ud >> 64) == 0) {
    const auto d64 = static_cast<std::uint64_t>(ud);
    if (hi == 0) return static_cast<Wide>(static_cast<std::uint64_t>(un) / d64);
#if defined(__x86_64__)
    if (hi < d64) {  // the quotient fits in 64 bits: one divq
      std::uint64_t q, r;
      __asm__("{divq %[d]|div %[d]}" : "=a"(q), "=d"(r) : [d] "r"(d64), "a"(static_cast<std::uint64_t>(un)), "d"(hi));
      return static_cast<Wide>(q);
    }
#endif
  }
  return static_cast<Wide>(un / ud);
}

// ceil(n / d) for n >= 0, d > 0 and n + d - 1 < 2^127 (the engine's amounts and rates are
// far below: bytes < 2^63 make amounts < 2^113).
inline Wide divide_up(Wide n, Wide d) { return divide(n + d - 1, d); }

}  // namespace ppsim::sim
