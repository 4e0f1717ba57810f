"""The README is a short front door: its example runs, its table is the bench's.

The checks read the checkout's README.md and bench/, beside this file.
"""

import importlib.util
import json
import re
import warnings
from pathlib import Path

import pytest
import sklearn.datasets
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

pytestmark = pytest.mark.skipif(not README.exists(), reason="needs the checkout's README.md")


def readme():
    return README.read_text()


def test_readme_is_short_and_has_no_history():
    text = readme()
    assert len(text.splitlines()) <= 200
    for history in (r"issue #\d", r"\bsession-", r"in progress", r"\bissue\s+\d"):
        assert not re.search(history, text, re.IGNORECASE), history


def test_headline_table_is_the_reference_results():
    spec = importlib.util.spec_from_file_location("headline", ROOT / "bench" / "headline.py")
    headline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(headline)
    table = readme().split("<!-- bench:headline -->\n")[1].split("<!-- /bench:headline -->")[0]
    expected = headline.headline(json.loads(headline.REFERENCE.read_text()))
    assert table.strip() == "\n".join(expected).strip(), (
        "regenerate it with: python bench/headline.py")


def test_example_runs(monkeypatch):
    code = re.search(r"## Example\n\n```python\n(.*?)```", readme(), re.DOTALL).group(1)
    assert len(code.splitlines()) <= 12
    # The example's own data, made smaller: the same code, a quicker fit.
    load_digits = sklearn.datasets.load_digits

    def few_digits(**kwargs):
        X, y = load_digits(**kwargs)
        return X[:300], y[:300]

    monkeypatch.setattr(sklearn.datasets, "load_digits", few_digits)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(code, str(README), "exec"), namespace)
    search = namespace["search"]
    assert search.best_score_ > 0.8
    assert type(search.best_estimator_).__module__.startswith("fastnn")
