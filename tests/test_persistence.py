"""Estimators survive pickle, joblib and cloudpickle; the pickle format is versioned."""

import io
import pickle
import types
import warnings

import cloudpickle
import joblib
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning

from fastnn import MLPClassifier, MLPRegressor, __version__
from fastnn._persistence import FORMAT_KEY, PICKLE_FORMAT, VERSION_KEY
from fastnn.callbacks import EarlyStopping, ReduceLROnPlateau
from _backends import CPU

X_clf, y_clf = load_digits(return_X_y=True)
X_clf = X_clf[:600] / 16.0
y_clf = y_clf[:600]
X_reg, y_reg = load_diabetes(return_X_y=True)
y_reg = y_reg / 100.0


def _joblib_round_trip(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


ROUND_TRIPS = {
    "pickle": lambda est: pickle.loads(pickle.dumps(est)),
    "joblib": _joblib_round_trip,
    # What Dask and loky use to ship estimators to their workers.
    "cloudpickle": lambda est: pickle.loads(cloudpickle.dumps(est)),
}

MODELS = {
    "plain": dict(),
    "features": dict(activation="gelu", dropout=0.2, batch_norm=True, solver="adamw",
                     early_stopping=True, clipnorm=1.0),
    "lbfgs": dict(solver="lbfgs", activation="elu"),
}


def _data(cls):
    return (X_clf, y_clf) if cls is MLPClassifier else (X_reg, y_reg)


def _outputs(est, X):
    return est.predict_proba(X) if isinstance(est, MLPClassifier) else est.predict(X)


def _fit(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*_data(type(est)))


def _make(cls, model, backend, **extra):
    return cls(hidden_layer_sizes=(16, 8), max_iter=4, random_state=0, backend=backend,
               **MODELS[model], **extra)


@pytest.mark.parametrize("trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("backend", CPU)
@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_fitted_round_trip_predicts_the_same(cls, model, backend, trip):
    est = _fit(_make(cls, model, backend))
    X = _data(cls)[0]
    restored = ROUND_TRIPS[trip](est)
    assert type(restored) is cls
    assert restored.get_params() == est.get_params()
    np.testing.assert_array_equal(_outputs(restored, X), _outputs(est, X))
    assert getattr(restored, "loss_curve_", None) == getattr(est, "loss_curve_", None)
    assert restored.n_iter_ == est.n_iter_
    # The version stamp is pickle's business only: it stays out of the model.
    assert FORMAT_KEY not in vars(restored) and VERSION_KEY not in vars(restored)


@pytest.mark.parametrize("trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_unfitted_round_trip_fits_the_same(cls, trip):
    est = _make(cls, "features", "auto")
    restored = ROUND_TRIPS[trip](est)
    assert not hasattr(restored, "coefs_")
    X = _data(cls)[0]
    np.testing.assert_array_equal(_outputs(_fit(restored), X), _outputs(_fit(est), X))


def test_round_trip_keeps_callbacks_and_continues_training():
    est = _make(MLPClassifier, "plain", "auto", early_stopping=True)
    est.set_callbacks(EarlyStopping(patience=2), ReduceLROnPlateau(patience=1))
    _fit(est)
    for trip in ROUND_TRIPS.values():
        restored = trip(est)
        assert [type(c) for c in restored._skl_callbacks] == [EarlyStopping, ReduceLROnPlateau]
        again = trip(est)
        _fit(again.set_params(warm_start=True, max_iter=2))
        _fit(restored.set_params(warm_start=True, max_iter=2))
        assert restored.loss_curve_ == again.loss_curve_ != est.loss_curve_
        np.testing.assert_array_equal(again.predict_proba(X_clf), restored.predict_proba(X_clf))


def _unpicklable(value, path="est"):
    """Paths inside ``value`` to functions, modules and compiled objects."""
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                          types.ModuleType)) or "numba" in type(value).__module__:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _unpicklable(v, f"{path}[{k!r}]")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _unpicklable(v, f"{path}[{i}]")]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return [p for k, v in vars(value).items() for p in _unpicklable(v, f"{path}.{k}")]
    return []


@pytest.mark.parametrize("backend", CPU)
@pytest.mark.parametrize("model", sorted(MODELS))
def test_nothing_unpicklable_is_stored(backend, model):
    est = _fit(_make(MLPClassifier, model, backend, n_iter_no_change=2))
    assert _unpicklable(est) == []
    # The standard pickle (no cloudpickle) takes it, so does a deep copy.
    pickle.dumps(est.__getstate__())


def test_pickle_carries_the_format_and_version():
    est = _fit(_make(MLPRegressor, "plain", "auto"))
    state = est.__getstate__()
    assert state[FORMAT_KEY] == PICKLE_FORMAT
    assert state[VERSION_KEY] == __version__
    # Pickling does not stamp the live estimator.
    assert FORMAT_KEY not in vars(est)


@pytest.mark.parametrize("found", [PICKLE_FORMAT + 1, "2"])
def test_newer_format_is_refused_clearly(found):
    est = _fit(_make(MLPClassifier, "plain", "auto"))
    state = est.__getstate__()
    state[FORMAT_KEY] = found
    state[VERSION_KEY] = "9.0"
    with pytest.raises(ValueError, match=r"MLPClassifier was saved by fastnn 9\.0 in pickle "
                                         r"format .*reads formats up to 1\. Upgrade fastnn"):
        MLPClassifier.__new__(MLPClassifier).__setstate__(state)


def test_newer_format_is_refused_through_pickle_loads(monkeypatch):
    # A pickle written by a fastnn whose format is newer than this one's.
    import fastnn._persistence as persistence

    est = _fit(_make(MLPClassifier, "plain", "auto"))
    monkeypatch.setattr(persistence, "PICKLE_FORMAT", PICKLE_FORMAT + 1)
    blob = pickle.dumps(est)
    monkeypatch.setattr(persistence, "PICKLE_FORMAT", PICKLE_FORMAT)
    with pytest.raises(ValueError, match="Upgrade fastnn to load it"):
        pickle.loads(blob)


def test_pickle_without_format_loads_as_format_1():
    # Pickles written before the format was recorded.
    est = _fit(_make(MLPClassifier, "plain", "auto"))
    state = est.__getstate__()
    del state[FORMAT_KEY], state[VERSION_KEY]
    old = MLPClassifier.__new__(MLPClassifier)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict_proba(X_clf), est.predict_proba(X_clf))
