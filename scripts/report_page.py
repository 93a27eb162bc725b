"""What scripts/run-notebooks.py adds to an HTML report beyond nbconvert's page:

- run_stamp(): what produced a run (date; Go, GoMLX and GoNB versions; backend;
  CPU or GPU model; epochs and profile; seed; wall time), recorded in the
  executed notebook's metadata ("mnistfc_run") when it is executed, so that
  HTML built later from that notebook still says how it was made;
- katex_assets(): KaTeX (npm package katex, pinned by
  notebooks/e2e/package-lock.json) as inline CSS, with its fonts as data URIs,
  and inline JavaScript that renders the math of markdown cells when the page
  loads: nothing is fetched;
- add_header(): the run stamp and a table of contents (every heading of the
  notebook, questions included) at the top of the page.
"""

import base64
import datetime
import html
import os
import platform
import re
import shutil
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
KATEX_DIR = os.path.join(ROOT, "notebooks", "e2e", "node_modules", "katex", "dist")
FULL_EPOCHS = 35  # The notebooks' own epoch count per experiment (notebook.Epochs(35)).


# --- Run stamp ----------------------------------------------------------------

def _module_version(gomod, module):
    try:
        with open(gomod, encoding="utf-8") as f:
            m = re.search(r"^\s*(?:require\s+)?%s\s+(v\S+)" % re.escape(module), f.read(), re.M)
        return m.group(1) if m else "unknown"
    except OSError:
        return "unknown"


def _command(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = re.findall(r"^model name\s*:\s*(.+)$", f.read(), re.M)
    except OSError:
        names = []
    model = re.sub(r"\s+", " ", names[0]).strip() if names else (platform.processor() or platform.machine())
    return "%s, %d cores" % (model, os.cpu_count() or 1)


def _gpu_model():
    if not shutil.which("nvidia-smi"):
        return ""
    names = _command(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]).splitlines()
    return ", ".join(n.strip() for n in names if n.strip())


def run_stamp(nb, started, seconds):
    """Returns the run stamp of notebook nb, executed from started (an aware
    datetime) for seconds, in this process's environment."""
    meta = nb.metadata.get("mnistfc", {}) or {}
    env_epochs = os.environ.get("MNISTFC_EPOCHS", "").strip()
    fast = env_epochs.isdigit() and int(env_epochs) > 0
    return {
        "date": started.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "go": _command(["go", "env", "GOVERSION"]) or "unknown",
        "gomlx": _module_version(os.path.join(ROOT, "go.mod"), "github.com/gomlx/gomlx"),
        "gonb": _module_version(os.path.join(ROOT, "scripts", "tools", "go.mod"), "github.com/janpfeifer/gonb"),
        "backend": _backend(nb),
        "cpu": _cpu_model(),
        "gpu": _gpu_model(),
        "profile": "fast" if fast else "full",
        "epochs": int(env_epochs) if fast else meta.get("epochs", FULL_EPOCHS),
        "epochs_note": "" if fast else meta.get("epochs_note", ""),
        "seed": meta.get("seed", 0),
        "wall_s": round(seconds, 1),
    }


BACKEND_RE = re.compile(r"; backend (\S+); \d+ epochs per experiment")


