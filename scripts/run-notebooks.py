#!/usr/bin/env python3
"""Executes Jupyter notebooks headless and writes the executed copies, and
optionally self-contained HTML, to an output folder.

Usage (with the venv of scripts/setup-notebooks.sh, as the Makefile does):
    run-notebooks.py [--out DIR] [--html] [--code fold|show|hide] [--check] [--timeout S] [NOTEBOOK...]
    run-notebooks.py --from-executed [--out DIR] [--code ...] EXECUTED.ipynb...

Default notebooks: notebooks/*.ipynb. For each NAME.ipynb it writes
DIR/NAME.ipynb (executed, with all outputs, also when a cell fails; its
metadata "mnistfc_run" holds the run stamp: date, Go/GoMLX/GoNB versions,
backend, CPU or GPU, epochs and profile, seed, wall time) and with --html
DIR/NAME.html: nbconvert's "lab" look through the template
notebooks/templates/offline, images embedded as data URIs, math rendered by
KaTeX embedded in the page, the run stamp and a table of contents at the top,
code folded (--code show: shown; --code hide: left out), no script, style,
font or image loaded from a CDN or a file:// path (checked after writing),
and at most --max-mb MB. --from-executed builds only the HTML, from notebooks
that were executed before (e.g. by make notebooks-check).

Cells run in the notebook's own folder (GoNB's $GONB_DIR), with this
process's environment: set MNISTFC_EPOCHS for the fast profile,
GOMLX_BACKEND for another backend than the fastest installed. Unless
GOMLX_GO_SIMD_AVX512 is set, it gets what `mnistfc calibrate -print-env`
prints: the pure-Go backend's faster kernels on this CPU. Each
execution keeps its runs (notebook.RunsDir) in a new temporary folder,
removed afterwards, unless MNISTFC_RUNS_DIR names one: a report shows only
what its own execution computed. After each notebook it prints the time of
every cell (scripts/cell-times.py). Errors in
cells don't stop the run (every cell runs, so one look shows all
problems); --check then runs scripts/check-notebooks.py on the executed
notebooks, which fails on them. Exit status: 0 when all notebooks ran (and
passed the checks), 1 otherwise.
"""

import argparse
import copy
import datetime
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser

import nbformat
from nbclient import NotebookClient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_page  # noqa: E402  (scripts/report_page.py)

TEMPLATES = os.path.join(ROOT, "notebooks", "templates")

# What a self-contained page must not have: anything it would fetch, from the
# network (a CDN) or from files next to it. Links (<a href>) are fine: a reader
# may follow them, the page does not need them.
FETCHING_ATTRS = {"src", "href", "data", "poster", "srcset", "xlink:href", "background"}
LOCAL_OK = ("data:", "#", "about:", "javascript:")
CSS_URL_RE = re.compile(r"url\(\s*[\"']?\s*([^\"')\s]*)", re.I)
CSS_IMPORT_RE = re.compile(r"@import\s+[\"']([^\"']*)", re.I)
JS_IMPORT_RE = re.compile(r"\bimport\(\s*[\"']((?:https?:)?//[^\"']*)", re.I)
SCRIPT_BODY_RE = re.compile(r"(<script\b[^>]*>)(.*?)(</script>)", re.I | re.S)
FILE_URL_RE = re.compile(r"file://[^\"'\s<>)]*", re.I)


class _FetchFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "area"):
            return
        for name, value in attrs:
            value = (value or "").strip()
            if name in FETCHING_ATTRS and value and not value.lower().startswith(LOCAL_OK):
                if name == "href" and tag != "link" and tag not in ("image", "use", "base"):
                    continue  # href on other elements fetches nothing.
                self.found.append("<%s %s=%s>" % (tag, name, value[:120]))


def external_references(html):
    """Returns what the page html would fetch from the network or from files beside
    it (url() in style attributes is found by the CSS pattern)."""
    finder = _FetchFinder()
    finder.feed(html)
    found = finder.found
    # CSS and file:// paths are looked for outside inline scripts: a script's
    # code (plotly.js's, say) is not CSS; what it would import is looked for.
    markup = SCRIPT_BODY_RE.sub(r"\1\3", html)
    found += ["CSS url(%s)" % u[:120] for u in CSS_URL_RE.findall(markup) if u and not u.lower().startswith(LOCAL_OK)]
    found += ["CSS @import %s" % u[:120] for u in CSS_IMPORT_RE.findall(markup)]
    found += ["script import(%s)" % u[:120] for u in JS_IMPORT_RE.findall(html)]
    found += ["file:// path %s" % u[:120] for u in FILE_URL_RE.findall(markup)]
    return sorted(set(found))


