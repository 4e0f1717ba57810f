"""Run the bench on the installed fastnn: ``python bench/run.py [options]``.

The options are those of ``python -m bench --help``. Run from the checkout,
``python -m bench`` would import the source tree's ``fastnn/`` before the
installed package, and a source tree holds no compiled extension unless it
was built in place (``make dev``).
"""

import runpy
import sys
from pathlib import Path

# bench/ itself is not a place to import from; the checkout goes last, after
# site-packages, so that it provides ``bench`` and the installed fastnn wins.
sys.path[0:1] = []
sys.path.append(str(Path(__file__).resolve().parents[1]))
runpy.run_module("bench", run_name="__main__", alter_sys=True)
