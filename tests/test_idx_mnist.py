"""IDX reader on tiny generated files (good and corrupt), the shipped MNIST files, user folders, ImageSource."""

import gzip
import hashlib
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from aigc_core.errors import DataError
from aigc_core.idx import parse_idx, read_idx
from aigc_core.mnist import DATA_DIR, Digits, ImageSource, load_mnist

# --- tiny generated IDX files -----------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, *, type_code: int = 0x08) -> bytes:
    """An IDX file written by hand, independent of the reader: 0x0000, type, ndim, big-endian dims, payload."""
    header = struct.pack(">HBB", 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write(path: Path, data: bytes, *, gz: bool) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5)], ids=["1d", "3d"])
def test_read_idx_round_trip(tmp_path, gz, shape):
    array = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    path = write(tmp_path / ("f.gz" if gz else "f"), idx_bytes(array), gz=gz)
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == shape
    np.testing.assert_array_equal(out, array)


def test_read_idx_empty_dimension(tmp_path):
    out = read_idx(write(tmp_path / "empty", idx_bytes(np.zeros((0, 28, 28), np.uint8)), gz=False))
    assert out.shape == (0, 28, 28)


GOOD = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"", r"too short"),
        (b"\x00\x00", r"too short"),
        (b"\x12\x34" + GOOD[2:], r"not an IDX file .*bad magic"),  # non-zero leading bytes
        (b"\x00\x00\x08\x00", r"not an IDX file .*bad magic"),  # zero dimensions
        (b"\x00\x00\x08\x09" + b"\x00" * 36, r"not an IDX file .*bad magic"),  # 9 dimensions
        (b"%PDF-1.7 not an idx file", r"not an IDX file"),
        (GOOD[:2] + b"\x0d" + GOOD[3:], r"type 0x0d.*only unsigned bytes"),  # float32 type code
        (GOOD[:2] + b"\x0b" + GOOD[3:], r"type 0x0b.*only unsigned bytes"),  # int16 type code
        (GOOD[:9], r"truncated inside its header"),  # 3 dims need a 16-byte header
        (GOOD[:-1], r"header says \(2, 3, 4\) = 24 values but the file holds 23 \(truncated\)"),
        (GOOD + b"\x00\x01", r"holds 26 \(trailing data\)"),
        (struct.pack(">HBBIII", 0, 8, 3, 60000, 28, 28) + bytes(100), r"47,040,000 values .*truncated"),
        (struct.pack(">HBBIIII", 0, 8, 4, 2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1), r"implausible size"),
    ],
    ids=[
        "empty", "two-bytes", "bad-magic", "zero-dims", "nine-dims", "foreign", "float-type", "int16-type",
        "header-truncated", "payload-truncated", "trailing-bytes", "header-claims-more", "absurd-header",
    ],
)
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_corrupt_idx_raises_readable_data_error(tmp_path, data, pattern, gz):
    path = write(tmp_path / ("broken.gz" if gz else "broken"), data, gz=gz)
    with pytest.raises(DataError, match=pattern) as info:
        read_idx(path)
    assert "broken" in str(info.value)  # the message names the file


def test_parse_idx_names_the_source():
    with pytest.raises(DataError, match=r"^upload\.bin is truncated inside its header"):
        parse_idx(GOOD[:6], name="upload.bin")