CODE_MODES = ("fold", "show", "hide")
_KATEX = None


def html_exporter(code="fold"):
    from nbconvert import HTMLExporter

    hide = code == "hide"
    return HTMLExporter(template_name="offline", extra_template_basedirs=[TEMPLATES], embed_images=True,
                        exclude_input=hide, exclude_input_prompt=hide)


def write_html(nb, name, nb_dir, out_dir, code, max_mb, extra_header=""):
    """Writes out_dir/name.html from the executed notebook nb, with
    extra_header (HTML) at the top; returns problems."""
    global _KATEX
    if _KATEX is None:
        try:
            _KATEX = report_page.katex_assets()
        except FileNotFoundError as e:
            return ["%s: KaTeX is not installed (run scripts/install-node-tools.sh): %s" % (name, e)]
    css, js = _KATEX
    resources = {"metadata": {"path": nb_dir, "name": name},
                 "mnistfc": {"code": code, "katex_css": css, "katex_js": js, "katex_version": report_page.katex_version()}}
    body, _ = html_exporter(code).from_notebook_node(with_lexer(nb), resources=resources)
    body = report_page.add_header(body, nb.metadata.get("mnistfc_run"), code, extra_header)
    page = os.path.join(out_dir, name + ".html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(body)
    refs = external_references(body)
    problems = ["%s: not self-contained: %s" % (page, r) for r in refs]
    size = len(body.encode())
    if size > max_mb * 1e6:
        problems.append("%s: %.1f MB, more than %g MB" % (page, size / 1e6, max_mb))
    images = len(re.findall(r"<img\b[^>]*\bsrc=[\"']data:image/", body))
    print("run-notebooks: wrote %s (%d KiB, %d embedded image(s), %d external reference(s), code %s)"
          % (page, size // 1024, images, len(refs), code), flush=True)
    return problems


def run_one(path, out_dir, timeout, html, code="fold", max_mb=5, cwd=None, deadline=None):
    """Executes one notebook; returns a list of problems (strings). Its cells
    run in cwd (default: the notebook's folder); with deadline (a
    time.monotonic() value) the execution stops with a CellTimeoutError
    problem when the cell under way reaches it."""
    name = os.path.splitext(os.path.basename(path))[0]
    nb_dir = cwd or os.path.dirname(os.path.abspath(path))
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "gonb")
    problems = []
    # A new, empty folder for the runs the notebook keeps (notebook.RunsDir),
    # so that every number of this execution comes from this execution.
    runs = os.environ.get("MNISTFC_RUNS_DIR") or tempfile.mkdtemp(prefix="mnistfc-runs-%s-" % name)
    saved_runs = os.environ.get("MNISTFC_RUNS_DIR")
    os.environ["MNISTFC_RUNS_DIR"] = runs
    started = datetime.datetime.now(datetime.timezone.utc)
    start = time.monotonic()
    print("run-notebooks: executing %s (kernel %s, MNISTFC_EPOCHS=%s, GOMLX_BACKEND=%s, runs kept in %s)" % (
        path, kernel, os.environ.get("MNISTFC_EPOCHS", "unset"), os.environ.get("GOMLX_BACKEND", "unset"), runs), flush=True)
    cell_start = {}

    def on_execute(cell, cell_index):
        cell_start[cell_index] = time.monotonic()

    def on_executed(cell, cell_index, execute_reply):
        status = (execute_reply or {}).get("content", {}).get("status", "?")
        # From the request to the reply, as the user waits for it (the kernel's
        # own timestamps, in the execution metadata, are whole seconds).
        cell.metadata["mnistfc_seconds"] = round(time.monotonic() - cell_start.get(cell_index, start), 2)
        first = next((l.strip() for l in cell.source.splitlines()
                      if l.strip() and l.strip() not in ("%%", "%main") and not l.strip().startswith("//")), "")
        print("run-notebooks:   %s cell %d [%s] %s in %.1f s: %s" % (
            name, cell_index + 1, cell.get("execution_count"), status,
            time.monotonic() - cell_start.get(cell_index, start), first[:60]), flush=True)

    until_deadline = (lambda cell: max(1, min(timeout, int(deadline - time.monotonic()) + 1))) if deadline else None
    client = NotebookClient(nb, timeout=timeout, timeout_func=until_deadline, kernel_name=kernel, allow_errors=True,
                            resources={"metadata": {"path": nb_dir}},
                            on_cell_execute=on_execute, on_cell_executed=on_executed)
    try:
        client.execute()
    except Exception as e:  # Kernel died, timeout, no such kernel: keep what ran.
        problems.append("%s: execution stopped: %s: %s" % (path, type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else ""))
    finally:
        if saved_runs is None:
            del os.environ["MNISTFC_RUNS_DIR"]
            shutil.rmtree(runs, ignore_errors=True)
    seconds = time.monotonic() - start
    nb.metadata["mnistfc_run"] = report_page.run_stamp(nb, started, seconds)
    executed = os.path.join(out_dir, name + ".ipynb")
    nbformat.write(nb, executed)
    print("run-notebooks: %s executed in %.1f s -> %s" % (path, seconds, executed), flush=True)
    cell_times().report(executed)
    if html:
        problems += write_html(nb, name, nb_dir, out_dir, code, max_mb)
    return problems, executed


def with_lexer(nb):
    """GoNB reports an empty pygments_lexer, which nbconvert reads as "ipython3":
    returns a copy of nb that asks for the Go lexer for code cells."""
    info = nb.metadata.get("language_info", {})
    if info.get("pygments_lexer") or info.get("name") != "go":
        return nb
    nb = copy.deepcopy(nb)
    nb.metadata.language_info["pygments_lexer"] = "go"
    return nb


def cell_times():
    """scripts/cell-times.py as a module."""
    spec = importlib.util.spec_from_file_location("cell_times", os.path.join(ROOT, "scripts", "cell-times.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_checker():
    spec = importlib.util.spec_from_file_location("check_notebooks", os.path.join(ROOT, "scripts", "check-notebooks.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def use_faster_kernels():
    """Gives the notebooks' kernels (which inherit this process's environment)
    the pure-Go backend's faster kernel family on this CPU: sets what
    `mnistfc calibrate -print-env` prints (GOMLX_GO_SIMD_AVX512=0, or
    nothing; measured once per machine and kept) unless the user set
    GOMLX_GO_SIMD_AVX512. If that fails, a note, and GoMLX's default."""
    if os.environ.get("GOMLX_GO_SIMD_AVX512"):
        return
    env = dict(os.environ, GOEXPERIMENT=os.environ.get("GOEXPERIMENT", "simd"))
    try:
        out = subprocess.run(["go", "run", "./cmd/mnistfc", "calibrate", "-print-env"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, text=True, timeout=900, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        print("run-notebooks: note: no kernel calibration (%s); the pure-Go backend keeps GoMLX's default kernels" % e,
              file=sys.stderr, flush=True)
        return
    for line in out.split():
        name, sep, value = line.partition("=")
        if sep and name.startswith("GOMLX_"):
            os.environ[name] = value
            print("run-notebooks: %s, the faster pure-Go kernels on this CPU (mnistfc calibrate)" % line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--out", default=os.path.join(ROOT, "reports"), help="output folder (default: reports/)")
    parser.add_argument("--html", action="store_true", help="also write self-contained HTML")
    parser.add_argument("--code", choices=CODE_MODES, default="fold",
                        help="code cells in the HTML: fold (default, one click shows each), show, or hide")
    parser.add_argument("--from-executed", action="store_true",
                        help="do not execute: build the HTML of notebooks executed before")
    parser.add_argument("--max-mb", type=float, default=5, help="largest HTML page allowed, in MB (default 5)")
    parser.add_argument("--check", action="store_true", help="run scripts/check-notebooks.py on the executed notebooks")
    parser.add_argument("--expected", default=None, help="expectations file for --check (default: notebooks/expected.json)")
    parser.add_argument("--backend", default=None, help="for --check: the backend every notebook must say its cells trained on")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("NOTEBOOK_CELL_TIMEOUT", "1800")),
                        help="seconds one cell may run (default: $NOTEBOOK_CELL_TIMEOUT or 1800)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    if not notebooks:
        print("run-notebooks: no notebooks to run", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    problems, executed = [], []
    if args.from_executed:
        for path in notebooks:
            name = os.path.splitext(os.path.basename(path))[0]
            nb = nbformat.read(path, as_version=4)
            source = os.path.join(ROOT, "notebooks", name + ".ipynb")
            nb_dir = os.path.dirname(source) if os.path.exists(source) else os.path.dirname(os.path.abspath(path))
            problems += write_html(nb, name, nb_dir, args.out, args.code, args.max_mb)
        for p in problems:
            print("FAIL: " + p)
        return 1 if problems else 0
    use_faster_kernels()
    for path in notebooks:
        p, out = run_one(path, args.out, args.timeout, args.html, args.code, args.max_mb)
        problems += p
        executed.append(out)
    for p in problems:
        print("FAIL: " + p)
    status = 1 if problems else 0
    if args.check:
        checker = load_checker()
        check_args = (["--expected", args.expected] if args.expected else []) + (["--backend", args.backend] if args.backend else []) + executed
        status = max(status, checker.main(check_args))
    return status


if __name__ == "__main__":
    sys.exit(main())
