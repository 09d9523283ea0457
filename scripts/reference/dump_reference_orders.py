#!/usr/bin/env python3
"""Records the op order each published reference executes, for ppsim's golden tests.

Runs the real reference code, with its compute and communication replaced by recorders:
  - PyTorch torch.distributed.pipelining.schedules: ScheduleGPipe and Schedule1F1B through
    their real _step_microbatches(); ScheduleInterleaved1F1B, ScheduleInterleavedZeroBubble,
    ScheduleZBVZeroBubble and ScheduleDualPipeV through their real constructors, whose
    lowered pipeline_order_with_comms is exactly what _step_microbatches() executes.
  - deepseek-ai DualPipe (PyPI package `dualpipe`): the real DualPipe.step(); DualPipeV is
    also checked against DualPipe.step() on twice the ranks (see dualpipev_from_dualpipe).
Every order is written as PyTorch CSV action cells ("0F3", "1I0", "(0F5;3B1)OVERLAP_F_B"),
the same text ppsim's to_csv() writes, and stored as a 64-bit FNV-1a hash per configuration
(plus the full text of a few small ones) in tests/golden/reference_orders.json.

Needs `pip install torch dualpipe` (several GB), so it is run by hand, not by the test
command:  python3 scripts/reference/dump_reference_orders.py tests/golden/reference_orders.json
"""
import json
import sys
import types
from importlib.metadata import version

import torch
import torch.distributed.pipelining.schedules as S
import dualpipe.dualpipe as dpmod


def fnv1a64(text: str) -> str:
    h = 0xCBF29CE484222325
    for b in text.encode():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def csv_text(rows):
    return "".join(",".join(row) + "\n" for row in rows)


# ---------------------------------------------------------------- PyTorch, one stage per rank
class RecordingStage:
    """Just enough of _PipelineStageBase for PipelineScheduleSingle._step_microbatches."""

    def __init__(self, stage_index, num_stages, log):
        self.stage_index, self.num_stages, self.log = stage_index, num_stages, log
        self.is_first, self.is_last = stage_index == 0, stage_index == num_stages - 1
        self.has_backward, self.output_chunks = True, []
        self.group_size, self.group_rank = num_stages, stage_index
        self.submod = None

    def _get_init_p2p_neighbors_ops(self): return []
    def _prepare_forward_infra(self, *a): return ()
    def _prepare_backward_infra(self, *a): pass
    def clear_runtime_states(self): pass
    def get_fwd_recv_ops(self, i): return []
    def get_fwd_send_ops(self, i): return []
    def get_bwd_recv_ops(self, i): return []
    def get_bwd_send_ops(self, i): return []
    def perform_reduce_grad(self, *a, **k): pass
    def release_fwd_send_outputs(self, i): pass
    def scale_grads(self, *a): pass

    def forward_one_chunk(self, i, *a, **k):
        self.log.append(f"{self.stage_index}F{i}")
        return i

    def backward_one_chunk(self, i, loss=None, full_backward=True, last_backward=False):
        self.log.append(f"{self.stage_index}{'B' if full_backward else 'I'}{i}")


def single_stage_order(cls, P, M):
    rows = []
    for r in range(P):
        log = []
        sched = cls(RecordingStage(r, P, log), M, loss_fn=lambda *a, **k: torch.zeros(()))
        sched._initialize_stage = lambda *a, **k: None  # no process group: nothing to connect
        sched._step_microbatches(None, None, [None] * M, None)
        rows.append(log)
    return rows


# ---------------------------------------------------------------- PyTorch, looped/V schedules
class PlanStage:
    """Just enough of a stage for the multi-stage constructors (they only plan)."""

    def __init__(self, rank, P, num_stages):
        self.group_size, self.group_rank, self.num_stages = P, rank, num_stages
        self.submod = None


def action_cell(a):
    if a.computation_type == S.OVERLAP_F_B:
        return "(" + ";".join(str(s) for s in a.sub_actions) + ")OVERLAP_F_B"
    return str(a)


COMPUTE = {S.FORWARD, S.FULL_BACKWARD, S.BACKWARD_INPUT, S.BACKWARD_WEIGHT, S.OVERLAP_F_B}


