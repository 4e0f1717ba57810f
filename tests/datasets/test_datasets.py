"""fastnn.datasets: the IDX reader, where the loaders look, and downloads.

Every test writes its own tiny IDX files; none needs the network. One test
reads the real Fashion-MNIST when ``$FASTNN_DATA/fashion-mnist`` exists.
"""

import gzip
import hashlib
import io
import os
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from fastnn.datasets import _fetch, _mnist, load_fashion_mnist, load_mnist, read_idx

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# Read before the fixture below clears it for every other test.
REAL_DATA = os.environ.get("FASTNN_DATA")

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


def tiny_set(seed=0, n_train=5, n_test=3):
    """A fake data set: {file name: array} with the shapes of the real one."""
    rng = np.random.default_rng(seed)
    return {
        FILES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        FILES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        FILES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        FILES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_set(folder, arrays):
    for name, array in arrays.items():
        write(folder / name, idx_bytes(array))


def assert_loaded(result, arrays):
    (X_train, y_train), (X_test, y_test) = result
    for got, name in zip((X_train, y_train, X_test, y_test), FILES):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private cache, no FASTNN_DATA, and a network that fails the test if used."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FASTNN_DATA", raising=False)

    def no_network(request, timeout=None):
        raise AssertionError(f"unexpected download of {request.full_url}")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return tmp_path / "xdg" / "fastnn"


def serve(monkeypatch, answers):
    """Patch urlopen: ``answers`` maps URL -> bytes or exception. Returns the URLs asked."""
    asked = []

    def urlopen(request, timeout=None):
        assert timeout == _fetch.TIMEOUT
        asked.append(request.full_url)
        answer = answers.get(request.full_url, urllib.error.URLError("no route"))
        if isinstance(answer, BaseException):
            raise answer
        return io.BytesIO(answer)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return asked


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


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
    with pytest.raises(FileNotFoundError, match="nope.gz"):
        read_idx(tmp_path / "nope.gz")


# --- where the loaders look -------------------------------------------------


@pytest.mark.parametrize(
    "loader, subdir", [(load_fashion_mnist, "fashion-mnist"), (load_mnist, "mnist")]
)
def test_load_from_data_home(tmp_path, loader, subdir):
    arrays = tiny_set()
    write_set(tmp_path / "home" / subdir, arrays)
    assert_loaded(loader(data_home=tmp_path / "home"), arrays)
    assert_loaded(loader(data_home=str(tmp_path / "home"), download=False), arrays)


def test_order_data_home_then_fastnn_data_then_cache(tmp_path, monkeypatch, isolated):
    in_home, in_env, in_cache = tiny_set(1), tiny_set(2), tiny_set(3)
    write_set(tmp_path / "home" / "fashion-mnist", in_home)
    write_set(tmp_path / "env" / "fashion-mnist", in_env)
    write_set(isolated / "fashion-mnist", in_cache)
    monkeypatch.setenv("FASTNN_DATA", str(tmp_path / "env"))

    assert_loaded(load_fashion_mnist(data_home=tmp_path / "home"), in_home)
    assert_loaded(load_fashion_mnist(), in_env)
    monkeypatch.delenv("FASTNN_DATA")
    assert_loaded(load_fashion_mnist(), in_cache)


def test_incomplete_folder_is_skipped_for_the_cache(tmp_path, monkeypatch, isolated):
    # A set is read from one folder: an incomplete FASTNN_DATA copy is passed over.
    in_env, in_cache = tiny_set(1), tiny_set(2)
    write_set(tmp_path / "env" / "mnist", in_env)
    (tmp_path / "env" / "mnist" / FILES[3]).unlink()
    write_set(isolated / "mnist", in_cache)
    monkeypatch.setenv("FASTNN_DATA", str(tmp_path / "env"))
    assert_loaded(load_mnist(), in_cache)


def test_xdg_cache_home_is_honoured(tmp_path, monkeypatch):
    arrays = tiny_set()
    write_set(tmp_path / "elsewhere" / "fastnn" / "mnist", arrays)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert_loaded(load_mnist(download=False), arrays)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _fetch.cache_dir() == tmp_path / "home" / ".cache" / "fastnn"


