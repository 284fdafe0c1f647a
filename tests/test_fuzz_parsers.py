"""Property-based fuzzing (Hypothesis) of every parser of untrusted input: IDX files (raw and gzip), checkpoint
zips and their config.json, CSV points, uploaded images.

The property is the same for each: an input either parses or raises the project's own error (an AigcError
subclass) that a page can show as a message, never anything else, and within a bounded time (the deadline) and
memory (a parse that inflated a bomb would blow the deadline first; the bombs are also seeded explicitly).
Inputs are random bytes, and mutations of a valid file (flipped bytes, cuts, patched header fields), so the
fuzzer gets past the first magic-number check. Seeded with the issue's findings: a huge config, NaN weights, a
gzip bomb.

Deterministic: derandomize=True and no example database, so CI runs the same examples every time.
"""

import gzip
import io
import json
import struct
import zipfile
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors.torch import save as save_safetensors

from aigc_core.checkpoints import CONFIG_NAME, WEIGHTS_NAME, checkpoint_bytes, checkpoint_from_bytes, load_checkpoint_zip
from aigc_core.errors import AigcError
from aigc_core.idx import parse_idx, read_idx
from aigc_core.images import preprocess_digit
from aigc_core.models.gan import GAN, MLPGANConfig
from aigc_core.models.registry import ARCHITECTURES, config_from_dict
from aigc_core.models.size import check_model_size
from aigc_core.models.vae import VAE, VAEMLPConfig
from aigc_core.toy2d import parse_points_csv

