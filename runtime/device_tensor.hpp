#pragma once
// Device memory and events for the CUDA backend, owned RAII-style. Memory comes from the
// stream-ordered allocator and is freed on the stream that last used it, so freeing never
// races the kernels that read it.
#include <cuda_runtime_api.h>

#include <utility>

#include "kernels/kernels.hpp"

namespace ppsim::runtime {

// A device array of T from the stream-ordered allocator, freed on the stream that last used it.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  DeviceArray(std::size_t n, cudaStream_t stream) : n_(n), stream_(stream) {
    kernels::check_cuda(cudaMallocAsync(reinterpret_cast<void**>(&data_), sizeof(T) * n, stream), "cudaMallocAsync");
  }
  DeviceArray(DeviceArray&& o) noexcept { *this = std::move(o); }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      if (data_ != nullptr) cudaFreeAsync(data_, stream_);
      data_ = std::exchange(o.data_, nullptr);
      n_ = o.n_;
      stream_ = o.stream_;
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (data_ != nullptr) cudaFreeAsync(data_, stream_);
  }
  T* data() const { return data_; }
  std::size_t size() const { return n_; }
  // From now on the array is used (and will be freed) on `stream`; the caller has made
  // `stream` wait for whatever produced it.
  void move_to(cudaStream_t stream) { stream_ = stream; }

 private:
  T* data_ = nullptr;
  std::size_t n_ = 0;
  cudaStream_t stream_ = nullptr;
};

// A row-major float matrix on the device: a DeviceArray<float> with its shape.
class DeviceTensor {
 public:
  DeviceTensor() = default;
  DeviceTensor(int rows, int cols, cudaStream_t stream)
      : data_(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols), stream), rows_(rows), cols_(cols) {}

  float* data() const { return data_.data(); }
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  long size() const { return static_cast<long>(rows_) * cols_; }
  std::size_t bytes() const { return sizeof(float) * static_cast<std::size_t>(size()); }
  void move_to(cudaStream_t stream) { data_.move_to(stream); }

 private:
  DeviceArray<float> data_;
  int rows_ = 0, cols_ = 0;
};

class Event {
 public:
  explicit Event(bool timing) {
    kernels::check_cuda(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming), "cudaEventCreate");
  }
  Event(Event&& o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
  Event& operator=(Event&& o) noexcept {
    std::swap(event_, o.event_);
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() {
    if (event_ != nullptr) cudaEventDestroy(event_);
  }
  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream) const { kernels::check_cuda(cudaEventRecord(event_, stream), "cudaEventRecord"); }
  // `stream` waits (on the GPU) for the work recorded before this event.
  void make_wait(cudaStream_t stream) const {
    kernels::check_cuda(cudaStreamWaitEvent(stream, event_, 0), "cudaStreamWaitEvent");
  }
  // True once the work before the event has run; a fault in that work throws, not "not yet".
  bool done() const { return finished(cudaEventQuery(event_), "cudaEventQuery"); }
  static bool finished(cudaError_t query, const char* what) {
    if (query == cudaErrorNotReady) return false;
    kernels::check_cuda(query, what);
    return true;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

inline bool stream_idle(cudaStream_t stream) { return Event::finished(cudaStreamQuery(stream), "cudaStreamQuery"); }

// `to` waits for everything issued so far on `from`.
inline void stream_waits_for(cudaStream_t to, cudaStream_t from) {
  Event e(false);
  e.record(from);
  e.make_wait(to);
}

}  // namespace ppsim::runtime
