"""ppsim from Python: pipeline schedules, their simulation and what a training run costs.

The same C++ as the ``ppsim`` command, called in this process (``ppsim._core``). Keyword
arguments are the command's flags with ``_`` for ``-`` (``microbatch_size=2`` is
``--microbatch-size 2``; ``True`` gives a flag without a value; lists are joined by commas), so
everything ``ppsim COMMAND -h`` lists works here, checked by the same code. Bad input raises
``ppsim.Error`` (a ``ValueError``) carrying the command's one-line message.

    import ppsim
    s = ppsim.schedule("dualpipe", ranks=8, microbatches=20)
    run = ppsim.simulate(schedule=s, unit_costs="F=1,B=2,W=1")
    run.metrics["makespan_us"], run.timeline.head()
    ppsim.size("deepseek-v3", gpus=["h800", "h100"]).head()
"""
from __future__ import annotations

import json
from typing import Any, Optional

import pandas as pd

from . import _core
from ._core import Error, __version__

__all__ = [
    "Error", "Schedule", "Scenario", "Simulation", "__version__", "accuracy", "calibrate", "catalog", "chrome_trace", "compare",
    "kernels", "run", "schedule", "simulate", "size", "study", "validate",
]


def _words(flags: dict[str, Any]) -> list[str]:
    """Keyword arguments as command-line words, in the order given."""
    words: list[str] = []
    for key, value in flags.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            words += [flag, ",".join(str(v) for v in value)]
        else:
            words += [flag, str(value)]
    return words


def run(command: str, *words: str, **flags: Any) -> str:
    """``ppsim COMMAND WORDS... --FLAGS`` in this process; returns what it prints.

    Raises ``Error`` for bad input, and when the command exits non-zero for another reason."""
    code, out = _core.run(command, list(words) + _words(flags))
    if code != 0:
        raise Error(f"ppsim {command} exited with code {code}: {out.strip().splitlines()[-1] if out.strip() else ''}")
    return out


def _json(command: str, flags: dict[str, Any], ok_codes: tuple[int, ...] = (0,)) -> Any:
    code, out = _core.run(command, _words(flags) + ["--format", "json"])
    if code not in ok_codes:
        raise Error(f"ppsim {command} exited with code {code}")
    return json.loads(out)


