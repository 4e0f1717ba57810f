"""fastnn.datasets: the IDX reader.

Every test writes its own tiny IDX files.
"""

import gzip
import struct

import numpy as np
import pytest

from fastnn.datasets import read_idx

TYPE_CODES = {"u1": 0x08, "i1": 0x09, ">i2": 0x0B, ">i4": 0x0C, ">f4": 0x0D, ">f8": 0x0E}


def idx_bytes(array):
    """IDX encoding of ``array``: written from the format's description."""
    array = np.asarray(array)
    big = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    code = TYPE_CODES[big.str.lstrip("|")]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big).tobytes()


def write(path, data, compress=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# --- read_idx ---------------------------------------------------------------


def test_read_idx_hand_written_bytes(tmp_path):
    # uint8 vector [1, 2, 3], and int16 matrix [[258, -2]]: big-endian on disk.
    vec = write(tmp_path / "v", bytes.fromhex("00000801 00000003 010203"), compress=False)
    mat = write(tmp_path / "m", bytes.fromhex("00000b02 00000001 00000002 0102 fffe"))
    np.testing.assert_array_equal(read_idx(vec), np.array([1, 2, 3], np.uint8))
    assert read_idx(vec).dtype == np.uint8
    np.testing.assert_array_equal(read_idx(mat), np.array([[258, -2]], np.int16))
    assert read_idx(mat).dtype == np.int16


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("code", list(TYPE_CODES))
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5)])
def test_read_idx_round_trip(tmp_path, code, compress, shape):
    rng = np.random.default_rng(0)
    dtype = np.dtype(code)
    if dtype.kind == "f":
        array = rng.normal(0, 1e3, shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    path = write(tmp_path / "a.idx", idx_bytes(array), compress=compress)

    got = read_idx(path)
    np.testing.assert_array_equal(got, array)
    assert got.dtype == dtype.newbyteorder("=")  # native order, whatever is on disk
    assert got.shape == shape
    assert got.flags.writeable and got.flags.c_contiguous
    assert read_idx(str(path)).shape == shape  # str paths too


def test_read_idx_gzip_by_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    plain_named_gz = write(tmp_path / "plain.gz", idx_bytes(array), compress=False)
    gzip_named_plain = write(tmp_path / "packed.idx", idx_bytes(array), compress=True)
    np.testing.assert_array_equal(read_idx(plain_named_gz), array)
    np.testing.assert_array_equal(read_idx(gzip_named_plain), array)


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"\x01\x02\x08\x02" + GOOD[4:], "not an IDX file"),
        (b"\x00\x00\x0a\x02" + GOOD[4:], "unknown IDX type byte 0x0A"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (GOOD[:10], "truncated IDX header"),
        (GOOD[:-1], "truncated"),
        (GOOD[:12], "truncated"),
        (GOOD + b"\x00", "too long"),
    ],
    ids=[
        "empty", "short", "magic", "type", "ndim0", "header", "data-1", "no-data", "extra"
    ],
)
@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_read_idx_rejects_bad_files(tmp_path, data, match, compress):
    path = write(tmp_path / "bad-file.gz", data, compress=compress)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_truncated_or_corrupt_gzip(tmp_path):
    packed = gzip.compress(GOOD)
    cut = write(tmp_path / "cut.gz", packed[: len(packed) // 2], compress=False)
    with pytest.raises(ValueError, match="corrupt gzip") as info:
        read_idx(cut)
    assert str(cut) in str(info.value)
    flipped = bytearray(packed)
    flipped[-8] ^= 0xFF  # CRC of the content
    bad_crc = write(tmp_path / "crc.gz", bytes(flipped), compress=False)
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(bad_crc)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")
