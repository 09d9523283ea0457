#!/usr/bin/env python3
"""Loads ppsim's CSV exports into PyTorch's pipelining runtime, to show they move both ways.

For every kind PyTorch can represent (all but DualPipe, whose stages run on two ranks),
exports `ppsim schedule --format csv`, loads it with _PipelineScheduleRuntime._load_csv
(compute_only: PyTorch validates it and lowers it with its send/recv pass), and checks the
compute order PyTorch would execute is the one ppsim wrote; then reads PyTorch's own
compute+comms dump of it back with `ppsim schedule --from-csv`. Needs torch; run by hand:
  python3 scripts/reference/check_csv_in_pytorch.py build/cli/ppsim
"""
import subprocess
import sys
import tempfile

import torch.distributed.pipelining.schedules as S

KINDS = {"gpipe": 1, "1f1b": 1, "interleaved-1f1b": 2, "zb1p": 1, "zbv": 2, "dualpipev": 2}
COMPUTE = {S.FORWARD, S.FULL_BACKWARD, S.BACKWARD_INPUT, S.BACKWARD_WEIGHT, S.OVERLAP_F_B}


class PlanStage:
    def __init__(self, P, num_stages):
        self.group_size, self.group_rank, self.num_stages, self.submod = P, 0, num_stages, None


def cell(a):
    if a.computation_type == S.OVERLAP_F_B:
        return "(" + ";".join(str(s) for s in a.sub_actions) + ")OVERLAP_F_B"
    return str(a)


def main(ppsim):
    checked = 0
    for kind, V in KINDS.items():
        for P, M in ((2, 4), (4, 8), (4, 12), (8, 16), (8, 24)):
            text = subprocess.run([ppsim, "schedule", "--kind", kind, "--ranks", str(P), "--microbatches", str(M),
                                   "--format", "csv"], check=True, capture_output=True, text=True).stdout
            with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
                f.write(text)
                f.flush()
                runtime = S._PipelineScheduleRuntime([PlanStage(P, P * V) for _ in range(V)], M, loss_fn=lambda *a: 0)
                runtime._load_csv(f.name)  # validates, maps stages to ranks, adds send/recv
            order = runtime.pipeline_order_with_comms
            back = "".join(",".join(cell(a) for a in order[r] if a.computation_type in COMPUTE) + "\n" for r in range(P))
            assert back == text, f"{kind} P={P} M={M}: PyTorch would run a different order"
            # And back: PyTorch's own dump, with its SEND/RECV/REDUCE_GRAD actions, read by ppsim.
            with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
                runtime._dump_csv(f.name, format="compute_comms")
                again = subprocess.run([ppsim, "schedule", "--from-csv", f.name, "--format", "csv"], check=True,
                                       capture_output=True, text=True).stdout
            assert again == text, f"{kind} P={P} M={M}: ppsim read PyTorch's dump differently"
            checked += 1
    print(f"{checked} ppsim CSV exports loaded, validated and lowered by PyTorch with the same compute order, "
          "and PyTorch's compute+comms dumps of them read back by ppsim unchanged")


if __name__ == "__main__":
    main(sys.argv[1])
