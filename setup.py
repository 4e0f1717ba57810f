"""Build the compiled core of fastnn from the Cython sources in ``src/``.

Environment variables:

- ``FASTNN_NATIVE=1`` adds ``-march=native`` (off by default: a wheel built
  with it crashes with SIGILL on an older CPU).
- ``FASTNN_OPENMP=0`` builds without OpenMP. By default OpenMP is used when
  the compiler can build and link a test program with ``-fopenmp``; without
  it the kernels still work, on one thread.
"""

import os
import tempfile
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup


def compile_args():
    # -fno-math-errno lets sqrt vectorize; it changes no result.
    args = ["-O3", "-fno-math-errno"]
    if os.environ.get("FASTNN_NATIVE", "0") not in ("", "0"):
        args.append("-march=native")
    return args


def openmp_flags():
    """``["-fopenmp"]`` if the C compiler builds and links OpenMP code, else ``[]``."""
    if os.environ.get("FASTNN_OPENMP", "1") == "0":
        return []
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "check_openmp.c")
        source.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        try:
            objects = compiler.compile([str(source)], output_dir=tmp, extra_postargs=["-fopenmp"])
            compiler.link_executable(objects, str(Path(tmp, "check_openmp")),
                                     extra_postargs=["-fopenmp"])
        except Exception:  # any compile or link failure: build without OpenMP
            print("fastnn: OpenMP not available, building single-threaded kernels")
            return []
    return ["-fopenmp"]


OPENMP = openmp_flags()

extensions = [
    Extension(
        "fastnn._mlp",
        ["src/_mlp.pyx"],
        # numpy/random/bitgen.h: the epoch draws the next order (_shuffle.pxd)
        include_dirs=[numpy.get_include()],
        extra_compile_args=compile_args() + OPENMP,
        extra_link_args=OPENMP,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
    Extension(
        "fastnn._permute",
        ["src/_permute.pyx"],
        # numpy/random/bitgen.h, for the generator's C interface
        include_dirs=[numpy.get_include()],
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
