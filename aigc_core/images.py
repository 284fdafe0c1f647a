"""Pictures: sample grids, PNG bytes, and turning an uploaded picture into an MNIST-style digit.

preprocess_digit follows how MNIST itself was made (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning
applied to document recognition", 1998, and the MNIST page): each digit was size-normalised to fit a
20x20 box, keeping its aspect ratio, with anti-aliasing, then centred in a 28x28 field by its centre of mass.
MNIST digits are white (high values) on black, so a dark-on-light drawing is inverted. On the genuine test
set the centre of mass sits at (14.0, 14.0) ± 0.3 in pixel-index coordinates; we place it at (14, 14) too.

Uploads are untrusted: the pixel count is checked from the header before any pixel is decoded.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from . import pixels
from .errors import ConfigError, ImageInputError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # checked from the header: a 40 MP RGBA image already decodes to 160 MB
MIN_SIDE = 8  # a canvas smaller than 8x8 pixels cannot hold a recognisable digit
WORKING_SIDE = 1024  # larger pictures are shrunk first; the result is 20 px tall anyway
MIN_CONTRAST = 0.1  # ink must differ from the background by 10% of full range, or the image is blank
NOISE_FLOOR = 0.1  # after stretching, weaker ink is paper texture or sensor noise: set to 0
INK_THRESHOLD = 0.2  # pixels at least this strong define the digit's bounding box
DIGIT_BOX = 20
CANVAS = 28
CENTRE = 14.0  # target centre of mass (row, column), as measured on MNIST

_HIGH_BIT_DEPTH = ("I", "F", "I;16", "I;16L", "I;16B", "I;16N")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


# --- grids and display ------------------------------------------------------------------------------------


def make_grid(images: torch.Tensor, nrow: int, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile images (N, 1, H, W) (or (N, H, W)) in [0, 1] into one uint8 picture, nrow images per row.

    Gutters and the outer border are `padding` pixels of `pad_value`. The default is white: on a white page
    the digits (white on black) read as separate black tiles, like a contact sheet. Unused cells of the
    last row are left as padding colour. NaN pixels are shown black, values outside [0, 1] are clamped.
    """
    if images.ndim == 3:
        images = images.unsqueeze(1)
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[0] == 0:
        raise ValueError(f"images must be (N, 1, H, W) with N >= 1; got {tuple(images.shape)}.")
    if nrow < 1 or padding < 0 or not 0.0 <= pad_value <= 1.0:
        raise ConfigError(f"Need nrow >= 1, padding >= 0, 0 <= pad_value <= 1; got {nrow}, {padding}, {pad_value}.")
    n, _, h, w = images.shape
    tiles = pixels.unit_to_uint8(torch.nan_to_num(images.detach().float(), nan=0.0)).cpu().numpy()[:, 0]
    cols, rows = min(nrow, n), math.ceil(n / nrow)
    fill = int(pixels.unit_to_uint8(torch.tensor(pad_value)))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding), fill, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        top = padding + (index // nrow) * (h + padding)
        left = padding + (index % nrow) * (w + padding)
        grid[top : top + h, left : left + w] = tile
    return grid


def to_png_bytes(array: np.ndarray) -> bytes:
    """PNG file bytes of a uint8 picture: (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA."""
    if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ValueError(f"Expected uint8 (H, W), (H, W, 3) or (H, W, 4); got {array.dtype} {array.shape}.")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def to_png_data_uri(array: np.ndarray) -> str:
    """The picture as a ``data:image/png;base64,...`` URI: an image a browser shows without fetching anything."""
    return "data:image/png;base64," + base64.b64encode(to_png_bytes(array)).decode("ascii")


def upscale(array: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor, so small digits stay crisp when displayed."""
    if not isinstance(factor, int) or factor < 1:
        raise ConfigError(f"The upscale factor must be a whole number >= 1, not {factor!r}.")
    if array.shape[0] * array.shape[1] * factor * factor > 64_000_000:
        raise ConfigError(f"Upscaling {array.shape[:2]} by {factor} would make a picture too large to show.")
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


# --- an uploaded digit ------------------------------------------------------------------------------------


def preprocess_digit(data: bytes) -> np.ndarray:
    """Turn an uploaded picture (PNG, JPEG, GIF, BMP, WebP, TIFF, ...) into a (28, 28) float32 digit in [0, 1].

    Steps: decode (first frame of an animation; EXIF rotation applied) -> grayscale, with transparency laid
    over a backdrop that contrasts with the drawing -> invert when the background (median of the border
    pixels) is light -> stretch so background is 0 and the strongest ink 1 -> crop to the ink -> fit the
    longer side to 20 px (antialiased, aspect kept, peak rescaled to 1) -> centre of mass at (14, 14) in a
    28x28 field, shifted no further than keeps the digit inside.
    Raises ImageInputError for: not an image, an empty file, too large (bytes or pixels), too small
    (a side under 8 px) or blank (no ink).
    """
    ink = _ink_map(_read_grayscale(data))  # (H, W) in [0, 1], 0 = background
    rows, cols = np.nonzero(ink >= INK_THRESHOLD)
    digit = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return _centre_by_mass(_fit_box(digit, DIGIT_BOX), CANVAS)


def upload_preview(data: bytes) -> np.ndarray:
    """The uploaded picture as the app reads it, for display: (H, W) uint8 grayscale, at most WORKING_SIDE on the
    longer side, whatever its mode, bit depth, alpha or animation (a browser cannot show a 16-bit PNG or a float
    TIFF, and Streamlit would fail to re-encode one). Raises ImageInputError as `preprocess_digit` does."""
    return pixels.unit_to_uint8(torch.from_numpy(_read_grayscale(data))).numpy()


def _read_grayscale(data: bytes) -> np.ndarray:
    """(H, W) float32 in [0, 1], 1 = white, at most WORKING_SIDE on the longer side."""
    if not data:
        raise ImageInputError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageInputError(f"The file is too large ({len(data) / 2**20:.1f} MB); "
                              f"the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    try:
        image = Image.open(io.BytesIO(bytes(data)))  # lazy: reads the header only
    except Image.DecompressionBombError:
        raise ImageInputError(f"The image is too large; the limit is {MAX_PIXELS // 1_000_000} megapixels.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageInputError("Could not read this file as an image.") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageInputError(f"The image is too large ({width}×{height} pixels); "
                              f"the limit is {MAX_PIXELS // 1_000_000} megapixels.")
    if min(width, height) < MIN_SIDE:
        raise ImageInputError(f"The image is too small ({width}×{height} pixels) to hold a digit; "
                              f"use at least {MIN_SIDE}×{MIN_SIDE}.")
    try:
        image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))  # JPEG only: decode at a reduced scale, cheaply
        image.load()  # the first frame: Image.open leaves an animation at frame 0
        try:
            image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
        except Exception:  # a malformed EXIF block should not reject a readable picture
            pass
        return _to_gray(image)
    except Exception:  # decoders fail in many ways on corrupt or truncated data; all mean the same to a user
        raise ImageInputError("Could not read this file as an image (it may be truncated or corrupt).") from None


def _shrink(image: Image.Image) -> Image.Image:
    if max(image.size) > WORKING_SIDE:
        image = image.copy()
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BILINEAR)
    return image


def _luminance(image: Image.Image) -> np.ndarray:
    """(H, W) float32 in [0, 1] from an 8-bit image of any colour mode (alpha ignored)."""
    try:
        grey = image.convert("L")
    except ValueError:  # e.g. LAB, which converts only to RGB
        grey = image.convert("RGB").convert("L")
    return pixels.uint8_to_unit(torch.from_numpy(np.array(grey))).numpy()  # np.array: a writable copy


def _to_gray(image: Image.Image) -> np.ndarray:
    if image.mode in _HIGH_BIT_DEPTH:
        # 16/32-bit or float pictures have no fixed white level: stretch their own range to [0, 1].
        values = np.asarray(_shrink(image.convert("F")), dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        return (values - low) / (high - low) if high > low else np.zeros_like(values)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = _shrink(image.convert("RGBA"))
        alpha = pixels.uint8_to_unit(torch.from_numpy(np.asarray(rgba)[..., 3].copy())).numpy()
        colour = _luminance(rgba.convert("RGB"))
        # Lay the drawing over a backdrop it contrasts with: dark strokes on white, light strokes on black.
        opaque = alpha > 0.5
        backdrop = 0.0 if opaque.any() and np.median(colour[opaque]) > 0.5 else 1.0
        return alpha * colour + (1 - alpha) * backdrop
    return _luminance(_shrink(image.convert("L") if image.mode == "1" else image))


def _ink_map(gray: np.ndarray) -> np.ndarray:
    """Ink strength (H, W) in [0, 1]: 0 on the background, 1 at the strongest stroke."""
    def border_median(a: np.ndarray) -> float:
        # The border is mostly background even when a stroke touches the edge.
        return float(np.median(np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])))

    ink = 1.0 - gray if border_median(gray) > 0.5 else gray  # MNIST is light ink on a dark background
    background, peak = border_median(ink), float(ink.max())
    if peak - background < MIN_CONTRAST:
        raise ImageInputError("No digit found: the image looks blank (nothing stands out from the background).")
    ink = np.clip((ink - background) / (peak - background), 0.0, 1.0)
    ink[ink < NOISE_FLOOR] = 0.0
    return ink.astype(np.float32)


def _fit_box(digit: np.ndarray, box: int) -> np.ndarray:
    """Resize so the longer side is `box` pixels, keeping the aspect ratio (bilinear: antialiased, no ringing)."""
    height, width = digit.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL sizes are (width, height)
    resized = Image.fromarray(np.ascontiguousarray(digit, dtype=np.float32), mode="F").resize(
        size, Image.Resampling.BILINEAR
    )
    resized = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    # Shrinking blurs thin strokes below full strength; MNIST strokes peak at full white, so rescale to 1.
    return resized / resized.max()


def _centre_by_mass(digit: np.ndarray, canvas: int) -> np.ndarray:
    """Paste into a canvas x canvas field so the centre of mass lands on (CENTRE, CENTRE), to the nearest pixel.

    The shift is limited so the whole digit stays inside the field.
    """
    height, width = digit.shape
    mass = digit.sum()
    com_row = (digit.sum(axis=1) * np.arange(height)).sum() / mass
    com_col = (digit.sum(axis=0) * np.arange(width)).sum() / mass
    top = int(np.clip(round(CENTRE - com_row), 0, canvas - height))
    left = int(np.clip(round(CENTRE - com_col), 0, canvas - width))
    out = np.zeros((canvas, canvas), dtype=np.float32)
    out[top : top + height, left : left + width] = digit
    return out


# --- masking for the VAE repair demo ----------------------------------------------------------------------

MASK_REGIONS: tuple[str, ...] = ("top", "bottom", "left", "right", "centre")


def mask_image(
    image: np.ndarray | torch.Tensor, region: str | tuple[int, int, int, int]
) -> tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]:
    """Erase part of an image (..., H, W) for the VAE "repair" demo; returns (masked image, mask (H, W)).

    `region` names the part that is *erased*: "top", "bottom", "left", "right" (halves), "centre" (the
    middle block, half the height and width; "center" is accepted), or a box (left, top, right, bottom)
    in pixels, right/bottom exclusive, as in Pillow. mask is 1 where pixels are kept and 0 where erased;
    erased pixels become 0 (MNIST's black background). Output types follow the input (NumPy or torch).
    """
    height, width = image.shape[-2:]
    mask = np.ones((height, width), dtype=np.float32)
    if isinstance(region, str):
        name = "centre" if region == "center" else region
        half_h, half_w = height // 2, width // 2
        boxes = {
            "top": (0, 0, width, half_h),
            "bottom": (0, half_h, width, height),
            "left": (0, 0, half_w, height),
            "right": (half_w, 0, width, height),
            "centre": (width // 4, height // 4, width - width // 4, height - height // 4),
        }
        if name not in boxes:
            raise ConfigError(f"Unknown region {region!r}; choose one of {', '.join(MASK_REGIONS)} or a box.")
        left, top, right, bottom = boxes[name]
    else:
        left, top, right, bottom = (int(v) for v in region)
        if not (0 <= left < right <= width and 0 <= top < bottom <= height):
            raise ConfigError(f"The box {tuple(region)} is empty or outside the {width}x{height} image.")
    mask[top:bottom, left:right] = 0.0
    if isinstance(image, torch.Tensor):
        mask_t = torch.from_numpy(mask).to(device=image.device, dtype=image.dtype)
        return image * mask_t, mask_t
    return (np.asarray(image) * mask).astype(np.asarray(image).dtype, copy=False), mask
