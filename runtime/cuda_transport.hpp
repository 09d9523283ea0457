#pragma once
// How the CUDA backend moves pipeline tensors between ranks.
//  - DeviceCopyTransport (single-GPU mode): a device-to-device copy on the sender's
//    communication stream (copy engines, or the SM-limited copy kernel on comm_sms SMs), handed
//    over through the in-process mailboxes with an event the receiver's compute stream waits on.
//  - NcclTransport (one GPU per rank): ncclSend/ncclRecv. At the end of each op the rank posts
//    that op's outputs together with the receives its next op needs, in one
//    ncclGroupStart/End (as DualPipe's reference batches isend/irecv per step), so a tensor
//    leaves right after the op that made it and no order of sends and receives can deadlock on
//    NCCL's rendezvous. A send waits on the event of the op that produced its tensor, never on
//    the whole compute stream. Receives follow the sender's order (messages_between); what
//    arrives before it is wanted waits in a stash. Not yet run on a GPU (README).
#include <nccl.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/device_tensor.hpp"
#include "runtime/transport.hpp"
#include "sim/schedule.hpp"

namespace ppsim::runtime {

// A device-to-device copy on `stream`. With `copy_engines`, asked of the copy engines
// (cudaMemcpyBatchAsync with cudaMemcpyFlagPreferOverlapWithCompute): a copy made by SM
// kernels, as a plain cudaMemcpyAsync on one device may be, waits for the SMs its rank's compute
// keeps busy, so a hand-off would wait for the sender's next kernel. Falls back to
// cudaMemcpyAsync where the driver refuses the batch call. Not in green contexts: there the
// batch call crashed the process (SIGSEGV, H200, driver 580.159.04, CUDA 13.0).
void device_copy(void* dst, const void* src, std::size_t bytes, cudaStream_t stream, bool copy_engines);
// How device_copy(..., true) has copied so far: "copy engines preferred (cudaMemcpyBatchAsync)",
// or "cudaMemcpyAsync (...)" after a refusal.
std::string device_copy_method();

struct RankStreams {
  cudaStream_t compute = nullptr;
  cudaStream_t comm = nullptr;
};

class DeviceCopyTransport final : public Transport<DeviceTensor> {
 public:
  // `streams` is filled in by the rank threads before the first send.
  DeviceCopyTransport(int ranks, const std::vector<RankStreams>& streams, int comm_sms, bool copy_engines,
                      std::chrono::milliseconds timeout, const std::atomic<bool>& abort);
  void send(int src, int dst, Tag tag, DeviceTensor data) override;
  DeviceTensor recv(int dst, int src, Tag tag) override;

 private:
  struct Message {
    DeviceTensor tensor;
    Event ready;
  };
  const std::vector<RankStreams>& streams_;
  int comm_sms_;
  bool copy_engines_;
  InProcessTransport<Message> mailbox_;
};

class NcclTransport final : public Transport<DeviceTensor> {
 public:
  // Every message is rows x cols floats. comms[r] is rank r's communicator (one GPU each).
  NcclTransport(const sim::Schedule& s, const std::vector<ncclComm_t>& comms, const std::vector<RankStreams>& streams,
                int rows, int cols);
  void send(int src, int dst, Tag tag, DeviceTensor data) override;
  DeviceTensor recv(int dst, int src, Tag tag) override;
  void end_op(int rank, const std::vector<Expected>& next) override;
  void flush(int rank) override;

 private:
  struct Pending {
    int dst;
    DeviceTensor tensor;
    Event made;  // recorded on the compute stream right after the op that produced the tensor
  };
  struct Arrived {
    DeviceTensor tensor;
    std::shared_ptr<Event> ready;
  };
  // Inside a group: posts the held-back sends; their tensors go to `sent`, to be freed only
  // after ncclGroupEnd has put the sends on the stream.
  void post_sends(int rank, std::vector<DeviceTensor>& sent);
  // Posts the held-back sends and the receives of `wanted` not yet stashed, as one group.
  void post_group(int rank, const std::vector<Expected>& wanted);
  // Inside a group: posts receives from `src` in its send order up to `tag`, into `posted`.
  void post_receives(int dst, int src, Tag tag, std::vector<std::pair<std::pair<int, Tag>, DeviceTensor>>& posted);

  const std::vector<ncclComm_t>& comms_;
  const std::vector<RankStreams>& streams_;
  int rows_, cols_;
  std::vector<std::vector<std::vector<Tag>>> expected_;  // [dst][src]: src's sends, in order
  std::vector<std::vector<std::size_t>> received_;       // [dst][src]: how many were posted
  std::vector<std::vector<Pending>> pending_;           // [src]
  std::vector<std::map<std::pair<int, Tag>, Arrived>> stash_;  // [dst]
};

// Throws std::runtime_error("<what>: <NCCL's message>") unless r is ncclSuccess.
void check_nccl(ncclResult_t r, const char* what);

// ncclGroupStart .. ncclGroupEnd; an exception in between still closes the group.
class NcclGroup {
 public:
  NcclGroup() { check_nccl(ncclGroupStart(), "ncclGroupStart"); }
  void end() {
    open_ = false;
    check_nccl(ncclGroupEnd(), "ncclGroupEnd");
  }
  ~NcclGroup() {
    if (open_) ncclGroupEnd();
  }
  NcclGroup(const NcclGroup&) = delete;
  NcclGroup& operator=(const NcclGroup&) = delete;

 private:
  bool open_ = true;
};

}  // namespace ppsim::runtime
