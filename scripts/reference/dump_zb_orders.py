#!/usr/bin/env python3
"""Records the op order of sail-sg's ZB-1P / ZB-2P generator, for ppsim's golden tests.

The reference is the greedy "zb" scheduler of sail-sg/zero-bubble-pipeline-parallelism
(branch main, file megatron/core/pipeline_parallel/zerobubble/scheduler/zb.py,
create_schedule -> initial_solution -> Graph.manual_order x 8 variants). It is what
megatron/core/pipeline_parallel/zerobubble/runtime.py calls (get_zero_bubble_forward_backward_func,
last branch) when --enable-zero-bubble is set without --zero-bubble-v-schedule. Its memory
limit there is zero_bubble_max_pending_backward * f_mem: P gives ZB-1P, 2P gives ZB-2P.

This script imports the reference unchanged from the directory given on the command line.
Only torch and pulp are stubbed: zb.py imports them, but uses torch solely for a type
annotation and pulp solely for pulp.value() on plain floats (which returns the float).
No megatron package code runs: the scheduler/ files import only each other.

Get the reference files (no checkout needed), then run:
  git --git-dir=<mirror of sail-sg/zero-bubble-pipeline-parallelism> archive \
      39f2c186a27580b7051eb51e0f651e1efd0a8170 megatron/core/pipeline_parallel/zerobubble/scheduler \
      | tar -x -C /tmp/zbwork/src
  python3 scripts/reference/dump_zb_orders.py /tmp/zbwork/src tests/golden/zb_orders.json

Output: a JSON list, one entry per configuration:
  {"P", "M", "F", "B", "W", "comm", "mem_limit", "mem": [mem_f, mem_b, mem_w],
   "per_rank": ["F0 F1 B0 W0 ...", ...],      # rank r = stage r, ops in execution order
   "best_time": <the reference's own objective>, "variant": "abc"}   # a,b,c in {0,1}
or, when the reference refuses, {..., "error": "<exception type>: <message>"} instead of
per_rank/best_time/variant. "variant" gives the winning manual_order flags
(allow_bubble_before_first_b, prioritize_b, no_bubble_greedy) as 0/1 digits.
mem_limit is zero_bubble_max_pending_backward: the scheduler gets max_mem = mem_limit * mem_f,
as runtime.py computes it (P = ZB-1P, 2P = ZB-2P).
"""
import json
import os
import sys
import types

from golden_io import load_sail_scheduler, write_orders


def install_stubs():
    """torch / pulp stand-ins with exactly what zb.py touches."""
    torch = types.ModuleType("torch")
    torch.Tensor = type("Tensor", (), {})  # only used as a dataclass annotation
    sys.modules.setdefault("torch", torch)
    pulp = types.ModuleType("pulp")
    # pulp.value(x) returns x itself for a number, which is all zb.py ever passes it.
    pulp.value = lambda x: x if isinstance(x, (int, float)) else x.value()
    sys.modules.setdefault("pulp", pulp)


def load_reference(root):
    """scheduler/graph.py and scheduler/zb.py, unchanged (golden_io.load_sail_scheduler)."""
    mods = load_sail_scheduler(root, ["graph", "zb"])
    return mods["graph"], mods["zb"]


def run_one(graph_mod, zb, P, M, F, B, W, comm, mem_limit, mem):
    mem_f, mem_b, mem_w = mem
    config = graph_mod.GraphConfig(
        cost_f=[float(F)] * P, cost_b=[float(B)] * P, cost_w=[float(W)] * P,
        cost_comm=float(comm),
        mem_f=[float(mem_f)] * P, mem_b=[float(mem_b)] * P, mem_w=[float(mem_w)] * P,
        max_mem=[float(mem_limit * mem_f)] * P,  # runtime: max_pending_backward * f_mem
        print_scaling=1, n_stages=P, n_micro=M)
    # Same calls as zb.create_schedule(config), split so the winning variant is visible.
    graph = zb.Graph.build_graph(config.n_stages, config.n_micro, config)
    best_time, _order, complete_time = zb.initial_solution(graph, print_result=False)
    local_order = zb.create_scheduled_nodes(graph, complete_time)
    variant = None
    for a in [True, False]:  # initial_solution's loop order; strict '<' keeps the first best
        for b in [True, False]:
            for c in [True, False]:
                if variant is None and graph.manual_order(a, b, c)[2] == best_time:
                    variant = f"{int(a)}{int(b)}{int(c)}"
    per_rank = [" ".join(f"{n.type.value}{n.microbatch}" for n in nodes) for nodes in local_order]
    return per_rank, best_time, variant


