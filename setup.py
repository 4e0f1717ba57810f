"""Build the compiled core of fastnn from the Cython sources in ``src/``.

Environment variables:

- ``FASTNN_NATIVE=1`` adds ``-march=native`` (off by default: a wheel built
  with it crashes with SIGILL on an older CPU).
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup


def compile_args():
    # -fno-math-errno lets sqrt vectorize; it changes no result.
    args = ["-O3", "-fno-math-errno"]
    if os.environ.get("FASTNN_NATIVE", "0") not in ("", "0"):
        args.append("-march=native")
    return args


extensions = [
    Extension(
        "fastnn._mlp",
        ["src/_mlp.pyx"],
        extra_compile_args=compile_args(),
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
]

setup(
    ext_modules=cythonize(
        extensions,
        include_path=["src"],
        compiler_directives={"language_level": 3},
    ),
)
