#include "sim/op.hpp"

#include <stdexcept>

namespace ppsim::sim {

std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::F: return "F";
    case OpKind::B: return "B";
    case OpKind::Bi: return "Bi";
    case OpKind::W: return "W";
    case OpKind::FB: return "FB";
  }
  return "?";
}

OpKind parse_op_kind(std::string_view text) {
  for (OpKind k : {OpKind::F, OpKind::B, OpKind::Bi, OpKind::W, OpKind::FB}) {
    if (text == to_string(k)) return k;
  }
  throw std::invalid_argument("op kind '" + std::string(text) + "' is not allowed: use F, B, Bi, W or FB");
}

namespace {
std::string plain(OpKind kind, int mb, int stage) {
  return std::string(to_string(kind)) + " mb" + std::to_string(mb) + " s" + std::to_string(stage);
}
}  // namespace

std::string to_string(const Op& op) {
  if (op.kind != OpKind::FB) return plain(op.kind, op.mb, op.stage);
  return "FB (" + plain(OpKind::F, op.mb, op.stage) + " & " + plain(op.b_kind, op.b_mb, op.b_stage) + ")";
}

}  // namespace ppsim::sim
