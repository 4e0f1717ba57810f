"""Every backend reads the registry's names, codes and constants.

``fastnn/_registry.py`` is the one place they are written: the compiled
module gets them from a ``.pxd`` that the build generates from it, and the
Numba and CUDA kernels from ``backends/_scalar.py``, which imports them.
"""

import pytest

from fastnn import _mlp, _registry
from fastnn.backends import _scalar

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
    # The Numba and CUDA kernels' own test.
    assert {name for name, code in _registry.ACTIVATIONS.items()
            if _scalar.derivative_from_input(code)} == expected


def test_scalar_module_codes_are_the_registry():
    for table in (_registry.ACTIVATIONS, _registry.OPTIMIZERS):
        for name, code in table.items():
            assert getattr(_scalar, name.upper()) == code, name
    for i, name in enumerate(_registry.HYPER_FIELDS):
        assert getattr(_scalar, f"H_{name.upper()}") == i, name
