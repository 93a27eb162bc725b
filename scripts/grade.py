#!/usr/bin/env python3
"""Grades students' notebooks of the assignment, each in a sandbox, from
values the grader computes and compares itself.

Usage (with the venv of scripts/setup-notebooks.sh, as `make grade` does):
    grade.py [--out DIR] [--epochs N] [--timeout S] [--checks-only | --until-checks] [-j N] [--resume]
             [--shard i/n|auto] [--hidden-checks DIR] [--seed N] [--unsafe] SUBMISSION...
    grade.py --merge --out DIR SHARD_DIR...
    grade.py --self-test

A SUBMISSION is a student's .ipynb file, or a folder: every .ipynb under it
(.ipynb_checkpoints left out). A grading run draws a seed (--seed repeats
one), builds its Go tools and a warm Go build cache (.tools/grade-gocache),
then grades each submission on its own, -j at a time:

  * it is read as a notebook (a file that is not JSON, or not a notebook,
    gets a line saying so, and nothing runs); its stored outputs are
    dropped and the cells the grader owns (the set-up and check cells of
    the student's notebook, --reference) are put back as they were;
  * its code is read without running it (cmd/gradetool build, package
    grading/source): imports and magics outside the allowlists are refused,
    declarations that do not compile are left out, shortcuts to the
    library's own functions are found;
  * the checks: the grader's program calls the exercises' functions on
    inputs drawn from the seed, in the sandbox, and gradetool judge
    compares their outputs with the library's outside it (package grading);
    the teacher's --hidden-checks are compared with the solution's numbers;
  * unless --checks-only, the notebook runs in a new GoNB kernel in the
    sandbox, with MNISTFC_EPOCHS=N (default 2), for the experiments'
    accuracies (as printed: reported, not graded), the answers and the
    cells that fail; --until-checks stops it after the last check cell.

Every run of a submission's code is in a bubblewrap sandbox (scripts/sandbox.py)
with limits on time, memory, processes, disk and output; without bubblewrap
the grader refuses, unless --unsafe.

For each submission NAME it writes DIR/NAME.json (the grade), DIR/NAME.html
(the grade, then the executed notebook in a sandboxed frame) and
DIR/NAME.ipynb (the notebook as it ran), each whole or not at all, the JSON
last; then DIR/summary.csv and DIR/summary.html. --resume keeps the reports
of the same files and settings. --shard grades one part of the submissions
(and writes DIR/shard.json); --merge puts the shards' folders together.

Exit status: 0 when every submission was graded; 1 when one is not JSON or
not a notebook, hit a limit, or has a cell that does not compile or panics
(its report says which), or when --merge misses a shard or a report; 2 on a
usage error or without a sandbox.
"""

import argparse
import concurrent.futures
import contextlib
import copy
import csv
import datetime
import hashlib
import html
import io
import json
import os
import queue
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_html  # noqa: E402  (scripts/report_html.py)
import sandbox  # noqa: E402  (scripts/sandbox.py)
import student  # noqa: E402  (scripts/student.py)

REFERENCE = os.path.join(ROOT, "notebooks", "student", "mnist_fc.ipynb")
SOLUTION = os.path.join(ROOT, "notebooks", "mnist_fc.ipynb")

# The checks of the notebook package, by function, and the exercises they grade.
CHECKS = {"CheckSigmoid": "sigmoid", "CheckSoftmax": "softmax", "CheckCrossEntropy": "cross-entropy",
          "CheckAccuracy": "accuracy", "CheckForward": "forward", "CheckGradient": "gradient", "CheckTraining": "training"}
EXERCISES = [
    ("sigmoid", "sigmoid", ["sigmoid"]),
    ("softmax", "softmax", ["softmax"]),
    ("cross-entropy", "crossEntropy", ["cross-entropy"]),
    ("accuracy", "accuracy", ["accuracy"]),
    ("forward", "the forward pass", ["forward"]),
    ("training", "the network trains", ["gradient", "training"]),
]
CHECK_CALL_RE = re.compile(r"\bnotebook\.(Check\w+)\(")
# Each exercise's function in the notebook, and the grader's checks of it.
EXERCISE_FUNCTIONS = {"sigmoid": ("sigmoid", ["sigmoid"]), "softmax": ("softmax", ["softmax"]),
                      "cross-entropy": ("crossEntropy", ["cross-entropy"]), "accuracy": ("accuracy", ["accuracy"]),
                      "forward": ("forward", ["forward"]), "training": ("network", ["gradient", "training"])}
EXPERIMENT_RE = re.compile(r"^\s*experiment\(\s*(\d+)\s*,\s*([-+\d.eE]+)\s*\)", re.M)
QUESTION_RE = re.compile(r"^#+\s*Question\s+([\d.]+)\s*:?\s*(.*?)\s*$", re.M)
ACCURACY_RE = re.compile(r"Test Accuracy : ([\d.]+)")
COMPILE_RE = re.compile(r"main\.go:\d+:\d+: (.+)")


def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def first_code_line(source):
    return next((l.strip() for l in source.splitlines()
                 if l.strip() and l.strip() not in ("%%", "%main") and not l.strip().startswith("//")), "")


# --- What the grader knows of the student's notebook ---------------------------

class Reference:
    """The cells of the student's notebook that the grader owns (the setup
    cell and the check cells), its experiments and its questions."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.nb = json.load(f)
        self.path = path
        self.dir = os.path.dirname(os.path.abspath(path))
        cells = self.nb["cells"]
        self.order = [c["id"] for c in cells]
        self.owned = {}      # id -> source
        self.checks = []     # (id, [check names])
        self.experiments = []  # (id, question)
        self.questions = []  # (id, label, title)
        setup = next(c for c in cells if c["cell_type"] == "code")
        self.owned[setup["id"]] = text(setup["source"])
        question = None
        for i, c in enumerate(cells):
            source = text(c["source"])
            if c["cell_type"] == "code" and "check" in c.get("metadata", {}).get("tags", []):
                self.owned[c["id"]] = source
                self.checks.append((c["id"], [CHECKS[f] for f in CHECK_CALL_RE.findall(source) if f in CHECKS]))
            elif c["cell_type"] == "code" and EXPERIMENT_RE.search(source):
                later = (QUESTION_RE.search(text(d["source"])) for d in cells[i + 1:] if d["cell_type"] == "markdown")
                label = next((m.group(1) for m in later if m), "?")
                self.experiments.append((c["id"], label))
            elif c["cell_type"] == "markdown":
                m = QUESTION_RE.search(source)
                if m:
                    question = m.groups()
                if student.answer_text(source) is not None and question:
                    self.questions.append((c["id"],) + question)
        if not self.checks:
            raise ValueError("%s has no check cells (tag \"check\"): run `make student`" % path)

    def check_names(self):
        return [n for _, names in self.checks for n in names]


# --- Reading and preparing a submission --------------------------------------------

class NotGradable(Exception):
    """A submission that cannot be run: status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def load_submission(path):
    """Returns the submission as an nbformat v4 notebook, or raises NotGradable."""
    import nbformat

    try:
        with open(path, "rb") as f:
            raw = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise NotGradable("not-json", "cannot read it as text: %s" % e)
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise NotGradable("not-json", "not a notebook: it is not JSON (%s)" % e)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) or not isinstance(data.get("nbformat"), int):
        raise NotGradable("not-a-notebook", "not a notebook: JSON without \"cells\" and \"nbformat\"")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            nb = nbformat.reads(raw, as_version=4)
    except Exception as e:  # nbformat raises many kinds on a broken file.
        raise NotGradable("not-a-notebook", "not a notebook: %s" % (str(e).splitlines() or [type(e).__name__])[0])
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source", ""), (str, list)):
            raise NotGradable("not-a-notebook", "not a notebook: cell %d is not a code, markdown or raw cell" % (i + 1))
        cell["source"] = text(cell.get("source"))
        if not cell.get("id"):
            cell["id"] = "cell-%d" % (i + 1)
    return nb