def num(x):
    return int(x) if float(x).is_integer() else x


def grid():
    Ps = [2, 3, 4, 5, 6, 7, 8, 12, 16]
    costs = [(1, 1, 1), (1, 2, 1), (2, 3, 1), (1, 1, 2), (3, 4, 2), (1, 3, 1)]
    for P in Ps:
        Ms = sorted({1, 2, P - 1, P, P + 1, 2 * P - 1, 2 * P, 2 * P + 1, 3 * P, 4 * P} - {0})
        if P <= 8:
            Ms = sorted(set(Ms) | set(range(1, 3 * P + 1)))
        for M in Ms:
            for (F, B, W) in costs:
                for mem_limit in sorted({P, 2 * P}):
                    yield dict(P=P, M=M, F=F, B=B, W=W, comm=0, mem_limit=mem_limit, mem=(1, 0, -1))
    # What the runtime really runs before profiling: f=b=w=1000, comm=max(c,1)=1,
    # f_mem=x, b_mem=0, w_mem=-x, limit P*x (the "fixed 1p schedule"), and with 2P.
    for P in [2, 4, 8]:
        for M in [P, 2 * P, 3 * P]:
            for mem_limit in [P, 2 * P]:
                yield dict(P=P, M=M, F=1000, B=1000, W=1000, comm=1, mem_limit=mem_limit, mem=(1, 0, -1))
    # Memory split between B and W (the runtime measures b_mem < 0 after profiling).
    for P in [4, 8]:
        for M in [2 * P, 3 * P]:
            for (F, B, W) in [(1, 1, 1), (2, 3, 1)]:
                for mem_limit in [P, 2 * P]:
                    yield dict(P=P, M=M, F=F, B=B, W=W, comm=0, mem_limit=mem_limit, mem=(2, -1, -1))
    # Limits below P (ZB-1P needs P): how the reference degrades, and where it refuses.
    for P in [4, 8]:
        for M in [P - 1, 2 * P]:
            for mem_limit in range(0, P):
                yield dict(P=P, M=M, F=1, B=1, W=1, comm=0, mem_limit=mem_limit, mem=(1, 0, -1))
                yield dict(P=P, M=M, F=1, B=1, W=1, comm=0, mem_limit=mem_limit, mem=(2, -1, -1))
    # Fractional limits (between whole micro-batches), mem_f=2: max_mem = 2*limit is odd.
    for P in [4]:
        for mem_limit in [0.5, 1.5, 4.5]:
            yield dict(P=P, M=2 * P, F=1, B=1, W=1, comm=0, mem_limit=mem_limit, mem=(2, -1, -1))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    install_stubs()
    graph_mod, zb = load_reference(sys.argv[1])
    out = []
    for cfg in grid():
        entry = {k: (list(v) if k == "mem" else v) for k, v in cfg.items()}
        try:
            per_rank, best_time, variant = run_one(graph_mod, zb, **cfg)
            entry.update(per_rank=per_rank, best_time=num(best_time), variant=variant)
        except Exception as e:  # record refusals (ValueError "Cannot fit memory", asserts, ...)
            entry["error"] = f"{type(e).__name__}: {e}"
        out.append(entry)
    write_orders(sys.argv[2], out)


if __name__ == "__main__":
    main()
