#pragma once
// What one collective costs a GPU of its group, on the links it really uses, with the
// algorithm NCCL would pick (the fastest of those it has for the group's shape).
//
// A group of n GPUs lies in k NVLink domains with m of its GPUs in each (model/placement.hpp
// finds the shape). Bus-bandwidth factors f (nccl-tests' convention): all-reduce 2(n-1)/n,
// reduce-scatter and all-gather (n-1)/n, all-to-all (n-1)/n. `bytes` is the collective's size
// (all-reduce: the buffer; reduce-scatter: the input; all-gather: the output; all-to-all: what
// one GPU sends in all).
//   - one domain: ring over NVLink, f x bytes per GPU on NVLink, (steps) x NVLink latency.
//   - across domains, ring (NCCL runs one ring per NIC rail, so each GPU's NIC carries f x
//     bytes / m and its NVLink the rest): f x bytes x (m-1)/m on NVLink, f x bytes / m on the NIC.
//   - across domains, tree (all-reduce): chains inside a domain and a double binary tree
//     between them: 2 x bytes / m on each NIC, about 2 x bytes on NVLink, latency
//     2 log2(k) NIC hops + 2(m-1) NVLink hops -- what NCCL picks for small or latency-bound sizes.
//   - across domains, hierarchical (all-reduce, reduce-scatter, all-gather): the collective
//     inside the domain on NVLink, then across the k domains on 1/m of the data over the NIC.
//   - all-to-all: pairwise; the share for other domains crosses the NIC, the rest NVLink.
// Time = max or sum of the link terms (ring and tree pipeline their links; hierarchical runs
// its phases in turn) + the latency terms.
#include <string>

namespace ppsim::model {

enum class Collective { AllReduce, ReduceScatter, AllGather, AllToAll };

struct GroupShape {
  int size = 1;        // n
  int per_domain = 1;  // m: the group's GPUs in one NVLink domain (the most in any)
  int domains = 1;     // k
};

struct LinkRates {
  double nvlink_gbps = 0, nic_gbps = 0;              // per GPU, one direction, after efficiency
  double nvlink_latency_us = 0, nic_latency_us = 0;  // per hop
};

struct CollectiveCost {
  std::string algorithm;  // "none" (n = 1), "ring", "tree", "hierarchical", "pairwise"
  double nvlink_bytes = 0, nic_bytes = 0;  // per GPU, sent
  double seconds = 0;
  double latency_seconds = 0;  // of `seconds`
};

double bus_factor(Collective c, int n);
CollectiveCost collective_cost(Collective c, double bytes, const GroupShape& group, const LinkRates& links);
const char* to_string(Collective c);

}  // namespace ppsim::model