FUZZ = settings(
    max_examples=120,
    deadline=2000,  # ms per example: every refusal here is meant to take milliseconds
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def parses_or_refuses(parse, data):
    """Run a parser: its own AigcError is a fine answer; any other exception fails the test (and is shown)."""
    try:
        return parse(data)
    except AigcError:
        return None


@st.composite
def mutated(draw, seed: bytes, max_edits: int = 4) -> bytes:
    """`seed` with a few bytes flipped, overwritten or inserted, and possibly cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, max_edits))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


# --- IDX --------------------------------------------------------------------------------------------------------


def _idx(array: np.ndarray) -> bytes:
    return struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


GOOD_IDX = _idx(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))


def _gzip_bomb(dims: tuple[int, ...], zeros: int) -> bytes:
    """A valid IDX header for `dims`, then `zeros` zero bytes, gzip-compressed (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    header = struct.pack(">HBB", 0, 8, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    parts = [compressor.compress(header)] + [compressor.compress(bytes(1 << 20)) for _ in range(zeros >> 20)]
    return b"".join(parts + [compressor.flush()])


IDX_BOMB = _gzip_bomb((1, 28, 28), 16 << 20)  # 16 MB of zeros behind a 784-value header: ~16 kB on disk


@st.composite
def idx_headers(draw) -> bytes:
    """A well-formed header with arbitrary dims (up to absurd) and a payload of arbitrary length."""
    ndim = draw(st.integers(1, 4))
    dims = draw(st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 40), min_size=ndim, max_size=ndim))
    payload = draw(st.binary(max_size=256))
    return struct.pack(">HBB", 0, draw(st.sampled_from([8, 8, 8, 9, 0x0D])), ndim) + struct.pack(f">{ndim}I", *dims) + payload


@FUZZ
@given(data=st.binary(max_size=512) | idx_headers() | mutated(GOOD_IDX))
@example(data=GOOD_IDX)
def test_parse_idx_parses_or_raises_data_error(data):
    array = parses_or_refuses(parse_idx, data)
    if array is not None:
        assert array.dtype == np.uint8 and array.size == len(data) - 4 - 4 * array.ndim


@FUZZ
@given(data=mutated(gzip.compress(GOOD_IDX)) | idx_headers().map(gzip.compress) | st.binary(max_size=256).map(
    lambda b: b"\x1f\x8b" + b))
@example(data=IDX_BOMB)
@example(data=gzip.compress(GOOD_IDX) * 2)  # two gzip members: valid gzip, trailing data for IDX
def test_read_idx_gz_parses_or_raises_data_error(tmp_path, data):
    path = tmp_path / "fuzz-idx1-ubyte.gz"
    path.write_bytes(data)
    array = parses_or_refuses(read_idx, path)
    if array is not None:
        assert array.dtype == np.uint8


# --- checkpoint zips and config.json ----------------------------------------------------------------------------

SMALL_VAE = VAE(VAEMLPConfig(z_dim=2, hidden=(8,)))
CONFIG_JSON, WEIGHTS = checkpoint_bytes(SMALL_VAE)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD_ZIP = _zip({CONFIG_NAME: CONFIG_JSON, WEIGHTS_NAME: WEIGHTS})


def _huge_config_zip() -> bytes:
    config_json, weights = checkpoint_bytes(GAN(MLPGANConfig(z_dim=2, g_hidden=(4,), d_hidden=(4,))))
    meta = json.loads(config_json)
    meta["model_config"]["g_hidden"] = [10_000_000]
    return _zip({CONFIG_NAME: json.dumps(meta).encode(), WEIGHTS_NAME: weights})


def _nan_zip() -> bytes:
    state = {k: v.clone() for k, v in SMALL_VAE.state_dict().items()}
    state["to_stats.bias"] = torch.full_like(state["to_stats.bias"], float("nan"))
    return _zip({CONFIG_NAME: CONFIG_JSON, WEIGHTS_NAME: save_safetensors(state)})


def _lying_zip() -> bytes:
    """The weights member's directory entries claim 100 bytes; it inflates to far more."""
    data = bytearray(_zip({CONFIG_NAME: CONFIG_JSON, WEIGHTS_NAME: WEIGHTS + bytes(1 << 20)}))
    local = data.index(b"PK\x03\x04", data.index(b"PK\x03\x04") + 4)
    central = data.rindex(b"PK\x01\x02")
    data[local + 22 : local + 26] = struct.pack("<I", 100)
    data[central + 24 : central + 28] = struct.pack("<I", 100)
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=512) | mutated(GOOD_ZIP, max_edits=6) | st.binary(max_size=64).map(lambda b: b"PK" + b))
@example(data=GOOD_ZIP)
@example(data=_huge_config_zip())
@example(data=_nan_zip())
@example(data=_lying_zip())
@example(data=_zip({CONFIG_NAME: CONFIG_JSON, WEIGHTS_NAME: WEIGHTS}, method=zipfile.ZIP_BZIP2))
@example(data=_zip({CONFIG_NAME: CONFIG_JSON, WEIGHTS_NAME: WEIGHTS}, method=zipfile.ZIP_LZMA))
def test_checkpoint_zip_loads_or_raises_checkpoint_error(data):
    checkpoint = parses_or_refuses(load_checkpoint_zip, data)
    if checkpoint is not None:
        assert all(bool(torch.isfinite(t).all()) for t in checkpoint.model.state_dict().values()
                   if t.is_floating_point())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@st.composite
def model_configs(draw) -> tuple[str, dict]:
    """An architecture name and a model_config: its real fields, each kept or replaced by an arbitrary JSON
    value (huge widths, deep lists, strings, NaN), sometimes with an unknown field."""
    architecture = draw(st.sampled_from(sorted(ARCHITECTURES)))
    defaults = json.loads(json.dumps(_defaults(architecture)))
    widths = st.integers(-2, 2**40) | st.lists(st.integers(-2, 10**8), max_size=70)
    config = {key: draw(st.just(value) | widths | json_values) if draw(st.booleans()) else value
              for key, value in defaults.items()}
    if draw(st.integers(0, 9)) == 0:
        config[draw(st.text(max_size=6))] = draw(json_values)
    return architecture, config


def _defaults(architecture: str) -> dict:
    import dataclasses

    return dataclasses.asdict(ARCHITECTURES[architecture].config_class())