def test_missing_files_without_download(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("FASTNN_DATA", str(tmp_path / "env"))
    write(tmp_path / "env" / "fashion-mnist" / FILES[0], b"")  # one of four
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(data_home=tmp_path / "home", download=False)
    message = str(info.value)
    for folder in (tmp_path / "home", tmp_path / "env", isolated):
        assert str(folder / "fashion-mnist") in message
    assert "missing " + ", ".join(FILES[1:]) in message
    assert "FASTNN_DATA" in message and "download=True" in message
    assert leftovers(isolated) == []  # nothing created


# --- files that are there but wrong -----------------------------------------


def test_count_mismatch_between_images_and_labels(tmp_path):
    arrays = tiny_set()
    arrays[FILES[3]] = arrays[FILES[3]][:-1]
    write_set(tmp_path / "mnist", arrays)
    with pytest.raises(ValueError, match="holds 3 images but .* holds 2 labels") as info:
        load_mnist(data_home=tmp_path)
    assert str(tmp_path / "mnist" / FILES[2]) in str(info.value)
    assert str(tmp_path / "mnist" / FILES[3]) in str(info.value)


@pytest.mark.parametrize(
    "name, array, match",
    [
        (FILES[0], np.zeros((5, 27, 28), np.uint8), r"shape \(n, 28, 28\)"),
        (FILES[0], np.zeros((5, 28, 28), np.int16), r"shape \(n, 28, 28\)"),
        (FILES[1], np.zeros((5, 1), np.uint8), "1-D uint8"),
    ],
)
def test_wrong_shape_or_type(tmp_path, name, array, match):
    arrays = tiny_set()
    arrays[name] = array
    write_set(tmp_path / "mnist", arrays)
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(data_home=tmp_path)
    assert str(tmp_path / "mnist" / name) in str(info.value)
    assert "Delete it" not in str(info.value)  # not in the cache: not ours to delete


def test_bad_file_in_cache_says_delete_it(isolated):
    write_set(isolated / "mnist", tiny_set())
    write(isolated / "mnist" / FILES[1], b"\x00\x00\x08\x01\x00\x00\x00\x09")  # truncated
    with pytest.raises(ValueError, match="truncated.*Delete it to download a fresh copy"):
        load_mnist()


# --- downloads --------------------------------------------------------------


def official(monkeypatch, dataset, arrays):
    """Gzip ``arrays`` and patch their md5s in as the official ones; {file: bytes}."""
    packed = {name: gzip.compress(idx_bytes(array)) for name, array in arrays.items()}
    for name, data in packed.items():
        monkeypatch.setitem(
            _mnist.DATASETS[dataset]["md5"], name, hashlib.md5(data).hexdigest()
        )
    return packed


def test_download_lands_in_cache(tmp_path, monkeypatch, isolated):
    arrays = tiny_set()
    packed = official(monkeypatch, "Fashion-MNIST", arrays)
    base = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    asked = serve(monkeypatch, {base + name: data for name, data in packed.items()})
    monkeypatch.setenv("FASTNN_DATA", str(tmp_path / "env"))  # empty: skipped

    assert_loaded(load_fashion_mnist(data_home=tmp_path / "home"), arrays)
    assert asked == [base + name for name in FILES]
    assert leftovers(isolated / "fashion-mnist") == sorted(FILES)  # no .part left
    for name, data in packed.items():
        assert (isolated / "fashion-mnist" / name).read_bytes() == data
    assert leftovers(tmp_path / "home") == leftovers(tmp_path / "env") == []

    # Second call: read from the cache, no network.
    asked.clear()
    assert_loaded(load_fashion_mnist(), arrays)
    assert asked == []


def test_download_only_the_missing_files_from_the_next_mirror(monkeypatch, isolated):
    arrays = tiny_set()
    packed = official(monkeypatch, "MNIST", arrays)
    first, second = _mnist.DATASETS["MNIST"]["mirrors"]
    assert first.startswith("https://ossci-datasets.s3.amazonaws.com/")
    for name in FILES[:2]:
        write(isolated / "mnist" / name, packed[name], compress=False)
    answers = {second + name: packed[name] for name in FILES}
    answers[first + FILES[2]] = urllib.error.HTTPError(first, 503, "busy", {}, None)
    answers[first + FILES[3]] = TimeoutError("timed out")
    asked = serve(monkeypatch, answers)

    assert_loaded(load_mnist(), arrays)
    assert asked == [first + FILES[2], second + FILES[2], first + FILES[3], second + FILES[3]]
    assert leftovers(isolated / "mnist") == sorted(FILES)


def test_offline_download_error(tmp_path, monkeypatch, isolated):
    asked = serve(monkeypatch, {})  # every URL: URLError("no route")
    monkeypatch.setenv("FASTNN_DATA", str(tmp_path / "env"))
    with pytest.raises(OSError) as info:
        load_mnist()
    message = str(info.value)
    first, second = _mnist.DATASETS["MNIST"]["mirrors"]
    assert asked == [first + FILES[0], second + FILES[0]]  # gives up at the first file
    assert f"Could not download {FILES[0]}" in message
    assert f"{first}{FILES[0]}: <urlopen error no route>" in message
    assert f"{second}{FILES[0]}: <urlopen error no route>" in message
    assert str(tmp_path / "env" / "mnist") in message and str(isolated / "mnist") in message
    assert "FASTNN_DATA=<dir>" in message
    assert isinstance(info.value.__cause__, OSError)
    assert leftovers(isolated / "mnist") == []


def test_checksum_mismatch_leaves_nothing(monkeypatch, isolated):
    base = _mnist.DATASETS["Fashion-MNIST"]["mirrors"][0]
    wrong = b"not the official file"
    serve(monkeypatch, {base + FILES[0]: wrong})
    with pytest.raises(ValueError) as info:
        load_fashion_mnist()
    message = str(info.value)
    assert FILES[0] in message and base + FILES[0] in message
    assert _mnist.DATASETS["Fashion-MNIST"]["md5"][FILES[0]] in message  # expected
    assert hashlib.md5(wrong).hexdigest() in message  # actual
    assert leftovers(isolated / "fashion-mnist") == []


def test_interrupted_download_leaves_nothing(monkeypatch, isolated):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise KeyboardInterrupt

    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout=None: Broken())
    with pytest.raises(KeyboardInterrupt):
        load_mnist()
    assert leftovers(isolated / "mnist") == []


# --- the real data ----------------------------------------------------------


@pytest.mark.skipif(
    not (REAL_DATA and (Path(REAL_DATA) / "fashion-mnist").is_dir()),
    reason="set FASTNN_DATA to a directory holding fashion-mnist/ to read the real files",
)
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.setenv("FASTNN_DATA", REAL_DATA)
    (X_train, y_train), (X_test, y_test) = load_fashion_mnist(download=False)
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (X_train, y_train, X_test, y_test)} == {np.dtype(np.uint8)}
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    assert X_train.mean() / 255 == pytest.approx(0.2860, abs=1e-4)
    assert X_test.mean() / 255 == pytest.approx(0.2874, abs=1e-4)
