#!/usr/bin/env python3
"""Records the op order of sail-sg's cost-aware ZB-V scheduler, for ppsim's golden tests.

The reference is scheduler/zbv.py of sail-sg/zero-bubble-pipeline-parallelism
(PipelineGraph.create_schedule -> try_v_schedule, four fill variants, each refined while its
largest stage bubble shrinks): what its Megatron runtime runs for --zero-bubble-v-schedule,
with the measured F, B, W and communication costs and max_mem = 2P forwards' memory.
PyTorch's ScheduleZBVZeroBubble is a fixed order; this one changes with the costs.

The script imports graph.py and zbv.py unchanged from the directory given (they import only
each other and the standard library); no megatron package __init__ runs.

  git --git-dir=<mirror of sail-sg/zero-bubble-pipeline-parallelism> archive \\
      39f2c186a27580b7051eb51e0f651e1efd0a8170 megatron/core/pipeline_parallel/zerobubble/scheduler \\
      | tar -x -C /tmp/zbwork/src
  python3 scripts/reference/dump_zbv_cost_orders.py /tmp/zbwork/src tests/golden/zbv_cost_orders.json

Output: a JSON list of {"P", "M", "F", "B", "W", "comm", "mem": [f, b, w], "per_rank": ["F0.0 ...", ...]}
where an op is <F|B|W><micro-batch>.<model stage> (rank r holds stages r and 2P-1-r; B is the
input-grad backward), or {..., "error": "..."} where the reference refuses (its asserts).
"""
import contextlib
import io
import sys
import types

from golden_io import load_sail_scheduler, write_orders


def load_reference(root):
    mods = load_sail_scheduler(root, ["graph", "zbv"])
    return mods["zbv"]


def configurations():
    for P in list(range(2, 9)) + [12, 16]:
        counts = sorted({m for m in (1, 2, 3, P - 1, P, P + 1, 2 * P - 1, 2 * P, 2 * P + 1, 3 * P) if m >= 1})
        if P > 8:
            counts = [P, 2 * P, 2 * P + 1]
        for M in counts:
            for F, B, W in [(1, 1, 1), (1, 2, 1), (2, 3, 1), (1, 1, 2), (3, 4, 2), (1000, 1000, 1000)]:
                for comm in [0, 1]:
                    yield dict(P=P, M=M, F=F, B=B, W=W, comm=comm, mem=[1, 0, -1])
            yield dict(P=P, M=M, F=1, B=2, W=1, comm=0, mem=[2, -1, -1])


def main():
    root, out = sys.argv[1], sys.argv[2]
    zbv = load_reference(root)
    entries = []
    for c in configurations():
        entry = dict(c)
        P, M = c["P"], c["M"]
        config = types.SimpleNamespace(max_chunks=2, n_stages=P, n_micro=M)
        try:
            graph = zbv.PipelineGraph(P, M, c["F"], c["B"], c["W"], c["comm"], *c["mem"], max_mem=None)
            with contextlib.redirect_stdout(io.StringIO()):  # it prints its bubble rate
                order = graph.create_schedule(config)
            entry["per_rank"] = [" ".join(f"{n.type.value}{n.microbatch}.{n.layer_group_idx}" for n in stage)
                                 for stage in order]
        except (AssertionError, RecursionError) as e:
            entry["error"] = f"{type(e).__name__}: {e}"
        entries.append(entry)
    write_orders(out, entries)


if __name__ == "__main__":
    main()
