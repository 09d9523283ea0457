// Flow-level sharing: max-min fair rates by progressive filling, recomputed as flows come and
// go; the engine's pipeline transfers on a network match the hand-computed shared link.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "sim/engine.hpp"
#include "sim/flow_network.hpp"
#include "sim/generators.hpp"
#include "sim/wide_math.hpp"

using namespace ppsim::sim;

namespace {
// Runs the network's events; returns each tag's finishing time.
std::map<std::int64_t, Time> drain(FlowNetwork& net, EventQueue& q) {
  std::map<std::int64_t, Time> done;
  while (!q.empty()) {
    const Event e = q.pop();
    done[net.on_event(e, e.time)] = e.time;
  }
  return done;
}
}  // namespace

TEST_CASE("max-min fairness: a flow limited elsewhere leaves its share to the others") {
  // Link A (1 B/ns) carries flows 1 and 2; link B (10 B/ns) carries flows 2 and 3. Max-min:
  // flows 1 and 2 get 0.5 on A; flow 3 gets the rest of B, 9.5.
  EventQueue q;
  FlowNetwork net({1.0, 10.0}, q);
  net.start({0}, 500, 0, 1);     // 1000 ns at 0.5
  net.start({0, 1}, 500, 0, 2);  // 1000 ns at 0.5
  net.start({1}, 9500, 0, 3);    // 1000 ns at 9.5
  const auto done = drain(net, q);
  CHECK(done.at(1) == 1000);
  CHECK(done.at(2) == 1000);
  CHECK(done.at(3) == 1000);
}

TEST_CASE("rates are recomputed when a flow starts or ends") {
  // One 1 B/ns link: flow 1 (1000 B) alone from 0; flow 2 (1000 B) joins at 500: both at 0.5
  // until flow 1 ends at 1500; flow 2 then alone at 1: 500 B left -> 2000.
  EventQueue q;
  FlowNetwork net({1.0}, q);
  net.start({0}, 1000, 0, 1);
  net.start({0}, 1000, 500, 2);  // flow 1's event (at 1000) moves to 1500, in place
  CHECK(q.size() == 2);            // one event per flow: nothing stale left behind
  const auto done = drain(net, q);
  CHECK(done.at(1) == 1500);
  CHECK(done.at(2) == 2000);
}

TEST_CASE("the event queue: one event per key, moved in place; ties in the order scheduled") {
  EventQueue q;
  const EventQueue::Key a = q.new_key(), b = q.new_key();
  q.schedule(a, 100, EventKind::FlowDone, 1);
  q.push(50, EventKind::OpEnd, 7);
  q.schedule(b, 50, EventKind::ComputeDone, 2);
  CHECK(q.size() == 3);
  q.schedule(a, 20, EventKind::FlowDone, 1);  // earlier: moves up
  q.schedule(b, 200, EventKind::ComputeDone, 2);  // later: moves down
  CHECK(q.size() == 3);
  CHECK(q.pending(a));
  Event e = q.pop();
  CHECK((e.time == 20 && e.id == 1 && e.kind() == EventKind::FlowDone));
  CHECK_FALSE(q.pending(a));
  q.schedule(a, 50, EventKind::FlowDone, 3);  // same time as the one-shot event, scheduled after it
  e = q.pop();
  CHECK((e.time == 50 && e.id == 7 && e.kind() == EventKind::OpEnd));
  e = q.pop();
  CHECK((e.time == 50 && e.id == 3));
  // A rescheduled event takes a new place among equal times, as a fresh push would.
  q.push(200, EventKind::Arrive, 9);
  q.schedule(b, 200, EventKind::ComputeDone, 2);
  CHECK(q.pop().id == 9);
  CHECK(q.pop().id == 2);
  CHECK(q.empty());
  CHECK_FALSE(q.pending(b));
}