def _backend(nb):
    """The backend the notebook's cells trained on, as notebook.Setup printed
    it in the executed notebook ("...; backend xla:cpu; 2 epochs per
    experiment"); else what the environment asked for."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            m = BACKEND_RE.search(out.get("text", "") if isinstance(out.get("text", ""), str) else "".join(out["text"]))
            if m:
                return m.group(1)
    return (os.environ.get("GOMLX_BACKEND") or os.environ.get("MNISTFC_BACKEND")  # deprecated; GOMLX_BACKEND wins
            or "unknown (no notebook.Setup output)")


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return "%d s" % seconds
    if seconds < 3600:
        return "%d min %02d s" % divmod(seconds, 60)
    h, rest = divmod(seconds, 3600)
    return "%d h %02d min" % (h, rest // 60)


def stamp_html(stamp):
    """The run stamp as HTML (a note when the notebook carries none)."""
    if not stamp:
        return ('<section class="mnistfc-stamp" id="run-stamp"><p><b>Run:</b> not recorded '
                '(this notebook was not executed by scripts/run-notebooks.py)</p></section>')
    e = lambda v: html.escape(str(v))
    profile = ("fast profile: MNISTFC_EPOCHS=%s, every experiment trains %s epoch(s)" % (e(stamp["epochs"]), e(stamp["epochs"]))
               if stamp.get("profile") == "fast" else
               "full profile: %s epochs per experiment%s" % (e(stamp["epochs"]),
                                                             " (%s)" % e(stamp["epochs_note"]) if stamp.get("epochs_note") else ""))
    rows = [
        ("Run", "%s; notebook wall time %s" % (e(stamp["date"]), _duration(stamp.get("wall_s", 0)))),
        ("Profile", "%s; seed %s" % (profile, e(stamp["seed"]))),
        ("Software", "Go %s, GoMLX %s, GoNB %s" % (e(stamp["go"].removeprefix("go")), e(stamp["gomlx"]), e(stamp["gonb"]))),
        ("Hardware", "backend <code>%s</code>; CPU %s; %s" % (
            e(stamp["backend"]), e(stamp["cpu"]), "GPU " + e(stamp["gpu"]) if stamp.get("gpu") else "no GPU")),
    ]
    return ('<section class="mnistfc-stamp" id="run-stamp"><table>%s</table></section>'
            % "".join("<tr><th>%s</th><td>%s</td></tr>" % r for r in rows))


# --- Table of contents ------------------------------------------------------------

HEADING_RE = re.compile(r'<h([1-6]) id="([^"]*)"([^>]*)>(.*?)</h\1>', re.S)
ANCHOR_RE = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.S)
TAG_A_RE = re.compile(r"</?a\b[^>]*>")


def _unique_ids(page):
    """nbconvert derives a heading's id from its text: makes repeated ids
    unique (id-2, id-3, ...), with their anchor links."""
    seen = {}

    def fix(m):
        level, hid, attrs, inner = m.groups()
        n = seen.get(hid, 0) + 1
        seen[hid] = n
        if n == 1:
            return m.group(0)
        new = "%s-%d" % (hid, n)
        inner = inner.replace('href="#%s"' % hid, 'href="#%s"' % new)
        return '<h%s id="%s"%s>%s</h%s>' % (level, new, attrs, inner, level)

    return HEADING_RE.sub(fix, page)


def toc_html(page, max_level=4):
    """A nested list linking every heading h2..h<max_level> of page (the h1 is the title)."""
    entries = []
    for level, hid, _, inner in HEADING_RE.findall(page):
        level = int(level)
        if 2 <= level <= max_level:
            text = TAG_A_RE.sub("", ANCHOR_RE.sub("", inner)).strip()
            entries.append((level, hid, text))
    if not entries:
        return ""
    out, depth = [], 0
    base = min(l for l, _, _ in entries)
    for level, hid, text in entries:
        want = level - base + 1
        if want > depth:
            out.append("<ul>" * (want - depth))
        else:
            out.append("</li>")
            if want < depth:
                out.append("</ul></li>" * (depth - want))
        depth = want
        out.append('<li><a href="#%s">%s</a>' % (html.escape(hid, quote=True), text))
    out.append("</li>" + "</ul></li>" * (depth - 1) + "</ul>")
    return ('<nav class="mnistfc-toc" id="contents" aria-label="Contents"><div class="mnistfc-toc-title">Contents</div>%s</nav>'
            % "".join(out))


def add_header(page, stamp, code_mode, extra=""):
    """Inserts extra (HTML), the run stamp, the code switch and the table of
    contents right after <main>; returns the new page."""
    page = _unique_ids(page)
    toggle = ""
    if code_mode == "fold":
        toggle = ('<p class="mnistfc-code-switch">Code is folded: click <i>code</i> above a cell to show it, or '
                  '<button type="button" onclick="mnistfcCode(true)">show all code</button> '
                  '<button type="button" onclick="mnistfcCode(false)">hide all code</button></p>')
    header = '<header class="mnistfc-header">%s%s%s%s</header>' % (extra, stamp_html(stamp), toggle, toc_html(page))
    i = page.find("<main>")
    if i < 0:
        raise ValueError("no <main> in the page")
    i += len("<main>")
    return page[:i] + header + page[i:]


# --- Math: KaTeX, inline ----------------------------------------------------------

FONT_URL_RE = re.compile(r"src:url\(fonts/([^)]+)\.woff2\) format\(\"woff2\"\)[^;}]*")


def katex_assets():
    """Returns (css, js) for the page: KaTeX's stylesheet with its woff2 fonts
    as data URIs, and KaTeX, its auto-render extension and the call that
    renders markdown cells on load. Raises FileNotFoundError when KaTeX is
    not installed (scripts/install-node-tools.sh)."""
    with open(os.path.join(KATEX_DIR, "katex.min.css"), encoding="utf-8") as f:
        css = f.read()

    def inline_font(m):
        with open(os.path.join(KATEX_DIR, "fonts", m.group(1) + ".woff2"), "rb") as f:
            data = base64.b64encode(f.read()).decode()
        return 'src:url(data:font/woff2;base64,%s) format("woff2")' % data

    css = FONT_URL_RE.sub(inline_font, css)
    if "url(fonts/" in css:
        raise ValueError("katex.min.css: a font reference was not inlined")
    parts = []
    for name in ("katex.min.js", os.path.join("contrib", "auto-render.min.js")):
        with open(os.path.join(KATEX_DIR, name), encoding="utf-8") as f:
            js = f.read()
        if "</script" in js.lower():
            raise ValueError("%s contains </script>" % name)
        parts.append(js)
    return css, "\n".join(parts)


def katex_version():
    try:
        with open(os.path.join(KATEX_DIR, "..", "package.json"), encoding="utf-8") as f:
            m = re.search(r'"version"\s*:\s*"([^"]+)"', f.read())
        return m.group(1) if m else "?"
    except OSError:
        return "?"
