// ppsim devices: which GPUs and NCCL this build can use.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "runtime/device_info.hpp"

namespace ppsim::cli {

int run_devices(const Words& args, std::ostream& out) {
  const Args a(args, {{"help", false, "show this help"}}, "devices");
  if (a.has("help")) {
    out << "usage: ppsim devices\n";
    return 0;
  }
  const runtime::DeviceInfo info = runtime::probe_devices();
  out << "built with CUDA: " << (info.built_with_cuda ? "yes, runtime " + info.cuda_runtime : std::string("no")) << "\n";
  if (info.built_with_cuda) out << "NCCL: " << (info.nccl.empty() ? std::string("unknown") : info.nccl) << "\n";
  out << "GPUs: " << info.gpus.size() << "\n";
  for (std::size_t i = 0; i < info.gpus.size(); ++i) {
    const auto& g = info.gpus[i];
    out << "  " << i << ": " << g.name << ", sm_" << g.compute_capability << ", " << g.sm_count << " SMs, "
        << g.memory_gib << " GiB\n";
  }
  if (!info.note.empty()) out << info.note << "\n";
  return 0;
}

}  // namespace ppsim::cli
