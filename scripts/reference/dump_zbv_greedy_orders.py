#!/usr/bin/env python3
"""Records the op order of sail-sg's V-Half and V-Min schedules, for ppsim's golden tests.

The reference is scheduler/zbv_greedy.py of sail-sg/zero-bubble-pipeline-parallelism
(PipelineGraph.create_schedule, "Pipeline Parallelism with Controllable Memory",
arXiv 2405.15362): a stable pattern per stage, squeezed greedily. Its Megatron runtime
(runtime.py, --zero-bubble-v-schedule-mem-setup half|min) always calls it with costs
F = B = W = 1000 and communication 1, so those are the costs recorded here.

The script imports graph.py and zbv_greedy.py unchanged from the directory given (they import
nothing but each other and the standard library); no megatron package __init__ runs.

  git --git-dir=<mirror of sail-sg/zero-bubble-pipeline-parallelism> archive \\
      39f2c186a27580b7051eb51e0f651e1efd0a8170 megatron/core/pipeline_parallel/zerobubble/scheduler \\
      | tar -x -C /tmp/zbwork/src
  python3 scripts/reference/dump_zbv_greedy_orders.py /tmp/zbwork/src tests/golden/zbv_greedy_orders.json

Output: a JSON list of {"mem": "half"|"min", "P", "M", "per_rank": ["F0.0 F0.7 ...", ...]} where
an op is <F|B|W><micro-batch>.<model stage> (the layer_group_idx the reference assigns: rank r
holds stages r and 2P-1-r; B is the input-grad backward), or {..., "error": "..."}.
"""
import contextlib
import io
import sys
import types

from golden_io import load_sail_scheduler, write_orders


def load_reference(root):
    mods = load_sail_scheduler(root, ["graph", "zbv_greedy"])
    return mods["graph"], mods["zbv_greedy"]


def main():
    root, out = sys.argv[1], sys.argv[2]
    graph, zbv = load_reference(root)
    entries = []
    for mem in ["half", "min"]:
        for P in list(range(2, 9)) + [12, 16]:
            counts = range(1, 4 * P + 1) if P <= 8 else sorted({P, 2 * P, 3 * P, 4 * P, 2 * P + 3})
            for M in counts:
                entry = {"mem": mem, "P": P, "M": M}
                config = types.SimpleNamespace(max_chunks=2, n_stages=P, n_micro=M)
                try:
                    with contextlib.redirect_stdout(io.StringIO()):  # it prints its bubble rate
                        order = zbv.PipelineGraph(P, M, mem, 1000, 1000, 1000, 1).create_schedule(config)
                    entry["per_rank"] = [" ".join(f"{n.type.value}{n.microbatch}.{n.layer_group_idx}" for n in stage)
                                         for stage in order]
                except Exception as e:  # record refusals
                    entry["error"] = f"{type(e).__name__}: {e}"
                entries.append(entry)
    write_orders(out, entries)


if __name__ == "__main__":
    main()
