"""The public API's docstrings are valid numpydoc, and the estimators' agree.

Like scikit-learn's ``test_docstring_parameters``: every public class,
function and method that fastnn defines is checked with numpydoc's validator
(parameters documented, in order, with types and descriptions; returns and
summaries well formed), and the parameters and attributes that
``MLPClassifier`` and ``MLPRegressor`` share read the same in both.
"""

import importlib
import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")
from numpydoc.docscrape import ClassDoc  # noqa: E402

import fastnn  # noqa: E402
import fastnn.callbacks  # noqa: E402
import fastnn.datasets  # noqa: E402
from fastnn import MLPClassifier, MLPRegressor  # noqa: E402

# numpydoc's checks that fastnn does not follow, as in scikit-learn: no
# extended summary, See Also or Examples section required everywhere, and
# named returns ("scores : ndarray") allowed.
IGNORED = {"ES01", "SA01", "EX01", "RT02", "GL01", "GL02"}


def public_names():
    names = [f"fastnn.{n}" for n in fastnn.__all__ if n not in ("__version__", "callbacks")]
    names += [f"fastnn.callbacks.{n}" for n in fastnn.callbacks.__all__]
    names += [f"fastnn.datasets.{n}" for n in fastnn.datasets.__all__]
    names += [f"fastnn.backends.{n}" for n in ("backend_status", "backend_capabilities",
                                                "backends_with", "Capabilities")]
    found = []
    for name in names:
        module, _, attr = name.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        found.append(name)
        if inspect.isclass(obj):
            # The methods fastnn defines; inherited scikit-learn ones are its own.
            for method in dir(obj):
                value = getattr(obj, method)
                if (not method.startswith("_") and callable(value)
                        and getattr(value, "__module__", "").startswith("fastnn")):
                    found.append(f"{name}.{method}")
    return found


PUBLIC = public_names()


def test_the_api_is_all_there():
    # A name missing from the list would go unchecked.
    assert len(PUBLIC) > 40
    assert "fastnn.MLPClassifier.fit" in PUBLIC
    assert "fastnn.callbacks.EarlyStopping.on_fit_task_end" in PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_is_valid_numpydoc(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code not in IGNORED]
    assert not errors, f"{name}:\n" + "\n".join(errors)


def _entries(cls, section):
    return {p.name: (p.type, " ".join(p.desc)) for p in ClassDoc(cls)[section]}


@pytest.mark.parametrize("section", ["Parameters", "Attributes"])
def test_shared_entries_read_the_same(section):
    # The classifier's words for its score and its stratified split are the
    # only difference allowed.
    def as_regressor(text):
        return text.replace("accuracy", "R2 score").replace(" (stratified)", "")

    classifier, regressor = _entries(MLPClassifier, section), _entries(MLPRegressor, section)
    shared = classifier.keys() & regressor.keys()
    assert len(shared) > 15
    differ = [name for name in sorted(shared)
              if tuple(map(as_regressor, classifier[name])) != regressor[name]]
    assert not differ, f"{section} documented differently: {differ}"
    own = {"Parameters": ({"class_weight"}, {"loss"}), "Attributes": ({"classes_"}, set())}
    assert (classifier.keys() - shared, regressor.keys() - shared) == own[section]


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_every_parameter_is_documented_in_order(cls):
    documented = list(_entries(cls, "Parameters"))
    assert documented == list(inspect.signature(cls).parameters)
