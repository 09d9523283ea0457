"""The ppsim Python package: the command's results, in Python types, from the same C++."""
import json
import os
import subprocess

import pandas as pd
import pytest

import ppsim

PPSIM = os.environ.get("PPSIM")  # the command, to check the package answers as it does


def test_schedule_generates_validates_and_round_trips():
    s = ppsim.schedule("dualpipe", ranks=8, microbatches=20)
    assert (s.kind, s.ranks, s.stages, s.microbatches) == ("dualpipe", 8, 8, 20)
    s.validate()
    ops = s.ops
    assert list(ops.columns) == ["rank", "position", "op", "mb", "stage", "name"]
    assert set(ops["rank"]) == set(range(8))
    assert set(ops["op"]) >= {"F", "B", "FB"}  # DualPipe pairs a forward with a backward
    again = ppsim.Schedule.from_json(s.to_json())
    assert again.ops.equals(ops)
    csv = ppsim.Schedule.from_csv(ppsim.schedule("1f1b", ranks=4, microbatches=8).to_csv())
    assert csv.ranks == 4 and csv.microbatches == 8
    assert s.to_ascii().splitlines()[1].startswith("rank 0 |")


def test_simulate_unit_costs_matches_the_closed_form():
    # 1F1B, P=4, M=8, F=1, B=2, free p2p: the step is (M + P - 1)(F + B) = 33 us, the bubble (P-1)(F+B).
    run = ppsim.simulate("1f1b", ranks=4, microbatches=8, unit_costs="F=1,B=2")
    assert run.metrics["makespan"] == pytest.approx(33.0)
    assert run.metrics["closed_form"]["bubble"] == pytest.approx(9.0)
    assert run.metrics["max_bubble"] == pytest.approx(9.0)
    t = run.timeline
    compute = t[t["lane"] == "compute"]
    assert len(compute) == 4 * 8 * 2
    assert (compute["end_us"] > compute["start_us"]).all()
    assert compute["end_us"].max() == pytest.approx(33.0)
    assert not run.memory.empty
    assert list(run.critical_path.columns) >= ["end", "op", "rank", "start"]


def test_a_schedule_object_simulates_as_its_kind_does():
    s = ppsim.schedule("zb1p", ranks=4, microbatches=8)
    by_object = ppsim.simulate(schedule=s, unit_costs="F=1,B=2,W=1")
    by_kind = ppsim.simulate("zb1p", ranks=4, microbatches=8, unit_costs="F=1,B=2,W=1")
    assert by_object.metrics["makespan"] == by_kind.metrics["makespan"]


def test_bad_input_raises_the_commands_one_line():
    with pytest.raises(ppsim.Error, match="--ranks"):
        ppsim.simulate("1f1b", ranks=0)
    with pytest.raises(ppsim.Error, match="did you mean '--ranks'"):
        ppsim.simulate("1f1b", rankz=4)
    with pytest.raises(ValueError):  # ppsim.Error is a ValueError
        ppsim.schedule("dualpipe-x")
    with pytest.raises(ppsim.Error, match="--kind does not apply when a schedule is given"):
        ppsim.simulate("1f1b", schedule=ppsim.schedule("1f1b", ranks=2, microbatches=2))
    try:
        ppsim.simulate("1f1b", ranks=0)
    except ppsim.Error as e:
        assert "\n" not in str(e)


def test_work_limit_applies_to_its_call_only():
    with pytest.raises(ppsim.Error, match=r"allowed at most 90M ops on this machine class \(raise with --work-limit 0.7\)"):
        ppsim.run("compare", "--ranks", "512", "--microbatches", "4096", "--work-limit", "0.5")
    # The next call is back at the default limit: the same small compare runs.
    assert "1f1b" in ppsim.run("compare", "--ranks", "4", "--microbatches", "8")
    with pytest.raises(ppsim.Error, match="--work-limit = '0'"):
        ppsim.run("compare", "--work-limit", "0")


@pytest.mark.skipif(not PPSIM, reason="PPSIM (the ppsim command) not set")
def test_errors_are_the_commands_own_line():
    cli = subprocess.run([PPSIM, "simulate", "--kind", "1f1b", "--ranks", "0"], capture_output=True, text=True)
    assert cli.returncode == 2
    with pytest.raises(ppsim.Error) as e:
        ppsim.simulate("1f1b", ranks=0)
    assert cli.stderr.strip() == "ppsim: error: " + str(e.value)


