#!/usr/bin/env bash
# One lent-GPU session in one command: environment, build, the CUDA tests on
# the real GPU, then the GPU bench workload. Run from the repository root on
# the GPU machine; logs and bench results go to $OUT (default: gpu-out/).
#
#   bash bench/gpu_session.sh [tests|bench|all]
#
# Wheels in .whl/ are installed into /tmp/site first; FASTNN_DATA should name a
# directory holding fashion-mnist/ for the bench.
set -u
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
what=${1:-all}
export PYTHONUNBUFFERED=1
PY=${PY:-python3}

nvidia-smi -L
$PY - <<'PYEOF'
import importlib.metadata as md, sys
print("python", sys.version.split()[0])
for d in ("numpy", "scipy", "scikit-learn", "numba", "numba-cuda", "llvmlite", "Cython", "torch"):
    try:
        print(d, md.version(d))
    except md.PackageNotFoundError:
        print(d, "missing")
PYEOF
# Wheels carried in .whl/ replace the machine's own (numba-cuda 0.30 cannot
# compile with numpy 2.5: it registers np.row_stack, which 2.5 removed).
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
    echo "installed from .whl: $(ls .whl)"
fi
$PY -c "import sklearn, sys; sys.exit(tuple(map(int, sklearn.__version__.split('.')[:2])) < (1, 9))" \
    || { echo "scikit-learn >= 1.9 needed"; exit 1; }
$PY -c "import numpy; print('numpy in use', numpy.__version__)"
$PY setup.py build_ext --inplace -q > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
$PY -c "from fastnn.backends import backend_status; print(backend_status())"

if [ "$what" != bench ]; then
    FASTNN_TEST_GPU=1 timeout "${TEST_TIMEOUT:-330}" $PY -m pytest -q -p no:cacheprovider \
        -n "${TEST_WORKERS:-8}" -rs --durations=15 tests/backends/test_cuda.py tests/test_activations.py -k cuda \
        > "$OUT/tests.log" 2>&1
    echo "tests exit code: $?"
    tail -40 "$OUT/tests.log"
fi
if [ "$what" != tests ]; then
    timeout "${BENCH_TIMEOUT:-400}" $PY -m bench --only gpu --backends cuda --no-download \
        --name "${BENCH_NAME:-gpu}" --out "$OUT" > "$OUT/bench.log" 2>&1
    echo "bench exit code: $?"
    tail -40 "$OUT/bench.log"
fi
