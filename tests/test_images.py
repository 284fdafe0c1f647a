"""Grids, PNG bytes, upscaling, uploaded-digit preprocessing (in-memory pictures) and masking."""

import base64
import gzip
import io
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from aigc_core.errors import ConfigError, ImageInputError
from aigc_core.images import make_grid, mask_image, preprocess_digit, to_png_bytes, to_png_data_uri, upscale

MNIST_TEST_IMAGES = Path(__file__).resolve().parent.parent / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"


# --- grids and display ------------------------------------------------------------------------------------


def test_make_grid_layout_and_padding():
    images = torch.stack([torch.full((1, 3, 4), v) for v in (0.0, 0.5, 1.0)])  # (3, 1, 3, 4)
    grid = make_grid(images, nrow=2, padding=1, pad_value=1.0)
    assert grid.dtype == np.uint8 and grid.shape == (2 * (3 + 1) + 1, 2 * (4 + 1) + 1)
    assert (grid[1:4, 1:5] == 0).all()  # first tile
    assert (grid[1:4, 6:10] == 128).all()  # second tile: 0.5 rounds to 128
    assert (grid[5:8, 1:5] == 255).all()  # third tile, second row
    assert (grid[0] == 255).all() and (grid[:, 5] == 255).all()  # border and gutter
    assert (grid[5:8, 6:10] == 255).all()  # unused cell is padding colour


def test_make_grid_clamps_and_handles_nan_and_3d_input():
    images = torch.tensor([[[-1.0, 2.0], [float("nan"), 0.25]]])  # (1, 2, 2)
    grid = make_grid(images, nrow=4, padding=0)
    assert grid.tolist() == [[0, 255], [0, 64]]
    with pytest.raises(ValueError):
        make_grid(torch.zeros(2, 3, 4, 4), nrow=2)
    with pytest.raises(ConfigError):
        make_grid(torch.zeros(2, 1, 4, 4), nrow=0)


def test_png_round_trip_and_upscale():
    array = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    decoded = np.asarray(Image.open(io.BytesIO(to_png_bytes(array))))
    assert np.array_equal(decoded, array)
    big = upscale(array, 3)
    assert big.shape == (9, 12) and np.array_equal(big[::3, ::3], array)
    assert np.array_equal(big[1:3, 4:6], np.full((2, 2), array[0, 1]))
    with pytest.raises(ValueError):
        to_png_bytes(array.astype(np.float32))
    with pytest.raises(ConfigError):
        upscale(array, 0)


def test_data_uri_decodes_to_the_same_picture():
    array = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    uri = to_png_data_uri(array)
    head, payload = uri.split(",", 1)
    assert head == "data:image/png;base64"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(base64.b64decode(payload)))), array)


# --- preprocessing an uploaded digit ----------------------------------------------------------------------


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def draw_seven(size=(200, 300), background="white", ink="black", mode="RGB", width=18) -> Image.Image:
    # A "7" placed off-centre, so centring has work to do.
    image = Image.new(mode, size, background)
    ImageDraw.Draw(image).line([(20, 30), (110, 30), (50, 200)], fill=ink, width=width)
    return image


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    rows, cols = np.mgrid[0 : digit.shape[0], 0 : digit.shape[1]]
    return (digit * rows).sum() / digit.sum(), (digit * cols).sum() / digit.sum()


def assert_mnist_like(digit: np.ndarray) -> None:
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() == 0.0 and digit.max() == pytest.approx(1.0, abs=0.05)
    row, col = centre_of_mass(digit)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1
    # Background is black: most pixels, and most of the outer frame, carry no ink.
    frame = np.concatenate([digit[0], digit[-1], digit[:, 0], digit[:, -1]])
    assert np.median(frame) == 0.0 and (digit == 0).mean() > 0.6
    # Ink fits in 20x20 and its longer side is 20 (give or take antialiasing).
    rows, cols = np.nonzero(digit > 0)
    extent = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    assert 19 <= extent <= 21


def test_dark_stroke_on_white_is_inverted_and_centred():
    digit = preprocess_digit(encode(draw_seven()))
    assert_mnist_like(digit)
    rows, cols = np.nonzero(digit > 0.2)
    assert rows.max() - rows.min() > cols.max() - cols.min()  # aspect kept: the 7 is tall


def test_light_stroke_on_black_is_not_inverted():
    a = preprocess_digit(encode(draw_seven()))
    b = preprocess_digit(encode(draw_seven(background="black", ink="white")))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_jpeg_cmyk_and_grey_paper_photo():
    cmyk = draw_seven(mode="CMYK", background=(0, 0, 0, 0), ink=(0, 0, 0, 255))
    assert_mnist_like(preprocess_digit(encode(cmyk, "JPEG", quality=90)))
    paper = draw_seven(background=(200, 190, 180), ink=(60, 60, 90))  # grey paper, blue-grey pen
    assert_mnist_like(preprocess_digit(encode(paper, "JPEG", quality=80)))


