"""Sphinx extension: the Performance page's tables and plots, from the bench.

When the site builds, each committed reference result in ``bench/results/``
(``<class>.json`` with its ``.md`` report and PNG plots, written by
``make bench``) becomes a section of ``_generated/bench/references.rst``,
which ``performance.rst`` includes. The report's Markdown is the bench's own
(``bench/_report.py``); this module only turns its restricted Markdown
(headings, pipe tables, bullets, images, paragraphs) into reStructuredText,
so the page never holds a number typed by hand.
"""

import json
import re
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
RESULTS = DOCS.parent / "bench" / "results"
OUT = DOCS / "_generated" / "bench"

# Reference results, in the order the page shows them.
REFERENCES = {
    "cpu-avx512": "CPU, x86-64 with AVX-512",
    "cpu-avx2": "CPU, x86-64 with AVX2 only",
    "gpu": "GPU",
}

_SPECIAL = re.compile(r"([\\`*_|])")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _literal(text):
    return _SPECIAL.sub(r"\\\1", text)


def escape(text):
    """``text`` as reStructuredText: literal, but for the report's ``**bold**``."""
    parts = _BOLD.split(text)  # even: plain text, odd: bold
    return "".join("**" + _literal(part) + "**" if i % 2 else _literal(part)
                   for i, part in enumerate(parts))


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(lines):
    header, *rows = [_cells(line) for line in lines if not re.match(r"^\|[\s\-|:]+\|$", line)]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        out.append("   * - " + (escape(row[0]) or "\\ "))
        out += ["     - " + (escape(cell) or "\\ ") for cell in row[1:]]
    return out + [""]


def markdown_to_rst(markdown, heading="~"):
    """The bench report's Markdown as reStructuredText.

    Parameters
    ----------
    markdown : str
        A report written by ``bench/_report.py``, without its title line.
    heading : str, default="~"
        Underline character of the report's ``##`` sections.

    Returns
    -------
    rst : str
    images : list of str
        The PNG files the report shows, relative to ``bench/results``.
    """
    out, images = [], []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            out += _table(block)
            continue
        image = re.match(r"^!\[[^\]]*\]\(([^)]+)\)$", line.strip())
        if line.startswith("## "):
            title = escape(line[3:].strip())
            out += [title, heading * len(title), ""]
        elif image:
            images.append(image.group(1))
            out += [f".. image:: /_generated/bench/{image.group(1)}", "   :width: 100%", ""]
        elif line.startswith("- "):
            out.append("- " + escape(line[2:]))
        elif line.strip():
            out.append(escape(line))
        else:
            out.append("")
        i += 1
    return "\n".join(out) + "\n", images


def write_references(out=OUT, results=RESULTS):
    """Write ``references.rst``, a section per reference result, and copy the plots.

    Returns
    -------
    written : dict of str to str
        Class name to the section title of each reference written.
    """
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written, sections = {}, []
    for name, title in REFERENCES.items():
        report_md = results / f"{name}.md"
        if not report_md.exists():
            continue
        report = json.loads((results / f"{name}.json").read_text())
        body = report_md.read_text().split("\n", 1)[1]  # drop "# fastnn bench: <name>"
        rst, images = markdown_to_rst(body)
        for image in images:
            shutil.copy(results / image, out / image)
        date = report["created_utc"][:10]
        head = [f".. _bench-{name}:", "", title, "-" * len(title), "",
                f"Reference result ``{name}``, recorded {date} by ``make bench``.", ""]
        sections.append("\n".join(head) + "\n" + rst)
        written[name] = title
    missing = [title for n, title in REFERENCES.items() if n not in written]
    if missing:
        sections.append("No reference result is recorded yet for: "
                        + "; ".join(missing) + ".\n")
    (out / "references.rst").write_text("\n".join(sections))
    return written


def _on_builder_inited(app):
    write_references()


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
