#pragma once
// What a communication phase is and which wires it uses: named once, for the cost model that
// makes phases, the engine that runs them, and the traces that show them.
#include <cstdint>
#include <string_view>

namespace ppsim::sim {

// Scale-out: the NICs (through the communication SMs); scale-up: NVLink inside the domain.
enum class Channel : std::uint8_t { ScaleOut, ScaleUp };
enum class CommKind : std::uint8_t { None, Dispatch, Combine, TensorParallel, ContextParallel, ExpertTensorParallel,
                                     ParamGather, GradReduceScatter, DataParallelSync };
std::string_view to_string(Channel channel);
std::string_view to_string(CommKind kind);
CommKind comm_kind_from(std::string_view name);  // to_string's inverse; None for anything else

}  // namespace ppsim::sim
