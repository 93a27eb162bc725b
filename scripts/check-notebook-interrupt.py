#!/usr/bin/env python3
"""Checks that interrupting the GoNB kernel stops an experiment gracefully.

Usage (with the venv of scripts/setup-notebooks.sh, as `make notebooks-interrupt-check` does):
    check-notebook-interrupt.py

It starts the GoNB kernel in notebooks/ (as JupyterLab would), runs the
setup and imports cells of the assignment notebook, then a cell that trains
35 epochs through notebook.Experiment. After the second "Train epoch" line it
interrupts the kernel, as JupyterLab's stop button does (GoNB passes SIGINT
to the cell's program and kills it 5 s later). It fails (exit status 1)
unless the cell then ends within those 5 s on its own, saying
"Interrupted after epoch N of 35", with the test result and the curves of
the epochs done.
"""

import json
import os
import re
import sys
import tempfile
import time

from jupyter_client.manager import start_new_kernel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "notebooks", "mnist_fc.ipynb")

EXPERIMENT = """%%
cfg := mnistfc.DefaultConfig()
cfg.Epochs = 35
notebook.Experiment("interrupt check", cfg, mnistfc.FullyConnected(100))
"""


def fail(msg):
    print("check-notebook-interrupt: " + msg, file=sys.stderr)
    sys.exit(1)


def run(kc, code, timeout, on_text=None):
    """Executes code; returns (text, image count, status)."""
    msg_id = kc.execute(code)
    text, images, status = [], 0, None
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Exception:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            text.append(content["text"])
            if on_text:
                on_text("".join(text))
        elif kind in ("display_data", "update_display_data", "execute_result"):
            data = content.get("data", {})
            images += sum(1 for k in data if k.startswith("image/"))
            images += len(re.findall(r"<img\b", data.get("text/html", "")))
        elif kind == "error":
            text.append("ERROR " + content.get("ename", "") + ": " + content.get("evalue", ""))
        elif kind == "status" and content["execution_state"] == "idle":
            status = "idle"
            break
    return "".join(text), images, status


def main():
    nb = json.load(open(NOTEBOOK))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    setup, imports = cells[0], cells[1]
    # A new folder for kept runs: a run kept earlier must not stand in for training.
    os.environ["MNISTFC_RUNS_DIR"] = tempfile.mkdtemp(prefix="mnistfc-runs-interrupt-")
    km, kc = start_new_kernel(kernel_name="gonb", cwd=os.path.dirname(NOTEBOOK))
    try:
        for code in (setup, imports):
            text, _, status = run(kc, code, 600)
            if status != "idle" or "ERROR" in text:
                fail(f"setup failed: {text[-500:]}")
        sent = {}

        def interrupt_after_epoch_2(text):
            if "sent" not in sent and text.count("Train epoch") >= 2:
                sent["sent"] = time.time()
                km.interrupt_kernel()

        text, images, status = run(kc, EXPERIMENT, 900, interrupt_after_epoch_2)
        ended = time.time()
    finally:
        km.shutdown_kernel(now=True)
    if "sent" not in sent:
        fail(f"the experiment never reached epoch 2: {text[-500:]}")
    took = ended - sent["sent"]
    m = re.search(r"Interrupted after epoch (\d+) of 35", text)
    print(f"check-notebook-interrupt: interrupted; the cell ended {took:.1f} s later; {images} image(s)")
    print("\n".join(l for l in text.splitlines() if l.startswith(("Interrupted", "Test Accuracy", "Best val"))))
    if not m:
        fail(f"no 'Interrupted after epoch N of 35' line: {text[-800:]}")
    if "Test Accuracy" not in text or images < 1:
        fail("no test result or no curves after the interrupt")
    if took > 5:
        fail(f"the cell took {took:.1f} s to end after the interrupt (GoNB kills it after 5 s)")
    print("check-notebook-interrupt: the interrupted experiment kept its epochs, tested its best model and drew its curves")


if __name__ == "__main__":
    main()
