#!/usr/bin/env python3
"""Checks that the assignment notebook's own cells are what trains.

Usage (with the venv of scripts/setup-notebooks.sh, as `make notebooks-edit-check` does):
    check-notebook-edit.py [--notebook notebooks/mnist_fc.ipynb] [--out out/edit-check]

It makes two copies of the notebook that stop after the first experiment
cell: one as it is, and one whose `sigmoid` cell is edited into a ReLU, as a
student might do. It executes both with one epoch per experiment
(MNISTFC_EPOCHS=1) and fails (exit status 1) unless:

  * the unedited copy's sigmoid check says 0 and the edited copy's does not
    (the edit took effect in the cells);
  * both copies trained (a "Test Accuracy : ..." line each), and the first
    experiment's training loss differs between them (the edit changed what
    trains; its test accuracy may not, as a 1-epoch run at lr 1e-4 answers
    one class either way).

Only the standard library is used besides the runner, scripts/run-notebooks.py.
"""

import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RELU_SIGMOID = '''// sigmoid, edited by a student into a ReLU: max(0, x).
func sigmoid(x *graph.Node) *graph.Node {
	return graph.Max(x, graph.ZerosLike(x))
}
'''


def source(cell):
    return "".join(cell["source"])


def truncated(nb):
    """The notebook up to and including its first experiment cell."""
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and re.search(r"^\s*experiment\(", source(cell), re.M):
            out = dict(nb)
            out["cells"] = nb["cells"][: i + 1]
            return out
    sys.exit("check-notebook-edit: no experiment(...) cell found")


def edited(nb):
    """nb with the body of func sigmoid replaced by a ReLU."""
    out = json.loads(json.dumps(nb))
    for cell in out["cells"]:
        src = source(cell)
        m = re.search(r"(?ms)^(//[^\n]*\n)*func sigmoid\(.*?^}(?:\n|\Z)", src)
        if cell["cell_type"] == "code" and m:
            cell["source"] = [src[: m.start()] + RELU_SIGMOID + src[m.end():]]
            return out
    sys.exit("check-notebook-edit: no cell defines func sigmoid")


def outputs_text(path):
    nb = json.load(open(path))
    text, errors = [], []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o["output_type"] == "error":
                errors.append(o.get("ename", "") + ": " + o.get("evalue", ""))
            t = o.get("text", "")
            text.append("".join(t) if isinstance(t, list) else t)
    return "\n".join(text), errors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", default=os.path.join(ROOT, "notebooks", "mnist_fc.ipynb"))
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "edit-check"))
    args = parser.parse_args()

    nb = truncated(json.load(open(args.notebook)))
    folder = os.path.dirname(os.path.abspath(args.notebook))  # the setup cell finds scripts/ from there
    copies = {"as-is": nb, "relu": edited(nb)}
    paths = []
    for name, copy in copies.items():
        path = os.path.join(folder, f".edit-check-{name}.ipynb")
        json.dump(copy, open(path, "w"), indent=1)
        paths.append(path)
    env = dict(os.environ, MNISTFC_EPOCHS="1")
    try:
        run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "run-notebooks.py"), "--out", args.out, *paths], env=env)
    finally:
        for path in paths:
            os.remove(path)
    if run.returncode != 0:
        sys.exit("check-notebook-edit: running the notebooks failed")

    found = {}
    problems = []
    for name in copies:
        text, errors = outputs_text(os.path.join(args.out, f".edit-check-{name}.ipynb"))
        problems += [f"{name}: error output {e}" for e in errors]
        check = re.search(r"[✓✗] sigmoid: .*?max \|ours - library\| = ([-+\w.]+)", text)
        loss = re.search(r"Train epoch 1: accuracy \S+, loss (\S+)", text)
        acc = re.search(r"Test Accuracy : (\S+)", text)
        if not (check and loss and acc):
            problems.append(f"{name}: missing output (sigmoid check {bool(check)}, train loss {bool(loss)}, test accuracy {bool(acc)})")
            continue
        found[name] = (float(check.group(1)), float(loss.group(1)), float(acc.group(1)))
        print(f"check-notebook-edit: {name}: sigmoid check {check.group(1)}, epoch-1 train loss {loss.group(1)}, test accuracy {acc.group(1)}")
    if len(found) == 2:
        (c0, l0, a0), (c1, l1, a1) = found["as-is"], found["relu"]
        if c0 != 0:
            problems.append(f"as-is: sigmoid differs from the library's by {c0}")
        if c1 == 0:
            problems.append("relu: the edited sigmoid still equals the library's: the edit did not take effect")
        if l0 == l1:
            problems.append(f"the edit did not change what trains: epoch-1 train loss {l0} both times (test accuracy {a0} vs {a1})")
    for p in problems:
        print("check-notebook-edit: " + p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("check-notebook-edit: editing sigmoid into a ReLU changed what the notebook trains")


if __name__ == "__main__":
    main()