def prepare(nb, ref, until_checks=False):
    """Returns the notebook to run: the submission's cells without outputs,
    with the grader's own cells as the reference has them; and notes on what
    was restored."""
    import nbformat

    notes = []
    ids = [c["id"] for c in nb.cells]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        want = ref.owned.get(cell["id"])
        if want is not None and (cell.cell_type != "code" or cell.source != want):
            notes.append("cell %s (%s) was edited: the grader ran the original" % (cell["id"], first_code_line(want)))
            nb.cells[nb.cells.index(cell)] = nbformat.v4.new_code_cell(want, id=cell["id"])
    for cid, source in ref.owned.items():
        if cid in ids:
            continue
        before = ref.order[:ref.order.index(cid)]
        present = [i for i, c in enumerate(nb.cells) if c["id"] in before]
        nb.cells.insert(present[-1] + 1 if present else 0, nbformat.v4.new_code_cell(source, id=cid))
        ids.insert(0, cid)
        notes.append("cell %s (%s) was missing: the grader ran the original" % (cid, first_code_line(source)))
    nb.metadata["kernelspec"] = ref.nb["metadata"]["kernelspec"]
    if until_checks:
        last = max(i for i, c in enumerate(nb.cells) if c["id"] in dict(ref.checks))
        del nb.cells[last + 1:]
    return nb, notes


# --- Reading the executed notebook ------------------------------------------------

def outputs(cell, kind=None):
    """The text of a cell's stream outputs (stdout and stderr, or only kind)."""
    return "".join(text(o.get("text")) for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and (kind is None or o.get("name") == kind))


def one_line(s, limit=300):
    s = " ".join(s.split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def cell_failure(cell):
    """(kind, message) for a code cell that failed: "build" (does not
    compile), "panic", or "error"; None when it ran."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return None
    value = text(errors[0].get("evalue"))
    stderr = outputs(cell, "stderr")
    compile_errors = COMPILE_RE.findall(value)
    if value.lstrip().startswith("# ") or compile_errors:
        return "build", one_line("; ".join(dict.fromkeys(compile_errors)) or value)
    m = re.search(r"^panic: (.*?)(?:\n\s*\ngoroutine |\ngoroutine |\Z)", stderr, re.M | re.S)
    if m:
        return "panic", one_line(m.group(1))
    said = re.findall(r"^error: (.*)$", stderr, re.M)
    return "error", one_line(said[-1] if said else value)


def answered(answer, reference_answer):
    """Whether an answer says something else than the placeholder."""
    def norm(s):
        s = re.sub(r"[*_`]", "", s or "")
        s = re.sub(r"^\s*Answer[^.:]*[.:]", "", s.strip())
        return " ".join(s.split()).lower()
    return bool(norm(answer)) and norm(answer) != norm(reference_answer) and norm(answer) != norm(student.PLACEHOLDER)


def grade_notebook(executed, submitted, ref, until_checks=False, verdicts=None, program=None):
    """The grade of a submission: the grader's verdicts on its exercises
    (gradetool judge) with its program's analysis (gradetool build:
    functions, shortcuts); its executed notebook (nbformat, or None when it
    did not run) for the experiments and failed cells, and its submission
    before running for the answers."""
    ran = executed is not None
    executed = executed or nbformat_empty(submitted)
    cells = {c["id"]: (i, c) for i, c in enumerate(executed.cells, start=1)}
    failures = []
    for i, cell in enumerate(executed.cells, start=1):
        if cell.cell_type != "code" or not ran:
            continue
        f = cell_failure(cell)
        if f:
            failures.append({"cell": i, "id": cell["id"], "code": first_code_line(text(cell.source))[:80], "kind": f[0], "message": f[1]})
        elif text(cell.source).strip() and cell.get("execution_count") is None:
            failures.append({"cell": i, "id": cell["id"], "code": first_code_line(text(cell.source))[:80], "kind": "not run",
                             "message": "not run: the execution stopped before it"})
    failed = {f["id"]: f for f in failures}
    checks = [{"check": v["check"], "passed": v["passed"], "message": v["message"]} for v in (verdicts or [])]
    by_check = {c["check"]: c for c in checks}
    functions = (program or {}).get("functions") or {}
    shortcut = {}
    for name, (function, _) in EXERCISE_FUNCTIONS.items():
        why = ((program or {}).get("shortcuts") or {}).get(function)
        if why:
            shortcut[name] = why
    for c in checks:
        function = next((f for n, (f, parts) in EXERCISE_FUNCTIONS.items() if c["check"] in parts), None)
        if not c["passed"] and function and functions.get(function) and "missing" in c["message"]:
            c["message"] = "%s %s" % (function, functions[function])
    exercises = [{"exercise": name, "title": title, "checks": parts, "shortcut": shortcut.get(name, ""),
                  "passed": all(by_check.get(p, {}).get("passed") for p in parts) and name not in shortcut}
                 for name, title, parts in EXERCISES]
    # The teacher's hidden checks: one point each, none through a function
    # that takes a shortcut.
    uses = (program or {}).get("hidden_uses") or {}
    for c in checks:
        if c["check"].startswith("hidden:"):
            name = c["check"][len("hidden:"):]
            via = [shortcut[e] for e, (f, _) in EXERCISE_FUNCTIONS.items() if f in uses.get(name, []) and e in shortcut]
            exercises.append({"exercise": c["check"], "title": "hidden check " + name, "checks": [c["check"]], "shortcut": "; ".join(via),
                              "passed": c["passed"] and not via})
    experiments = []
    submitted_cells = {c["id"]: c for c in submitted.cells}
    for cid, question in ref.experiments:
        index, cell = cells.get(cid, (None, None))
        entry = {"question": question, "cell": index, "hidden": None, "lr": None, "test_accuracy": None, "problem": ""}
        m = EXPERIMENT_RE.search(text(submitted_cells[cid].source)) if cid in submitted_cells else None
        if m:
            entry["hidden"], entry["lr"] = int(m.group(1)), float(m.group(2))
        acc = ACCURACY_RE.search(outputs(cell, "stdout")) if cell else None
        if acc:
            entry["test_accuracy"] = float(acc.group(1))  # As the notebook printed it: reported, not graded.
        elif until_checks:
            entry["problem"] = "not run (--checks-only)"
        elif cid not in submitted_cells:
            entry["problem"] = "the experiment's cell is missing"
        else:
            entry["problem"] = failed[cid]["message"] if cid in failed else "no test accuracy in its output"
        experiments.append(entry)
    questions = []
    ref_cells = {c["id"]: c for c in ref.nb["cells"]}
    for cid, label, title in ref.questions:
        ref_answer = student.answer_text(text(ref_cells[cid]["source"]))
        cell = submitted_cells.get(cid)
        answer = student.answer_text(text(cell.source)) if cell is not None else None
        if cell is not None and answer is None:  # The markers are gone: the cell without its heading.
            answer = "\n".join(l for l in text(cell.source).splitlines() if not l.lstrip().startswith("#"))
        questions.append({"question": label, "title": title, "answered": answered(answer, ref_answer),
                          "words": len((answer or "").split()) if answered(answer, ref_answer) else 0,
                          "answer": answer if answered(answer, ref_answer) else "",
                          "problem": "" if cell is not None else "the question's cell is missing"})
    return {"score": sum(e["passed"] for e in exercises), "max_score": len(exercises), "exercises": exercises, "checks": checks,
            "experiments": experiments, "questions": questions, "failed_cells": failures}


def problems_of(report):
    """The lines that make the grader's exit status 1."""
    lines = []
    if report["status"] != "graded":
        lines.append(report["message"])
    for lim in report.get("limits", []):
        if lim["run"] == "checks":
            lines.append("the checks %s%s" % (LIMIT_WORDS.get(lim["status"], lim["status"]), ": " + lim["message"] if lim["message"] else ""))
    for kind, says in (("build", "does not compile"), ("panic", "panics")):
        grouped = {}
        for f in report.get("failed_cells", []):
            if f["kind"] == kind:
                grouped.setdefault(f["message"], []).append(str(f["cell"]))
        for message, where in grouped.items():
            lines.append("cell%s %s %s: %s" % ("s" if len(where) > 1 else "", ", ".join(where), says if len(where) == 1 else
                                               {"does not compile": "do not compile", "panics": "panic"}[says], message))
    return lines


