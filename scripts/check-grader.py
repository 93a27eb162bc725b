#!/usr/bin/env python3
"""Checks the grader, scripts/grade.py, on real runs of the student's notebook.

Usage (with the venv of scripts/setup-notebooks.sh, as `make grade-check` does):
    check-grader.py [--out out/grade-check]

It grades, with one epoch per experiment (--epochs 1), each submission in
the sandbox:

  1. the solution notebook, with its experiments: full marks, the seven
     experiments report a test accuracy, the ten questions have answers;
  2. up to the last check cell (--until-checks): the untouched student
     notebook (zero, each check saying "... is not written yet"); only
     sigmoid written, softmax as mnistfc.Softmax and a forged check cell
     (exactly one point: softmax is not counted, the check cell is
     restored); a cell that does not compile and one that panics; a file
     that is not JSON; exit status 1;
  3. a cell that never ends, within --timeout 20: a time-limit line, and no
     process of it left;
  4. checks only, one seed: hostile submissions (forged ✓ lines, an early
     exit through os, shell lines that edit the grader, os/exec, unsafe,
     magics, shortcuts through a helper, a variable, an alias and a
     closure), each with its score and the phrase its report must hold;
     the solution written other correct ways gets full marks, alone and
     after the hostile ones, with the same checks;
  5. the same submissions in two shards, two at a time, merged; as two
     tasks of a faked Slurm job array (deploy/slurm/grade.sbatch), merged;
     a run resumed after losing one report grades only that one;
  6. the teacher's hidden checks (grading/testdata/hidden);
  7. the checkout is as it was before (git status and the tracked files).

No grader output may hold a Python traceback. It fails (exit status 1),
saying what differs, otherwise.
"""

import argparse
import csv
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTION = os.path.join(ROOT, "notebooks", "mnist_fc.ipynb")
STUDENT = os.path.join(ROOT, "notebooks", "student", "mnist_fc.ipynb")
EXERCISES = ["sigmoid", "softmax", "cross-entropy", "accuracy", "forward", "training"]

problems = []


def expect(ok, what):
    if not ok:
        problems.append(what)
        print("check-grader: FAIL: " + what, file=sys.stderr)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cell(nb, cid):
    return next(c for c in nb["cells"] if c["id"] == cid)


def code_cell(cid, source):
    return {"cell_type": "code", "execution_count": None, "id": cid, "metadata": {}, "outputs": [], "source": source}


def write(folder, name, nb):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(nb if isinstance(nb, str) else json.dumps(nb, indent=1, ensure_ascii=False))
    return path


def grade(out, *args):
    """Runs the grader; returns (exit status, output, seconds)."""
    start = time.monotonic()
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "grade.py"), "--epochs", "1", "--out", out, *args],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - start
    expect("Traceback (most recent call last)" not in run.stdout, "the grader printed a Python traceback:\n" + run.stdout[-3000:])
    print("\n".join(l for l in run.stdout.splitlines() if l.startswith("grade: ")))
    return run.returncode, run.stdout, seconds


def cell_processes():
    """pid -> command line of the processes that run GoNB cells."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if re.search(r"/gonb_\w+/gonb_\w+", cmd):
            found[pid] = cmd
    return found


def checkout_state():
    """What must not change while grading: git's status and the tracked
    files' contents."""
    status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True).stdout.split(b"\0")
    digest = hashlib.sha256()
    for f in files:
        if f and os.path.isfile(os.path.join(ROOT, f.decode())):
            with open(os.path.join(ROOT, f.decode()), "rb") as fh:
                digest.update(f + fh.read())
    return status, digest.hexdigest()


# What each hostile submission must get: its score and a phrase of its report.
HOSTILE_EXPECTED = {
    "forged-lines": (0, "is not written yet"),
    "early-exit": (0, "import of os is not allowed"),
    "shell-tamper": (0, "shell line not allowed"),
    "go-tamper": (0, "import of os/exec is not allowed"),
    "shortcut-helper": (5, "sigmoid reaches mnistfc.Sigmoid"),
    "shortcut-alias": (5, "softmax reaches mnistfc.Softmax"),
    "unsafe-import": (0, "import of unsafe is not allowed"),
    "magic": (0, "magic not allowed"),
}


def with_cells(nb, after_id, *cells):
    nb = json.loads(json.dumps(nb))
    at = nb["cells"].index(cell(nb, after_id)) + 1
    nb["cells"][at:at] = [code_cell(cid, src) for cid, src in cells]
    return nb


