# Set-up and everyday commands. Everything installs into a local virtual
# environment (.venv) so a fresh machine needs only Python 3.11 and a C compiler.
#
#   make demo    install fastnn and run its main job
#   make test    build the wheel, install it, run the whole suite against it
#   make docs    build the documentation site, gallery included (docs/_build/html)
#   make bench   the comparison with scikit-learn and PyTorch (QUICK=1: about a minute)
#   make dist    the sdist, and the wheel built from it, in dist/
#   make check-dist  each of them installed into a fresh venv and used there
#   make dev     an editable install, for a developer's own loop

PYTHON ?= python3
VENV ?= .venv
PY := $(abspath $(VENV))/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
BUILD_DEPS := build "setuptools>=77" "Cython>=3.0" "numpy>=1.25" "scipy>=1.11"

# The bench, the demo, the tests and the docs read Fashion-MNIST from
# ../shared/data when it exists.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)),)
export FASTNN_DATA ?= $(SHARED_DATA)
endif

.PHONY: venv build-deps dist install dev demo test docs check-dist bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(PY)

build-deps: $(PY)
	$(PIP) install -q $(BUILD_DEPS)

# Everything the sdist and the wheel are built from: they are built again
# only when one of these changed (make test, docs and check-dist share them).
SOURCES := setup.py pyproject.toml MANIFEST.in LICENSE README.md \
	$(shell find fastnn src \( -name '*.py' -o -name '*.pyx' -o -name '*.pxi' \
		-o -name '*.pxd' -o -name '*.h' \) -not -path '*/__pycache__/*' 2>/dev/null)

# The sdist first, then the wheel built from the unpacked sdist: a source the
# build needs but the sdist lacks fails here.
dist: dist/.built

dist/.built: $(SOURCES) | build-deps
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist . >build.log 2>&1 || { tail -40 build.log; exit 1; }
	@ls dist
	@touch $@

# A regular (non-editable) install of the wheel, as a user gets it. Each
# target below adds the optional dependencies it needs.
install: dist
	$(PIP) install -q --force-reinstall --no-deps dist/fastnn-*.whl
	$(PIP) install -q "$$(ls dist/fastnn-*.whl)"
extras = $(PIP) install -q "$$(ls dist/fastnn-*.whl)[$(1)]"

# Editable install: the extensions are built into fastnn/ in place.
dev: build-deps
	$(PIP) install -q --no-build-isolation -e ".[test,docs,bench]"

demo: install
	$(PY) bench/demo.py

# The suite runs from tests/, where the checkout's fastnn/ cannot be imported,
# against the installed wheel (conftest.py checks that it is). pytest-xdist
# workers: the suite runs in about half the time on 2 cores.
TEST_WORKERS ?= 2
test: install
	$(call extras,test)
	cd tests && FASTNN_TEST_INSTALLED=1 $(PY) -m pytest -q -n $(TEST_WORKERS) .

# Sphinx warnings are errors; the gallery's examples run while the site builds.
docs: install
	$(call extras,docs)
	cd docs && $(PY) -m sphinx -W --keep-going -b html -j 1 . _build/html

check-dist: dist
	PYTHON=$(PYTHON) .ci/check_install dist/fastnn-*.whl
	PYTHON=$(PYTHON) .ci/check_install dist/fastnn-*.tar.gz

# make bench: the full comparison, results in bench/results/latest.*
# make bench QUICK=1: the small version (about a minute), bench/results/quick.*
# BENCH_ARGS: more options of the bench, e.g. BENCH_ARGS="--only fashion".
bench: install
	$(call extras,bench)
	$(PY) bench/run.py $(if $(filter 1 yes true,$(QUICK)),--quick) $(BENCH_ARGS)

clean:
	rm -rf build dist build.log *.egg-info src/*.c src/*.html src/_registry_codes.pxd fastnn/backends/_numba_dispatch.py fastnn/*.so docs/_build docs/_generated docs/auto_examples docs/api/generated docs/sg_execution_times.rst
