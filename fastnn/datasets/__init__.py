"""Data sets for trying fastnn: MNIST and Fashion-MNIST, and their IDX reader.

``load_fashion_mnist()`` and ``load_mnist()`` return
``(X_train, y_train), (X_test, y_test)`` like ``keras.datasets``. The files are
read from ``data_home``, else ``$FASTNN_DATA``, else the user cache
(``~/.cache/fastnn``), where missing files are downloaded and checksummed.
"""

from ._idx import read_idx
from ._mnist import load_fashion_mnist, load_mnist

__all__ = ["load_fashion_mnist", "load_mnist", "read_idx"]