TEST_CASE("pipeline transfers on a network: the shared-link case by max-min flows") {
  // As in test_engine: GPipe on 2 ranks, 3000-byte activations over a 1 B/ns route: rank 1's
  // forwards start at 6 us and 7 us.
  const Schedule s = make_schedule({ScheduleKind::GPipe, 2, 2, 0});
  NetworkSpec network;
  network.capacity = {1.0, 1.0};
  network.routes = {{{0}, 0}, {{1}, 0}};
  network.p2p_route = {{{0, 1}, 0}, {{1, 0}, 1}};
  SimOptions opt;
  opt.network = &network;
  const SimResult r = simulate(s, CostTable(StageCost{1000, 2000, 0, 3000, 3000, 0}), opt);
  std::vector<Time> starts;
  for (const Interval& iv : r.timeline.intervals)
    if (iv.rank == 1 && iv.lane == Lane::Compute && iv.op.kind == OpKind::F) starts.push_back(iv.start);
  CHECK(starts == std::vector<Time>{6000, 7000});
  // A missing route is an error, not a hang.
  NetworkSpec partial = network;
  partial.p2p_route.erase({1, 0});
  opt.network = &partial;
  CHECK_THROWS_WITH(simulate(s, CostTable(StageCost{1000, 2000, 0, 3000, 3000, 0}), opt),
                    "network: no route from rank 1 to rank 0");
}

TEST_CASE("integer rates: equal shares of a link are exact for up to 16 flows") {
  // n flows of 1000 bytes start together on one 1 B/ns link: each gets 1/n exactly and all end
  // at n x 1000 ns, not a nanosecond later (rates in units of 1/720720 byte per second).
  for (int n = 1; n <= 16; ++n) {
    EventQueue q;
    FlowNetwork net({1.0}, q);
    for (int f = 0; f < n; ++f) net.start({0}, 1000, 0, f);
    const auto done = drain(net, q);
    INFO("flows=", n);
    for (int f = 0; f < n; ++f) CHECK(done.at(f) == 1000 * n);
  }
}

TEST_CASE("a flow whose rate did not change keeps its completion event") {
  // Flow 1 on link A, flow 2 on links A and B (A limits both to 0.5); flow 3 joins on B: B
  // has 10 B/ns, so flows 1 and 2 keep 0.5 and only flow 3 gets an event.
  EventQueue q;
  FlowNetwork net({1.0, 10.0}, q);
  net.start({0}, 500, 0, 1);
  net.start({0, 1}, 500, 0, 2);
  const std::size_t before = q.size();
  net.start({1}, 950, 100, 3);
  CHECK(net.last_rebalanced() == 3);  // the component: all three share a resource transitively
  CHECK(q.size() == before + 1);      // but only the new flow was scheduled
  const auto done = drain(net, q);
  CHECK(done.at(1) == 1000);
  CHECK(done.at(2) == 1000);
  CHECK(done.at(3) == 200);  // 950 bytes at 9.5 B/ns from 100
}

