#!/usr/bin/env python3
"""Executes a notebook top to bottom (nbclient); any cell that raises fails the run.

Used by the test command:  python notebooks/run.py notebooks/schedules.ipynb
The notebooks find the ppsim binary in $PPSIM and write their figures to $PPSIM_NOTEBOOK_OUT.
"""
import os
import sys
import tempfile

import nbformat
from nbclient import NotebookClient


def main(path):
    out = os.environ.setdefault("PPSIM_NOTEBOOK_OUT", tempfile.mkdtemp(prefix="ppsim-notebook-"))
    os.makedirs(out, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": out}}).execute()
    executed = os.path.join(out, os.path.basename(path))
    nbformat.write(nb, executed)
    print(f"{path}: every cell ran; executed copy and figures in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