@FUZZ
@given(arch_config=model_configs())
@example(arch_config=("mlp_gan", {**_defaults("mlp_gan"), "g_hidden": [10_000_000]}))
@example(arch_config=("toy_gan", {**_defaults("toy_gan"), "hidden_layers": 10**9}))
def test_config_from_dict_and_size_check_raise_only_project_errors(arch_config):
    architecture, values = arch_config

    def parse(values):
        return check_model_size(config_from_dict(architecture, values))

    parses_or_refuses(parse, values)


@FUZZ
@given(meta=st.dictionaries(st.sampled_from(["format_version", "architecture", "model_config", "family",
                                             "train_config", "provenance"]), json_values, max_size=6)
       | model_configs().map(lambda ac: {"format_version": 1, "architecture": ac[0], "model_config": ac[1]}),
       raw=st.booleans())
@example(meta=json.loads(CONFIG_JSON), raw=False)
def test_config_json_parses_or_raises_checkpoint_error(meta, raw):
    text = json.dumps(meta, allow_nan=True).encode() if not raw else json.dumps(meta)[::-1].encode()
    parses_or_refuses(lambda b: checkpoint_from_bytes(b, WEIGHTS), text)


# --- CSV points -------------------------------------------------------------------------------------------------

number_text = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-(10**30), 10**30).map(str),
                        st.sampled_from(["nan", "inf", "-inf", "1e309", "0x10", "1_000", "", " ", "x", "١٢"]))


@FUZZ
@given(text=st.lists(st.lists(number_text, min_size=0, max_size=3).map(",".join), max_size=40).map("\n".join)
       | st.text(max_size=300))
@example(text="x,y\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n13,14\n15,16\n")
@example(text="1,1\n" * 20 + "1e308,1e308\n")
def test_points_csv_parses_or_raises_data_error(text):
    for data in (text, text.encode("utf-8")):
        points = parses_or_refuses(parse_points_csv, data)
        if points is not None:
            assert points.ndim == 2 and points.shape[1] == 2 and bool(torch.isfinite(points).all())


@FUZZ
@given(data=st.binary(max_size=400))
def test_points_csv_bytes_parse_or_raise_data_error(data):
    parses_or_refuses(parse_points_csv, data)


# --- uploaded images --------------------------------------------------------------------------------------------


def _png(size: tuple[int, int], mode: str = "L", fill: int = 0) -> bytes:
    image = Image.new(mode, size, fill)
    if min(size) > 4:
        image.paste(255 if mode == "L" else (255,) * len(mode), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


GOOD_PNG = _png((40, 40))


def _png_claiming(width: int, height: int) -> bytes:
    """A real PNG whose IHDR claims another size (CRC fixed up): the pixel cap must act on the header."""
    data = bytearray(GOOD_PNG)
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=300) | mutated(GOOD_PNG, max_edits=6)
       | st.tuples(st.integers(1, 70), st.integers(1, 70), st.sampled_from(["L", "RGB", "RGBA", "1", "P"]),
                   st.integers(0, 255)).map(lambda a: _png((a[0], a[1]), a[2], a[3] if a[2] in ("L", "1", "P") else (a[3],) * len(a[2]))))
@example(data=GOOD_PNG)
@example(data=_png_claiming(100_000, 100_000))
@example(data=_png_claiming(0, 0))
def test_image_upload_parses_or_raises_image_input_error(data):
    digit = parses_or_refuses(preprocess_digit, data)
    if digit is not None:
        assert digit.shape == (28, 28) and np.isfinite(digit).all()


def test_fuzz_seeds_are_what_they_claim():
    """The seeded findings really are what the examples above say, so the fuzz tests cover them."""
    with zipfile.ZipFile(io.BytesIO(_huge_config_zip())) as archive:
        assert json.loads(archive.read(CONFIG_NAME))["model_config"]["g_hidden"] == [10_000_000]
    assert len(IDX_BOMB) < 64_000 and len(gzip.decompress(IDX_BOMB)) > 16_000_000
    with pytest.raises(AigcError, match="non-finite"):
        load_checkpoint_zip(_nan_zip())
    with pytest.raises(AigcError, match="parameters"):
        load_checkpoint_zip(_huge_config_zip())
