#pragma once
// Bandwidths written with their unit, so a figure cannot be misread: "50GB/s" is bytes,
// "400Gb/s" bits (to most readers "gbps" means gigabits; ppsim's old *-gbps flags meant
// gigabytes). The new flags (--p2p-bandwidth, --inter-bandwidth, --intra-bandwidth) need the
// unit; the old names stay as aliases that take a bare number of GB/s.
#include <optional>
#include <string>

#include "cli/args.hpp"

namespace ppsim::cli {

// Bytes per second from "50GB/s", "50 GB/s", "50GBps" (bytes), "400Gb/s", "400Gbps" (bits),
// "1.6TB/s", "900MiB/s" ... (B/b with K, M, G, T or Ki, Mi, Gi, Ti; "/s" or "ps"). A bare number
// is refused, naming the units allowed, unless `bare_is_gbytes` (the old names): then it is GB/s.
// Allowed: 1 MB/s to 1 PB/s.
double parse_bandwidth(const std::string& text, const std::string& flag, bool bare_is_gbytes);

// The flag `name` (a unit required) or its old alias `old_name` (a bare number is GB/s), in bytes
// per second; nothing when neither is given; both is refused.
std::optional<double> bandwidth_flag(const Args& args, const std::string& name, const std::string& old_name);

}  // namespace ppsim::cli
