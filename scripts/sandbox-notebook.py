#!/usr/bin/env python3
"""Executes one notebook inside the grader's sandbox (scripts/sandbox.py):

    sandbox-notebook.py NOTEBOOK OUT.ipynb STATUS.json [--cell-timeout S] [--cell-kb K] [--total-mb M]

Every cell runs, in a new kernel, in the notebook's folder. Outputs are
capped: a cell keeps at most K KB of output (a note says where it was cut),
the notebook at most M MB in all; past that, outputs are dropped and
STATUS.json says "output-limit" with the cell, and the run stops there. STATUS.json is rewritten as
each cell starts, so that the grader knows where a run that it stopped was.
The grader reads what this writes as the submission's own data: nothing in
a grade comes from it.
"""

import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandbox import MEMORY_MARKS, PROCESS_MARKS  # noqa: E402  (scripts/sandbox.py)

MEMORY_MARKS = tuple(m.decode() for m in MEMORY_MARKS)
PROCESS_MARKS = tuple(m.decode() for m in PROCESS_MARKS)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("notebook")
    p.add_argument("out")
    p.add_argument("status")
    p.add_argument("--cwd", default=None, help="the folder the cells run in (default: the notebook's)")
    p.add_argument("--cell-timeout", type=int, default=600)
    p.add_argument("--cell-kb", type=int, default=256)
    p.add_argument("--total-mb", type=float, default=4)
    args = p.parse_args()
    nb = nbformat.read(args.notebook, as_version=4)
    state = {"status": "running", "cell": None, "limit_cell": None}

    def save():
        with open(args.status, "w") as f:
            json.dump(state, f)

    sizes, total = {}, [0]

    class Capped(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {})))
            sizes[cell_index] = sizes.get(cell_index, 0) + size
            total[0] += size
            if sizes[cell_index] > args.cell_kb * 1024 or total[0] > args.total_mb * (1 << 20):
                if total[0] > args.total_mb * (1 << 20):
                    # The notebook's limit: keep what ran and stop here
                    # (the sandbox ends the kernel with this process).
                    state["status"], state["limit_cell"] = "output-limit", cell_index + 1
                    finish()
                    os._exit(3)
                if not any(o.get("name") == "grader" for o in outs):
                    outs.append(nbformat.v4.new_output("stream", name="stdout", text="\n[output cut by the grader: more than %d KB in this cell]\n" % args.cell_kb))
                    outs[-1]["name"] = "grader"
                return None
            return super().output(outs, msg, display_id, cell_index)

    started = {}

    def on_execute(cell, cell_index):
        state["cell"] = cell_index + 1
        started[cell_index] = time.monotonic()
        save()

    def on_executed(cell, cell_index, execute_reply):
        # From the request to the reply, as scripts/run-notebooks.py records it.
        cell.metadata["mnistfc_seconds"] = round(time.monotonic() - started.get(cell_index, time.monotonic()), 2)

    client = Capped(nb, timeout=args.cell_timeout, kernel_name=nb.metadata.get("kernelspec", {}).get("name", "gonb"), allow_errors=True,
                    resources={"metadata": {"path": args.cwd or os.path.dirname(os.path.abspath(args.notebook))}}, on_cell_execute=on_execute, on_cell_executed=on_executed)
    def finish():
        # A cell's program stopped by a limit: the first such cell, by what it said.
        for i, cell in enumerate(nb.cells, start=1):
            said = " ".join(str(o.get("evalue", "")) + str(o.get("text", "")) for o in cell.get("outputs", [])
                            if o.get("output_type") == "error" or o.get("name") == "stderr").lower()
            for status, marks in (("memory-limit", MEMORY_MARKS + ("signal: killed",)), ("process-limit", PROCESS_MARKS)):
                if state["status"] in ("running", "ok") and any(m in said for m in marks):
                    state["status"], state["limit_cell"] = status, i
        for cell in nb.cells:
            for o in cell.get("outputs", []):
                if o.get("name") == "grader":
                    o["name"] = "stdout"
        nbformat.write(nb, args.out)
        save()

    try:
        client.execute()
        if state["status"] == "running":
            state["status"] = "ok"
    except Exception as e:  # Kernel died, a cell's timeout: keep what ran.
        if state["status"] == "running":
            state["status"], state["error"] = "stopped", "%s: %s" % (type(e).__name__, (str(e).strip().splitlines() or [""])[0][:300])
    finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
