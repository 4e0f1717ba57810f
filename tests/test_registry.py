"""Every backend reads the registry's names, codes and constants.

``fastnn/_registry.py`` is the one place they are written: the compiled
module gets them from a ``.pxd`` that the build generates from it, the
Numba CPU kernels' dispatch on activation and optimizer codes is generated
from it too (``backends/_numba_dispatch.py``), and the Numba and CUDA kernels
read the codes from ``backends/_scalar.py``, which imports them.
"""

import pytest

from fastnn import _mlp, _registry
from fastnn.backends import _numba_dispatch, _scalar

CONSTANTS = ("ELU_ALPHA", "SELU_ALPHA", "SELU_SCALE", "NADAM_MOMENTUM_DECAY")


@pytest.fixture(scope="module")
def compiled():
    return _mlp.registry()


@pytest.mark.parametrize("table", ["ACTIVATIONS", "LOSSES", "OPTIMIZERS"])
def test_compiled_codes_are_the_registry(compiled, table):
    assert compiled[table] == getattr(_registry, table)


def test_compiled_hyper_positions_are_the_registry(compiled):
    assert compiled["HYPER_FIELDS"] == {name: i for i, name in enumerate(_registry.HYPER_FIELDS)}


@pytest.mark.parametrize("name", CONSTANTS)
def test_compiled_constants_are_the_registry(compiled, name):
    assert compiled[name] == getattr(_registry, name)


def test_derivative_from_input_is_the_registry(compiled):
    expected = set(_registry.DERIVATIVE_FROM_INPUT)
    assert {name for name, yes in compiled["DERIVATIVE_FROM_INPUT"].items() if yes} == expected
    # The Numba CPU kernels' own test, generated from the registry.
    assert {name for name, code in _registry.ACTIVATIONS.items()
            if _numba_dispatch.derivative_from_input.py_func(code)} == expected


def test_numba_dispatch_covers_every_unit_by_unit_activation():
    # Each activation not run by code of its own gets a branch of its own;
    # identity is the fallback (forward) and needs none (backward).
    own = set(_registry.LAYER_ACTIVATIONS) | {"identity"}
    acts = _registry.ACTIVATIONS
    assert set(_numba_dispatch.FORWARD_CODES) == {acts[n] for n in acts if n not in own}
    assert set(_numba_dispatch.BACKWARD_CODES) == {
        acts[n] for n in _registry.HIDDEN_ACTIVATIONS if n not in own}


def test_numba_dispatch_steps_every_optimizer():
    assert _numba_dispatch.OPTIMIZER_BUFFERS == {
        spec["code"]: len(spec["buffers"]) for spec in _registry.OPTIMIZER_SPECS.values()}


def test_step_coefficients_follow_the_hyper_layout():
    # The updates read the hyper fields at K_<NAME>, after the step's 3 scalars.
    hyper = [10.0 + i for i in range(len(_registry.HYPER_FIELDS))]
    k = _scalar.coefficients((1.0, 2.0, 3.0), hyper, float)
    assert len(k) == 3 + len(_registry.HYPER_FIELDS) - 1
    assert k[:3] == (1.0, 2.0, 3.0)
    for name in _registry.HYPER_FIELDS[1:]:
        position = getattr(_scalar, f"K_{name.upper()}", None)
        if position is not None:
            assert k[position] == hyper[_registry.HYPER_FIELDS.index(name)], name
    assert k[3:] == tuple(hyper[1:])


def test_scalar_module_codes_are_the_registry():
    for table in (_registry.ACTIVATIONS, _registry.OPTIMIZERS):
        for name, code in table.items():
            assert getattr(_scalar, name.upper()) == code, name
    for i, name in enumerate(_registry.HYPER_FIELDS):
        assert getattr(_scalar, f"H_{name.upper()}") == i, name
