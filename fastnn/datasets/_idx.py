"""Read IDX files, the array format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim``
big-endian uint32 sizes, then the values in C order, big-endian.
"""

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

# IDX type byte -> dtype of the stored values (multi-byte types big-endian).
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path):
    """Read an IDX file, gzip-compressed or plain, into a NumPy array.

    Gzip is recognised by the file's first bytes, not by its name.

    Parameters
    ----------
    path : str or path-like
        The file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    array : ndarray
        The stored array with the shape of the header, in native byte
        order (``uint8``, ``int8``, ``int16``, ``int32``, ``float32`` or
        ``float64``). The array owns its memory and is writable.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not valid IDX: a wrong magic number, an unknown type
        byte, a header or data shorter than the header announces, bytes after
        the data, or a corrupt gzip stream. The message names the file.

    Examples
    --------
    >>> from fastnn.datasets import read_idx
    >>> images = read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    buf = path.read_bytes()
    if buf[:2] == _GZIP_MAGIC:
        try:
            buf = gzip.decompress(buf)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt gzip data ({exc}).") from exc
    return _parse_idx(buf, path)


def _parse_idx(buf, path):
    if len(buf) < 4:
        raise ValueError(f"{path}: {len(buf)} bytes, too short for an IDX header.")
    zero_a, zero_b, type_code, ndim = buf[:4]
    if zero_a or zero_b:
        raise ValueError(
            f"{path}: not an IDX file: magic number starts {buf[:2].hex(' ')}, "
            "expected 00 00."
        )
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX type byte 0x{type_code:02X} (known: {known}).")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header announces 0 dimensions.")

    header_len = 4 + 4 * ndim
    if len(buf) < header_len:
        raise ValueError(
            f"{path}: truncated IDX header: {ndim} dimensions need {header_len} "
            f"bytes, the file has {len(buf)}."
        )
    shape = tuple(int(d) for d in np.frombuffer(buf, ">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    count = math.prod(shape)
    expected = count * dtype.itemsize
    found = len(buf) - header_len
    if found != expected:
        problem = "truncated" if found < expected else "too long"
        raise ValueError(
            f"{path}: {problem}: the header announces shape {shape} of {dtype.name} "
            f"({expected} bytes of data), the file holds {found}."
        )
    # astype copies: native byte order, writable, and the file's bytes are freed.
    data = np.frombuffer(buf, dtype, count=count, offset=header_len)
    return data.astype(dtype.newbyteorder("=")).reshape(shape)
