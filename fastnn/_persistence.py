"""The version of fastnn's pickle format, and the check made on loading.

A pickled estimator carries ``PICKLE_FORMAT`` and the fastnn version that
wrote it. The format number goes up whenever the attributes a fitted model
needs change their meaning or layout, so an older fastnn refuses a model it
would read wrongly instead of predicting garbage. Pickles made before the
format was recorded are format 1.
"""

# The format this fastnn writes, and the newest it reads.
PICKLE_FORMAT = 1
FORMAT_KEY = "_fastnn_pickle_format"
VERSION_KEY = "_fastnn_version"


def _fastnn_version():
    # Imported late: the package imports the estimators, which import this.
    from . import __version__

    return __version__


def stamp(state):
    """Record the pickle format and fastnn's version in ``state`` (changed in place)."""
    state[FORMAT_KEY] = PICKLE_FORMAT
    state[VERSION_KEY] = _fastnn_version()
    return state


def check_format(state, cls_name):
    """Take the format out of ``state``, refusing one newer than this fastnn's.

    Parameters
    ----------
    state : dict
        What ``__getstate__`` returned when the estimator was pickled;
        changed in place.
    cls_name : str
        The estimator's class, for the message.

    Returns
    -------
    state : dict

    Raises
    ------
    ValueError
        If a newer fastnn wrote the pickle in a format this one cannot read.
    """
    found = state.pop(FORMAT_KEY, 1)
    written_by = state.pop(VERSION_KEY, None)
    if type(found) is not int or found > PICKLE_FORMAT:
        by = f"fastnn {written_by}" if written_by else "another fastnn"
        raise ValueError(
            f"This {cls_name} was saved by {by} in pickle format {found!r}, but "
            f"fastnn {_fastnn_version()} reads formats up to {PICKLE_FORMAT}. Upgrade "
            "fastnn to load it, or refit the model with this version."
        )
    return state
