#include "sim/simulation_key.hpp"

#include <type_traits>

#include "sim/phases.hpp"

namespace ppsim::sim {

namespace {
template <typename T>
void put(std::string& out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
void put_ints(std::string& out, const std::vector<int>& v) {
  put(out, v.size());
  for (int x : v) put(out, x);
}
}  // namespace

bool simulation_key(const Schedule& schedule, const CostModel& costs, const SimOptions& o, std::string& key) {
  key.clear();
  put(key, &schedule);
  put(key, o.p2p.latency);
  put(key, o.p2p.bytes_per_second);
  put(key, o.record_timeline);
  const PhasedCosts* phased = o.phases ? costs.phased() : nullptr;
  put(key, phased != nullptr);
  put(key, costs.stages());
  for (int st = 0; st < schedule.stages; ++st) {
    put(key, costs.p2p_bytes(st));
    put(key, costs.activation_bytes(st));
  }
  if (phased) {  // the phases decide every duration
    put(key, phased->compute_rate_during_comm());
    put(key, phased->comm_bytes_per_ns());
    put(key, phased->scale_up_bytes_per_ns());
    for (int st = 0; st < schedule.stages; ++st)
      for (OpKind k : {OpKind::F, OpKind::B, OpKind::Bi, OpKind::W}) {
        const auto& phases = phased->phases(k, st);
        put(key, phases.size());
        for (const Phase& p : phases) {
          put(key, p.kind);
          put(key, p.work);
          put(key, p.bytes);
          put(key, p.channel);
          put(key, p.what);
        }
      }
  } else if (!costs.fingerprint(key)) {
    return false;
  }
  put(key, o.network != nullptr);
  if (const NetworkSpec* n = o.network) {
    put(key, n->capacity.size());
    for (double c : n->capacity) put(key, c);
    put(key, n->routes.size());
    for (const auto& r : n->routes) {
      put_ints(key, r.resources);
      put(key, r.latency);
    }
    put(key, n->p2p_route.size());
    for (const auto& [pair, route] : n->p2p_route) {
      put(key, pair.first);
      put(key, pair.second);
      put(key, route);
    }
    put_ints(key, n->comm_route);
    put_ints(key, n->scale_up_route);
    put_ints(key, n->dp_route);
  }
  put(key, o.tails.size());
  for (const SimOptions::Tail& t : o.tails) {
    put(key, t.rank);
    put(key, t.route);
    put(key, t.bytes);
    put(key, t.at_last_op_start);
    put(key, t.channel);
  }
  return true;
}

}  // namespace ppsim::sim
