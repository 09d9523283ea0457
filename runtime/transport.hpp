#pragma once
// How pipeline tensors move between rank workers. InProcessTransport is the CPU version: one
// ordered, bounded mailbox per (src, dst); the CUDA transports (cuda_transport.hpp) build on it
// or on NCCL. Every wait has a deadline and gives up early when the run is aborted elsewhere.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace ppsim::runtime {

// What a message is: an activation (grad = false) or a gradient, of micro-batch `mb`, leaving
// stage `stage`.
struct Tag {
  bool grad = false;
  int mb = 0;
  int stage = 0;
  friend bool operator<(const Tag& a, const Tag& b) {
    return std::tie(a.grad, a.mb, a.stage) < std::tie(b.grad, b.mb, b.stage);
  }
};

// A receive a rank's next op needs from another rank.
struct Expected {
  int src = 0;
  Tag tag;
};

struct TimedOut : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Aborted : std::runtime_error {
  Aborted() : std::runtime_error("aborted") {}
};

// Tensor: what moves (an Eigen matrix on the CPU, a device buffer on a GPU).
template <class Tensor>
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(int src, int dst, Tag tag, Tensor data) = 0;
  // Throws TimedOut when nothing matching arrives in time, Aborted when the run stops.
  virtual Tensor recv(int dst, int src, Tag tag) = 0;
  // Called after each op of a rank, once its outputs are in send(): a transport that batches
  // (NCCL) posts them now, grouped with `next`, the receives the rank's next op needs, so a
  // tensor leaves right after the op that produced it, never later.
  virtual void end_op(int /*rank*/, const std::vector<Expected>& /*next*/) {}
  // Called once a rank has issued its last op: sends a transport held back go out now.
  virtual void flush(int /*rank*/) {}
};

template <class Tensor>
class InProcessTransport final : public Transport<Tensor> {
 public:
  InProcessTransport(int ranks, std::size_t capacity, std::chrono::milliseconds timeout, const std::atomic<bool>& abort)
      : ranks_(ranks), capacity_(capacity), timeout_(timeout), abort_(abort),
        boxes_(static_cast<std::size_t>(ranks) * ranks), stash_(ranks) {}

  void send(int src, int dst, Tag tag, Tensor data) override {
    Box& b = box(src, dst);
    std::unique_lock lock(b.m);
    if (!wait(b, lock, [&] { return b.q.size() < capacity_; }))
      throw TimedOut("mailbox to rank " + std::to_string(dst) + " stayed full");
    b.q.emplace_back(tag, std::move(data));
    b.cv.notify_all();
  }

  // Messages from `src` arrive in order; ones this rank does not want yet wait in its stash.
  Tensor recv(int dst, int src, Tag tag) override {
    auto& stash = stash_[dst];  // touched only by dst's worker
    if (auto it = stash.find({src, tag}); it != stash.end()) {
      Tensor m = std::move(it->second);
      stash.erase(it);
      return m;
    }
    Box& b = box(src, dst);
    std::unique_lock lock(b.m);
    while (true) {
      if (!wait(b, lock, [&] { return !b.q.empty(); })) throw TimedOut("nothing arrived");
      auto [t, m] = std::move(b.q.front());
      b.q.pop_front();
      b.cv.notify_all();
      if (!(t < tag) && !(tag < t)) return std::move(m);
      stash.emplace(std::pair{src, t}, std::move(m));
    }
  }

 private:
  struct Box {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::pair<Tag, Tensor>> q;
  };
  Box& box(int src, int dst) { return boxes_[static_cast<std::size_t>(src) * ranks_ + dst]; }

  // Waits for `ready` until the deadline; false when it passed. Throws Aborted on abort.
  template <class Ready>
  bool wait(Box& b, std::unique_lock<std::mutex>& lock, Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!ready()) {
      if (abort_.load()) throw Aborted();
      if (b.cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20))) ==
              std::cv_status::timeout &&
          std::chrono::steady_clock::now() >= deadline)
        return ready();
    }
    return true;
  }

  int ranks_;
  std::size_t capacity_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>& abort_;
  std::vector<Box> boxes_;
  std::vector<std::map<std::pair<int, Tag>, Tensor>> stash_;
};

}  // namespace ppsim::runtime
