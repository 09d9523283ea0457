#pragma once
// One unit of pipeline work on one rank: a forward, a backward (full, or split into
// input-grad Bi + deferred weight-grad W), or an overlapped forward&backward pair (FB).
#include <cstdint>
#include <string>
#include <string_view>

namespace ppsim::sim {

enum class OpKind : std::uint8_t { F, B, Bi, W, FB };

std::string_view to_string(OpKind kind);
// Parses "F", "B", "Bi", "W", "FB"; throws std::invalid_argument naming the allowed kinds.
OpKind parse_op_kind(std::string_view text);

struct Op {
  OpKind kind = OpKind::F;
  int mb = 0;     // micro-batch; for FB the forward half's
  int stage = 0;  // model block index along the data flow; for FB the forward half's
  // FB only: the backward half (kind B or Bi), always a different micro-batch.
  OpKind b_kind = OpKind::B;
  int b_mb = -1;
  int b_stage = -1;

  static Op forward(int mb, int stage) { return {OpKind::F, mb, stage}; }
  static Op backward(int mb, int stage) { return {OpKind::B, mb, stage}; }
  static Op backward_input(int mb, int stage) { return {OpKind::Bi, mb, stage}; }
  static Op weight(int mb, int stage) { return {OpKind::W, mb, stage}; }
  static Op overlapped(int f_mb, int f_stage, OpKind b_kind, int b_mb, int b_stage) {
    return {OpKind::FB, f_mb, f_stage, b_kind, b_mb, b_stage};
  }

  // The halves of an FB pair as plain ops (the op itself for other kinds).
  Op forward_half() const { return kind == OpKind::FB ? forward(mb, stage) : *this; }
  Op backward_half() const { return kind == OpKind::FB ? Op{b_kind, b_mb, b_stage} : *this; }

  friend bool operator==(const Op&, const Op&) = default;
};

// "F mb3 s2", "Bi mb0 s1", "FB (F mb5 s0 & B mb1 s3)".
std::string to_string(const Op& op);

}  // namespace ppsim::sim