# --- Reports --------------------------------------------------------------------------

STYLE = """<style>
.mnistfc-grade{border:2px solid #444;border-radius:6px;padding:0.6em 1.2em;margin:1em 0;font-family:sans-serif}
.mnistfc-grade table{border-collapse:collapse;margin:0.5em 0}
.mnistfc-grade td,.mnistfc-grade th{border:1px solid #bbb;padding:2px 8px;text-align:left;vertical-align:top}
.mnistfc-grade .pass{color:#067d17}.mnistfc-grade .fail{color:#b00020}
.mnistfc-grade .problem{color:#b00020;font-weight:bold}
</style>"""


def grade_html(r):
    """The grade of report r as an HTML section."""
    e = lambda v: html.escape(str(v))
    mark = lambda ok: '<span class="pass">✓</span>' if ok else '<span class="fail">✗</span>'
    out = [STYLE, '<section class="mnistfc-grade" id="grade">']
    verdict = "%d of %d exercises" % (r["score"], r["max_score"]) if r["status"] == "graded" else r["status"]
    out.append("<h2>Grade of %s: %s</h2>" % (e(r["name"]), e(verdict)))
    out += ['<p class="problem">%s</p>' % e(p) for p in r["problems"]]
    if r["status"] != "not-json" and r["status"] != "not-a-notebook" and r["status"] != "grader-error":
        out.append("<p>%s</p>" % e(counts(r)))
    if r.get("exercises"):
        by_check = {c["check"]: c for c in r["checks"]}
        out.append("<table><tr><th>exercise</th><th></th><th>check</th><th>message</th></tr>")
        for x in r["exercises"]:
            for k, part in enumerate(x["checks"]):
                c = by_check.get(part, {"passed": False, "message": "no such check"})
                head = ('<td rowspan="%d">%s</td><td rowspan="%d">%s</td>' % (len(x["checks"]), e(x["title"]), len(x["checks"]), mark(x["passed"]))
                        if k == 0 else "")
                out.append("<tr>%s<td>%s %s</td><td>%s</td></tr>" % (head, mark(c["passed"]), e(part), e(c["message"])))
            if x.get("shortcut"):
                out.append('<tr><td colspan="2" class="problem">not counted</td><td>%s</td></tr>' % e(x["shortcut"]))
        out.append("</table><table><tr><th>experiment</th><th>hidden</th><th>lr</th><th>test accuracy</th></tr>")
        for x in r["experiments"]:
            acc = "%.4f" % x["test_accuracy"] if x["test_accuracy"] is not None else e(x["problem"])
            out.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                e(x["question"]), e(x["hidden"] if x["hidden"] is not None else ""), e(x["lr"] if x["lr"] is not None else ""), acc))
        out.append("</table><table><tr><th>question</th><th></th><th>words</th></tr>")
        for q in r["questions"]:
            out.append("<tr><td>%s: %s</td><td>%s</td><td>%s</td></tr>" % (e(q["question"]), e(q["title"]), mark(q["answered"]),
                                                                          e(q["words"] or q["problem"] or "")))
        out.append("</table>")
        failed = [f for f in r["failed_cells"]]
        if failed:
            out.append("<p>Cells that failed:</p><ul>%s</ul>" % "".join(
                "<li>cell %s <code>%s</code>: %s: %s</li>" % (f["cell"], e(f["code"]), e(f["kind"]), e(f["message"])) for f in failed))
    if r.get("refused"):
        out.append("<p>Lines the grader did not run:</p><ul>%s</ul>" % "".join(
            "<li>cell %s, line %s <code>%s</code>: %s</li>" % (e(x["cell"]), e(x["line"]), e(x["text"]), e(x["why"])) for x in r["refused"]))
    if r.get("dropped"):
        out.append("<p>Declarations the grader left out:</p><ul>%s</ul>" % "".join(
            "<li>cell %s <code>%s</code>: %s</li>" % (e(x["cell"]), e(x["text"]), e(x["why"])) for x in r["dropped"]))
    for lim in r.get("limits", []):
        out.append('<p class="problem">%s: %s%s</p>' % (e(lim["run"]), e(lim["status"]), e(" at cell %s" % lim["cell"] if lim.get("cell") else "")))
    out += ["<p>%s</p>" % e(n) for n in r.get("notes", [])]
    out.append("<p>%s</p></section>" % e(r["run"]))
    return "\n".join(out)


def standalone_page(title, body):
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>%s</title></head>'
            '<body><main>%s</main></body></html>\n' % (html.escape(title), body))


CSV_FIELDS = (["name", "submission", "status", "score", "max_score"] + [x[0] for x in EXERCISES] +
              ["experiments_run"] + ["accuracy_%s" % q for q in ("2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3")] +
              ["questions_answered", "hidden", "failed_cells", "refused", "limit", "seconds", "not_counted", "problems", "report"])


def csv_row(r):
    row = {"name": r["name"], "submission": r["submission"], "status": r["status"], "score": r.get("score", 0), "max_score": r.get("max_score", len(EXERCISES)),
           "seconds": r.get("seconds", 0), "problems": " | ".join(r["problems"]), "report": os.path.basename(r.get("html", "")),
           "failed_cells": len(r.get("failed_cells", []))}
    passed = {x["exercise"]: x["passed"] for x in r.get("exercises", [])}
    row["not_counted"] = " | ".join(x["shortcut"] for x in r.get("exercises", []) if x.get("shortcut"))
    row["refused"] = len(r.get("refused", []))
    hidden = [x for x in r.get("exercises", []) if x["exercise"].startswith("hidden:")]
    row["hidden"] = "%d/%d" % (sum(x["passed"] for x in hidden), len(hidden)) if hidden else ""
    row["limit"] = " | ".join("%s%s (%s)" % (l["status"], " at cell %s" % l["cell"] if l.get("cell") else "", l["run"]) for l in r.get("limits", []))
    for name, _, _ in EXERCISES:
        row[name] = int(bool(passed.get(name)))
    runs = [x for x in r.get("experiments", []) if x["test_accuracy"] is not None]
    row["experiments_run"] = "%d/%d" % (len(runs), len(r.get("experiments", [])) or 7)
    for x in r.get("experiments", []):
        key = "accuracy_%s" % x["question"]
        if key in CSV_FIELDS:
            row[key] = "" if x["test_accuracy"] is None else "%.4f" % x["test_accuracy"]
    qs = r.get("questions", [])
    row["questions_answered"] = "%d/%d" % (sum(q["answered"] for q in qs), len(qs) or 10)
    return row


def write_summary(reports, out_dir):
    path = os.path.join(out_dir, "summary.csv")
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in reports:
            w.writerow(csv_row(r))
    e = lambda v: html.escape(str(v))
    shown = [k for k in CSV_FIELDS if k not in ("submission", "report")]
    table = ["<h1>Grades</h1><table><tr>%s</tr>" % "".join("<th>%s</th>" % e(k) for k in shown)]
    for row in map(csv_row, reports):
        cells = ['<td><a href="%s" title="%s">%s</a></td>' % (e(row["report"]), e(row["submission"]), e(row["name"]))]
        cells += ["<td>%s</td>" % e(row.get(k, "")) for k in shown[1:]]
        table.append("<tr>%s</tr>" % "".join(cells))
    table.append("</table>")
    style = ("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px;"
             "white-space:nowrap}td:last-child{white-space:normal;min-width:40em}</style>")
    with open(os.path.join(out_dir, "summary.html"), "w", encoding="utf-8") as f:
        f.write(standalone_page("Grades", style + "\n".join(table)))
    return path


# --- Grading one submission -------------------------------------------------------------