TEST_CASE("bad routes and amounts are refused with one line") {
  EventQueue q;
  CHECK_THROWS_WITH(FlowNetwork({0.0}, q), doctest::Contains("capacity in 1e-9..9e9 bytes/ns"));
  FlowNetwork net({1.0}, q);
  CHECK_THROWS_WITH(net.start({3}, 10, 0, 1), "network: a route names resource 3, which does not exist");
  CHECK_THROWS_WITH(net.start({0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, 0, 1), "network: a route crosses 9 resources; allowed at most 8");
  CHECK_THROWS_WITH(net.start({0}, -1, 0, 1), "network: a flow of -1 bytes; allowed >= 0");
  FlowNetwork two({1.0, 1.0}, q);
  CHECK_THROWS_WITH(two.start({0, 1, 0}, 10, 0, 1), "network: a route crosses resource 0 twice; each at most once");
}

TEST_CASE("wide division: every path gives the exact quotient") {
  // divide() takes a 64-bit division, the CPU's 128-by-64 one, or the general one by operand
  // size; each must equal plain unsigned 128-bit division, at the edges of each path.
  const UWide two64 = static_cast<UWide>(1) << 64;
  const std::vector<UWide> numerators = {0, 1, 7, UINT64_MAX, two64, two64 + 12345, two64 * 720720 + 3, (two64 - 1) * (two64 / 4),
                                         (static_cast<UWide>(1) << 126) + 99, (static_cast<UWide>(1) << 126) - 1};
  // 2^62 with 2^126 - 1: the largest quotient the 128-by-64 divide gives, 2^64 - 1.
  const std::vector<UWide> divisors = {1, 3, 720720, static_cast<UWide>(1) << 62, UINT64_MAX - 1, UINT64_MAX, two64, two64 + 1,
                                       static_cast<UWide>(1) << 100};
  int checked = 0;
  for (const UWide n : numerators)
    for (const UWide d : divisors) {
      CHECK(static_cast<UWide>(divide(static_cast<Wide>(n), static_cast<Wide>(d))) == n / d);
      if (n + d - 1 >= n) CHECK(static_cast<UWide>(divide_up(static_cast<Wide>(n), static_cast<Wide>(d))) == (n + d - 1) / d);
      ++checked;
    }
  CHECK(checked == 90);
  CHECK(divide((static_cast<Wide>(1) << 126) - 1, static_cast<Wide>(1) << 62) == static_cast<Wide>(UINT64_MAX));
}

namespace {
// A small seeded generator, the same on every platform (std's distributions are not):
// next(bound) is in [0, bound).
struct Draw {
  std::uint64_t seed;
  std::uint64_t operator()(std::uint64_t bound) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % bound;
  }
};

// A plain reference for the network: every flow's max-min rate recomputed from scratch at
// every start and end, by progressive filling in the same integers (rates in bytes/s x
// kRateScale, amounts in bytes x 1e9 x kRateScale), no components, no fast paths.
struct RefFlow {
  std::vector<int> route;
  std::int64_t bytes;
  Time start;
};
std::vector<Time> reference_finish(const std::vector<std::int64_t>& capacity_bytes_per_ns, const std::vector<RefFlow>& flows) {
  const Wide scale = FlowNetwork::kRateScale;
  std::vector<Wide> left(flows.size()), rate(flows.size(), 0);
  std::vector<Time> finish(flows.size(), -1);
  for (std::size_t i = 0; i < flows.size(); ++i) left[i] = static_cast<Wide>(flows[i].bytes) * 1'000'000'000 * scale;
  std::vector<char> active(flows.size(), 0), started(flows.size(), 0);
  Time now = 0;
  for (;;) {
    // Max-min rates of the active flows.
    std::vector<Wide> cap_left(capacity_bytes_per_ns.size());
    std::vector<int> count(capacity_bytes_per_ns.size(), 0);
    for (std::size_t r = 0; r < cap_left.size(); ++r) cap_left[r] = static_cast<Wide>(capacity_bytes_per_ns[r]) * 1'000'000'000 * scale;
    std::vector<char> frozen(flows.size(), 1);
    for (std::size_t i = 0; i < flows.size(); ++i)
      if (active[i]) {
        frozen[i] = 0;
        rate[i] = 0;
        for (int r : flows[i].route) ++count[static_cast<std::size_t>(r)];
      }
    for (;;) {
      Wide step = -1;
      for (std::size_t r = 0; r < cap_left.size(); ++r)
        if (count[r] > 0 && (step < 0 || cap_left[r] / count[r] < step)) step = cap_left[r] / count[r];
      if (step < 0) break;  // every flow frozen
      std::vector<char> full(cap_left.size(), 0);
      for (std::size_t r = 0; r < cap_left.size(); ++r)
        if (count[r] > 0) cap_left[r] -= step * count[r], full[r] = cap_left[r] < count[r];
      std::vector<std::size_t> freeze;
      for (std::size_t i = 0; i < flows.size(); ++i) {
        if (frozen[i]) continue;
        rate[i] += step;
        for (int r : flows[i].route)
          if (full[static_cast<std::size_t>(r)]) {
            freeze.push_back(i);
            break;
          }
      }
      for (std::size_t i : freeze) {
        frozen[i] = 1;
        for (int r : flows[i].route) --count[static_cast<std::size_t>(r)];
      }
    }
    // The reference's own check, that these are max-min rates: every active flow crosses a
    // resource that cannot give each of its flows one more unit, and on which no flow gets more.
    for (std::size_t i = 0; i < flows.size(); ++i) {
      if (!active[i]) continue;
      bool bottlenecked = false;
      for (int r : flows[i].route) {
        Wide used = 0;
        int on = 0;
        bool highest = true;
        for (std::size_t j = 0; j < flows.size(); ++j)
          if (active[j] && std::find(flows[j].route.begin(), flows[j].route.end(), r) != flows[j].route.end()) {
            used += rate[j];
            ++on;
            highest = highest && rate[j] <= rate[i];
          }
        const Wide capacity = static_cast<Wide>(capacity_bytes_per_ns[static_cast<std::size_t>(r)]) * 1'000'000'000 * scale;
        bottlenecked = bottlenecked || (capacity - used < on && highest);
      }
      REQUIRE(bottlenecked);
    }
    // The next moment: a flow's end (ceiling of what is left over its rate) or a start.
    Time next = -1;
    for (std::size_t i = 0; i < flows.size(); ++i) {
      if (active[i]) {
        const Wide r = std::max<Wide>(rate[i], 1);
        const Time end = now + static_cast<Time>((left[i] + r - 1) / r);
        if (next < 0 || end < next) next = end;
      }
      if (!started[i] && (next < 0 || flows[i].start < next)) next = flows[i].start;
    }
    if (next < 0) return finish;
    for (std::size_t i = 0; i < flows.size(); ++i)
      if (active[i]) {
        const Wide moved = static_cast<Wide>(next - now) * std::max<Wide>(rate[i], 1);
        left[i] = moved >= left[i] ? 0 : left[i] - moved;
        if (left[i] == 0) active[i] = 0, finish[i] = next;  // ends first, then this moment's starts
      }
    now = next;
    for (std::size_t i = 0; i < flows.size(); ++i)
      if (!started[i] && flows[i].start == now) started[i] = 1, active[i] = 1;
  }
}
}  // namespace

