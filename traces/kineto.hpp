#pragma once
// Reading a PyTorch profiler (Kineto) Chrome trace: the GPU kernels, each put in one of
// ppsim's phases by its name (attention, GEMMs, the MoE dispatch and combine, P2P, other
// collectives, memory copies, the rest), and the ops (F, B, Bi, W, FB) marked by annotations
// (record_function ranges: on the GPU timeline when the trace has them). What it implies is
// summed per device, one device per pipeline stage: `ppsim calibrate --from-kineto`.
//
// Rules are regular expressions over names (ECMAScript, case-insensitive), tried in order, the
// first match winning: the user's first (a rules file), then the built-in ones.
#include <nlohmann/json_fwd.hpp>
#include <map>
#include <string>
#include <vector>

namespace ppsim::traces {

// Where a kernel's time goes.
inline const std::vector<std::string>& kineto_phases() {
  static const std::vector<std::string> phases = {"attention", "gemm",       "dispatch", "combine",
                                                  "p2p",       "collective", "memory",   "other"};
  return phases;
}

struct KinetoRule {
  std::string target;   // a phase (kernel rules) or an op kind F, B, Bi, W, FB (op rules)
  std::string pattern;  // a regular expression over the name
};

struct KinetoRules {
  std::vector<KinetoRule> kernels, ops;
  // The built-in rules: kernel names of cuBLAS/CUTLASS, FlashAttention, DeepEP, NCCL ...;
  // op annotations named forward / backward (input, weight) / overlapped pairs.
  static KinetoRules builtin();
  // {"kernels": [{"phase": P, "pattern": R}, ...], "ops": [{"op": K, "pattern": R}, ...]} ahead
  // of `base`; errors name the entry and what is allowed.
  static KinetoRules from_json(const nlohmann::json& doc, const KinetoRules& base);
};

struct KinetoDevice {
  int device = 0;                           // the trace's device (or process) id
  std::map<std::string, double> phase_us;   // kernel time by phase
  std::map<std::string, int> phase_kernels; // kernels by phase
  std::map<std::string, std::vector<double>> op_us;  // op kind -> each op's duration
  double busy_us = 0;                       // time with some kernel running (union over streams)
  double span_us = 0;                       // first kernel start to last kernel end
  double comm_overlapped_us = 0;            // communication kernel time while a compute kernel ran
  double comm_us = 0;                       // communication kernel time (union)
  std::map<std::string, std::string> examples;  // phase -> a kernel name it took (for the report)
};

struct KinetoProfile {
  std::vector<KinetoDevice> devices;  // by device id: stage s is the s-th
  long kernels = 0, annotations_used = 0;
  bool gpu_annotations = false;       // ops from GPU-side ranges (else from CPU-side ones)
};

// Adds one trace's kernels and ops to `profile` (one file per rank, or several devices in one
// file; `device_offset` shifts the ids of a later file's devices). `origin` names the file.
void read_kineto(const nlohmann::json& trace, const KinetoRules& rules, const std::string& origin, int device_offset,
                 KinetoProfile& profile);

}  // namespace ppsim::traces
