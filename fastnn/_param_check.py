"""Constructor-parameter checks that skip what already passed.

scikit-learn checks every constructor parameter against its constraints at
each ``fit`` (and introspects ``__init__``'s signature to list them). On a
small net that fixed cost is a sizeable part of the fit, and a search fits
clones with the same parameters over and over. The checks depend on the
parameter values alone, so a set of plain values (numbers, strings, None
and tuples or lists of those), each keyed with its exact type, is checked
once per process; anything else is checked every time.
"""

import functools

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import validate_parameter_constraints

# Parameter sets that passed; emptied when it reaches this size.
MAX_REMEMBERED = 1024

_PLAIN = (type(None), bool, int, float, str)
_passed = set()


@functools.cache
def init_param_names(cls):
    """``BaseEstimator._get_param_names`` of ``cls``, introspected once."""
    return tuple(BaseEstimator._get_param_names.__func__(cls))


def _snapshot(value):
    """A hashable record of a plain value and its exact type, or None."""
    kind = type(value)
    if kind in _PLAIN or isinstance(value, (np.integer, np.floating, np.bool_)):
        # The type keeps 1, 1.0 and True apart: constraints tell them apart.
        return (kind, value)
    if kind in (tuple, list):
        items = tuple(_snapshot(v) for v in value)
        if any(item is None for item in items):
            return None
        return (kind, items)
    return None


def _key(estimator, params):
    items = []
    for name, value in params.items():
        snap = _snapshot(value)
        if snap is None:
            return None
        items.append((name, snap))
    return (type(estimator), tuple(items))


def check_params(estimator):
    """Check ``estimator``'s parameters as ``BaseEstimator._validate_params`` does.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        If a parameter breaks its constraints (both a ValueError and a TypeError).
    """
    params = estimator.get_params(deep=False)
    key = _key(estimator, params)
    if key is not None and key in _passed:
        return
    validate_parameter_constraints(
        estimator._parameter_constraints, params, caller_name=type(estimator).__name__
    )
    if key is not None:
        if len(_passed) >= MAX_REMEMBERED:
            _passed.clear()
        _passed.add(key)