def test_scenario_is_checked_when_made_and_studied_as_simulate_does():
    s = ppsim.Scenario("deepseek-v3")
    assert (s.gpus, s.plan["pp"], s.plan["ep"]) == (2048, 16, 64)
    with pytest.raises(ppsim.Error, match="PP = 7"):
        ppsim.Scenario("deepseek-v3", pp=7)
    run = ppsim.study(s)
    m = run.metrics
    assert m["model"] == "deepseek-v3" and m["kind"] == "dualpipe"
    assert 0 < m["mfu"] < 1 and m["step_seconds"] > 0
    assert m["run"]["dollars"] > 0
    # The same numbers as the command's JSON, from the same code.
    cli = json.loads(ppsim.run("simulate", model="deepseek-v3", format="json"))
    assert cli["step_seconds"] == m["step_seconds"]
    assert set(run.timeline["lane"]) >= {"compute", "kernels", "comm"}


def test_size_returns_a_table_fastest_first():
    table = ppsim.size("deepseek-v3", gpus="h800", gpu_counts="2048-2048", kinds=["dualpipe", "1f1b"],
                       overlap="simple", network="simple")
    assert isinstance(table, pd.DataFrame) and len(table) > 0
    assert {"gpu", "gpus", "kind", "tp", "pp", "ep", "dp", "days", "dollars", "mfu"} <= set(table.columns)
    assert table["days"].is_monotonic_increasing
    assert table.attrs["configurations"] > len(table)
    with pytest.raises(ppsim.Error, match="gpus"):
        ppsim.size("deepseek-v3", gpus="h9000")


def test_chrome_trace_and_svg():
    trace = ppsim.chrome_trace("dualpipe", ranks=4, microbatches=8)
    assert trace["otherData"]["kind"] == "dualpipe"
    names = {e["name"] for e in trace["traceEvents"] if e.get("ph") == "X"}
    assert any(n.startswith("F mb0") for n in names)
    svg = ppsim.simulate("dualpipe", ranks=4, microbatches=8).svg(width=800)
    assert svg.startswith("<svg") or "<svg" in svg[:200]
    with pytest.raises(ppsim.Error, match="200..20000"):
        ppsim.simulate("1f1b", ranks=2, microbatches=2).svg(width=10)


def test_compare_catalog_validate_and_run():
    table = ppsim.compare(ranks=4, microbatches=8, kinds=["1f1b", "gpipe"])
    assert list(table["kind"]) == ["1f1b", "gpipe"]
    assert "deepseek-v3" in ppsim.catalog()["models"]
    report = ppsim.validate(kind="1f1b", ranks=2, microbatches=4)
    assert report["match"] is True and report["max_relative_error"] <= 1e-12
    assert ppsim.__version__ == "0.1.0"
    with pytest.raises(ppsim.Error, match="unknown command"):
        ppsim.run("simulat")


def test_calibrate_from_a_kineto_trace(tmp_path):
    events = []
    for mb in range(3):
        t = 1000.0 + 400 * mb
        events += [{"ph": "X", "cat": "gpu_user_annotation", "name": "forward", "pid": 0, "ts": t, "dur": 100},
                   {"ph": "X", "cat": "kernel", "name": "flash_fwd_kernel", "pid": 0, "ts": t, "dur": 100, "args": {"device": 0}},
                   {"ph": "X", "cat": "gpu_user_annotation", "name": "backward", "pid": 0, "ts": t + 100, "dur": 200},
                   {"ph": "X", "cat": "kernel", "name": "sm90_gemm", "pid": 0, "ts": t + 100, "dur": 200, "args": {"device": 0}}]
    path = tmp_path / "trace.json"
    path.write_text(json.dumps({"traceEvents": events}))
    report = ppsim.calibrate(str(path), costs_out=str(tmp_path / "costs.json"))
    assert report["costs"]["stages"] == [{"F": 100.0, "B": 200.0}]
    assert report["stages"][0]["phases"]["attention"]["us"] == 300
    run = ppsim.simulate("1f1b", ranks=1, microbatches=3, costs=str(tmp_path / "costs.json"))
    assert run.metrics["makespan"] == 900
