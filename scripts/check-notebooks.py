#!/usr/bin/env python3
"""Checks executed Jupyter notebooks for failures that nbconvert lets through.

Usage:
    check-notebooks.py [--expected notebooks/expected.json] EXECUTED.ipynb...
    check-notebooks.py --self-test

nbconvert fails on a GoNB compile error, a panic or os.Exit, but not when a
`!` shell line inside a cell fails (GoNB then only writes "exit status N" to
stderr), and it never checks that a notebook produced what it should. This
script fails (exit status 1, one line per problem naming the notebook and
the cell) when an executed notebook has:

  * an error output (output_type "error");
  * stderr output that looks like a failure: panic, error, fatal, failed,
    traceback, "exit status N", "command not found", "No such file";
  * a code cell that was not executed (no execution count);
  * fewer image outputs than expected, or an expected text missing.

Expectations come from a JSON file (default: notebooks/expected.json next to
this repository's notebooks), keyed by notebook name without ".ipynb":

    {
      "mnist_fc": {
        "min_images": 1,
        "patterns": ["Test Accuracy : 0\\\\.\\\\d+"],
        "stderr_allow": ["^W\\\\d{4} .*deprecated"]
      }
    }

min_images counts image/* outputs plus <img> and <svg> tags in HTML outputs.
patterns are Python regexes searched (re.MULTILINE) in the text of all
outputs (streams, text/plain, text/markdown, text/html). stderr_allow lists
regexes of stderr lines that are not failures. A "*" entry applies to every
notebook (its lists are added to the notebook's own). Notebooks without an
entry get only the failure checks, with a note.

Only the standard library is used, so any Python 3.8+ runs it.
"""

import argparse
import json
import os
import re
import sys

FAILURE_RE = re.compile(
    r"\b(panic|errors?|fatal|failed|traceback|exit status \d+)\b|command not found|no such file",
    re.IGNORECASE,
)
IMG_TAG_RE = re.compile(r"<(img|svg)\b", re.IGNORECASE)
DEFAULT_EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "notebooks", "expected.json")


def _text(value):
    """Notebook text fields are a string or a list of strings."""
    if isinstance(value, list):
        return "".join(value)
    return value or ""


def _cell_label(index, cell):
    lines = [line.strip() for line in _text(cell.get("source")).splitlines()]
    # Name the cell by its first line of code: not a comment nor GoNB's "%%".
    first = next((l for l in lines if l and l not in ("%%", "%main") and not l.startswith("//")),
                 next((l for l in lines if l), ""))
    if len(first) > 60:
        first = first[:57] + "..."
    count = cell.get("execution_count")
    label = "cell %d" % index
    if count is not None:
        label += " [%d]" % count
    if cell.get("id"):
        label += " (id %s)" % cell["id"]
    return label + ": " + first


def _excerpt(text, limit=300):
    text = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[:limit] + " ..."


def load_expectations(path):
    if path is None or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError("%s: top level must be an object mapping notebook names to expectations" % path)
    for name, exp in data.items():
        if name.startswith("_"):  # "_comment" and the like.
            continue
        if not isinstance(exp, dict):
            raise ValueError("%s: entry %r must be an object" % (path, name))
        unknown = set(exp) - {"min_images", "patterns", "stderr_allow"} - {k for k in exp if k.startswith("_")}
        if unknown:
            raise ValueError("%s: entry %r has unknown keys %s" % (path, name, sorted(unknown)))
        for key in ("patterns", "stderr_allow"):
            for rx in exp.get(key, []):
                re.compile(rx)
    return data


def expectations_for(name, expectations):
    """The merged expectations of a notebook, and whether it had its own entry."""
    common = expectations.get("*", {})
    own = expectations.get(name)
    exp = {
        "min_images": (own or {}).get("min_images", common.get("min_images", 0)),
        "patterns": list(common.get("patterns", [])) + list((own or {}).get("patterns", [])),
        "stderr_allow": list(common.get("stderr_allow", [])) + list((own or {}).get("stderr_allow", [])),
    }
    return exp, own is not None


def count_images(output):
    data = output.get("data") or {}
    n = sum(1 for mime in data if mime.startswith("image/"))
    if "text/html" in data and not n:
        n = len(IMG_TAG_RE.findall(_text(data["text/html"])))
    return n


def output_text(output):
    if output.get("output_type") == "stream":
        return _text(output.get("text"))
    if output.get("output_type") == "error":
        return "%s: %s\n%s" % (output.get("ename", ""), output.get("evalue", ""), "\n".join(output.get("traceback", [])))
    data = output.get("data") or {}
    return "\n".join(_text(data[m]) for m in ("text/plain", "text/markdown", "text/html") if m in data)


