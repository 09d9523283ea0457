"""Shared by the golden-order recorders: loading sail-sg's scheduler files without the
megatron packages around them, and writing the recorded orders one configuration a line."""
import importlib.util
import json
import os
import sys
import types

SCHEDULER = "megatron/core/pipeline_parallel/zerobubble/scheduler"


def load_sail_scheduler(root, leaves):
    """Loads scheduler/<leaf>.py for each leaf (in order) under its real module name from a
    checkout (or the scheduler directory itself), without executing any megatron package
    __init__ (those need torch and CUDA). Returns {leaf: module}."""
    sched_dir = os.path.join(root, SCHEDULER)
    if not os.path.isfile(os.path.join(sched_dir, leaves[-1] + ".py")):
        sched_dir = root  # the scheduler directory itself was given
    names = ["megatron", "megatron.core", "megatron.core.pipeline_parallel",
             "megatron.core.pipeline_parallel.zerobubble", "megatron.core.pipeline_parallel.zerobubble.scheduler"]
    for name in names:
        pkg = types.ModuleType(name)
        pkg.__path__ = [sched_dir] if name == names[-1] else []
        sys.modules[name] = pkg
    mods = {}
    for leaf in leaves:
        full = f"{names[-1]}.{leaf}"
        spec = importlib.util.spec_from_file_location(full, os.path.join(sched_dir, leaf + ".py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
        mods[leaf] = mod
    return mods


def write_orders(path, entries):
    """A JSON list, one configuration a line; says how many the reference refused."""
    with open(path, "w") as fh:
        fh.write("[\n" + ",\n".join(json.dumps(e, separators=(",", ":")) for e in entries) + "\n]\n")
    refused = sum("error" in e for e in entries)
    print(f"{len(entries)} configurations, {refused} refused, written to {path}")
