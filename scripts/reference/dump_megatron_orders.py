#!/usr/bin/env python3
"""Records the compute order of Megatron-LM's 1F1B and interleaved 1F1B, for golden tests.

Source: NVIDIA/Megatron-LM megatron/core/pipeline_parallel/schedules.py (recorded from
main @ d98e8a64ddf3; the same rules hold since core_r0.10.0, MR !2117 of 2024-11-01).
The module itself needs torch and CUDA to import, so this script does not import it: it
parses the file given on the command line with `ast` and executes, unchanged, Megatron's own
  - get_pp_rank_microbatches()  (warm-up / remaining counts of the interleaved schedule),
  - get_schedule_table()        ((microbatch, model chunk) of each virtual micro-batch id),
  - the top-level statements of forward_backward_pipelining_with_interleaving() that check
    microbatch_group_size_per_vp_stage (its ValueError / RuntimeError refusals).
What it writes itself is only the loop skeleton shared by both schedule functions, read
from the source (line numbers at d98e8a64):
  without interleaving (forward_backward_pipelining_without_interleaving, l. 2277-2279,
  2334, 2379, 2452): warmup = min(P - r - 1, M); F(i) for i < warmup; then for i in
  [0, M - warmup): F(i + warmup), B(i); then B(M - warmup + i) for i < warmup (FIFO pops).
  with interleaving (l. 1573, 1733-1735, 1890-1905, 1971): F(k) for k < warmup; then for k
  in [0, total - warmup): F(k + warmup), B(k); then B(k) for k in [total - warmup, total),
  where F(k) runs chunk get_model_chunk_id(k, True) = chunk_table[k % total] on micro-batch
  mb_table[k], and B(k) runs chunk V - 1 - chunk_table[k % total]; its micro-batch is the
  oldest forward of that chunk not yet backpropagated (input_tensors[c].pop(0)), which is
  mb_table[k] because every group holds the same micro-batches for every chunk.
Defaults assumed: forward_only=False, overlap_moe_expert_parallel_comm=False (True adds one
warm-up step and fuses F and B into combined_1f1b pairs), overlap_p2p_comm either (it moves
communication only).

  git --git-dir=<mirror of NVIDIA/Megatron-LM> show \
      d98e8a64ddf34856e74b24714e3bedb2f5a39553:megatron/core/pipeline_parallel/schedules.py \
      > /tmp/zbwork/mlm/schedules.py
  python3 scripts/reference/dump_megatron_orders.py /tmp/zbwork/mlm/schedules.py \
      tests/golden/megatron_orders.json

Output: a JSON list of {"kind": "1f1b"|"interleaved-1f1b", "P", "M", "V", "N",
"per_rank": ["0F0 0F1 4F0 ...", ...]} with PyTorch-style cells "<stage><F|B><mb>", stage =
chunk * P + rank, B = full backward; "N" is microbatch_group_size_per_vp_stage (default P,
null for 1f1b). A refusal has "error" instead of "per_rank".
"""
import ast
import json
import sys
import types
import typing

from golden_io import write_orders


def load_megatron(path):
    src = open(path).read()
    tree = ast.parse(src)
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    ns = {"Optional": typing.Optional, "P2PCommunicator": object, "parallel_state": None}
    mod = ast.Module(body=[funcs["get_pp_rank_microbatches"], funcs["get_schedule_table"]],
                     type_ignores=[])
    exec(compile(mod, path, "exec"), ns)
    # The refusal checks: top-level statements of the interleaved function that mention
    # microbatch_group_size_per_vp_stage, before the warm-up computation.
    checks = []
    for stmt in funcs["forward_backward_pipelining_with_interleaving"].body:
        text = ast.get_source_segment(src, stmt)
        if "get_pp_rank_microbatches" in text:
            break
        if isinstance(stmt, (ast.If, ast.Assign)) and (
                "microbatch_group_size_per_vp_stage" in text or "final_microbatch_group_size" in text):
            checks.append(stmt)
    assert len(checks) == 3, "the refusal checks moved; re-read the source"
    check_code = compile(ast.Module(body=checks, type_ignores=[]), path, "exec")
    return ns["get_pp_rank_microbatches"], ns["get_schedule_table"], check_code


def fake_comm(P, r, V):
    group = types.SimpleNamespace(size=lambda: P, rank=lambda: r)
    return types.SimpleNamespace(pp_group=group, virtual_pipeline_model_parallel_size=V)


def one_f_one_b(P, M):
    rows = []
    for r in range(P):
        warmup = min(P - r - 1, M)  # schedules.py l. 2277-2278
        ops = [f"{r}F{i}" for i in range(warmup)]
        for i in range(M - warmup):
            ops += [f"{r}F{i + warmup}", f"{r}B{i}"]
        ops += [f"{r}B{M - warmup + i}" for i in range(warmup)]
        rows.append(" ".join(ops))
    return rows


def interleaved(mg, P, M, V, N):
    get_pp_rank_microbatches, get_schedule_table, check_code = mg
    ns = {"config": types.SimpleNamespace(microbatch_group_size_per_vp_stage=N),
          "num_microbatches": M, "pipeline_parallel_size": P}
    exec(check_code, ns)  # raises ValueError / RuntimeError like the real function
    table = get_schedule_table(M, V, N)
    mb_table, chunk_table = zip(*table)
    rows = []
    for r in range(P):
        total, _all_warm, warmup, remaining = get_pp_rank_microbatches(
            M, V, N, forward_only=False, overlap_moe_expert_parallel_comm=False,
            p2p_communicator=fake_comm(P, r, V))
        assert total == M * V == len(table) and warmup + remaining == total
        fwd = lambda k: f"{chunk_table[k % total] * P + r}F{mb_table[k]}"
        bwd = lambda k: f"{(V - 1 - chunk_table[k % total]) * P + r}B{mb_table[k]}"
        ops = [fwd(k) for k in range(warmup)]
        for k in range(remaining):
            ops += [fwd(k + warmup), bwd(k)]
        ops += [bwd(k) for k in range(remaining, total)]
        rows.append(" ".join(ops))
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mg = load_megatron(sys.argv[1])
    out = []
    Ps = [2, 3, 4, 5, 6, 7, 8, 12, 16]
    for P in Ps:
        Ms = sorted(set(range(1, 3 * P + 2)) | {4 * P}) if P <= 8 else [1, 2, P - 1, P, P + 1, 2 * P, 3 * P]
        for M in Ms:
            out.append({"kind": "1f1b", "P": P, "M": M, "V": 1, "N": None, "per_rank": one_f_one_b(P, M)})
    for P in Ps:
        Ms = sorted(set(range(1, 3 * P + 2)) | {4 * P}) if P <= 8 else [1, P - 1, P, P + 1, 2 * P, 3 * P]
        for V in [2, 3, 4]:
            for M in Ms:
                Ns = [P] + ([P + 1, P + 2] if P <= 8 else [])  # default N = P, and a few larger
                for N in Ns:
                    entry = {"kind": "interleaved-1f1b", "P": P, "M": M, "V": V, "N": N}
                    try:
                        entry["per_rank"] = interleaved(mg, P, M, V, N)
                    except (ValueError, RuntimeError) as e:
                        entry["error"] = f"{type(e).__name__}: {e}"
                    out.append(entry)
    write_orders(sys.argv[2], out)


if __name__ == "__main__":
    main()