def test_damaged_gzip_raises_data_error(tmp_path):
    """Every kind of gzip damage (truncated stream, flipped bytes in the deflate data or the CRC) is a DataError."""
    payload = idx_bytes(np.random.default_rng(1).integers(0, 256, (20, 28, 28), dtype=np.uint8))
    compressed = gzip.compress(payload)
    damaged = {"truncated": compressed[: len(compressed) // 2], "header-only": compressed[:10]}
    for offset in (10, 12, 30, len(compressed) // 2, len(compressed) - 6):  # deflate stream and CRC32
        flipped = bytearray(compressed)
        flipped[offset] ^= 0xFF
        damaged[f"flip@{offset}"] = bytes(flipped)
    for label, data in damaged.items():
        path = tmp_path / "damaged.gz"
        path.write_bytes(data)
        with pytest.raises(DataError, match=r"damaged\.gz") as info:
            read_idx(path)
        assert isinstance(info.value, DataError), label


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(DataError, match=r"Cannot read nothing-here"):
        read_idx(tmp_path / "nothing-here")
    with pytest.raises(DataError, match=r"Cannot read"):
        read_idx(tmp_path)  # a directory


# --- the shipped MNIST files ------------------------------------------------------------------------------


def _source_table() -> dict[str, tuple[int, str]]:
    """(bytes, sha256) per file, read from data/mnist/SOURCE.md."""
    rows = re.findall(r"^\| (\S+\.gz) \| ([\d,]+) \| [0-9a-f]{32} \| ([0-9a-f]{64}) \|$",
                      (DATA_DIR / "SOURCE.md").read_text(encoding="utf-8"), re.MULTILINE)
    return {name: (int(size.replace(",", "")), sha) for name, size, sha in rows}


def test_shipped_files_match_source_md_sha256():
    table = _source_table()
    assert sorted(table) == sorted(p.name for p in DATA_DIR.glob("*.gz")) and len(table) == 4
    for name, (size, sha256) in table.items():
        data = (DATA_DIR / name).read_bytes()
        assert len(data) == size, name
        assert hashlib.sha256(data).hexdigest() == sha256, name


def test_shipped_mnist_shapes_labels_and_counts():
    train, test = load_mnist("train"), load_mnist("test")
    assert train.images.shape == (60_000, 28, 28) and train.labels.shape == (60_000,)
    assert test.images.shape == (10_000, 28, 28) and test.labels.shape == (10_000,)
    assert train.images.dtype == test.images.dtype == np.uint8
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert test.labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(train.labels, minlength=10).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(test.labels, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train.images.max() == 255 and train.images.min() == 0
    assert load_mnist("test") is test  # cached


def test_load_mnist_rejects_unknown_split():
    from aigc_core.errors import ConfigError

    with pytest.raises(ConfigError, match="split must be"):
        load_mnist("validation")  # type: ignore[arg-type]


# --- a user-supplied folder -------------------------------------------------------------------------------


def _fake_set(folder: Path, *, n_train: int = 6, n_test: int = 4, gz: bool = True, sep: str = "-") -> None:
    rng = np.random.default_rng(2)
    suffix = ".gz" if gz else ""
    for stem, n in (("train", n_train), ("t10k", n_test)):
        write(folder / f"{stem}-images{sep}idx3-ubyte{suffix}", idx_bytes(rng.integers(0, 256, (n, 28, 28))), gz=gz)
        write(folder / f"{stem}-labels{sep}idx1-ubyte{suffix}", idx_bytes(np.arange(n) % 10), gz=gz)


@pytest.mark.parametrize(("gz", "sep"), [(True, "-"), (False, "."), (False, "-")])
def test_user_folder_loads(tmp_path, gz, sep):
    _fake_set(tmp_path, gz=gz, sep=sep)
    train = load_mnist("train", folder=tmp_path)
    test = load_mnist("test", folder=str(tmp_path))
    assert train.images.shape == (6, 28, 28) and train.labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert test.images.shape == (4, 28, 28) and test.labels.tolist() == [0, 1, 2, 3]


def test_user_folder_missing_files(tmp_path):
    with pytest.raises(DataError, match=r"No file 'train-images-idx3-ubyte\[\.gz\]'"):
        load_mnist("train", folder=tmp_path)
    _fake_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    load_mnist("train", folder=tmp_path)  # the train split is complete
    with pytest.raises(DataError, match=r"No file 't10k-labels-idx1-ubyte"):
        load_mnist("test", folder=tmp_path)


def test_user_folder_inconsistent_files(tmp_path):
    wrong_size = tmp_path / "wrong-size"
    wrong_size.mkdir()
    _fake_set(wrong_size)
    write(wrong_size / "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((6, 32, 32))), gz=True)
    with pytest.raises(DataError, match=r"Expected 28x28 images .* \(6, 32, 32\)"):
        load_mnist("train", folder=wrong_size)

    count = tmp_path / "count"
    count.mkdir()
    _fake_set(count)
    write(count / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(5)), gz=True)
    with pytest.raises(DataError, match=r"6 images but \(5,\) labels"):
        load_mnist("train", folder=count)

    labels = tmp_path / "labels"
    labels.mkdir()
    _fake_set(labels)
    write(labels / "train-labels-idx1-ubyte.gz", idx_bytes(np.array([0, 1, 2, 3, 4, 42])), gz=True)
    with pytest.raises(DataError, match=r"Labels must be 0-9; found 42"):
        load_mnist("train", folder=labels)


# --- ImageSource ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_digits() -> Digits:
    test = load_mnist("test")
    return Digits(images=test.images[:300], labels=test.labels[:300])


def test_image_source_is_seeded(small_digits):
    source = ImageSource(small_digits, pixel_range="signed")
    a = source.batch(32, torch.Generator().manual_seed(5))
    b = source.batch(32, torch.Generator().manual_seed(5))
    c = source.batch(32, torch.Generator().manual_seed(6))
    assert a.shape == (32, 1, 28, 28) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    # successive draws from one generator differ
    rng = torch.Generator().manual_seed(5)
    assert not torch.equal(source.batch(32, rng), source.batch(32, rng))


@pytest.mark.parametrize(("pixel_range", "low", "high"), [("signed", -1.0, 1.0), ("unit", 0.0, 1.0)])
def test_image_source_range_and_labels(small_digits, pixel_range, low, high):
    source = ImageSource(small_digits, pixel_range=pixel_range)
    images, labels = source.batch_with_labels(256, torch.Generator().manual_seed(0))
    assert images.min() >= low and images.max() <= high
    assert images.min() == low and images.max() == high  # MNIST uses both ends of the byte range
    assert labels.dtype == torch.int64 and labels.shape == (256,)
    # each drawn image is the stored image converted, with its own label
    index = torch.randint(len(source), (256,), generator=torch.Generator().manual_seed(0))
    raw = torch.from_numpy(small_digits.images[index.numpy()]).float().unsqueeze(1)
    expected = raw / 127.5 - 1 if pixel_range == "signed" else raw / 255
    torch.testing.assert_close(images, expected)
    assert labels.tolist() == small_digits.labels[index.numpy()].tolist()