def replaced(nb, marker, source):
    nb = json.loads(json.dumps(nb))
    c = next(c for c in nb["cells"] if marker in "".join(c["source"]))
    c["source"] = [source]
    return nb


def solution_cells(solution):
    """The solution with its solution markers taken out."""
    nb = json.loads(json.dumps(solution))
    for c in nb["cells"]:
        c["source"] = [l for l in c["source"] if "SOLUTION" not in l] if isinstance(c["source"], list) else c["source"]
    return nb


def hostile_submissions(student, solution, sigmoid_id):
    forged = "%%\n" + "".join('fmt.Println("✓ %s: fine")\n' % n for n in ("sigmoid", "softmax", "cross-entropy", "accuracy", "forward", "gradient", "training"))
    good = solution_cells(solution)
    return {
        "forged-lines": with_cells(student, sigmoid_id, ("forge", forged + 'fmt.Println("Test Accuracy : 0.99")')),
        "early-exit": with_cells(student, sigmoid_id, ("exit", 'import "os"\n\nfunc init() {\n\tfmt.Println("✓ sigmoid: fine")\n\tos.Exit(0)\n}')),
        "shell-tamper": with_cells(student, sigmoid_id, ("shell", '!echo "CHECKS = {}" >> "$GONB_DIR/../../scripts/grade.py"\n!touch "$GONB_DIR/../../PWNED"\n!cat "$GONB_DIR/../mnist_fc.ipynb"')),
        "go-tamper": with_cells(student, sigmoid_id, ("exec", 'import "os/exec"\n\nvar _ = exec.Command("sh", "-c", "touch /tmp/pwned").Run()')),
        "shortcut-helper": replaced(good, "func sigmoid(", "var lib = mnistfc.Sigmoid\n\nfunc helper(x *graph.Node) *graph.Node { return lib(x) }\n\n"
                                                        "func sigmoid(x *graph.Node) *graph.Node { return helper(x) }"),
        "shortcut-alias": replaced(good, "func softmax(", 'import m "github.com/mnistfc/mnistfc/mnistfc"\n\n'
                                                       "func softmax(z *graph.Node) *graph.Node { f := func(v *graph.Node) *graph.Node { return m.Softmax(v, m.SoftmaxRow) }; return f(z) }\n\n"
                                                       "func softmaxBatch(z *graph.Node) *graph.Node { return m.Softmax(z, m.SoftmaxBatch) }"),
        "unsafe-import": with_cells(student, sigmoid_id, ("unsafe", 'import "unsafe"\n\nvar size = unsafe.Sizeof(0)')),
        "magic": with_cells(student, sigmoid_id, ("magic", '%env GOFLAGS=-toolexec=/bin/true\n%with_password\nfunc x() {}')),
    }


