"""The grader's HTML page of one submission, safe for the teacher to open.

The grade comes first, written by the grader. The submission's executed
notebook follows in a sandboxed frame (no scripts, no forms, no
navigation, no access to the page), under a content security policy that
lets nothing load from anywhere (images only as data: URLs, inline
styles): whatever HTML or script a student's cell displays is shown, never
run. Each cell's outputs are capped, and the notebook as a whole, with a
note where they were cut.
"""

import copy
import html
import json

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self' about: data:; base-uri 'none'; form-action 'none'"
CELL_KB = 200


def capped(nb, total_mb):
    """A copy of nb with each cell's outputs at most CELL_KB KB and all of
    them at most total_mb MB, with notes where they were cut."""
    nb = copy.deepcopy(nb)
    budget = int(total_mb * (1 << 20))
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept, size = [], 0
        for o in cell.get("outputs", []):
            n = len(json.dumps(o))
            if size + n > CELL_KB * 1024 or n > budget:
                kept.append({"output_type": "stream", "name": "stdout",
                             "text": "[the grader cut this cell's output here: more than %d KB, or the page's limit]\n" % CELL_KB})
                break
            kept.append(o)
            size += n
            budget -= n
        cell["outputs"] = kept
    return nb


def notebook_html(nb, total_mb):
    """The executed notebook as HTML (nbconvert), outputs capped."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = False
    body, _ = exporter.from_notebook_node(capped(nb, total_mb))
    # The frame's own policy too, first in its head: a student's image or
    # style cannot be fetched from anywhere (not even to learn that the
    # page was opened).
    meta = '<meta http-equiv="Content-Security-Policy" content="%s">' % html.escape(CSP, quote=True)
    head = body.find("<head>")
    return body[:head + 6] + meta + body[head + 6:] if head >= 0 else meta + body


def page(report, grade_section, executed, total_mb=8):
    """The whole page: the grade, then the notebook in a sandboxed frame."""
    title = "Grade of %s" % report["name"]
    parts = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
             '<meta http-equiv="Content-Security-Policy" content="%s">' % html.escape(CSP, quote=True),
             "<title>%s</title></head><body><main>" % html.escape(title), grade_section]
    if executed is not None:
        try:
            inner = notebook_html(executed, total_mb)
        except Exception as e:  # A notebook nbconvert cannot render: the grade stands alone.
            inner = "<p>The notebook could not be shown: %s</p>" % html.escape(str(e)[:300])
        parts.append("<h2>The notebook as it ran</h2>")
        parts.append('<iframe sandbox="" referrerpolicy="no-referrer" title="the submission\'s notebook" '
                     'style="width:100%%;height:80vh;border:1px solid #888" srcdoc="%s"></iframe>' % html.escape(inner, quote=True))
    parts.append("</main></body></html>\n")
    return "".join(parts)
