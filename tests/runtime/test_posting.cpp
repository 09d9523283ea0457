// Communication as the schedule says: a recording transport watches every rank and shows, for
// every kind, that each tensor is handed to the transport during the op that produced it (so
// no send is posted later than that op's end), and that each op's receives were announced at
// the end of the op before it (so a batching transport can post them together with the sends).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "runtime/executor.hpp"
#include "runtime/rank_program.hpp"
#include "sim/generators.hpp"

using namespace ppsim;
using namespace ppsim::runtime;

namespace {

using Matrix = MlpStage<double>::Matrix;

bool same(const Tag& a, const Tag& b) { return !(a < b) && !(b < a); }

class RecordingTransport final : public Transport<Matrix> {
 public:
  struct Sent {
    std::size_t during_op;
    Tag tag;
  };
  struct Received {
    std::size_t during_op;
    int src;
    Tag tag;
  };

  RecordingTransport(int ranks, std::atomic<bool>& abort)
      : inner_(ranks, 64, std::chrono::milliseconds(10000), abort), ops_done_(ranks, 0), sent_(ranks), received_(ranks),
        announced_(ranks) {}

  void send(int src, int dst, Tag tag, Matrix data) override {
    sent_[src].push_back({ops_done_[src], tag});  // only src's thread touches its own log
    inner_.send(src, dst, tag, std::move(data));
  }
  Matrix recv(int dst, int src, Tag tag) override {
    received_[dst].push_back({ops_done_[dst], src, tag});
    return inner_.recv(dst, src, tag);
  }
  void end_op(int rank, const std::vector<Expected>& next) override {
    announced_[rank].push_back(next);  // announced_[r][i]: what op i + 1 will receive
    ++ops_done_[rank];
  }

  InProcessTransport<Matrix> inner_;
  std::vector<std::size_t> ops_done_;
  std::vector<std::vector<Sent>> sent_;
  std::vector<std::vector<Received>> received_;
  std::vector<std::vector<std::vector<Expected>>> announced_;
};

// The tags op `op` of `rank` sends to other ranks.
std::vector<Tag> outputs(const sim::Schedule& s, int rank, const sim::Op& op) {
  std::vector<Tag> out;
  auto forward = [&](int mb, int st) {
    if (st + 1 < s.stages && s.rank_of(mb, st + 1) != rank) out.push_back(Tag{false, mb, st});
  };
  auto backward = [&](int mb, int st) {
    if (st > 0 && s.rank_of(mb, st - 1) != rank) out.push_back(Tag{true, mb, st});
  };
  if (op.kind == sim::OpKind::F || op.kind == sim::OpKind::FB) forward(op.mb, op.stage);
  if (op.kind == sim::OpKind::B || op.kind == sim::OpKind::Bi) backward(op.mb, op.stage);
  if (op.kind == sim::OpKind::FB) backward(op.b_mb, op.b_stage);
  return out;
}

}  // namespace

TEST_CASE("every kind: a tensor is posted during the op that made it, and each op's receives are announced one op ahead") {
  ExecOptions o;
  o.hidden = 12;
  o.ffn = 16;
  o.rows = 3;
  int kinds = 0;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds()) {
    const sim::ScheduleRequest req{kind, 4, 8, 0};
    if (!sim::check_request(req).empty()) continue;
    const sim::Schedule s = sim::make_schedule(req);
    std::atomic<bool> abort{false};
    RecordingTransport net(s.ranks, abort);
    const auto run = execute<double>(s, o, net, abort);
    CHECK(max_relative_error(run, run_sequential<double>(s.stages, s.microbatches, o)) <= 1e-12);
    CAPTURE(sim::to_string(kind));
    int sends = 0, receives = 0;
    for (int r = 0; r < s.ranks; ++r) {
      const auto& ops = s.per_rank[r];
      CHECK(net.announced_[r].size() == ops.size());
      // Every send lands during the op whose outputs it carries: posted at its end at the latest.
      for (const auto& sent : net.sent_[r]) {
        REQUIRE(sent.during_op < ops.size());
        const std::vector<Tag> made = outputs(s, r, ops[sent.during_op]);
        CHECK(std::any_of(made.begin(), made.end(), [&](const Tag& t) { return same(t, sent.tag); }));
        ++sends;
      }
      // Every receive of op i > 0 was announced when op i - 1 ended.
      for (const auto& got : net.received_[r]) {
        if (got.during_op == 0) continue;
        const auto& next = net.announced_[r][got.during_op - 1];
        CHECK(std::any_of(next.begin(), next.end(), [&](const Expected& e) { return e.src == got.src && same(e.tag, got.tag); }));
        ++receives;
      }
    }
    CHECK(sends > 0);
    CHECK(receives > 0);
    ++kinds;
  }
  CHECK(kinds == static_cast<int>(sim::all_schedule_kinds().size()));
}