TEST_CASE("the network's shortcuts give the rates of plain max-min, recomputed from scratch") {
  // Random flows over a few resources, their routes drawn from a small pool so that many flows
  // share one route exactly (share_one_route), others start alone or join a wider component.
  // Every flow's end must equal the from-scratch reference's, to the nanosecond.
  Draw next{12345};
  const std::vector<std::vector<int>> pool = {{0}, {0, 1}, {1, 2}, {2}, {3, 4}, {4, 3}, {0, 1, 2}, {5}};
  int compared = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::int64_t> capacity(6);
    for (auto& c : capacity) c = 1 + static_cast<std::int64_t>(next(12));
    std::vector<RefFlow> flows(2 + next(12));
    for (auto& f : flows) {
      const auto& route = pool[next(pool.size())];
      const auto bytes = 1 + static_cast<std::int64_t>(next(6000));
      const auto wave = next(4);  // a quarter start at 0, together
      f = {route, bytes, static_cast<Time>(wave * next(1500))};
    }
    std::stable_sort(flows.begin(), flows.end(), [](const RefFlow& a, const RefFlow& b) { return a.start < b.start; });
    const std::vector<Time> expected = reference_finish(capacity, flows);
    EventQueue q;
    FlowNetwork net(std::vector<double>(capacity.begin(), capacity.end()), q);
    std::map<std::int64_t, Time> done;
    std::size_t started = 0;
    while (started < flows.size() || !q.empty()) {
      // This moment's ends first, then its starts (the reference's order).
      if (started == flows.size() || (!q.empty() && q.top_time() <= flows[started].start)) {
        const Event e = q.pop();
        done[net.on_event(e, e.time)] = e.time;
        continue;
      }
      net.start(flows[started].route, flows[started].bytes, flows[started].start, static_cast<std::int64_t>(started));
      ++started;
    }
    for (std::size_t i = 0; i < flows.size(); ++i) {
      INFO("trial ", trial, ", flow ", i);
      CHECK(done.at(static_cast<std::int64_t>(i)) == expected[i]);
      ++compared;
    }
  }
  CHECK(compared > 1500);
}

