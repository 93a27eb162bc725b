#!/usr/bin/env python3
"""Checks how the assignment notebook picks its backend when the one asked
for cannot be used.

Usage (with the venv of scripts/setup-notebooks.sh, as `make
notebooks-backend-check` does):
    check-notebook-backend.py [--notebook notebooks/mnist_fc.ipynb]

It runs the notebook's cells up to its first experiment (1 epoch), twice,
with the first cell as it is:
  * with GOMLX_BACKEND=xla:cuda on a machine without its plugin (or GPU):
    the backend cell must say that it cannot be used and what to install,
    and the cells must train on the fallback (the fastest installed);
  * in a build without cgo (CGO_ENABLED=0: no XLA backend compiled in):
    the backend cell must say so, and the cells must train on "go".
It fails (exit status 1) when a run has an error output, does not test its
model, or does not say what is expected.
"""

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    ("xla-cuda", {"GOMLX_BACKEND": "xla:cuda"},
     [r"\$GOMLX_BACKEND=xla:cuda cannot be used: XLA PJRT plugin \"cuda\" is not installed",
      r"mnistfc install-xla -plugin cuda",
      r"The cells train on (\S+) instead \(picked:",
      r"; backend (\S+); 1 epochs per experiment",
      r"Test Accuracy : 0\.\d+"]),
    ("no-cgo", {"CGO_ENABLED": "0", "GOMLX_BACKEND": ""},
     [r"backend go — picked: the cells are built without the XLA backend",
      r"; backend go; 1 epochs per experiment",
      r"Test Accuracy : 0\.\d+"]),
]


def _edit_check():
    """scripts/check-notebook-edit.py as a module: its truncated() and
    outputs_text() serve here too."""
    spec = importlib.util.spec_from_file_location("check_notebook_edit", os.path.join(ROOT, "scripts", "check-notebook-edit.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", default=os.path.join(ROOT, "notebooks", "mnist_fc.ipynb"))
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "backend-check"))
    args = parser.parse_args()
    edit = _edit_check()
    nb = edit.truncated(json.load(open(args.notebook)))
    folder = os.path.dirname(os.path.abspath(args.notebook))  # the setup cell finds scripts/ from there
    problems = []
    for name, env, patterns in CASES:
        path = os.path.join(folder, ".backend-check-%s.ipynb" % name)
        json.dump(nb, open(path, "w"), indent=1)
        run_env = dict(os.environ, MNISTFC_EPOCHS="1", **env)
        run_env.pop("MNISTFC_RUNS_DIR", None)
        run_env.pop("MNISTFC_BACKEND", None)  # deprecated; it would apply where GOMLX_BACKEND is unset
        if not env.get("GOMLX_BACKEND"):
            run_env.pop("GOMLX_BACKEND", None)
        try:
            run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "run-notebooks.py"), "--out", args.out, path],
                                 env=run_env, stdout=subprocess.DEVNULL)
        finally:
            os.remove(path)
        if run.returncode != 0:
            problems.append("%s: running the notebook failed" % name)
            continue
        text, errors = edit.outputs_text(os.path.join(args.out, os.path.basename(path)))
        problems += ["%s: error output %s" % (name, e) for e in errors]
        for rx in patterns:
            m = re.search(rx, text)
            if not m:
                problems.append("%s: no output matches %r" % (name, rx))
            elif m.groups():
                print("check-notebook-backend: %s: %s" % (name, m.group(0)))
        said = re.findall(r"The cells train on (\S+) instead|; backend (\S+); 1 epochs per experiment", text)
        trained = {a or b for a, b in said}
        if len(trained) > 1:
            problems.append("%s: the cells name more than one backend: %s" % (name, sorted(trained)))
        print("check-notebook-backend: %s: trained on %s" % (name, ", ".join(sorted(trained)) or "?"))
    for p in problems:
        print("check-notebook-backend: " + p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("check-notebook-backend: a backend that cannot be used is explained, and the notebook trains on the fallback")


if __name__ == "__main__":
    main()
