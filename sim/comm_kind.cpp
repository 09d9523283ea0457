#include "sim/comm_kind.hpp"

namespace ppsim::sim {

std::string_view to_string(Channel channel) { return channel == Channel::ScaleUp ? "nvlink" : "network"; }

std::string_view to_string(CommKind kind) {
  switch (kind) {
    case CommKind::None: return "comm";
    case CommKind::Dispatch: return "dispatch";
    case CommKind::Combine: return "combine";
    case CommKind::TensorParallel: return "tp";
    case CommKind::ContextParallel: return "cp-ring";
    case CommKind::ExpertTensorParallel: return "etp";
    case CommKind::ParamGather: return "zero3-gather";
    case CommKind::GradReduceScatter: return "zero3-reduce-scatter";
    case CommKind::DataParallelSync: return "dp-sync";
  }
  return "comm";
}

CommKind comm_kind_from(std::string_view name) {
  for (CommKind k : {CommKind::Dispatch, CommKind::Combine, CommKind::TensorParallel, CommKind::ContextParallel,
                     CommKind::ExpertTensorParallel, CommKind::ParamGather, CommKind::GradReduceScatter, CommKind::DataParallelSync})
    if (to_string(k) == name) return k;
  return CommKind::None;
}

}  // namespace ppsim::sim
