#!/usr/bin/env python3
"""Writes the student's edition of the assignment notebook from the solution.

Usage:
    student.py [--source notebooks/mnist_fc.ipynb] [--out notebooks/student/mnist_fc.ipynb]
    student.py --check        (exit status 1 when the committed student notebook is not what this writes)
    student.py --self-test

The solution notebook marks what the student writes:

  * in code cells, the lines between `// BEGIN SOLUTION` and `// END
    SOLUTION` (each on a line of its own, inside a function). They become
    one line at the indentation of BEGIN: the text after `// BEGIN
    SOLUTION` on that line when there is any (e.g. `// BEGIN SOLUTION
    return mnistfc.Softmax(z, mnistfc.SoftmaxBatch)`), else
    `panic("TODO: write NAME")`, NAME being the function around the region.
    A stub compiles; the checks and the grader recognise its panic;
  * in markdown cells, the text between `<!-- BEGIN ANSWER -->` and
    `<!-- END ANSWER -->` (HTML comments: JupyterLab does not show them).
    It becomes PLACEHOLDER; the markers stay, so that the grader finds the
    student's answer.

The student's notebook also gets: a note after the title on what to do;
check cells (code cells that only call notebook.Check...) that JupyterLab
does not let a student edit or delete (metadata "editable", "deletable":
false; tag "check"); the setup cell's path to scripts/gonb-setup.sh
rewritten for its folder; no outputs and no execution counts; cell ids
kept, so that the grader can match a submission's cells with these.

Only the standard library is used.
"""

import argparse
import difflib
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SOURCE = os.path.join(ROOT, "notebooks", "mnist_fc.ipynb")
OUT = os.path.join(ROOT, "notebooks", "student", "mnist_fc.ipynb")

BEGIN_RE = re.compile(r"^(\s*)// BEGIN SOLUTION(?:\s+(.*\S))?\s*$")
END_RE = re.compile(r"^\s*// END SOLUTION\s*$")
FUNC_RE = re.compile(r"^func\s+(?:\([^)]*\)\s*)?(\w+)")
ANSWER_RE = re.compile(r"(<!-- BEGIN ANSWER -->)(.*?)(<!-- END ANSWER -->)", re.S)
PLACEHOLDER = "**Answer.** Your answer here."
CHECK_CELL_RE = re.compile(r"^notebook\.Check\w+\(.*\)$")
SETUP_RE = re.compile(r"\$GONB_DIR/((?:\.\./)*)scripts/")
NOTE_ID = "student-edition"


class MarkerError(ValueError):
    pass


def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def lines_of(s):
    return s.splitlines(keepends=True)


def stub_code(source, cell_id="?"):
    """Returns source with every solution region replaced by its stub, and the
    names of the functions whose bodies became `panic("TODO: ...")`."""
    out, todo = [], []
    region = None  # (line number, indentation, stub) of the open BEGIN.
    func = None
    for n, line in enumerate(source.splitlines(keepends=True), start=1):
        m = FUNC_RE.match(line)
        if m and region is None:
            func = m.group(1)
        begin, end = BEGIN_RE.match(line), END_RE.match(line)
        if begin:
            if region:
                raise MarkerError("cell %s, line %d: BEGIN SOLUTION inside the region opened on line %d" % (cell_id, n, region[0]))
            region = (n, begin.group(1), begin.group(2))
            continue
        if end:
            if not region:
                raise MarkerError("cell %s, line %d: END SOLUTION without BEGIN SOLUTION" % (cell_id, n))
            _, indent, stub = region
            if stub is None:
                if func is None:
                    raise MarkerError("cell %s, line %d: a solution region outside a function needs its stub after BEGIN SOLUTION" % (cell_id, region[0]))
                stub = 'panic("TODO: write %s")' % func
                todo.append(func)
            out.append(indent + stub + "\n")
            region = None
            continue
        if region is None:
            out.append(line)
    if region:
        raise MarkerError("cell %s, line %d: BEGIN SOLUTION without END SOLUTION" % (cell_id, region[0]))
    return "".join(out), todo


