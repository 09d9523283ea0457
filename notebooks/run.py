#!/usr/bin/env python3
"""Executes a notebook top to bottom (nbclient); any cell that raises fails the run.

Used by the test command:  python notebooks/run.py notebooks/schedules.ipynb
  (the executed copy goes to $PPSIM_NOTEBOOK_OUT; the notebook itself is left as it is)
To refresh the outputs committed with a notebook:  python notebooks/run.py --in-place NOTEBOOK
The notebooks import the ppsim package (pip install . into the same Python) and write their
files to $PPSIM_NOTEBOOK_OUT.
"""
import os
import sys
import tempfile

import nbformat
from nbclient import NotebookClient


def main(path, in_place=False):
    out = os.environ.setdefault("PPSIM_NOTEBOOK_OUT", tempfile.mkdtemp(prefix="ppsim-notebook-"))
    os.makedirs(out, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": out}}).execute()
    executed = path if in_place else os.path.join(out, os.path.basename(path))
    nbformat.write(nb, executed)
    print(f"{path}: every cell ran; executed copy in {executed}, files in {out}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--in-place"]
    if len(args) != 1:
        sys.exit("usage: run.py [--in-place] NOTEBOOK")
    main(args[0], in_place="--in-place" in sys.argv[1:])
