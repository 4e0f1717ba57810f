"""Sphinx configuration of fastnn's documentation site (``make docs``).

The site documents the installed fastnn: ``make docs`` installs the wheel
first, and nothing here puts the checkout's ``fastnn/`` on ``sys.path``.
It builds offline: no intersphinx inventories, no remote assets at build time.
"""

import os
import re
import sys
import warnings
from pathlib import Path

import fastnn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # the site's own extensions

project = "fastnn"
author = "the fastnn developers"
copyright = "2026, the fastnn developers"
version = release = fastnn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "bench_results",
]

exclude_patterns = ["_build", "_generated", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]
default_role = "literal"
nitpicky = False

# API reference: one page per public name, from its numpydoc docstring.
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Cross-references to scikit-learn and NumPy names in docstrings stay plain
# text: the site builds offline, without their inventories.
numpydoc_xref_param_type = False

# The gallery: every examples/plot_*.py runs while the site builds; an example
# that raises fails the build.
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"/_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "gallery_order.CourseOrder",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
    "show_memory": False,
    "plot_gallery": "True",
    # Pages of the API reference list the examples that use each name.
    "doc_module": ("fastnn",),
    "backreferences_dir": "api/generated/backreferences",
    "run_stale_examples": False,
}
# Examples time themselves; a fit's own warnings belong to the example.
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg")
os.environ.setdefault("MPLBACKEND", "agg")

_SKLEARN_REF = re.compile(r":ref:`([^`<]*?)\s*(?:<[^>]*>)?`")


def _plain_sklearn_refs(app, what, name, obj, options, lines):
    # Methods inherited from scikit-learn (score, get_params, ...) cite labels
    # of scikit-learn's own user guide: keep their text, drop the link.
    if getattr(obj, "__module__", "").startswith("sklearn"):
        lines[:] = [_SKLEARN_REF.sub(r"\1", line) for line in lines]


# numpydoc writes a parameter as "**name** : type"; in a type such as
# "list of shape (n_iter_,)" the attribute name would read as a link target.
_TYPE_LINE = re.compile(r"^(\s*\*\*[^*]+\*\* : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"\b(\w+)_(?=[,)\s]|$)")


def _literal_types(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(r"\1\\_", match.group(2))


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_refs)
    # After numpydoc's own handler, which setup() here follows.
    app.connect("autodoc-process-docstring", _literal_types, priority=600)


html_theme = "pydata_sphinx_theme"
html_title = f"fastnn {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "getting_started": [], "changelog": []}
html_show_sourcelink = False