def other_ways(solution):
    """The solution with every exercise written another, correct way."""
    nb = solution_cells(solution)
    nb = replaced(nb, "func sigmoid(", "// sigmoid, the textbook way.\nfunc sigmoid(x *graph.Node) *graph.Node {\n\treturn graph.Inverse(graph.OnePlus(graph.Exp(graph.Neg(x))))\n}")
    nb = replaced(nb, "func softmax(", "// softmax without subtracting the maximum.\nfunc softmax(z *graph.Node) *graph.Node {\n\te := graph.Exp(z)\n"
                                      "\treturn graph.Div(e, graph.ReduceAndKeep(e, graph.ReduceSum, -1))\n}\n\n"
                                      "func softmaxBatch(z *graph.Node) *graph.Node { return mnistfc.Softmax(z, mnistfc.SoftmaxBatch) }")
    nb = replaced(nb, "func crossEntropy(", "func crossEntropy(y, t *graph.Node) *graph.Node {\n\tperRow := graph.ReduceSum(graph.Mul(graph.Log(y), t), 1)\n"
                                           "\treturn graph.Neg(graph.ReduceAllMean(perRow))\n}\n\n"
                                           "func accuracy(y, t *graph.Node) *graph.Node {\n\ttop := graph.ReduceAndKeep(y, graph.ReduceMax, 1)\n"
                                           "\thit := graph.ReduceSum(graph.Mul(t, graph.ConvertDType(graph.Equal(y, top), y.DType())), 1)\n"
                                           "\treturn graph.ReduceAllMean(hit)\n}")
    return nb


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "grade-check"))
    args = parser.parse_args()
    checkout_before = checkout_state()
    solution, student = load(SOLUTION), load(STUDENT)
    subs = tempfile.mkdtemp(prefix="mnistfc-submissions-")

    # One exercise: the solution's sigmoid cell, one answer, a forged check cell.
    one = json.loads(json.dumps(student))
    sigmoid_id = next(c["id"] for c in student["cells"] if 'panic("TODO: write sigmoid")' in "".join(c["source"]))
    cell(one, sigmoid_id)["source"] = [l for l in cell(solution, sigmoid_id)["source"] if "SOLUTION" not in l]
    cell(one, "check-softmax")["source"] = ['%%\nfmt.Println("✓ softmax: trust me")']
    softmax_cell = next(c for c in one["cells"] if 'panic("TODO: write softmax")' in "".join(c["source"]))
    softmax_cell["source"] = ["".join(softmax_cell["source"]).replace('panic("TODO: write softmax")', "return mnistfc.Softmax(z, mnistfc.SoftmaxRow)")]
    q1 = next(c for c in one["cells"] if "## Question 1:" in "".join(c["source"]))
    q1["source"] = ["## Question 1: What are the problems with sigmoid?\n\n<!-- BEGIN ANSWER -->\n\n",
                    "**Answer.** It saturates: its gradient vanishes for large |x|.\n\n<!-- END ANSWER -->"]
    # A cell that does not compile, and one that panics.
    broken = json.loads(json.dumps(student))
    accuracy_cell = next(c for c in broken["cells"] if 'panic("TODO: write accuracy")' in "".join(c["source"]))
    accuracy_cell["source"] = ["".join(accuracy_cell["source"]).replace('panic("TODO: write accuracy")', 'return "all of them"')]
    at = broken["cells"].index(accuracy_cell)
    broken["cells"].insert(at + 2, code_cell("student-panic", '%%\nvar counts []int\nfmt.Println(counts[3])'))
    # A cell that never ends.
    endless = json.loads(json.dumps(student))
    endless["cells"].insert(endless["cells"].index(cell(endless, sigmoid_id)) + 1, code_cell("endless", "%%\nfor {\n}"))

    paths = {name: write(subs, name + ".ipynb", nb) for name, nb in (
        ("solution", solution), ("student", student), ("one-exercise", one), ("broken-code", broken), ("endless", endless),
        ("not-json", "{ this is not a notebook"))}

    # 1. The solution, with its experiments.
    status, output, seconds = grade(os.path.join(args.out, "full"), paths["solution"])
    print("check-grader: solution graded in %.0f s" % seconds)
    r = load(os.path.join(args.out, "full", "solution.json"))
    expect(status == 0, "solution: exit status %d, want 0" % status)
    expect((r["status"], r["score"], r["max_score"]) == ("graded", 6, 6), "solution: %s, %d of %d exercises, want full marks: %s" % (
        r["status"], r["score"], r["max_score"], [c for c in r["checks"] if not c["passed"]]))
    accs = [x["test_accuracy"] for x in r["experiments"]]
    expect(len(accs) == 7 and all(a is not None and 0 <= a <= 1 for a in accs), "solution: experiments' accuracies %s" % accs)
    expect(sum(q["answered"] for q in r["questions"]) == 10, "solution: %d questions answered, want 10" % sum(q["answered"] for q in r["questions"]))
    expect(r["problems"] == [], "solution: problems %s" % r["problems"])
    with open(os.path.join(args.out, "full", "solution.html"), encoding="utf-8") as f:
        page = f.read()
    expect("Grade of solution: 6 of 6 exercises" in page and "http://" not in page.split("<main>")[0][-2000:],
           "solution.html lacks its grade")

    # 2. Up to the checks: the student's notebook as handed out, one exercise, broken code, not JSON.
    out = os.path.join(args.out, "checks")
    status, output, seconds = grade(out, "--until-checks", paths["student"], paths["one-exercise"], paths["broken-code"], paths["not-json"])
    print("check-grader: 4 submissions graded up to the checks in %.0f s" % seconds)
    expect(status == 1, "exit status %d, want 1 (not JSON, broken code)" % status)
    r = load(os.path.join(out, "student.json"))
    expect(r["score"] == 0 and not any(x["passed"] for x in r["exercises"]), "student: %d exercises pass, want 0" % r["score"])
    for c in r["checks"]:
        expect(not c["passed"] and "is not written yet" in c["message"], "student: check %s: %s" % (c["check"], c["message"]))
    expect(sum(q["answered"] for q in r["questions"]) == 0, "student: answers counted")
    expect(r["problems"] == [], "student: problems %s" % r["problems"])
    r = load(os.path.join(out, "one-exercise.json"))
    passed = [x["exercise"] for x in r["exercises"] if x["passed"]]
    expect(passed == ["sigmoid"] and r["score"] == 1, "one exercise: %s pass, want only sigmoid" % passed)
    expect([q["question"] for q in r["questions"] if q["answered"]] == ["1"], "one exercise: answers %s" % r["questions"])
    expect(any("check-softmax" in n and "edited" in n for n in r["notes"]), "one exercise: no note on the restored check cell: %s" % r["notes"])
    softmax = next(c for c in r["checks"] if c["check"] == "softmax")
    shortcut = next(x["shortcut"] for x in r["exercises"] if x["exercise"] == "softmax")
    expect(softmax["passed"] and "mnistfc.Softmax" in shortcut, "one exercise: softmax by mnistfc.Softmax: check %s, exercise not counted because %r" % (softmax, shortcut))
    r = load(os.path.join(out, "broken-code.json"))
    expect(any("does not compile" in p and "cannot use" in p for p in r["problems"]), "broken code: no compile line: %s" % r["problems"])
    expect(any("panics: runtime error: index out of range [3]" in p for p in r["problems"]), "broken code: no panic line: %s" % r["problems"])
    r = load(os.path.join(out, "not-json.json"))
    expect(r["status"] == "not-json" and "not JSON" in r["problems"][0], "not JSON: %s" % r["problems"])
    with open(os.path.join(out, "summary.csv"), encoding="utf-8") as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    expect(len(rows) == 4 and rows[paths["one-exercise"]]["sigmoid"] == "1" and rows[paths["one-exercise"]]["score"] == "1",
           "summary.csv: %s" % rows)

    # 3. The time limit.
    before = cell_processes()
    status, output, seconds = grade(os.path.join(args.out, "timeout"), "--until-checks", "--timeout", "20", paths["endless"])
    print("check-grader: endless notebook stopped in %.0f s" % seconds)
    r = load(os.path.join(args.out, "timeout", "endless.json"))
    expect(status == 1 and r["status"] == "time-limit" and "time limit" in r["problems"][0], "endless: %s %s" % (status, r["problems"]))
    expect(seconds < 90, "endless: the grader took %.0f s with --timeout 20" % seconds)
    time.sleep(2)
    left = {p: c for p, c in cell_processes().items() if p not in before}
    expect(not left, "endless: processes of its cells are still running: %s" % left)

    # 3b. Limits inside the notebook, and a report that runs nothing of it:
    # an output flood, a memory hog (1.5 GB limit), a cell that displays
    # script and HTML with handlers.
    flood = with_cells(student, sigmoid_id, ("flood", '%%\nfor i := 0; ; i++ {\n\tfmt.Println(strings.Repeat("flood ", 100), i)\n}'))
    hog = with_cells(student, sigmoid_id, ("hog", "%%\nb := make([]byte, 3<<30)\nfor i := range b {\n\tb[i] = 1\n}\nfmt.Println(len(b))"))
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    beacon = probe.getsockname()[1]  # Where the page must not fetch from (check-grade-page.mjs serves it).
    probe.close()
    script = with_cells(student, sigmoid_id, ("script", '%%\nnotebook.Markdown(`<script>window.mnistfcPwned = 1; top.document.title = "pwned"; alert("pwned")</script>'
                                                        '<img src="http://127.0.0.1:BEACON/pwned.png" onerror="window.mnistfcPwned = 1; top.document.title = \'pwned\'">`)'
                                                        .replace("BEACON", str(beacon))))
    lpaths = {name: write(subs, name + ".ipynb", nb) for name, nb in (("flood", flood), ("hog", hog), ("script", script))}
    limits = os.path.join(args.out, "limits")
    status, output, seconds = grade(limits, "--until-checks", lpaths["flood"], lpaths["script"])
    status2, output2, seconds2 = grade(limits, "--until-checks", "--memory-mb", "1536", lpaths["hog"])
    print("check-grader: flood, script and memory hog graded in %.0f s" % (seconds + seconds2))
    flood_cell = 1 + next(i for i, c in enumerate(flood["cells"]) if c["id"] == "flood")
    for name, want in (("flood", "output-limit"), ("hog", "memory-limit")):
        r = load(os.path.join(limits, name + ".json"))
        got = [(l["status"], l["cell"]) for l in r["limits"] if l["run"] == "notebook"]
        expect(got and got[0][0] == want and (name != "flood" or got[0][1] == flood_cell),
               "%s: limits %s, want %s%s" % (name, r["limits"], want, " at cell %d" % flood_cell if name == "flood" else ""))
        with open(os.path.join(limits, "summary.csv"), encoding="utf-8") as f:
            row = next(row for row in csv.DictReader(f) if row["name"] == name) if name == "hog" else None
        expect(row is None or want in row["limit"], "summary.csv: limit %r" % (row or {}).get("limit"))
    size = os.path.getsize(os.path.join(limits, "flood.html"))
    expect(size < 6 << 20, "flood.html is %.1f MB, want it capped" % (size / (1 << 20)))
    with open(os.path.join(limits, "script.ipynb"), encoding="utf-8") as f:
        expect("mnistfcPwned" in f.read(), "script: the notebook did not display the script (nothing to check)")
    page = subprocess.run(["bash", os.path.join(ROOT, "scripts", "check-reports.sh"), "--grade", os.path.join(limits, "script.html")],
                          capture_output=True, text=True, env=dict(os.environ, BEACON_PORT=str(beacon)))
    print(page.stdout.strip())
    expect(page.returncode == 0, "script.html in Chromium: %s" % (page.stdout + page.stderr)[-1500:])

    # 4. Hostile submissions and differently written correct ones, checks
    # only, one seed: no credit for the hostile, full marks for the honest,
    # the same grades alone as after the hostile ones.
    hostile = hostile_submissions(student, solution, sigmoid_id)
    honest = {"other-ways": other_ways(solution)}
    hpaths = {name: write(subs, name + ".ipynb", nb) for name, nb in list(hostile.items()) + list(honest.items())}
    out = os.path.join(args.out, "hostile")
    status, output, seconds = grade(out, "--checks-only", "--seed", "12345", *hpaths.values())
    print("check-grader: %d hostile and honest submissions graded (checks only) in %.0f s" % (len(hpaths), seconds))
    for name, (score, fragment) in HOSTILE_EXPECTED.items():
        r = load(os.path.join(out, name + ".json"))
        said = json.dumps(r, ensure_ascii=False)
        expect(r["score"] == score, "%s: score %d, want %d" % (name, r["score"], score))
        expect(fragment in said, "%s: the report does not say %r" % (name, fragment))
    alone = os.path.join(args.out, "alone")
    grade(alone, "--checks-only", "--seed", "12345", hpaths["other-ways"])
    a, b = load(os.path.join(alone, "other-ways.json")), load(os.path.join(out, "other-ways.json"))
    expect(a["score"] == 6 and a["checks"] == b["checks"], "other-ways: %d alone, %d after the hostile ones; checks differ: %s" % (
        a["score"], b["score"], a["checks"] != b["checks"]))

    # 5. A class: two at a time, in two shards, merged; a killed run resumed.
    shards = [os.path.join(args.out, "shard-%d" % k) for k in (1, 2)]
    for k, d in enumerate(shards, start=1):
        status, output, seconds = grade(d, "--checks-only", "-j", "2", "--seed", "12345", "--shard", "%d/2" % k, *hpaths.values())
        expect("shard %d/2" % k in output, "shard %d/2: not said: %s" % (k, output[-500:]))
    merged = os.path.join(args.out, "merged")
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "grade.py"), "--merge", "--out", merged, *shards], capture_output=True, text=True)
    with open(os.path.join(merged, "summary.csv"), encoding="utf-8") as f:
        rows = {row["name"]: row for row in csv.DictReader(f)}
    expect(run.returncode == 0 and set(rows) == set(hpaths), "merge: exit %d, %d of %d submissions: %s" % (run.returncode, len(rows), len(hpaths), run.stderr))
    expect(all(rows[n]["score"] == str(HOSTILE_EXPECTED.get(n, (6,))[0]) for n in rows), "merge: scores %s" % {n: r["score"] for n, r in rows.items()})
    # The same, as two tasks of a Slurm job array (deploy/slurm/grade.sbatch, faked environment).
    slurm = os.path.join(args.out, "slurm")
    for task in (4, 5):
        env = dict(os.environ, SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_MIN="4", SLURM_ARRAY_TASK_MAX="5", SLURM_ARRAY_TASK_COUNT="2",
                   SLURM_ARRAY_TASK_STEP="1", SLURM_CPUS_PER_TASK="1", OUT=slurm, SUBMISSIONS=" ".join(hpaths.values()),
                   GRADE_FLAGS="--checks-only --seed 12345")
        run = subprocess.run(["bash", os.path.join(ROOT, "deploy", "slurm", "grade.sbatch")], cwd=ROOT, env=env, capture_output=True, text=True)
        expect(run.returncode in (0, 1) and "grade: shard %d/2 (from SLURM_ARRAY_TASK_ID=%d" % (task - 3, task) in run.stdout,
               "grade.sbatch, task %d: exit %d: %s" % (task, run.returncode, (run.stdout + run.stderr)[-800:]))
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "grade.py"), "--merge", "--out", os.path.join(slurm, "merged"),
                          os.path.join(slurm, "shard-4"), os.path.join(slurm, "shard-5")], capture_output=True, text=True)
    expect(run.returncode == 0 and "merged %d reports of 2 shards" % len(hpaths) in run.stdout, "grade.sbatch's shards merged: %s" % (run.stdout + run.stderr))
    os.remove(os.path.join(out, "other-ways.json"))  # As if the run had been killed before it.
    status, output, seconds = grade(out, "--checks-only", "--seed", "12345", "--resume", *hpaths.values())
    expect("%d of %d submissions graded before" % (len(hpaths) - 1, len(hpaths)) in output and output.count("grade: other-ways (") == 1
           and load(os.path.join(out, "other-ways.json"))["score"] == 6, "resume: %s" % output[-800:])

    # 6. The teacher's hidden checks (grading/testdata/hidden): answered by
    # the solution, no credit through a shortcut.
    hidden = os.path.join(args.out, "hidden")
    status, output, seconds = grade(hidden, "--checks-only", "--hidden-checks", os.path.join(ROOT, "grading", "testdata", "hidden"),
                                    paths["solution"], paths["student"], paths["one-exercise"])
    with open(os.path.join(hidden, "summary.csv"), encoding="utf-8") as f:
        rows = {row["name"]: (row["score"], row["max_score"], row["hidden"]) for row in csv.DictReader(f)}
    expect(rows == {"solution": ("8", "8", "2/2"), "student": ("0", "8", "0/2"), "one-exercise": ("1", "8", "0/2")},
           "hidden checks: %s, want solution 8/8, student 0/8, one-exercise 1/8 (its softmax is the library's)" % rows)

    # 7. No sandbox: the grader refuses, and says what to install; --unsafe
    # grades, and the report says so.
    bare = dict(os.environ, PATH=os.path.dirname(sys.executable))
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "grade.py"), "--checks-only", "--out", os.path.join(args.out, "bare"),
                          paths["solution"]], capture_output=True, text=True, env=bare)
    expect(run.returncode == 2 and "refusing to grade without a sandbox" in run.stderr and "apt-get install bubblewrap" in run.stderr
           and not os.path.exists(os.path.join(args.out, "bare", "solution.json")), "without bubblewrap: exit %d, %s" % (run.returncode, run.stderr[-400:]))
    status, output, seconds = grade(os.path.join(args.out, "unsafe"), "--checks-only", "--unsafe", paths["solution"])
    r = load(os.path.join(args.out, "unsafe", "solution.json"))
    expect(r["score"] == 6 and not r["sandbox"] and any("UNSAFE" in n for n in r["notes"]), "--unsafe: %s, notes %s" % (r["score"], r["notes"]))

    # 8. The teacher's checkout is as it was.
    expect(checkout_state() == checkout_before, "the checkout changed while grading: git status --porcelain and tracked files differ")

    if problems:
        print("check-grader: %d problem(s)" % len(problems), file=sys.stderr)
        sys.exit(1)
    print("check-grader: the grader gives the solution full marks, the student's notebook zero, one exercise exactly one; "
          "not JSON, broken code and the time limit each get their line")


if __name__ == "__main__":
    main()