class Schedule:
    """A pipeline schedule: each rank's ops in order. Make one with ``ppsim.schedule``, or read
    ppsim JSON / PyTorch pipelining CSV with ``from_json`` / ``from_csv`` / ``read``."""

    def __init__(self, core: "_core.Schedule"):
        self._core = core

    @classmethod
    def from_json(cls, text: str) -> "Schedule":
        return cls(_core.Schedule.from_json(text))

    @classmethod
    def from_csv(cls, text: str) -> "Schedule":
        return cls(_core.Schedule.from_csv(text))

    @classmethod
    def read(cls, path: str) -> "Schedule":
        """A .csv (PyTorch pipelining actions) or .json (ppsim) file."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return cls.from_csv(text) if path.endswith(".csv") else cls.from_json(text)

    kind = property(lambda self: self._core.kind)
    ranks = property(lambda self: self._core.ranks)
    stages = property(lambda self: self._core.stages)
    microbatches = property(lambda self: self._core.microbatches)

    @property
    def ops(self) -> pd.DataFrame:
        """One row per op: rank, position, op (F, B, W, Bi, FB), mb, stage, name."""
        return pd.DataFrame(self._core.ops())

    def to_json(self) -> str:
        return self._core.to_json()

    def to_csv(self) -> str:
        return self._core.to_csv()

    def to_ascii(self) -> str:
        return self._core.to_ascii()

    def validate(self) -> None:
        """Raises ``Error`` naming the first problem (an op missing, a deadlock ...)."""
        self._core.validate()

    def peak_in_flight(self) -> list[int]:
        """Per rank, the most forward activations it holds at once."""
        return self._core.peak_in_flight()

    def __repr__(self) -> str:
        return f"<ppsim.Schedule {self.kind}: {self.ranks} ranks, {self.stages} stages, {self.microbatches} micro-batches>"


def schedule(kind: str, ranks: Optional[int] = None, microbatches: Optional[int] = None, **flags: Any) -> Schedule:
    """A generated schedule (``ppsim schedule --kind K``): gpipe, 1f1b, interleaved-1f1b, zb1p, zb2p,
    zbv, zbv-greedy, v-half, v-min, dualpipe, dualpipev ... (``stages_per_rank``, ``zb_costs``,
    ``zb_memory_limit`` as the command takes them)."""
    out = run("schedule", kind=kind, ranks=ranks, microbatches=microbatches, format="json", **flags)
    return Schedule.from_json(out)


class Simulation:
    """One simulated run: ``metrics`` (the JSON report of ``ppsim simulate --format json``, as a
    dict), ``timeline`` (one row per interval: compute ops, phases, transfers) and ``memory``
    (activations held per rank over time) as DataFrames; ``chrome_trace()`` and ``svg()``."""

    def __init__(self, core: "_core.SimulationRun"):
        self._core = core
        self.metrics: dict[str, Any] = json.loads(core.report)
        self.text: str = core.text

    @property
    def timeline(self) -> pd.DataFrame:
        """rank, lane (compute, send, recv, kernels, comm), op, mb, stage, start_us, end_us, peer,
        bytes, what (dispatch, combine, ...), channel."""
        return pd.DataFrame(self._core.intervals())

    @property
    def memory(self) -> pd.DataFrame:
        return pd.DataFrame(self._core.memory())

    @property
    def critical_path(self) -> pd.DataFrame:
        return pd.DataFrame(self.metrics.get("critical_path", []))

    def chrome_trace(self) -> dict[str, Any]:
        """The Chrome/Perfetto trace ``--trace`` writes, as a dict (``json.dump`` it to a file)."""
        return json.loads(self._core.chrome_trace())

    def svg(self, width: int = 1600) -> str:
        """The picture ``--svg`` writes."""
        return self._core.svg(width)

    def __repr__(self) -> str:
        return "<ppsim.Simulation\n" + self.text.rstrip() + "\n>"


def simulate(kind: Optional[str] = None, *, schedule: Optional[Schedule] = None, model: Optional[str] = None,
             timeline: bool = True, **flags: Any) -> Simulation:
    """``ppsim simulate``: a kind (``kind="dualpipe", ranks=8, microbatches=20``) or a ``Schedule``,
    with unit costs (``unit_costs="F=1,B=2,W=1"``, ``p2p_latency_us``, ...) or on a model
    (``model="deepseek-v3"`` and plan flags). ``timeline=False`` skips recording the timeline."""
    words = _words({"kind": kind, "model": model, **flags})
    return Simulation(_core.simulate(words, schedule._core if schedule is not None else None, timeline))


def chrome_trace(kind: Optional[str] = None, **flags: Any) -> dict[str, Any]:
    """The Chrome/Perfetto trace of ``simulate(kind, **flags)``."""
    return simulate(kind, **flags).chrome_trace()


class Scenario:
    """A model on a cluster with a parallel plan (``ppsim simulate --model M`` and its plan flags),
    checked when made: ``Scenario("deepseek-v3", pp=8, gpu="h100")``. ``plan`` is what the
    rules made of it (DP, micro-batches ...); ``simulate()`` / ``study()`` run it."""

    def __init__(self, model: str, **flags: Any):
        self.model = model
        self.flags = dict(flags)
        description = json.loads(_core.scenario(_words({"model": model, **flags})))
        self.cluster: str = description["cluster"]
        self.gpu: str = description["gpu"]
        self.gpus: int = description["gpus"]
        self.kind: str = description["kind"]
        self.plan: dict[str, Any] = description["plan"]

    def simulate(self, **more: Any) -> Simulation:
        return simulate(model=self.model, **{**self.flags, **more})

    def __repr__(self) -> str:
        p = self.plan
        return (f"<ppsim.Scenario {self.model} on {self.gpus} {self.gpu}, {self.kind}: TP{p['tp']} PP{p['pp']} "
                f"EP{p['ep']} DP{p['dp']}, {p['microbatches']} micro-batches>")


def study(scenario: Scenario | str, **flags: Any) -> Simulation:
    """Simulates a scenario (a ``Scenario`` or a model name) with phases and the fabric, as
    ``ppsim simulate --model`` does: ``metrics`` has step_seconds, mfu, memory_gib, run (days,
    GPU-hours, dollars) ..."""
    if isinstance(scenario, str):
        scenario = Scenario(scenario, **flags)
        flags = {}
    return scenario.simulate(**flags)


def size(model: str, **flags: Any) -> pd.DataFrame:
    """``ppsim size``: every plan evaluated (GPU, count, TP/PP/EP/DP, schedule ...), one row each,
    fastest first among those that fit; ``attrs`` holds the sweep's summary."""
    answer = _json("size", {"model": model, **flags})
    table = pd.DataFrame(answer.get("evaluated", []))
    if not table.empty and "days" in table:
        table = table.sort_values("days", kind="stable").reset_index(drop=True)
    table.attrs = {k: v for k, v in answer.items() if k != "evaluated"}
    return table


def compare(**flags: Any) -> pd.DataFrame:
    """``ppsim compare``: every schedule kind (or ``kinds=[...]``) on the same pipeline, one row each."""
    answer = _json("compare", flags)
    rows = answer if isinstance(answer, list) else answer.get("runs", answer.get("kinds", []))
    return pd.json_normalize(rows, max_level=0)


def validate(**flags: Any) -> dict[str, Any]:
    """``ppsim validate``: runs a schedule for real (CPU threads by default) and compares; the JSON
    report as a dict (exit code 1, numbers that do not match, is reported, not raised)."""
    return _json("validate", flags, ok_codes=(0, 1))


def kernels(gpu: str, m: Any, **flags: Any) -> pd.DataFrame:
    """``ppsim kernels``: the GEMM model's time, bound and efficiency for each row count in ``m``
    (with ``n``, ``k``, ``groups``, ``precision`` as the command takes them), one row per shape."""
    return pd.DataFrame(_json("kernels", {"gpu": gpu, "m": m, **flags})["shapes"])


def accuracy(**flags: Any) -> pd.DataFrame:
    """``ppsim accuracy``: the published runs predicted with the built-in defaults, one row per run;
    ``attrs`` holds the mean and largest absolute errors."""
    answer = _json("accuracy", flags)
    table = pd.DataFrame(answer["cases"])
    table.attrs = {k: v for k, v in answer.items() if k != "cases"}
    return table


def calibrate(from_kineto: Any, **flags: Any) -> dict[str, Any]:
    """``ppsim calibrate --from-kineto``: a PyTorch profiler trace (or one per rank, a list) read
    into kernel time by phase per stage, the ops' cost table (``costs``, for ``simulate(costs=...)``
    once written with ``costs_out=``) and, with ``model=``, the efficiencies it implies."""
    return _json("calibrate", {"from_kineto": from_kineto, **flags})


def catalog(**flags: Any) -> dict[str, Any]:
    """The models, GPUs and clusters ppsim knows (``ppsim catalog --format json``)."""
    return _json("catalog", flags)