def stub_answers(source, cell_id="?"):
    """Returns markdown source with every answer replaced by PLACEHOLDER."""
    result = ANSWER_RE.sub(lambda m: "%s\n\n%s\n\n%s" % (m.group(1), PLACEHOLDER, m.group(3)), source)
    if result.count("<!-- BEGIN ANSWER -->") != result.count("<!-- END ANSWER -->") or \
            len(ANSWER_RE.findall(result)) != result.count("<!-- BEGIN ANSWER -->"):
        raise MarkerError("cell %s: unbalanced BEGIN ANSWER / END ANSWER" % cell_id)
    return result


def answer_text(source):
    """The text between the answer markers of a markdown cell (None when the
    cell has none)."""
    found = ANSWER_RE.findall(source)
    if not found:
        return None
    return "\n".join(m[1] for m in found).strip()


def is_check_cell(source):
    """A code cell whose main part only calls notebook.Check... functions."""
    body = [l.strip() for l in source.splitlines() if l.strip() and l.strip() != "%%" and not l.strip().startswith("//")]
    return bool(body) and all(CHECK_CELL_RE.match(l) for l in body)


def note_cell(functions):
    names = ", ".join("`%s`" % f for f in functions[:-1]) + (" and `%s`" % functions[-1] if len(functions) > 1 else "`%s`" % functions[0] if functions else "")
    return {
        "cell_type": "markdown",
        "id": NOTE_ID,
        "metadata": {},
        "source": lines_of(
            "**The student's edition.** Write the bodies of %s where they panic with `TODO`, in their cells. "
            "After each, run its cell and the check cell below it (check cells cannot be edited): "
            "✓ means that the function does what it should, ✗ says what is wrong and what to try. "
            "The last checks (the gradient and one epoch of training) need all of them. "
            "Then run the experiments, and answer each question in its cell: double-click it and replace "
            "*Your answer here* (keep the two `ANSWER` lines around your answer). "
            "Write the functions with GoMLX's graph operations: the library `mnistfc` has its own versions, "
            "which the checks compare with, but an answer that calls them (or GoMLX's own sigmoid, softmax, "
            "losses and layers) teaches nothing, and the grader does not count it." % names),
    }


def student_notebook(nb, source_dir, out_dir):
    """Returns the student's edition of the solution notebook nb (a dict),
    whose file is in source_dir, to be written in out_dir."""
    nb = json.loads(json.dumps(nb))
    rel_src = os.path.relpath(ROOT, source_dir).replace(os.sep, "/")
    rel_out = os.path.relpath(ROOT, out_dir).replace(os.sep, "/")
    functions, cells = [], []
    for cell in nb["cells"]:
        source = text(cell.get("source"))
        cid = cell.get("id", "?")
        if cell["cell_type"] == "code":
            source, todo = stub_code(source, cid)
            functions += todo
            source = SETUP_RE.sub(lambda m: "$GONB_DIR/%s/scripts/" % rel_out if m.group(1).rstrip("/") == rel_src else m.group(0), source)
            cell["outputs"], cell["execution_count"] = [], None
            meta = {k: v for k, v in cell.get("metadata", {}).items() if k not in ("execution", "mnistfc_seconds")}
            if is_check_cell(source):
                meta.update({"deletable": False, "editable": False, "tags": sorted(set(meta.get("tags", [])) | {"check"})})
            cell["metadata"] = meta
        elif cell["cell_type"] == "markdown":
            source = stub_answers(source, cid)
        if "BEGIN SOLUTION" in source or "END SOLUTION" in source:
            raise MarkerError("cell %s: a SOLUTION marker is left: each must be alone on its line" % cid)
        cell["source"] = lines_of(source)
        cells.append(cell)
    title = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"), -1)
    cells.insert(title + 1, note_cell(functions))
    nb["cells"] = cells
    meta = nb.setdefault("metadata", {}).setdefault("mnistfc", {})
    meta["edition"] = "student"
    return nb


