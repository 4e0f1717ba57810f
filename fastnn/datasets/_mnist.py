"""MNIST and Fashion-MNIST: the four official IDX files, found or downloaded."""

from ._fetch import cache_dir, data_roots, download
from ._idx import read_idx

# The official file names, in the order the loaders read them.
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# Per data set: its directory under a data root, mirrors tried in order, and the
# md5 of each official file (checked on download only).
DATASETS = {
    "Fashion-MNIST": {
        "subdir": "fashion-mnist",
        # md5s: github.com/zalandoresearch/fashion-mnist README, "Get the Data".
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
    "MNIST": {
        "subdir": "mnist",
        # Mirrors and md5s: torchvision/datasets/mnist.py; the PyTorch mirror
        # first because yann.lecun.com often refuses (pytorch/vision#8568).
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
}


def _load(name, data_home, download_missing):
    spec = DATASETS[name]
    folders = [root / spec["subdir"] for root in data_roots(data_home)]
    folder = next((f for f in folders if all((f / file).is_file() for file in FILES)), None)
    if folder is None:
        if not download_missing:
            raise FileNotFoundError(
                f"{name} not found; none of these directories holds all of {', '.join(FILES)}:\n"
                + _describe(folders)
                + "\nPass download=True, or put the files in one of them "
                "(set FASTNN_DATA to a directory that holds "
                f"{spec['subdir']}/)."
            )
        folder = folders[-1]  # the cache
        _download_missing(name, spec, folder, folders)

    arrays = []
    for file in FILES:
        try:
            arrays.append(read_idx(folder / file))
        except ValueError as exc:
            if _in_cache(folder):
                raise ValueError(_with_cache_hint(str(exc), folder)) from exc
            raise
    X_train, y_train, X_test, y_test = arrays
    _check_pair(X_train, y_train, folder, FILES[0], FILES[1])
    _check_pair(X_test, y_test, folder, FILES[2], FILES[3])
    return (X_train, y_train), (X_test, y_test)


def _download_missing(name, spec, cache, folders):
    for file in FILES:
        if (cache / file).is_file():
            continue
        urls = [mirror + file for mirror in spec["mirrors"]]
        try:
            download(urls, cache / file, spec["md5"][file])
        except OSError as exc:
            raise OSError(
                f"{exc}\n{name} was looked for in:\n{_describe(folders)}\n"
                f"Without network access, fetch the four files ({', '.join(FILES)}) "
                f"from {spec['mirrors'][0]} by other means and put them in "
                f"<dir>/{spec['subdir']}/ with FASTNN_DATA=<dir> set, or in {cache}/."
            ) from exc


def _describe(folders):
    lines = []
    for folder in folders:
        missing = [file for file in FILES if not (folder / file).is_file()]
        if not folder.is_dir():
            state = "does not exist"
        elif len(missing) == len(FILES):
            state = "none of the files"
        else:
            state = "missing " + ", ".join(missing) if missing else "complete"
        lines.append(f"  {folder} ({state})")
    return "\n".join(lines)


def _check_pair(images, labels, folder, image_file, label_file):
    if images.dtype != "uint8" or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            _with_cache_hint(
                f"{folder / image_file}: expected uint8 images of shape (n, 28, 28), "
                f"found {images.dtype} of shape {images.shape}.",
                folder,
            )
        )
    if labels.dtype != "uint8" or labels.ndim != 1:
        raise ValueError(
            _with_cache_hint(
                f"{folder / label_file}: expected a 1-D uint8 array of labels, "
                f"found {labels.dtype} of shape {labels.shape}.",
                folder,
            )
        )
    if len(images) != len(labels):
        raise ValueError(
            _with_cache_hint(
                f"{folder / image_file} holds {len(images)} images but "
                f"{folder / label_file} holds {len(labels)} labels.",
                folder,
            )
        )


def _in_cache(folder):
    return folder.parent == cache_dir()


def _with_cache_hint(message, folder):
    # A bad file in the cache is fixed by downloading it again.
    if _in_cache(folder):
        return f"{message} Delete it to download a fresh copy."
    return message


def load_fashion_mnist(data_home=None, download=True):
    """Load Fashion-MNIST, 70,000 28x28 grayscale images of clothing in 10 classes.

    The classes are 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat,
    5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot (Zalando Research,
    MIT licence).

    Parameters
    ----------
    data_home : str or path-like, default=None
        A directory holding ``fashion-mnist/`` with the four files. Looked in
        first; when it lacks them, ``$FASTNN_DATA`` and then the cache are
        tried.
    download : bool, default=True
        Download the files that are missing into the cache. With ``False``,
        missing files raise ``FileNotFoundError``.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of two tuples of ndarray
        ``X_train`` is ``uint8`` of shape ``(60000, 28, 28)``, ``X_test`` of
        shape ``(10000, 28, 28)``, pixel values 0-255; ``y_train`` and
        ``y_test`` are ``uint8`` labels 0-9 of shape ``(60000,)`` and
        ``(10000,)``: the layout of ``keras.datasets.fashion_mnist``.

    Raises
    ------
    FileNotFoundError
        If ``download=False`` and no directory holds the four files; the
        message lists the directories searched.
    OSError
        If a download fails (no network, no mirror answers); the message
        names the file, the URLs tried, the directories searched and how to
        place the files by hand.
    ValueError
        If a downloaded file does not have the official md5 (it is deleted),
        or a file found is not valid IDX or does not fit the others (images
        not ``(n, 28, 28)`` uint8, or a different number of images and
        labels).

    See Also
    --------
    load_mnist : The handwritten digits, same format.
    read_idx : Read one IDX file.

    Notes
    -----
    The four files, with their official names ``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz``, are read from the first of these
    directories that holds all four:

    1. ``<data_home>/fashion-mnist/``,
    2. ``$FASTNN_DATA/fashion-mnist/``,
    3. the cache, ``$XDG_CACHE_HOME/fastnn/fashion-mnist/``, or
       ``~/.cache/fastnn/fashion-mnist/`` when ``XDG_CACHE_HOME`` is unset.

    Files are only ever downloaded into the cache, from
    http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/. A download
    is checked against the official md5 before it is renamed into place.
    Files already on disk are not checksummed, so a rebuilt or recompressed
    copy works; they are checked for structure instead (IDX magic number,
    sizes that match the file's length, 28x28 uint8 images, as many labels
    as images).

    Without network access, fetch the four files by other means and put them
    in ``$FASTNN_DATA/fashion-mnist/`` (or in the cache directory above).

    Examples
    --------
    Flatten the images to 784 features and scale them to [0, 1] for an MLP:

    >>> from fastnn import MLPClassifier
    >>> from fastnn.datasets import load_fashion_mnist
    >>> (X_train, y_train), (X_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    >>> X_train = X_train.reshape(len(X_train), -1) / 255  # doctest: +SKIP
    >>> X_test = X_test.reshape(len(X_test), -1) / 255  # doctest: +SKIP
    >>> clf = MLPClassifier(hidden_layer_sizes=(256, 128), batch_size=256)
    >>> clf.fit(X_train, y_train).score(X_test, y_test)  # doctest: +SKIP

    ``X.reshape(len(X), -1).astype(np.float32) / 255`` gives float32 instead,
    which fastnn trains in float32, faster.
    """
    return _load("Fashion-MNIST", data_home, download)


def load_mnist(data_home=None, download=True):
    """Load MNIST, 70,000 28x28 grayscale images of handwritten digits 0-9.

    Parameters
    ----------
    data_home : str or path-like, default=None
        A directory holding ``mnist/`` with the four files. Looked in first;
        when it lacks them, ``$FASTNN_DATA`` and then the cache are tried.
    download : bool, default=True
        Download the files that are missing into the cache. With ``False``,
        missing files raise ``FileNotFoundError``.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of two tuples of ndarray
        ``X_train`` is ``uint8`` of shape ``(60000, 28, 28)``, ``X_test`` of
        shape ``(10000, 28, 28)``, pixel values 0-255; ``y_train`` and
        ``y_test`` are ``uint8`` labels 0-9 of shape ``(60000,)`` and
        ``(10000,)``: the layout of ``keras.datasets.mnist``.

    Raises
    ------
    FileNotFoundError
        If ``download=False`` and no directory holds the four files; the
        message lists the directories searched.
    OSError
        If a download fails (no network, no mirror answers); the message
        names the file, the URLs tried, the directories searched and how to
        place the files by hand.
    ValueError
        If a downloaded file does not have the official md5 (it is deleted),
        or a file found is not valid IDX or does not fit the others.

    See Also
    --------
    load_fashion_mnist : Clothing images, same format, a harder problem.
    read_idx : Read one IDX file.

    Notes
    -----
    Files are found as for :func:`load_fashion_mnist`, in ``mnist/`` instead
    of ``fashion-mnist/``: ``<data_home>/mnist/``, ``$FASTNN_DATA/mnist/``,
    then the cache (``$XDG_CACHE_HOME/fastnn/mnist/`` or
    ``~/.cache/fastnn/mnist/``). Missing files are downloaded into the cache
    from https://ossci-datasets.s3.amazonaws.com/mnist/ (PyTorch's mirror),
    else http://yann.lecun.com/exdb/mnist/, and checked against the
    official md5; files already on disk are checked for structure only.

    Examples
    --------
    >>> from fastnn.datasets import load_mnist
    >>> (X_train, y_train), (X_test, y_test) = load_mnist()  # doctest: +SKIP
    >>> X_train = X_train.reshape(len(X_train), -1) / 255  # doctest: +SKIP
    >>> X_train.shape  # doctest: +SKIP
    (60000, 784)
    """
    return _load("MNIST", data_home, download)