def check_notebook(path, expectations, backend=None):
    """Returns (problems, notes) for one executed notebook: lists of strings.
    With backend, the notebook must say that its cells train on it
    (notebook.Setup's line "...; backend NAME; N epochs per experiment")."""
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError) as e:
        return ["%s: cannot read notebook: %s" % (path, e)], []
    exp, has_entry = expectations_for(name, expectations)
    allow = [re.compile(rx) for rx in exp["stderr_allow"]]
    problems, notes = [], []
    if not has_entry:
        notes.append("%s: no entry %r in the expectations file: only failures are checked" % (path, name))
    images = 0
    texts = []
    for index, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        label = _cell_label(index, cell)
        if _text(cell.get("source")).strip() and cell.get("execution_count") is None:
            problems.append("%s: %s: not executed" % (path, label))
        stderr = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error":
                msg = "%s: %s" % (output.get("ename", ""), output.get("evalue", "")) if output.get("ename") else output.get("evalue", "")
                problems.append("%s: %s: error output: %s" % (path, label, _excerpt(msg or "\n".join(output.get("traceback", [])))))
            elif kind == "stream" and output.get("name") == "stderr":
                stderr.append(_text(output.get("text")))
            images += count_images(output)
            texts.append(output_text(output))
        # Streams arrive in chunks that may cut a line: join them before matching.
        bad = [line for line in "".join(stderr).splitlines()
               if FAILURE_RE.search(line) and not any(rx.search(line) for rx in allow)]
        if bad:
            problems.append("%s: %s: failure on stderr: %s" % (path, label, _excerpt(" | ".join(bad))))
    if images < exp["min_images"]:
        problems.append("%s: %d image output(s), expected at least %d" % (path, images, exp["min_images"]))
    all_text = "\n".join(texts)
    if backend:
        said = re.findall(r"; backend (\S+); \d+ epochs per experiment", all_text)
        if backend not in said:
            problems.append("%s: the cells did not train on %s (notebook.Setup said: %s)" % (path, backend, ", ".join(said) or "nothing"))
    for rx in exp["patterns"]:
        if not re.search(rx, all_text, re.MULTILINE):
            problems.append("%s: no output matches the expected pattern %r" % (path, rx))
    return problems, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="executed .ipynb files")
    parser.add_argument("--expected", default=DEFAULT_EXPECTED,
                        help="JSON file of per-notebook expectations (default: notebooks/expected.json)")
    parser.add_argument("--backend", help="the backend every notebook must say its cells train on, e.g. xla:cpu")
    parser.add_argument("--self-test", action="store_true", help="run this script's own tests and exit")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.notebooks:
        parser.error("no notebooks given")
    try:
        expectations = load_expectations(args.expected)
    except (OSError, ValueError, re.error) as e:
        print("check-notebooks: bad expectations file: %s" % e, file=sys.stderr)
        return 2
    all_problems = []
    for path in args.notebooks:
        problems, notes = check_notebook(path, expectations, args.backend)
        for note in notes:
            print("note: " + note)
        for problem in problems:
            print("FAIL: " + problem)
        if not problems:
            print("ok:   %s" % path)
        all_problems += problems
    print("check-notebooks: %d notebook(s), %d problem(s)" % (len(args.notebooks), len(all_problems)))
    return 1 if all_problems else 0


# --- Self test: tiny handmade notebooks that do and do not pass. ------------