TEST_CASE("flows sharing one route are rescheduled in the order the component search visits them") {
  // Ties between events go to the one scheduled first, so the shortcut for flows on one route
  // must set their events in the order collect() + rebalance() would: the route's last
  // resource's list. Here the two lists disagree: X (on resource 0 only) ends and B takes its
  // place there, so resource 0 lists B, A and resource 1 lists A, B. C then joins A and B on
  // their route; A and B are left with equal bytes and equal rates, end at the same ns, and
  // must pop A first (resource 1's order), as the general search has it.
  EventQueue q;
  FlowNetwork net({3.0, 3.0}, q);
  net.start({0}, 300, 0, 'X');
  net.start({0, 1}, 3000, 0, 'A');
  net.start({0, 1}, 3000, 0, 'B');
  Event e = q.pop();
  CHECK(net.on_event(e, e.time) == 'X');  // at 300 ns: 1 B/ns each
  CHECK(e.time == 300);
  net.start({0, 1}, 3000, 600, 'C');  // A and B: 2,250 bytes left each, 1 B/ns from here
  CHECK(net.last_rebalanced() == 3);
  std::vector<std::int64_t> order;
  std::vector<Time> at;
  while (!q.empty()) {
    e = q.pop();
    order.push_back(net.on_event(e, e.time));
    at.push_back(e.time);
  }
  CHECK(order == std::vector<std::int64_t>{'A', 'B', 'C'});
  CHECK(at == std::vector<Time>{2850, 2850, 3100});
}

TEST_CASE("the event queue against an ordered set: random pushes, moves and pops") {
  // Every operation mirrored in a std::set of (time, sequence): the queue pops in the set's
  // order, pending() agrees, and keyed events moved up, down or at the top stay consistent.
  EventQueue q;
  std::set<std::pair<Time, std::uint64_t>> expected;  // (time, sequence)
  std::map<std::uint64_t, std::uint32_t> key_of;       // sequence -> key (0: one-shot)
  std::vector<EventQueue::Key> keys;
  std::map<EventQueue::Key, std::pair<Time, std::uint64_t>> event_of;  // key -> its event
  for (int k = 0; k < 40; ++k) keys.push_back(q.new_key());
  std::uint64_t sequence = 0;
  Draw next{99};
  Time now = 0;
  int popped = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto what = next(10);
    if (what < 3) {  // a one-shot event
      const Time t = now + static_cast<Time>(next(1000));
      q.push(t, EventKind::Arrive, 0);
      expected.insert({t, sequence});
      key_of[sequence++] = 0;
    } else if (what < 7) {  // set a key's event (new, or moved)
      const EventQueue::Key k = keys[next(keys.size())];
      const Time t = now + static_cast<Time>(next(1000));
      if (const auto it = event_of.find(k); it != event_of.end()) {
        expected.erase(it->second);
        key_of.erase(it->second.second);
      }
      q.schedule(k, t, EventKind::FlowDone, k);
      expected.insert({t, sequence});
      event_of[k] = {t, sequence};
      key_of[sequence++] = k;
    } else if (!expected.empty()) {
      const auto first = *expected.begin();
      expected.erase(expected.begin());
      const Event e = q.pop();
      REQUIRE(e.time == first.first);
      REQUIRE(e.key == key_of.at(first.second));
      if (e.key != 0) event_of.erase(e.key);
      key_of.erase(first.second);
      now = e.time;
      ++popped;
    }
    REQUIRE(q.size() == expected.size());
    for (const EventQueue::Key k : keys) REQUIRE(q.pending(k) == (event_of.count(k) > 0));
  }
  CHECK(popped > 3000);
}
