# Set-up and everyday commands. Everything installs into a local virtual
# environment (.venv) so a fresh machine needs only Python 3.11 and a C compiler.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
BUILD_DEPS := "setuptools>=70.1" "Cython>=3.0" "numpy>=1.25" "scipy>=1.11"

# The bench and the demo read Fashion-MNIST from ../shared/data when it exists.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)),)
export FASTNN_DATA ?= $(SHARED_DATA)
endif

.PHONY: venv build install demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(PY)

# Editable install: builds the Cython extensions into fastnn/ in place.
# EXTRAS: the optional dependencies installed with it (bench sets its own).
EXTRAS ?= test
build: $(PY)
	$(PIP) install -q $(BUILD_DEPS)
	$(PIP) install -q --no-build-isolation -e ".[$(EXTRAS)]"

install: build

demo: build
	$(PY) bench/demo.py

# pytest-xdist workers: the suite runs in about half the time on 2 cores.
TEST_WORKERS ?= 2
test: build
	$(PY) -m pytest -q -n $(TEST_WORKERS) tests

# make bench: the full comparison, results in bench/results/latest.*
# make bench QUICK=1: the small version (about a minute), bench/results/quick.*
# BENCH_ARGS: more options of python -m bench, e.g. BENCH_ARGS="--only fashion".
bench: EXTRAS = bench
bench: build
	$(PY) -m bench $(if $(filter 1 yes true,$(QUICK)),--quick) $(BENCH_ARGS)

clean:
	rm -rf build *.egg-info src/*.c src/*.html fastnn/*.so
