#include "runtime/world.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ppsim::runtime {

void ByteReader::get_raw(void* data, std::size_t n) {
  if (n > in_.size() - at_) throw std::runtime_error("a message ended early: a rank sent something else than expected");
  std::memcpy(data, in_.data() + at_, n);
  at_ += n;
}

void World::barrier() {
  gather({});
  broadcast({});
}

Bytes World::broadcast(Bytes bytes) {
  if (rank() == 0) {
    for (int r = 1; r < size(); ++r) send(r, reserved(Reserved::Broadcast), bytes);
    wait_sends();
    return bytes;
  }
  return recv(0, reserved(Reserved::Broadcast));
}

std::vector<Bytes> World::gather(Bytes bytes) {
  if (rank() != 0) {
    send(0, reserved(Reserved::Gather), std::move(bytes));
    wait_sends();
    return {};
  }
  std::vector<Bytes> all(static_cast<std::size_t>(size()));
  all[0] = std::move(bytes);
  for (int r = 1; r < size(); ++r) all[static_cast<std::size_t>(r)] = recv(r, reserved(Reserved::Gather));
  return all;
}

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::int64_t ClockSync::max_uncertainty_ns() const {
  return uncertainty_ns.empty() ? 0 : *std::max_element(uncertainty_ns.begin(), uncertainty_ns.end());
}

ClockSync ClockSync::with_drift_to(const ClockSync& after) const {
  ClockSync c = *this;
  for (std::size_t r = 0; r < c.offset_ns.size() && r < after.offset_ns.size(); ++r)
    c.uncertainty_ns[r] = std::max(uncertainty_ns[r], after.uncertainty_ns[r]) + std::abs(after.offset_ns[r] - offset_ns[r]);
  return c;
}

ClockSync sync_clocks(World& w, int rounds) {
  ClockSync c;
  c.offset_ns.assign(static_cast<std::size_t>(w.size()), 0);
  c.uncertainty_ns.assign(static_cast<std::size_t>(w.size()), 0);
  const std::uint64_t ping = w.reserved(World::Reserved::Ping), pong = w.reserved(World::Reserved::Pong);
  for (int r = 1; r < w.size(); ++r)
    for (int i = 0; i < rounds; ++i) {
      if (w.rank() == 0) {
        const std::int64_t t0 = steady_now_ns();
        w.send(r, ping, {});
        const Bytes reply = w.recv(r, pong);
        const std::int64_t t1 = steady_now_ns();
        ByteReader in(reply);
        const std::int64_t remote = in.get<std::int64_t>();
        const std::int64_t half = (t1 - t0) / 2;
        // The fastest round trip bounds the offset best: the reply left between t0 and t1.
        if (i == 0 || half < c.uncertainty_ns[static_cast<std::size_t>(r)]) {
          c.uncertainty_ns[static_cast<std::size_t>(r)] = half;
          c.offset_ns[static_cast<std::size_t>(r)] = remote - (t0 + half);
        }
      } else if (w.rank() == r) {
        w.recv(0, ping);
        w.send(0, pong, ByteWriter().put(steady_now_ns()).take());
      }
    }
  w.wait_sends();
  return c;
}

}  // namespace ppsim::runtime
