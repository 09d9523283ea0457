#pragma once
// ppsim size's parts: every JSON answer carries its sweep's identity (model, flags, catalogue,
// ppsim version, shard i of n), so `--merge` and the mpirun gather can check that their parts
// are one sweep, each shard exactly once, every field in range -- or say which part and why.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/args.hpp"
#include "model/catalog.hpp"
#include "model/sizing.hpp"

namespace ppsim::cli {

struct SweepId {
  std::string model;
  std::vector<std::string> flags;  // the sweep's flags as given, sorted (shard, output and threads aside)
  std::string catalog;             // a fingerprint of the catalogue in use
  std::string version;             // of the ppsim that ran it
  int shard = 0, shards = 1;
  nlohmann::json to_json() const;  // without shard and shards: those are the part's own
};

// The sweep `args` asks for (shard 0 of 1; the caller sets the shard).
SweepId sweep_id(const Args& args, const model::Catalog& catalog);

// One plan's row, as size's JSON and CSV give it.
nlohmann::json size_row_json(const model::SizingRow& row);
// One part's JSON (size's answer) with its sweep.
nlohmann::json size_json(const model::SizingResult& result, const SweepId& sweep);

struct MergedSweep {
  SweepId sweep;  // shard 0 of 1: the whole sweep
  model::SizingResult result;
};
// Parts as (where it came from, its JSON text): checked and merged, rows in id order.
MergedSweep merge_parts(const std::vector<std::pair<std::string, std::string>>& parts);

}  // namespace ppsim::cli
