#!/usr/bin/env python3
"""Prints, for executed notebooks, how long each code cell took from being
run to its reply, with what kind of cell it is, and a summary per kind.

Usage:
    cell-times.py EXECUTED.ipynb...        (e.g. out/notebooks-check/*.ipynb)

The times come from the cells' metadata: "mnistfc_seconds", which
scripts/run-notebooks.py records (from sending the cell to its reply, to
0.01 s), or else the execution timestamps that nbclient and JupyterLab
record (iopub.execute_input to shell.execute_reply; GoNB's are whole
seconds). A GoNB cell's time includes
building its program (every cell is built as a new program), running it
and sending its outputs.

Kinds: "setup" (only %-commands and ! shell lines), "declares" (no `%%`:
functions, types, imports only), "trains" (its output holds a training
progress bar), "kept" (it showed runs kept from earlier, without
training), "runs" (any other cell with a main part). A report, not a test:
the exit status is 0 unless a file cannot be read.
"""

import datetime
import json
import statistics
import sys


def _text(v):
    return "".join(v) if isinstance(v, list) else (v or "")


def _seconds(cell):
    if "mnistfc_seconds" in cell.get("metadata", {}):
        return cell["metadata"]["mnistfc_seconds"]
    ex = cell.get("metadata", {}).get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not start or not end:
        return None
    parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def _outputs_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append(_text(out.get("text")))
        for mime, value in (out.get("data") or {}).items():
            if mime.startswith("text/"):
                parts.append(_text(value))
    return "\n".join(parts)


def kind(cell):
    lines = [l.strip() for l in _text(cell.get("source")).splitlines() if l.strip() and not l.strip().startswith("//")]
    if lines and all(l.startswith(("%", "!")) and l not in ("%%", "%main") for l in lines):
        return "setup"
    if "%%" not in lines and "%main" not in lines:
        return "declares"
    out = _outputs_text(cell)
    if "mnistfc-progress" in out:
        return "trains"
    if "kept from the run of" in out:
        return "kept"
    return "runs"


def first_line(cell):
    for l in _text(cell.get("source")).splitlines():
        l = l.strip()
        if l and l not in ("%%", "%main") and not l.startswith("//"):
            return l[:56] + ("..." if len(l) > 56 else "")
    return ""


def report(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    stamp = nb.get("metadata", {}).get("mnistfc_run", {})
    print("%s (backend %s, %s epochs)" % (path, stamp.get("backend", "?"), stamp.get("epochs", "?")))
    print("  %4s  %-8s  %7s  %s" % ("cell", "kind", "seconds", "first line"))
    by_kind = {}
    n = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        n += 1
        s = _seconds(cell)
        k = kind(cell)
        if s is not None:
            by_kind.setdefault(k, []).append(s)
        print("  %4d  %-8s  %7s  %s" % (n, k, "%.2f" % s if s is not None else "-", first_line(cell)))
    print("  %-8s  %5s  %7s  %7s  %7s" % ("kind", "cells", "median", "max", "total"))
    for k in ("setup", "declares", "runs", "kept", "trains"):
        if k in by_kind:
            v = by_kind[k]
            print("  %-8s  %5d  %7.2f  %7.2f  %7.1f" % (k, len(v), statistics.median(v), max(v), sum(v)))
    print()


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for path in argv:
        report(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