def multi_stage_order(cls, P, M, V):
    stages = [PlanStage(0, P, P * V) for _ in range(V)]
    sched = cls(stages, M, loss_fn=lambda out, tgt: out)
    order = sched.pipeline_order_with_comms
    return [[action_cell(a) for a in order[r] if a.computation_type in COMPUTE] for r in range(P)]


# ---------------------------------------------------------------- DeepSeek DualPipe
class RecordingDualPipe(dpmod.DualPipe):
    """DualPipe whose step() runs for real while chunks and P2P are only recorded.

    Stages follow ppsim's convention: direction 0 (micro-batches 0..M/2-1) runs stage r on
    rank r; direction 1 (M/2..M-1) runs stage P-1-r. Phase p on a rank of the second half is
    direction p ^ 1, as in the reference's `phase ^= self.is_in_second_half`."""

    def __init__(self, rank, P):  # the reference __init__ needs CUDA and a process group
        torch.nn.Module.__init__(self)
        self.rank, self.num_ranks = rank, P
        self.is_first_rank, self.is_last_rank = rank == 0, rank == P - 1
        self.is_in_second_half = rank >= P // 2
        self.is_middle_rank = rank in (P // 2 - 1, P // 2)
        self.overlapped_forward_backward = True
        self.batch_dim = 0

    def _where(self, phase):
        d = phase ^ self.is_in_second_half
        return d, (self.rank if d == 0 else self.num_ranks - 1 - self.rank)

    def _take(self, counter, phase):
        d, stage = self._where(phase)
        c = counter[d]
        counter[d] += 1
        return stage, d * self.half_mbs + c

    def _forward_compute_chunk(self, phase):
        stage, mb = self._take(self.current_f_chunk_id, phase)
        self.log.append(f"{stage}F{mb}")
        self.loss_chunks.append(torch.zeros(()))  # step() stacks the losses on the end ranks

    def _backward_compute_chunk(self, phase, enable_zb=False):
        stage, mb = self._take(self.current_b_chunk_id, phase)
        self.log.append(f"{stage}{'I' if enable_zb else 'B'}{mb}")
        if enable_zb:
            self.deferred.append(f"{stage}W{mb}")

    def _forward_backward_compute_chunk(self, phase0, phase1):
        fs, fm = self._take(self.current_f_chunk_id, phase0)
        bs, bm = self._take(self.current_b_chunk_id, phase1)
        self.log.append(f"({fs}F{fm};{bs}B{bm})OVERLAP_F_B")
        self.loss_chunks.append(torch.zeros(()))

    def _weight_chunk(self):
        self.log.append(self.deferred.pop(0))  # WeightGradStore is first in, first out

    def _recv_forward(self, phase): pass
    def _send_forward(self, phase): pass
    def _recv_backward(self, phase): pass
    def _send_backward(self, phase): pass
    def _commit_and_wait_comm(self): pass


def dualpipe_order(P, M):
    dpmod.comm.TENSOR_SHAPES, dpmod.comm.TENSOR_DTYPE = [(1,)], torch.float32
    dpmod.scatter = lambda inputs, chunks, dim: [[] for _ in range(chunks)]
    rows = []
    for r in range(P):
        pipe = RecordingDualPipe(r, P)
        pipe.log, pipe.deferred, pipe.half_mbs = [], [], M // 2
        pipe.step(num_chunks=M, criterion=lambda *a: None)
        assert not pipe.deferred, "reference left weight grads behind"
        rows.append(pipe.log)
    return rows


def dualpipev_from_dualpipe(P, M):
    """DualPipeV is DualPipe cut in half: DeepSeek's DualPipeV.step() on rank r of P ranks with
    M chunks runs the same steps as DualPipe.step() on rank r of 2P ranks with 2M chunks
    (num_half_ranks = P, half_rank = r, half_num_chunks = M, is_middle_rank = is_last_rank).
    Ranks 0..P-1 of that DualPipe, with the second direction's micro-batches renumbered from 0,
    are therefore a second, independent reference for DualPipeV."""
    import re
    rows = dualpipe_order(2 * P, 2 * M)[:P]
    renumber = lambda m: f"{m[1]}{m[2]}{int(m[3]) - M if int(m[1]) >= P else m[3]}"
    return [[re.sub(r"(\d+)([FBIW])(\d+)", renumber, c) for c in row] for row in rows]


KINDS = {
    "gpipe": lambda P, M: single_stage_order(S.ScheduleGPipe, P, M),
    "1f1b": lambda P, M: single_stage_order(S.Schedule1F1B, P, M),
    "interleaved-1f1b": lambda P, M, V=2: multi_stage_order(S.ScheduleInterleaved1F1B, P, M, V),
    "zb1p": lambda P, M: multi_stage_order(S.ScheduleInterleavedZeroBubble, P, M, 1),
    "zbv": lambda P, M: multi_stage_order(S.ScheduleZBVZeroBubble, P, M, 2),
    "dualpipe": dualpipe_order,
    "dualpipev": lambda P, M: multi_stage_order(S.ScheduleDualPipeV, P, M, 2),
}


def sweep():
    """(kind, P, M, V) to record: every P up to 16 with a range of M, plus larger P."""
    for P in list(range(1, 17)) + [24, 32]:
        Ms = sorted(set(list(range(1, 3 * P + 9)) + [4 * P, 4 * P + 2, 8 * P])) if P <= 16 else [P, 2 * P, 4 * P, 4 * P + 2]
        for M in Ms:
            for kind in KINDS:
                if kind == "interleaved-1f1b":
                    for V in (2, 3, 4):
                        yield kind, P, M, V
                else:
                    yield kind, P, M, 2 if kind in ("zbv", "dualpipe", "dualpipev") else 1


def write_compact(doc, out_path):
    """One case per line: small, and diffs stay readable."""
    with open(out_path, "w") as f:
        f.write("{\n")
        for i, (key, value) in enumerate(doc.items()):
            sep = "," if i + 1 < len(doc) else ""
            if isinstance(value, list):
                f.write(f'"{key}": [\n' + ",\n".join(json.dumps(v, separators=(",", ":")) for v in value) + f"\n]{sep}\n")
            else:
                f.write(f'"{key}": {json.dumps(value)}{sep}\n')
        f.write("}\n")


def main(out_path):
    cases, refused, examples = [], [], {}
    cross_checked = 0
    for kind, P, M, V in sweep():
        try:
            rows = KINDS[kind](P, M, V) if kind == "interleaved-1f1b" else KINDS[kind](P, M)
        except (AssertionError, ValueError, RuntimeError, IndexError, ZeroDivisionError) as e:
            refused.append({"kind": kind, "ranks": P, "microbatches": M, "stages_per_rank": V,
                            "reference_error": f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"})
            continue
        text = csv_text(rows)
        if kind == "dualpipev":
            assert csv_text(dualpipev_from_dualpipe(P, M)) == text, f"PyTorch and DeepSeek disagree on DualPipeV {P} {M}"
            cross_checked += 1
        cases.append({"kind": kind, "ranks": P, "microbatches": M, "stages_per_rank": V,
                      "ops": sum(len(r) for r in rows), "fnv1a64": fnv1a64(text)})
        if (P, M) in ((4, 8), (4, 10)) or (kind == "dualpipe" and (P, M) == (8, 20)):
            examples[f"{kind} P={P} M={M} V={V}"] = text
    doc = {
        "about": "Op orders executed by the published references; see scripts/reference/dump_reference_orders.py",
        "sources": {"torch": torch.__version__, "dualpipe": version("dualpipe")},
        "hash": "FNV-1a 64 of the PyTorch-CSV text, one row per rank",
        "dualpipev_cross_checked": f"{cross_checked} DualPipeV cases equal DeepSeek's DualPipe.step() cut in half",
        "cases": cases, "refused": refused, "examples": examples,
    }
    write_compact(doc, out_path)
    print(f"{len(cases)} recorded, {len(refused)} refused by the reference -> {out_path}")


if __name__ == "__main__":
    main(sys.argv[1])