def test_rgba_transparency_is_composited():
    dark = draw_seven(mode="RGBA", background=(0, 0, 0, 0), ink=(0, 0, 0, 255))  # black strokes, transparent
    light = draw_seven(mode="RGBA", background=(255, 255, 255, 0), ink=(255, 255, 255, 255))  # white strokes
    reference = preprocess_digit(encode(draw_seven()))
    for image in (dark, light):
        digit = preprocess_digit(encode(image))
        assert_mnist_like(digit)
        np.testing.assert_allclose(digit, reference, atol=1e-5)


def test_palette_la_and_16_bit_modes():
    reference = preprocess_digit(encode(draw_seven()))
    for mode in ("P", "LA", "1"):
        digit = preprocess_digit(encode(draw_seven().convert(mode)))
        assert_mnist_like(digit)
        if mode != "1":  # "1" has no antialiasing to keep
            np.testing.assert_allclose(digit, reference, atol=0.02)
    grey = np.asarray(draw_seven().convert("L"), dtype=np.uint16) * 257  # 16-bit, full range
    assert_mnist_like(preprocess_digit(encode(Image.fromarray(grey))))


def test_exif_rotation_is_applied():
    # A phone stores the picture sideways plus an EXIF tag saying "rotate 90° clockwise to display".
    sideways = draw_seven().transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    digit = preprocess_digit(encode(sideways, "JPEG", quality=95, exif=exif))
    upright = preprocess_digit(encode(draw_seven(), "JPEG", quality=95))
    assert np.abs(digit - upright).mean() < 0.05


def test_animated_gif_uses_first_frame():
    tall = draw_seven(mode="L").convert("P")
    wide = Image.new("L", (200, 300), 255)
    ImageDraw.Draw(wide).line([(20, 150), (180, 150)], fill=0, width=10)
    data = encode(tall, "GIF", save_all=True, append_images=[wide.convert("P")], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    digit = preprocess_digit(data)
    assert_mnist_like(digit)
    rows, cols = np.nonzero(digit > 0.2)
    assert rows.max() - rows.min() > cols.max() - cols.min()  # the tall 7, not the wide bar


def test_mnist_digit_round_trip():
    with gzip.open(MNIST_TEST_IMAGES) as file:
        raw = np.frombuffer(file.read(), dtype=np.uint8, offset=16)[: 5 * 784].reshape(5, 28, 28)
    for image in raw:
        digit = preprocess_digit(encode(Image.fromarray(image)))
        original = image / 255.0
        assert abs(centre_of_mass(digit)[0] - centre_of_mass(original)[0]) < 1.0
        assert np.corrcoef(digit.ravel(), original.ravel())[0, 1] > 0.9


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"this is not a picture at all", "Could not read this file as an image"),
        (encode(Image.new("L", (1, 1), 0)), r"too small \(1×1 pixels\)"),
        (encode(Image.new("L", (40, 5), 0)), "too small"),
        (encode(Image.new("RGB", (50, 50), "white")), "blank"),
        (encode(Image.new("RGBA", (50, 50), (0, 0, 0, 0))), "blank"),
        (encode(draw_seven())[:300], "Could not read"),  # truncated PNG
    ],
)
def test_unusable_uploads_are_rejected_with_a_reason(data, message):
    with pytest.raises(ImageInputError, match=message):
        preprocess_digit(data)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_huge_image_is_rejected_before_decoding():
    data = encode(Image.new("1", (10_000, 10_000), 1))  # 100 MP, but a ~30 kB file
    start = time.perf_counter()
    with pytest.raises(ImageInputError, match=r"too large \(10000×10000 pixels\)"):
        preprocess_digit(data)
    assert time.perf_counter() - start < 0.5  # refused from the header, nothing decoded
    with pytest.raises(ImageInputError, match="too large"):
        preprocess_digit(b"\0" * (20 * 1024 * 1024 + 1))


# --- masking ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region, erased",
    [
        ("top", (slice(0, 14), slice(0, 28))),
        ("bottom", (slice(14, 28), slice(0, 28))),
        ("left", (slice(0, 28), slice(0, 14))),
        ("right", (slice(0, 28), slice(14, 28))),
        ("centre", (slice(7, 21), slice(7, 21))),
        ((2, 3, 10, 5), (slice(3, 5), slice(2, 10))),
    ],
)
def test_mask_regions(region, erased):
    image = np.random.default_rng(0).uniform(0.1, 1.0, size=(28, 28)).astype(np.float32)
    masked, mask = mask_image(image, region)
    expected = np.ones((28, 28), dtype=np.float32)
    expected[erased] = 0
    assert np.array_equal(mask, expected)
    assert np.array_equal(masked, image * expected) and masked.dtype == np.float32
    assert mask.sum() < 28 * 28


def test_mask_torch_batches_and_errors():
    images = torch.rand(3, 1, 28, 28)
    masked, mask = mask_image(images, "center")
    assert isinstance(masked, torch.Tensor) and mask.shape == (28, 28)
    assert torch.equal(masked, images * mask)
    with pytest.raises(ConfigError):
        mask_image(images, "middle")
    with pytest.raises(ConfigError):
        mask_image(images, (5, 5, 5, 10))  # empty box