def self_test():
    import tempfile
    import unittest

    def stream(name, text):
        return {"output_type": "stream", "name": name, "text": text}

    def cell(source, outputs, count=1):
        return {"cell_type": "code", "id": "c%s" % count, "execution_count": count,
                "metadata": {}, "source": source, "outputs": outputs}

    png = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}}
    good_cells = [
        {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# Title"},
        cell("%%\ntrain()", [stream("stdout", "Train epoch 1: accuracy 0.9\n"),
                             stream("stdout", "Test Accuracy : 0.93\n")], 1),
        cell("%%\nshow()", [png, stream("stderr", "W1124 progress note\n")], 2),
    ]
    expectations = {"nb": {"min_images": 1, "patterns": [r"Test Accuracy : 0\.\d+"]}}

    class CheckTest(unittest.TestCase):
        def run_check(self, cells, exp=None, name="nb"):
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, name + ".ipynb")
                with open(path, "w") as f:
                    json.dump({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, f)
                return check_notebook(path, expectations if exp is None else exp)

        def assertFailsWith(self, cells, fragment, exp=None):
            problems, _ = self.run_check(cells, exp)
            self.assertTrue(any(fragment in p for p in problems), "no problem with %r in %r" % (fragment, problems))

        def test_good_notebook_passes(self):
            self.assertEqual(self.run_check(good_cells)[0], [])

        def test_error_output(self):
            err = {"output_type": "error", "ename": "ERROR", "evalue": "exit status 2", "traceback": []}
            self.assertFailsWith(good_cells + [cell("%%\npanic(1)", [err], 3)], "cell 4 [3] (id c3): panic(1): error output: ERROR: exit status 2")

        def test_failed_shell_line(self):
            # What GoNB shows for `!false`: nbconvert does not fail on it.
            self.assertFailsWith(good_cells + [cell("!false", [stream("stderr", "exit status 1\n")], 3)],
                                 "cell 4 [3] (id c3): !false: failure on stderr: exit status 1")

        def test_stderr_failure_split_across_chunks(self):
            outs = [stream("stderr", "ls: /x: No such "), stream("stderr", "file or directory\n")]
            self.assertFailsWith(good_cells + [cell("!ls /x", outs, 3)], "No such file or directory")

        def test_command_not_found_and_panic(self):
            for text in ("bash: line 1: nosuchcmd: command not found\n", "panic: boom\n\ngoroutine 1 [running]:\n"):
                self.assertFailsWith(good_cells + [cell("x", [stream("stderr", text)], 3)], "failure on stderr")

        def test_harmless_stderr_and_allow_list(self):
            ok = good_cells + [cell("x", [stream("stderr", "downloading data\n")], 3)]
            self.assertEqual(self.run_check(ok)[0], [])
            noisy = good_cells + [cell("x", [stream("stderr", "W0101 errors are retried\n")], 3)]
            self.assertFailsWith(noisy, "failure on stderr")
            allowed = dict(nb=dict(expectations["nb"], stderr_allow=[r"^W\d{4} errors are retried"]))
            self.assertEqual(self.run_check(noisy, allowed)[0], [])

        def test_missing_image_and_pattern(self):
            cells = [good_cells[1], cell("x", [stream("stdout", "no picture\n")], 2)]
            self.assertFailsWith(cells, "0 image output(s), expected at least 1")
            cells = [good_cells[2]]
            self.assertFailsWith(cells, "no output matches the expected pattern")

        def test_html_images_count(self):
            html = {"output_type": "display_data", "metadata": {},
                    "data": {"text/html": '<div><img src="data:image/png;base64,AA=="/><svg></svg></div>'}}
            cells = [good_cells[1], cell("x", [html], 2)]
            self.assertEqual(self.run_check(cells, {"nb": {"min_images": 2}})[0], [])

        def test_backend(self):
            setup = cell("%%\nnotebook.Setup()", [stream("stdout", "go1.27.3; backend go; 2 epochs per experiment\n")], 3)
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "nb.ipynb")
                with open(path, "w") as f:
                    json.dump({"cells": good_cells + [setup], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, f)
                self.assertEqual(check_notebook(path, expectations, "go")[0], [])
                problems = check_notebook(path, expectations, "xla:cpu")[0]
                self.assertTrue(any("did not train on xla:cpu (notebook.Setup said: go)" in p for p in problems), problems)

        def test_unexecuted_cell(self):
            self.assertFailsWith(good_cells + [cell("%%\nlater()", [], None)], "not executed")

        def test_no_entry_is_a_note_only(self):
            problems, notes = self.run_check(good_cells, {})
            self.assertEqual(problems, [])
            self.assertTrue(notes and "no entry" in notes[0])

        def test_common_entry(self):
            self.assertFailsWith(good_cells, "expected pattern 'Loss'", {"*": {"patterns": ["Loss"]}, "nb": {}})

        def test_main_exit_codes(self):
            with tempfile.TemporaryDirectory() as d:
                exp = os.path.join(d, "expected.json")
                with open(exp, "w") as f:
                    json.dump(expectations, f)
                good, bad = os.path.join(d, "nb.ipynb"), os.path.join(d, "bad.ipynb")
                for path, cells in ((good, good_cells), (bad, [cell("!false", [stream("stderr", "exit status 1\n")])])):
                    with open(path, "w") as f:
                        json.dump({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, f)
                devnull = open(os.devnull, "w")
                stdout, sys.stdout = sys.stdout, devnull
                try:
                    self.assertEqual(main(["--expected", exp, good]), 0)
                    self.assertEqual(main(["--expected", exp, good, bad]), 1)
                finally:
                    sys.stdout = stdout
                    devnull.close()

        def test_repository_expectations_file_is_valid(self):
            if os.path.exists(DEFAULT_EXPECTED):
                load_expectations(DEFAULT_EXPECTED)

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(CheckTest)
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