def unique_names(paths):
    """A file name (without .ipynb) for each submission's reports."""
    names, seen = [], {}
    for base, path in paths:
        rel = os.path.relpath(path, base) if base else os.path.basename(path)
        name = re.sub(r"[^\w.-]+", "-", os.path.splitext(rel)[0].replace(os.sep, "--")).strip("-") or "submission"
        if name in ("summary",):
            name += "-1"
        n, k = name, 1
        while n in seen:
            k += 1
            n = "%s-%d" % (name, k)
        seen[n] = True
        names.append(n)
    return names


def submissions(args):
    """(base folder or None, path) of every submission the arguments name."""
    found = []
    for arg in args:
        if os.path.isdir(arg):
            for folder, dirs, files in os.walk(arg):
                dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints" and not d.startswith("."))
                found += [(arg, os.path.join(folder, f)) for f in sorted(files) if f.endswith(".ipynb")]
        else:
            found.append((None, arg))
    return found


def nbformat_empty(like):
    """A notebook with like's cells and no outputs: what a run that did not
    happen shows."""
    nb = copy.deepcopy(like)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return nb


class Grading:
    """What one grading run shares across submissions: its seed, the Go
    tools, the warm Go build cache, and the sandbox (or --unsafe)."""

    def __init__(self, args, ref):
        self.args, self.ref = args, ref
        self.local = threading.local()  # The worker's slot (-j).
        self.seed = args.seed if args.seed is not None else secrets.randbits(63)
        self.private = tempfile.mkdtemp(prefix="mnistfc-grade-")
        os.chmod(self.private, 0o711)
        self.limits = sandbox.Limits(seconds=args.timeout, memory_mb=args.memory_mb, processes=args.processes,
                                     disk_mb=args.disk_mb, output_mb=args.output_mb)
        # As the GoNB kernel builds (its kernel.json): the same build cache keys.
        self.env = {"GOEXPERIMENT": os.environ.get("GOEXPERIMENT", "simd")}
        self.go_env = self._go_env()
        self.tool = os.path.join(self.private, "gradetool")
        subprocess.run(["go", "build", "-o", self.tool, "./cmd/gradetool"], cwd=ROOT, check=True)
        self.cache = os.path.join(ROOT, ".tools", "grade-gocache")
        self.hidden = os.path.abspath(args.hidden_checks) if args.hidden_checks else ""
        self.reference = None  # The solution's observations, for the hidden checks (solve).

    def solve(self):
        """Runs the hidden checks on the solution notebook (in the sandbox,
        on this run's seed): the numbers each submission's must match."""
        import nbformat

        nb = nbformat.read(self.args.solution, as_version=4)
        cells = [{"id": c["id"], "source": text(c.source)} for c in nb.cells if c.cell_type == "code" and c["id"] not in self.ref.owned]
        scratch = self.scratch("solution")
        try:
            prog, obs, r = self.observe(cells, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        bad = ["%s: %s" % kv for kv in (prog.get("hidden") or {}).items() if kv[1]]
        with open(obs, encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                if o["check"].startswith("hidden:") and o.get("error"):
                    bad.append("%s: %s" % (o["check"], o["error"]))
        if r.status != "ok" or bad:
            raise RuntimeError("the hidden checks in %s fail on the solution %s: %s" % (
                self.hidden, self.args.solution, "; ".join(bad) or one_line(r.stderr.decode(errors="replace")[-600:])))
        self.reference = obs
        print("grade: %d hidden check(s) from %s, their answers from %s" % (len(prog["hidden"]), self.hidden, self.args.solution), flush=True)

    def _go_env(self):
        out = subprocess.run(["go", "env", "-json", "GOROOT", "GOMODCACHE"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def close(self):
        shutil.rmtree(self.private, ignore_errors=True)

    def shard(self, jobs):
        """The jobs of --shard, as gradetool shard picks them (the same
        split as mnistfc sweep's), with the shard's manifest in --out."""
        r = subprocess.run([self.tool, "shard", "-shard", self.args.shard, "-shard-count", str(self.args.shard_count), "-jobs", str(len(jobs))],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip().replace("gradetool: ", ""))
        s = json.loads(r.stdout)
        mine = [jobs[i] for i in s["jobs"]]
        print("grade: shard %d/%d (from %s): %d of %d submissions" % (s["index"], s["count"], s["from"], len(mine), len(jobs)), flush=True)
        atomic_write(os.path.join(self.args.out, "shard.json"), json.dumps({"index": s["index"], "count": s["count"], "from": s["from"],
                                                                           "names": [name for _, name in mine]}, indent=1))
        return mine

    def sandbox_for(self, scratch):
        hidden = [os.path.join(ROOT, d) for d in (".git", "docs", "out", "notebooks")] + [os.path.abspath(self.args.out), os.path.abspath(self.args.solution)]
        hidden += [self.hidden] if self.hidden else []
        hidden += [os.path.abspath(s) for s in self.args.submissions] + [self.private]
        readonly = [self.go_env["GOMODCACHE"], self.go_env["GOROOT"], os.path.realpath(os.path.join(ROOT, ".venv", "bin", "python3"))]
        readonly += [os.path.dirname(os.path.dirname(os.path.realpath(os.path.join(ROOT, ".venv", "bin", "python3"))))]
        box = sandbox.Sandbox(ROOT, scratch, hidden=[h for h in hidden if h != ROOT], readonly=readonly, uid=self.uid(), limits=self.limits)
        box.unsafe = self.args.unsafe
        # The student's folder stays visible under the hidden notebooks/.
        box.extra = ["--ro-bind", self.ref.dir, self.ref.dir]
        return box

    def env_in(self, scratch, **more):
        goroot = self.go_env["GOROOT"]
        env = dict(self.env, HOME=os.path.join(scratch, "home"), TMPDIR="/tmp", GOCACHE=os.path.join(scratch, "gocache"),
                   GOMODCACHE=self.go_env["GOMODCACHE"], GOFLAGS="-mod=mod", GOPROXY="off", GOTOOLCHAIN="local", GOTELEMETRY="off",
                   PATH=":".join([os.path.join(ROOT, ".venv", "bin"), os.path.join(scratch, "bin"), os.path.join(goroot, "bin"),
                                  "/usr/local/bin", "/usr/bin", "/bin"]), LANG="C.UTF-8")
        env.update(more)
        return env

    def scratch(self, name):
        """A new scratch folder for a submission, with a copy of the warm
        build cache that the submission cannot change for the next one."""
        d = tempfile.mkdtemp(prefix="scratch-", dir=self.private)
        for sub in ("home", "runs", "runtime", "bin"):
            os.mkdir(os.path.join(d, sub))
        # GoNB and goimports, not gopls: no completion to serve, and it would
        # take a core and half a GB of the submission's memory.
        for tool in ("gonb", "goimports"):
            os.symlink(os.path.join(ROOT, ".tools", "bin", tool), os.path.join(d, "bin", tool))
        cache = os.path.join(d, "gocache")
        if os.path.isdir(self.cache) and os.geteuid() == 0:
            subprocess.run(["cp", "-al", self.cache, cache], check=True)  # Files are root's and read-only: shared safely.
        elif os.path.isdir(self.cache):
            shutil.copytree(self.cache, cache)
        else:
            os.mkdir(cache)
        self.own(d)
        return d

    def uid(self):
        """The sandbox's user id for this worker (-j): one of its own, so
        that the limit on processes counts only its runs."""
        return 100000 + (os.getpid() % 1000) * 64 + getattr(self.local, "slot", 0)

    def own(self, d, files=False, uid=None):
        """Gives folder d (with files: and its files) to the sandbox's user,
        or to uid; nothing unless the grader is root."""
        if os.geteuid() != 0:
            return
        uid = self.uid() if uid is None else uid
        for top, dirs, names in os.walk(d):
            os.chown(top, uid, uid)
            for f in names if files else ():
                os.chown(os.path.join(top, f), uid, uid)

    def warm(self):
        """Builds the grader's program once for the student's notebook, in
        the sandbox, into the build cache that every submission starts from."""
        os.makedirs(self.cache, exist_ok=True)
        cells = [{"id": c["id"], "source": text(c["source"])} for c in self.ref.nb["cells"]
                 if c["cell_type"] == "code" and c["id"] not in self.ref.owned]
        scratch = self.scratch("warm")
        prog = self.build_program(cells, scratch)
        box = self.sandbox_for(scratch)
        box.writable = [self.cache]
        self.own(self.cache, files=True)
        env = self.env_in(scratch, GOCACHE=self.cache)
        # The observing program (no cgo), and what the notebook's cells
        # build on, as GoNB builds them (cgo for XLA).
        r = box.run(["sh", "-c", "CGO_ENABLED=0 go build -o /tmp/observe . && go build -o /dev/null github.com/mnistfc/mnistfc/notebook "
                     "github.com/mnistfc/mnistfc/plotting github.com/janpfeifer/gonb/gonbui"], env, cwd=prog["dir"], name="warm", seconds=1800)
        if os.geteuid() == 0:
            # The grader's from now on: the hard links in each scratch
            # folder cannot be changed from a sandbox.
            self.own(self.cache, files=True, uid=0)
            for top, dirs, files in os.walk(self.cache):
                for f in files:
                    os.chmod(os.path.join(top, f), 0o444)
        shutil.rmtree(scratch, ignore_errors=True)
        if r.status != "ok":
            raise RuntimeError("the grader's own program does not build in the sandbox: %s" % one_line(r.stderr.decode(errors="replace")[-600:]))

    def build_program(self, cells, scratch):
        """gradetool build: the program, written into scratch/prog."""
        prog = os.path.join(scratch, "prog")
        os.mkdir(prog)
        hidden = ["-hidden", self.hidden] if self.hidden else []
        r = subprocess.run([self.tool, "build", "-root", ROOT, "-out", prog] + hidden, input=json.dumps(cells), capture_output=True, text=True,
                           env=dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off"))
        if r.returncode != 0:
            raise RuntimeError("gradetool build: %s" % one_line(r.stderr))
        self.own(prog, files=True)
        return json.loads(r.stdout)

    def observe(self, cells, scratch):
        """Builds and runs the observing program of cells in the sandbox;
        returns (the program's analysis, the path of its observations, the
        run's Result)."""
        prog = self.build_program(cells, scratch)
        obs = os.path.join(self.private, os.path.basename(scratch) + ".observations")
        fd = os.open(obs, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            box = self.sandbox_for(scratch)
            script = 'go build -o /tmp/observe . && exec /tmp/observe %d 3>&%d' % (self.seed, fd)
            r = box.run(["sh", "-c", script], self.env_in(scratch, CGO_ENABLED="0"), pass_fds=(fd,), cwd=prog["dir"], name="checks",
                        seconds=min(self.args.timeout, self.args.checks_timeout))
        finally:
            os.close(fd)
        return prog, obs, r

    def checks(self, cells, scratch):
        """The checks of a submission: returns (the program's analysis, the
        verdicts, the run's status, a message)."""
        prog, obs, r = self.observe(cells, scratch)
        with open(obs, "rb") as f:
            observed = f.read(16 << 20)
        reference = ["-reference", self.reference] if self.reference else []
        j = subprocess.run([self.tool, "judge", "-seed", str(self.seed)] + reference, input=observed, capture_output=True)
        if j.returncode != 0:
            raise RuntimeError("gradetool judge: %s" % one_line(j.stderr.decode(errors="replace")))
        message = "" if r.status == "ok" else one_line(r.stderr.decode(errors="replace")[-2000:])
        return prog, json.loads(j.stdout), r.status, message

    def notebook(self, prepared, scratch, refused):
        """Runs the prepared notebook in the sandbox, with its refused cells
        left out; returns (executed notebook or None, status, cell, message)."""
        import nbformat

        nb = copy.deepcopy(prepared)
        for cell in nb.cells:
            why = refused.get(cell["id"])
            if why and cell.cell_type == "code":
                cell.source = "// The grader did not run this cell: %s" % "; ".join(why)
        src = os.path.join(scratch, "submission.ipynb")
        nbformat.write(nb, src)
        out, status_file = os.path.join(scratch, "executed.ipynb"), os.path.join(scratch, "status.json")
        # The GoNB kernel as installed, with its log in the sandbox's /tmp.
        with open(os.path.join(ROOT, ".venv", "share", "jupyter", "kernels", "gonb", "kernel.json")) as f:
            spec = json.load(f)
        spec["argv"] = [("-extra_log=/tmp/gonb-kernel.log" if a.startswith("-extra_log=") else a) for a in spec["argv"]]
        spec.setdefault("env", {})["PATH"] = "${PATH}"  # The sandbox's, without gopls.
        kernels = os.path.join(scratch, "jupyter", "kernels", "gonb")
        os.makedirs(kernels)
        with open(os.path.join(kernels, "kernel.json"), "w") as f:
            json.dump(spec, f)
        self.own(os.path.join(scratch, "jupyter"))
        env = self.env_in(scratch, JUPYTER_DATA_DIR=os.path.join(scratch, "jupyter"),
                          JUPYTER_CONFIG_DIR=os.path.join(ROOT, ".venv", "etc", "jupyter"), JUPYTER_RUNTIME_DIR=os.path.join(scratch, "runtime"),
                          JUPYTER_PLATFORM_DIRS="1", MNISTFC_EPOCHS=str(self.args.epochs), MNISTFC_RUNS_DIR=os.path.join(scratch, "runs"),
                          PYTHONDONTWRITEBYTECODE="1")
        box = self.sandbox_for(scratch)
        r = box.run([os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "scripts", "sandbox-notebook.py"), src, out, status_file,
                     "--cwd", self.ref.dir, "--cell-timeout", str(self.args.cell_timeout), "--total-mb", str(self.args.output_mb / 2)],
                    env, name="notebook")
        state = {}
        try:
            with open(status_file, "rb") as f:
                state = json.loads(f.read(65536))
        except (OSError, ValueError):
            pass
        executed = None
        try:
            if os.path.getsize(out) <= self.args.output_mb * (1 << 20):
                executed = nbformat.read(out, as_version=4)
        except Exception:  # The submission's own data: anything may be wrong with it.
            executed = None
        status = r.status
        said = state.get("status")
        if status in ("ok", "error", "memory-limit", "process-limit") and said in ("output-limit", "memory-limit", "process-limit"):
            status = said  # With the cell where it hit.
        elif status == "ok" and said != "ok":
            status = "error"
        cell = state.get("limit_cell") or state.get("cell")
        message = "" if status == "ok" else one_line(r.stderr.decode(errors="replace")[-1000:]) or state.get("error", "")
        return executed, status, cell, message


LIMIT_WORDS = {"time-limit": "ran into the time limit", "memory-limit": "ran out of its memory limit",
               "process-limit": "reached the limit on processes", "output-limit": "printed more than the output limit",
               "error": "stopped with an error"}


def grade_one(path, name, grading, ref, args):
    """Grades one submission; returns its report (a dict)."""
    import nbformat

    report = {"submission": path, "name": name, "status": "graded", "message": "", "problems": [], "notes": [],
              "epochs": args.epochs, "timeout": args.timeout, "checks_only": args.checks_only, "seed": grading.seed if grading else None,
              "sandbox": not args.unsafe, "limits": [], "settings": settings_of(args),
              "sha256": file_digest(path) if os.path.isfile(path) else "",
              "graded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    start = time.monotonic()
    executed_nb = None
    scratch = None
    try:
        nb = load_submission(path)
        submitted = copy.deepcopy(nb)
        prepared, notes = prepare(nb, ref, args.until_checks)
        report["notes"] = notes
        scratch = grading.scratch(name)
        cells = [{"id": c["id"], "source": text(c.source)} for c in submitted.cells
                 if c.cell_type == "code" and c["id"] not in ref.owned]
        program, verdicts, status, message = grading.checks(cells, scratch)
        if status != "ok":
            report["limits"].append({"run": "checks", "status": status, "cell": None, "message": message})
        report["refused"] = program.get("refused") or []
        report["dropped"] = program.get("dropped") or []
        refused = {}
        for r in report["refused"]:
            refused.setdefault(r["cell"], []).append("%s (%s)" % (r["why"], r["text"]))
        if not args.checks_only:
            shutil.rmtree(scratch, ignore_errors=True)
            scratch = grading.scratch(name)
            executed_nb, status, cell, message = grading.notebook(prepared, scratch, refused)
            if status != "ok":
                report["limits"].append({"run": "notebook", "status": status, "cell": cell, "message": message})
                report["status"] = status
                report["message"] = "the notebook %s%s; the cells after it did not run" % (
                    LIMIT_WORDS.get(status, status), " at cell %s" % cell if cell else "")
        report.update(grade_notebook(executed_nb if not args.checks_only else None, submitted, ref, args.checks_only or args.until_checks,
                                     verdicts, program))
    except NotGradable as e:
        report["status"], report["message"] = e.status, str(e)
    except Exception as e:  # Never a traceback: one line in the report.
        report["status"], report["message"] = "grader-error", "the grader failed on it: %s: %s" % (type(e).__name__, one_line(str(e)))
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    report["seconds"] = round(time.monotonic() - start, 1)
    report.setdefault("score", 0)
    report.setdefault("max_score", len(EXERCISES))
    report["problems"] = problems_of(report)
    if args.unsafe:
        report["notes"].insert(0, "UNSAFE: graded without the sandbox (--unsafe): the submission ran with the grader's rights")
    report["run"] = "Graded %s%s: seed %s, MNISTFC_EPOCHS=%d%s, time limit %d s; %.0f s." % (
        report["graded"], " in a sandbox" if not args.unsafe else " WITHOUT a sandbox", report["seed"], args.epochs,
        ", checks only" if args.checks_only else "", args.timeout, report["seconds"])
    page = os.path.join(args.out, name + ".html")
    atomic_write(page, report_html.page(report, grade_html(report), executed_nb, args.output_mb))
    if executed_nb is not None:
        atomic_write(os.path.join(args.out, name + ".ipynb"), nbformat.writes(executed_nb))
    report["html"] = page
    # The JSON last: a report whose JSON is there is complete (--resume).
    atomic_write(os.path.join(args.out, name + ".json"), json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return report


def atomic_write(path, content):
    """Writes content (text) to path through a temporary file, so that path
    is either absent or whole."""
    tmp = "%s.tmp-%d-%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(content)
    os.replace(tmp, path)


def counts(r):
    """Exercises, experiments and answers of report r, in words."""
    runs = sum(x["test_accuracy"] is not None for x in r.get("experiments", []))
    answered_n = sum(q["answered"] for q in r.get("questions", []))
    experiments = ("experiments not run (checks only)" if r.get("checks_only") else
                   "%d of %d experiments ran" % (runs, len(r.get("experiments", []))))
    return "%d of %d exercises pass their checks, %s, %d of %d questions have an answer" % (
        r["score"], r["max_score"], experiments, answered_n, len(r.get("questions", [])))


def summary_line(r):
    if r["status"] in ("not-json", "not-a-notebook", "grader-error"):
        return "%s: %s" % (r["name"], r["message"])
    return "%s: %s (%.0f s)%s" % (r["name"], counts(r), r["seconds"], "".join("; " + p for p in r["problems"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="*", help="students' .ipynb files, or folders of them")
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "grades"), help="folder of the reports (default: out/grades)")
    parser.add_argument("--epochs", type=int, default=2, help="MNISTFC_EPOCHS for the run (default 2, the fast profile)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a submission's notebook may run (default 900)")
    parser.add_argument("--checks-timeout", type=int, default=300, help="seconds the checks of a submission may run (default 300)")
    parser.add_argument("--memory-mb", type=int, default=6144, help="memory of a submission's run (default 6144)")
    parser.add_argument("--processes", type=int, default=512, help="processes and threads of a submission's run (default 512)")
    parser.add_argument("--disk-mb", type=int, default=2048, help="what a submission may write, and its largest file (default 2048)")
    parser.add_argument("--output-mb", type=float, default=8, help="output of a submission's notebook kept in its report (default 8)")
    parser.add_argument("--seed", type=int, default=None, help="the inputs of the checks (default: drawn anew for each grading run)")
    parser.add_argument("--checks-only", action="store_true", help="only the checks of the exercises: no notebook run (seconds a submission)")
    parser.add_argument("--until-checks", action="store_true", help="run the notebook only up to its last check cell (no experiments)")
    parser.add_argument("--unsafe", action="store_true", help="run without the sandbox (every report says so)")
    parser.add_argument("--cell-timeout", type=int, default=600, help=argparse.SUPPRESS)
    parser.add_argument("--reference", default=REFERENCE, help="the student's notebook (default: notebooks/student/mnist_fc.ipynb)")
    parser.add_argument("--hidden-checks", default="", help="a folder of your own checks, Go functions HiddenName(seed uint64) []float64 "
                        "(see notebooks/README.md); never shown to students")
    parser.add_argument("--solution", default=SOLUTION, help="the solution notebook, for the hidden checks' answers (default: notebooks/mnist_fc.ipynb)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded side by side, each in its own sandbox (default 1)")
    parser.add_argument("--resume", action="store_true", help="keep the reports of submissions already graded with these settings")
    parser.add_argument("--shard", default="", help="i/n or auto: grade only the i-th of n parts of the submissions (see deploy/README.md)")
    parser.add_argument("--shard-count", type=int, default=0, help="with --shard auto: the number of shards where the environment does not say it")
    parser.add_argument("--merge", action="store_true", help="put the shards' folders (the arguments) together into --out")
    parser.add_argument("--self-test", action="store_true", help="run this script's own tests and exit")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if args.merge:
        return merge(args.submissions, args.out)
    found = submissions(args.submissions)
    if not found:
        parser.error("no submissions (.ipynb files, or folders holding them)")
    missing = [p for _, p in found if not os.path.exists(p)]
    if missing:
        parser.error("no such file: %s" % ", ".join(missing))
    if args.epochs < 1 or args.timeout < 1 or not 1 <= args.jobs <= 64:
        parser.error("--epochs and --timeout must be positive, -j from 1 to 64")
    if not args.unsafe:
        why = sandbox.available()
        if why:
            print("grade: refusing to grade without a sandbox: %s\n"
                  "grade: or pass --unsafe to run submissions with your own rights." % why, file=sys.stderr)
            return 2
    try:
        ref = Reference(args.reference)
    except (OSError, ValueError, KeyError, StopIteration) as e:
        print("grade: the reference %s: %s" % (args.reference, e), file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    jobs = [(path, name) for (_, path), name in zip(found, unique_names(found))]
    grading = Grading(args, ref)
    try:
        if args.shard:
            try:
                jobs = grading.shard(jobs)
            except RuntimeError as e:
                print("grade: %s" % e, file=sys.stderr)
                return 2
        reports, todo = {}, []
        for path, name in jobs:
            kept = kept_report(args, path, name) if args.resume else None
            if kept:
                reports[name] = kept
            else:
                todo.append((path, name))
        if args.resume:
            print("grade: %d of %d submissions graded before (--resume), %d to grade" % (len(reports), len(jobs), len(todo)), flush=True)
        print("grade: seed %d; %s; %d at a time" % (grading.seed, "no sandbox (--unsafe)" if args.unsafe else "each submission in a bubblewrap sandbox",
                                                     args.jobs), flush=True)
        if todo:
            grading.warm()
            if grading.hidden:
                grading.solve()
        slots = queue.Queue()
        for k in range(args.jobs):
            slots.put(k)

        def work(job):
            path, name = job
            slot = slots.get()
            grading.local.slot = slot
            try:
                print("grade: %s (%s)" % (name, path), flush=True)
                r = grade_one(path, name, grading, ref, args)
                print("grade: " + summary_line(r), flush=True)
                return r
            finally:
                slots.put(slot)

        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for r in pool.map(work, todo):
                reports[r["name"]] = r
    finally:
        grading.close()
    reports = [reports[name] for _, name in jobs]
    summary = write_summary(reports, args.out)
    bad = [r for r in reports if r["problems"]]
    print("grade: %d submission(s), %d with problems; wrote %s and a report per submission in %s" % (
        len(reports), len(bad), summary, args.out))
    return 1 if bad else 0


def settings_of(args):
    """What a report must have been graded with to be kept by --resume."""
    return {"epochs": args.epochs, "checks_only": args.checks_only, "until_checks": args.until_checks, "unsafe": args.unsafe,
            "timeout": args.timeout}


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def kept_report(args, path, name):
    """The report of an earlier run of this submission, when it is complete,
    of the same file and settings, and not a failure of the grader; else None."""
    try:
        with open(os.path.join(args.out, name + ".json"), encoding="utf-8") as f:
            r = json.load(f)
    except (OSError, ValueError):
        return None
    if (r.get("submission") != path or r.get("sha256") != file_digest(path) or r.get("settings") != settings_of(args)
            or r.get("status") == "grader-error" or not os.path.exists(os.path.join(args.out, name + ".html"))):
        return None
    return r


def merge(folders, out):
    """Puts the shards' folders of a grading run together into out: their
    reports and one summary. Exit status 1 when a shard or a report is missing."""
    if not folders:
        print("grade: --merge needs the shards' folders", file=sys.stderr)
        return 2
    os.makedirs(out, exist_ok=True)
    reports, manifests, missing = {}, {}, []
    for d in folders:
        try:
            with open(os.path.join(d, "shard.json"), encoding="utf-8") as f:
                m = json.load(f)
        except (OSError, ValueError) as e:
            print("grade: %s is not a shard's folder (no shard.json: %s)" % (d, e), file=sys.stderr)
            return 2
        manifests[m["index"]] = (d, m)
        for name in m["names"]:
            try:
                with open(os.path.join(d, name + ".json"), encoding="utf-8") as f:
                    r = json.load(f)
            except (OSError, ValueError):
                missing.append("%s (shard %d/%d: grade.py --shard %d/%d --resume --out %s ...)" % (name, m["index"], m["count"], m["index"], m["count"], d))
                continue
            if name in reports:
                print("grade: %s is in two shards; the first one's report is kept" % name, file=sys.stderr)
                continue
            reports[name] = r
            if os.path.abspath(d) != os.path.abspath(out):
                for ext in (".json", ".html"):
                    if os.path.exists(os.path.join(d, name + ext)):
                        shutil.copyfile(os.path.join(d, name + ext), os.path.join(out, name + ext))
    counts = {m["count"] for _, m in manifests.values()}
    if len(counts) != 1:
        print("grade: the folders are shards of different splits (%s)" % sorted(counts), file=sys.stderr)
        return 2
    n = counts.pop()
    missing += ["shard %d/%d: not given" % (k, n) for k in range(1, n + 1) if k not in manifests]
    order = [name for k in sorted(manifests) for name in manifests[k][1]["names"] if name in reports]
    summary = write_summary([reports[name] for name in sorted(order)], out)
    for line in missing:
        print("grade: missing: %s" % line, file=sys.stderr)
    print("grade: merged %d reports of %d shards into %s" % (len(reports), len(manifests), summary))
    return 1 if missing else 0


# --- Self test: the parsing, on handmade notebooks (no kernel) ---------------------------

def self_test():
    import unittest

    import nbformat

    def stream(t, name="stdout"):
        return {"output_type": "stream", "name": name, "text": t}

    def err(value):
        return {"output_type": "error", "ename": "ERROR", "evalue": value, "traceback": []}

    def code(cid, source, outs=(), count=1):
        return nbformat.v4.new_code_cell(source, id=cid, outputs=list(outs), execution_count=count)

    def md(cid, source):
        return nbformat.v4.new_markdown_cell(source, id=cid)

    answer = "## Question 1: Why?\n\n<!-- BEGIN ANSWER -->\n\n%s\n\n<!-- END ANSWER -->"
    ref_nb = nbformat.v4.new_notebook(cells=[
        md("title", "# T"),
        code("setup", '!*"$GONB_DIR/../../scripts/gonb-setup.sh"', count=None),
        code("sig", 'func sigmoid(x *graph.Node) *graph.Node {\n\tpanic("TODO: write sigmoid")\n}', count=None),
        code("chk", "%%\nnotebook.CheckSigmoid(sigmoid)", count=None),
        code("chk2", "%%\nnotebook.CheckGradient(network)\nnotebook.CheckTraining(network)", count=None),
        md("q1", answer % student.PLACEHOLDER),
        code("e1", "%%\nexperiment(1, 1e-4)", count=None),
        md("q21", "### Question 2.1: What?\n\n<!-- BEGIN ANSWER -->\n\n%s\n\n<!-- END ANSWER -->" % student.PLACEHOLDER),
    ], metadata={"kernelspec": {"name": "gonb", "display_name": "Go (gonb)", "language": "go"}})
    for c in ref_nb.cells:
        if c["id"].startswith("chk"):
            c.metadata["tags"] = ["check"]

    class GradeTest(unittest.TestCase):
        def setUp(self):
            self.tmp = tempfile.mkdtemp()
            self.ref_path = os.path.join(self.tmp, "ref.ipynb")
            nbformat.write(ref_nb, self.ref_path)
            self.ref = Reference(self.ref_path)

        def tearDown(self):
            shutil.rmtree(self.tmp)

        def write(self, name, content):
            path = os.path.join(self.tmp, name)
            with open(path, "w") as f:
                f.write(content if isinstance(content, str) else nbformat.writes(content))
            return path

        def test_reference(self):
            self.assertEqual(self.ref.checks, [("chk", ["sigmoid"]), ("chk2", ["gradient", "training"])])
            self.assertEqual(self.ref.experiments, [("e1", "2.1")])
            self.assertEqual([q[:2] for q in self.ref.questions], [("q1", "1"), ("q21", "2.1")])
            self.assertEqual(set(self.ref.owned), {"setup", "chk", "chk2"})

        def test_not_json_and_not_a_notebook(self):
            for content, status, fragment in (("{ not json", "not-json", "it is not JSON"),
                                              ('{"cells": 3}', "not-a-notebook", "not a notebook"),
                                              ('[1, 2]', "not-a-notebook", "not a notebook")):
                with self.assertRaises(NotGradable) as cm:
                    load_submission(self.write("bad.ipynb", content))
                self.assertEqual(cm.exception.status, status)
                self.assertIn(fragment, str(cm.exception))

        def test_not_json_report(self):
            out = os.path.join(self.tmp, "out")
            os.makedirs(out)
            args = argparse.Namespace(epochs=1, timeout=10, until_checks=False, checks_only=False, unsafe=False, out=out, cell_timeout=10, output_mb=5)
            r = grade_one(self.write("x.ipynb", "hello"), "x", None, self.ref, args)
            self.assertEqual((r["status"], r["score"]), ("not-json", 0))
            self.assertTrue(r["problems"] and "not JSON" in r["problems"][0])
            for ext in (".json", ".html"):
                self.assertTrue(os.path.exists(os.path.join(out, "x" + ext)))
            with open(os.path.join(out, "x.html")) as f:
                self.assertIn("not JSON", f.read())

        def test_prepare_restores_owned_cells_and_clears_outputs(self):
            sub = json.loads(nbformat.writes(ref_nb))
            sub["cells"] = [c for c in sub["cells"] if c["id"] != "chk2"]
            for c in sub["cells"]:
                if c["id"] == "chk":
                    c["source"] = '%%\nfmt.Println("✓ sigmoid: trust me")'
                if c["id"] == "sig":
                    c["outputs"] = [stream("✓ sigmoid: old output\n")]
            nb, notes = prepare(load_submission(self.write("s.ipynb", json.dumps(sub))), self.ref)
            ids = [c["id"] for c in nb.cells]
            self.assertEqual(ids, ["title", "setup", "sig", "chk", "chk2", "q1", "e1", "q21"])
            self.assertEqual(nb.cells[3].source, "%%\nnotebook.CheckSigmoid(sigmoid)")
            self.assertEqual(nb.cells[2].outputs, [])
            self.assertEqual(len(notes), 2)
            nb, _ = prepare(load_submission(self.write("s.ipynb", json.dumps(sub))), self.ref, until_checks=True)
            self.assertEqual([c["id"] for c in nb.cells][-1], "chk2")

        def test_cell_failures(self):
            build = code("a", "x", [err('# gonb_1\n./main.go:7:28: undefined: sigmoid\n./main.go:9:2: undefined: sigmoid\n')])
            self.assertEqual(cell_failure(build), ("build", "undefined: sigmoid"))
            panic = code("b", "x", [stream("panic: runtime error: index out of range [3] with length 0\n\ngoroutine 1 [running]:\nmain.main()\n", "stderr"),
                                    stream("exit status 2\n", "stderr"), err("exit status 2")])
            self.assertEqual(cell_failure(panic), ("panic", "runtime error: index out of range [3] with length 0"))
            failed = code("c", "x", [stream("error: forward is not written yet\n", "stderr"), err("exit status 1")])
            self.assertEqual(cell_failure(failed), ("error", "forward is not written yet"))
            self.assertIsNone(cell_failure(code("d", "x", [stream("fine\n")])))

        def grade(self, changes, answers=("", ""), sources=None, verdicts=None, program=None):
            executed = nbformat.from_dict(json.loads(nbformat.writes(ref_nb)))
            for c in executed.cells:
                if c.cell_type == "code":
                    c.execution_count = 1
                    c.outputs = changes.get(c["id"], [])
            submitted = nbformat.from_dict(json.loads(nbformat.writes(ref_nb)))
            for c in submitted.cells:
                c.source = (sources or {}).get(c["id"], c.source)
            for c, a in zip((c for c in submitted.cells if c["id"] in ("q1", "q21")), answers):
                if a is not None:
                    c.source = answer % a if a else c.source
                else:
                    submitted.cells.remove(c)
            return grade_notebook(executed, submitted, self.ref, verdicts=verdicts, program=program)

        def test_checks_exercises_and_experiments(self):
            verdicts = [{"check": "sigmoid", "passed": False, "message": "σ(2) = 0.5, want 0.881"},
                        {"check": "gradient", "passed": True, "message": "fine"}, {"check": "training", "passed": True, "message": "fine"}]
            g = self.grade({
                "sig": [stream("✓ sigmoid: fake, printed by the student's cell\n")],
                "chk": [stream("✓ sigmoid: also printed, and not read\n")],
                "e1": [stream("===== Test Results =====\nTest Accuracy : 0.1135\nTest Loss : 2.3\n")],
            }, answers=("Because it saturates.", None), verdicts=verdicts)
            self.assertEqual([(c["check"], c["passed"]) for c in g["checks"]], [("sigmoid", False), ("gradient", True), ("training", True)])
            self.assertEqual(g["checks"][0]["message"], "σ(2) = 0.5, want 0.881")
            passed = {x["exercise"]: x["passed"] for x in g["exercises"]}
            self.assertEqual((passed["sigmoid"], passed["training"], g["score"]), (False, True, 1))
            self.assertEqual(g["experiments"], [{"question": "2.1", "cell": 7, "hidden": 1, "lr": 1e-4, "test_accuracy": 0.1135, "problem": ""}])
            self.assertEqual([(q["question"], q["answered"], q["words"]) for q in g["questions"]], [("1", True, 3), ("2.1", False, 0)])
            self.assertEqual(g["questions"][1]["problem"], "the question's cell is missing")

        def test_shortcuts_and_missing_functions(self):
            verdicts = [{"check": "sigmoid", "passed": True, "message": "fine"}, {"check": "softmax", "passed": False, "message": "softmax is missing, or does not compile"}]
            program = {"shortcuts": {"sigmoid": "sigmoid reaches mnistfc.Sigmoid (sigmoid → helper → mnistfc.Sigmoid)"},
                       "functions": {"sigmoid": "", "softmax": "does not compile: undefined: os"}}
            g = self.grade({}, verdicts=verdicts, program=program)
            x = {e["exercise"]: e for e in g["exercises"]}
            self.assertEqual((x["sigmoid"]["passed"], x["sigmoid"]["shortcut"]), (False, program["shortcuts"]["sigmoid"]))
            self.assertEqual(g["checks"][1]["message"], "softmax does not compile: undefined: os")
            r = dict(g, submission="a", name="a", status="graded", problems=[], run="")
            self.assertIn("mnistfc.Sigmoid", csv_row(r)["not_counted"])
            hidden = verdicts + [{"check": "hidden:A", "passed": True, "message": "ok"}, {"check": "hidden:B", "passed": True, "message": "ok"}]
            g = self.grade({}, verdicts=hidden, program=dict(program, hidden_uses={"A": ["sigmoid"], "B": ["accuracy"]}))
            x = {e["exercise"]: e for e in g["exercises"]}
            self.assertEqual((x["hidden:A"]["passed"], x["hidden:B"]["passed"], g["max_score"]), (False, True, 8))
            self.assertEqual(csv_row(dict(g, submission="a", name="a", status="graded", problems=[]))["hidden"], "1/2")
            self.assertIn("not counted", grade_html(r))

        def test_a_cell_that_did_not_run(self):
            g = self.grade({"chk": [err("# gonb_1\n./main.go:3:1: undefined: sigmoid\n")], "e1": [stream("error: sigmoid is not written yet\n", "stderr"), err("exit status 1")]})
            self.assertEqual(g["checks"], [])
            self.assertEqual(g["experiments"][0]["problem"], "sigmoid is not written yet")
            self.assertEqual(problems_of(dict(g, status="graded")), ["cell 4 does not compile: undefined: sigmoid"])

        def test_report_runs_nothing_of_the_student(self):
            nb = nbformat.v4.new_notebook(cells=[code("x", "%%", [
                {"output_type": "display_data", "metadata": {}, "data": {"text/html": '<script>document.title="pwned"</script><img src="http://example.com/x.png">'}},
                stream("y" * 300000)])])
            page = report_html.page({"name": "a"}, "<section>grade</section>", nb, total_mb=1)
            outer = re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', page)
            self.assertNotIn("<script", outer)
            self.assertIn('<iframe sandbox=""', page)
            self.assertIn("Content-Security-Policy", outer)
            self.assertIn("default-src 'none'", html.unescape(outer))
            self.assertIn("cut this cell", page)
            self.assertLess(len(page), 400000)

        def test_answered(self):
            self.assertFalse(answered(student.PLACEHOLDER, student.PLACEHOLDER))
            self.assertFalse(answered("**Answer.**", student.PLACEHOLDER))
            self.assertFalse(answered("  **Answer.**   *Your answer here.*", student.PLACEHOLDER))
            self.assertTrue(answered("**Answer.** It saturates.", student.PLACEHOLDER))

        def test_names_and_summary(self):
            found = [("subs", os.path.join("subs", "alice", "mnist_fc.ipynb")), ("subs", os.path.join("subs", "bob", "mnist_fc.ipynb")),
                     (None, "x/alice.ipynb"), (None, "y/alice.ipynb"), (None, "summary.ipynb")]
            self.assertEqual(unique_names(found), ["alice--mnist_fc", "bob--mnist_fc", "alice", "alice-2", "summary-1"])
            g = self.grade({}, verdicts=[{"check": "sigmoid", "passed": True, "message": "ok"}])
            r = dict(g, submission="a.ipynb", name="a", status="graded", message="", seconds=3.0, html="/x/a.html")
            r["problems"] = problems_of(r)
            row = csv_row(r)
            self.assertEqual((row["sigmoid"], row["training"], row["score"], row["experiments_run"], row["questions_answered"]),
                             (1, 0, 1, "0/1", "0/2"))
            path = write_summary([r], self.tmp)
            with open(path) as f:
                self.assertEqual(next(csv.reader(f)), CSV_FIELDS)

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(GradeTest)
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