def dumps(nb):
    """The notebook's file text, as Jupyter writes it."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def generate(source, out):
    with open(source, encoding="utf-8") as f:
        nb = json.load(f)
    result = student_notebook(nb, os.path.dirname(os.path.abspath(source)), os.path.dirname(os.path.abspath(out)))
    result["metadata"]["mnistfc"]["solution"] = os.path.relpath(os.path.abspath(source), ROOT).replace(os.sep, "/")
    return dumps(result)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=SOURCE, help="the solution notebook (default: notebooks/mnist_fc.ipynb)")
    parser.add_argument("--out", default=OUT, help="the student's notebook (default: notebooks/student/mnist_fc.ipynb)")
    parser.add_argument("--check", action="store_true", help="do not write: fail when --out differs from what would be written")
    parser.add_argument("--self-test", action="store_true", help="run this script's own tests and exit")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    try:
        want = generate(args.source, args.out)
    except (OSError, ValueError) as e:
        print("student: %s: %s" % (args.source, e), file=sys.stderr)
        return 2
    rel = os.path.relpath(args.out, ROOT)
    if args.check:
        try:
            with open(args.out, encoding="utf-8") as f:
                have = f.read()
        except OSError as e:
            print("student: %s: %s; run `make student`" % (rel, e), file=sys.stderr)
            return 1
        if have != want:
            diff = list(difflib.unified_diff(have.splitlines(), want.splitlines(), rel + " (committed)", rel + " (from the solution)", lineterm="", n=1))
            print("\n".join(diff[:60] + (["... (%d more lines)" % (len(diff) - 60)] if len(diff) > 60 else [])))
            print("student: %s is not what the solution notebook gives: run `make student` and commit it" % rel, file=sys.stderr)
            return 1
        print("student: %s is up to date with %s" % (rel, os.path.relpath(args.source, ROOT)))
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(want)
    nb = json.loads(want)
    stubs = sum(text(c["source"]).count('panic("TODO: write ') for c in nb["cells"])
    answers = sum(1 for c in nb["cells"] if c["cell_type"] == "markdown" and answer_text(text(c["source"])) is not None)
    checks = sum(1 for c in nb["cells"] if "check" in c.get("metadata", {}).get("tags", []))
    print("student: wrote %s (%d functions to write, %d check cells, %d answers to give)" % (rel, stubs, checks, answers))
    return 0


# --- Self test ---------------------------------------------------------------------

def self_test():
    import tempfile
    import unittest

    def code(source, cid="c", outputs=None):
        return {"cell_type": "code", "id": cid, "execution_count": 3 if outputs else None, "metadata": {"mnistfc_seconds": 1.5},
                "outputs": outputs or [], "source": lines_of(source)}

    def md(source, cid="m"):
        return {"cell_type": "markdown", "id": cid, "metadata": {}, "source": lines_of(source)}

    solution = {"cells": [
        md("# Title"),
        code('%goflags "-ldflags=-s"\n!*"$GONB_DIR/../scripts/gonb-setup.sh"', "setup"),
        code("// sigmoid is σ.\nfunc sigmoid(x *graph.Node) *graph.Node {\n\t// BEGIN SOLUTION\n\te := graph.Exp(x)\n\treturn e\n\t// END SOLUTION\n}\n", "sig",
             [{"output_type": "stream", "name": "stdout", "text": "x"}]),
        code("%%\nnotebook.CheckSigmoid(sigmoid)", "chk"),
        code("func batch(z *graph.Node) *graph.Node {\n\t// BEGIN SOLUTION return lib(z)\n\treturn mine(z)\n\t// END SOLUTION\n}\n", "b"),
        md("## Question 1: Why?\n\n<!-- BEGIN ANSWER -->\n\n**Answer.** Because.\n\n<!-- END ANSWER -->", "q1"),
    ], "metadata": {"mnistfc": {"seed": 0}}, "nbformat": 4, "nbformat_minor": 5}

    class StudentTest(unittest.TestCase):
        def student(self, nb=solution):
            return student_notebook(nb, os.path.join(ROOT, "notebooks"), os.path.join(ROOT, "notebooks", "student"))

        def cell(self, nb, cid):
            return next(c for c in nb["cells"] if c["id"] == cid)

        def test_default_stub(self):
            got = text(self.cell(self.student(), "sig")["source"])
            self.assertEqual(got, '// sigmoid is σ.\nfunc sigmoid(x *graph.Node) *graph.Node {\n\tpanic("TODO: write sigmoid")\n}\n')

        def test_stub_on_the_marker_line(self):
            self.assertEqual(text(self.cell(self.student(), "b")["source"]), "func batch(z *graph.Node) *graph.Node {\n\treturn lib(z)\n}\n")

        def test_answers(self):
            got = text(self.cell(self.student(), "q1")["source"])
            self.assertEqual(got, "## Question 1: Why?\n\n<!-- BEGIN ANSWER -->\n\n%s\n\n<!-- END ANSWER -->" % PLACEHOLDER)
            self.assertEqual(answer_text(got), PLACEHOLDER)
            self.assertEqual(answer_text(text(solution["cells"][5]["source"])), "**Answer.** Because.")
            self.assertIsNone(answer_text("## Heading"))

        def test_outputs_metadata_and_check_cells(self):
            nb = self.student()
            sig, chk = self.cell(nb, "sig"), self.cell(nb, "chk")
            self.assertEqual((sig["outputs"], sig["execution_count"], sig["metadata"]), ([], None, {}))
            self.assertEqual(chk["metadata"], {"deletable": False, "editable": False, "tags": ["check"]})
            self.assertTrue(is_check_cell("%%\n// check\nnotebook.CheckA(a)\nnotebook.CheckB(b, c)\n"))
            self.assertFalse(is_check_cell("%%\nnotebook.CheckA(a)\nfmt.Println(1)"))

        def test_setup_path_and_note(self):
            nb = self.student()
            self.assertIn('"$GONB_DIR/../../scripts/gonb-setup.sh"', text(self.cell(nb, "setup")["source"]))
            self.assertEqual(nb["cells"][1]["id"], NOTE_ID)
            self.assertIn("Write the bodies of `sigmoid` where", text(nb["cells"][1]["source"]))
            self.assertEqual(nb["metadata"]["mnistfc"]["edition"], "student")
            self.assertNotIn("edition", solution["metadata"]["mnistfc"])  # The input is not changed.

        def test_marker_errors(self):
            for source, fragment in (
                    ("func f() {\n// BEGIN SOLUTION\n", "without END"),
                    ("func f() {\n// END SOLUTION\n", "without BEGIN"),
                    ("func f() {\n// BEGIN SOLUTION\n// BEGIN SOLUTION\n", "inside the region"),
                    ("// BEGIN SOLUTION\nvar x = 1\n// END SOLUTION\n", "outside a function"),
                    ("func f() { // BEGIN SOLUTION\n}\n", "alone on its line")):
                nb = dict(solution, cells=[code(source)])
                with self.assertRaises(MarkerError) as cm:
                    self.student(nb)
                self.assertIn(fragment, str(cm.exception))
            with self.assertRaises(MarkerError):
                self.student(dict(solution, cells=[md("<!-- BEGIN ANSWER -->\nx")]))

        def test_check_mode(self):
            with tempfile.TemporaryDirectory() as d:
                src, out = os.path.join(d, "s.ipynb"), os.path.join(d, "student", "s.ipynb")
                with open(src, "w") as f:
                    json.dump(solution, f)
                devnull = open(os.devnull, "w")
                stdout, stderr, sys.stdout, sys.stderr = sys.stdout, sys.stderr, devnull, devnull
                try:
                    self.assertEqual(main(["--source", src, "--out", out, "--check"]), 1)  # Missing.
                    self.assertEqual(main(["--source", src, "--out", out]), 0)
                    self.assertEqual(main(["--source", src, "--out", out, "--check"]), 0)
                    with open(out, "a") as f:
                        f.write(" ")
                    self.assertEqual(main(["--source", src, "--out", out, "--check"]), 1)
                finally:
                    sys.stdout, sys.stderr = stdout, stderr
                    devnull.close()

        def test_repository_notebook(self):
            nb = json.loads(generate(SOURCE, OUT))
            sources = [text(c["source"]) for c in nb["cells"]]
            for name in ("sigmoid", "softmax", "crossEntropy", "accuracy", "forward"):
                self.assertTrue(any('panic("TODO: write %s")' % name in s for s in sources), name)
            self.assertFalse(any("SOLUTION" in s for s in sources))
            self.assertEqual(sum(1 for s in sources if answer_text(s) == PLACEHOLDER), 10)

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(StudentTest)
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
