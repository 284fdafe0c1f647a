"""Training as an animated GIF: frames a run kept (uint8 pictures) with a label strip under each ("step 1,200"),
one shared palette for the whole film, encoded by Pillow (GIF89a, LZW, looping).

The Train page animates its fixed-noise sample grids, the playground its plane (`aigc_core.playground.raster`);
both keep their frames in a thinning `aigc_core.history.SnapshotTimeline`, so a film is at most ~120 frames that
span the whole run. Plain NumPy + Pillow: the pages and bench/bench_animation.py call `encode_gif` as it is.

Why GIF and no MP4: an MP4 needs an H.264 encoder; the pip packages that ship one (imageio-ffmpeg, PyAV) add
20-30 MB of ffmpeg binaries, and imageio-ffmpeg's is GPL-built. A GIF needs only Pillow, plays everywhere (slides,
chat, e-mail) and, with one palette and frames that differ little, stays small (bench/RESULTS.md).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .history import thin_evenly

FRAME_MS = 100  # 100 frames play in 10 s: slow enough to follow a digit forming
HOLD_LAST_MS = 2000  # the trained result stays up before the loop starts again
LABEL_PX = 13  # font size of the label; the strip is a few pixels taller
MIN_WIDTH = 240  # narrower frames are enlarged (nearest neighbour) so that the label fits and reads
MAX_SCALE = 4
# Where the progress bar stands after preparing the frames (label, palette) and after Pillow has taken them all in
# (it compares each with the last as it pulls it from `append_images`); writing them out (LZW) reports nothing.
# Measured on 100 MNIST grids: preparing ~10 % of the time, taking in ~40 %, writing ~50 %.
PREPARE_SHARE = 0.1
TAKEN_IN = 0.5
# Greys of a greyscale film. 32 instead of 256 look the same on MNIST grids and shrink noisy early frames (LZW
# codes start at 6 bits instead of 9): uniform noise grids take 43 KB a frame instead of 72 KB, digits 11 instead of 15.
GREY_LEVELS = 32
MAX_BYTES = 5_000_000  # the bound for a ~100-frame film; `encode_gif` thins frames to stay under it

Progress = Callable[[float], None]


@lru_cache(maxsize=4)
def label_font(size: int = LABEL_PX) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's built-in font (Aileron, Latin glyphs only; a bitmap font where FreeType is missing): no font
    file to ship or find, the same picture on every server."""
    return ImageFont.load_default(size=size)


def _checked(frames: Sequence[np.ndarray], labels: Sequence[str]) -> tuple[int, ...]:
    """The common shape of the frames; a clear ValueError for anything an encoder would choke on later."""
    if len(frames) == 0:
        raise ValueError("An animation needs at least one frame; got none.")
    if len(labels) != len(frames):
        raise ValueError(f"One label per frame: got {len(frames)} frames and {len(labels)} labels.")
    shape = None
    for index, frame in enumerate(frames):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            raise ValueError(f"Frame {index} must be a uint8 NumPy array; got {type(frame).__name__} "
                             f"{getattr(frame, 'dtype', '')}.")
        if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)) or 0 in frame.shape:
            raise ValueError(f"Frame {index} must be (H, W) greyscale or (H, W, 3) RGB; got {frame.shape}.")
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise ValueError(f"Every frame must have the first one's shape {shape}; frame {index} is {frame.shape}.")
    for index, label in enumerate(labels):
        if not isinstance(label, str) or not label.isascii():
            raise ValueError(f"Label {index} must be ASCII text (the built-in font has Latin glyphs only); "
                             f"got {label!r}.")
    assert shape is not None
    return shape


def frame_scale(width: int) -> int:
    """The whole-number enlargement that brings a frame to at least MIN_WIDTH pixels (at most MAX_SCALE)."""
    return max(1, min(MAX_SCALE, -(-MIN_WIDTH // width)))


def labelled(picture: np.ndarray, label: str, *, scale: int = 1) -> Image.Image:
    """The picture enlarged `scale` times (crisp pixels) above a white strip with the label, centred, in black;
    mode "L" for a greyscale picture, "RGB" for a colour one."""
    image = Image.fromarray(np.ascontiguousarray(picture))
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    font = label_font()
    strip = LABEL_PX + 9
    canvas = Image.new(image.mode, (image.width, image.height + strip), "white")
    canvas.paste(image, (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((image.width / 2, image.height + strip / 2), label, fill="black", font=font, anchor="mm")
    return canvas


def _grey_palette(levels: int = GREY_LEVELS) -> list[int]:
    values = [round(i * 255 / (levels - 1)) for i in range(levels)]
    return [channel for value in values for channel in (value, value, value)]


def _quantized_grey(image: Image.Image, levels: int = GREY_LEVELS) -> Image.Image:
    """A greyscale frame on `levels` evenly spaced greys: fewer symbols for LZW (see GREY_LEVELS)."""
    codes = (np.asarray(image, dtype=np.uint16) * (levels - 1) + 127) // 255  # (H, W) in 0 … levels - 1
    quantized = Image.fromarray(codes.astype(np.uint8), mode="P")
    quantized.putpalette(_grey_palette(levels))
    return quantized


def _shared_palette(images: Sequence[Image.Image]) -> Image.Image:
    """One 256-colour palette for an RGB film, from its first, middle and last frames side by side (they hold
    the colours the run goes through); one palette lets the encoder store only what changes between frames."""
    picks = [images[0], images[len(images) // 2], images[-1]]
    montage = Image.new("RGB", (sum(image.width for image in picks), picks[0].height))
    left = 0
    for image in picks:
        montage.paste(image, (left, 0))
        left += image.width
    return montage.quantize(colors=256, method=Image.Quantize.MEDIANCUT)


def _gif(images: Sequence[Image.Image], frame_ms: int, hold_last_ms: int, taken: Progress) -> bytes:
    """The GIF bytes; `taken(fraction)` as Pillow pulls each frame (a generator: it reads them one at a time)."""

    def pulled() -> Iterator[Image.Image]:
        for index, image in enumerate(images[1:], start=2):
            taken(index / len(images))
            yield image

    durations = [frame_ms] * (len(images) - 1) + [hold_last_ms]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=pulled(), duration=durations, loop=0,
                   disposal=1)
    return buffer.getvalue()


def encode_gif(
    frames: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    frame_ms: int = FRAME_MS,
    hold_last_ms: int = HOLD_LAST_MS,
    scale: int | None = None,
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
) -> bytes:
    """An endlessly looping GIF of `frames` (uint8 (H, W) or (H, W, 3), all one shape), each above its label.

    `scale`: whole-number enlargement (default: `frame_scale`, so small frames reach MIN_WIDTH). A film over
    `max_bytes` is encoded again from every other frame (first and last kept, each shown twice as long) until it
    fits: the same span and playing time, fewer frames. `progress` is called with the fraction done, from 0 to 1 (for a progress bar). Raises
    ValueError on empty or mismatched input (frames of different shapes, a label count that differs,
    non-ASCII labels).
    """
    shape = _checked(frames, labels)
    if frame_ms < 20 or hold_last_ms < frame_ms:
        raise ValueError(f"Need frame_ms >= 20 (browsers slow faster GIFs down) and hold_last_ms >= frame_ms; "
                         f"got {frame_ms} and {hold_last_ms}.")
    scale = frame_scale(shape[1]) if scale is None else scale
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be in 1 … {MAX_SCALE}; got {scale}.")
    report = progress or (lambda fraction: None)
    report(0.0)
    palette = None
    if len(shape) == 3:
        palette = _shared_palette([labelled(frames[i], labels[i], scale=scale) for i in (0, len(frames) // 2, -1)])
    images = []
    for index, (frame, label) in enumerate(zip(frames, labels)):
        image = labelled(frame, label, scale=scale)
        images.append(_quantized_grey(image) if palette is None
                      else image.quantize(palette=palette, dither=Image.Dither.NONE))
        report(PREPARE_SHARE * (index + 1) / len(frames))
    start, end = PREPARE_SHARE, TAKEN_IN
    while True:
        data = _gif(images, frame_ms, hold_last_ms, lambda f, a=start, b=end: report(a + (b - a) * f))
        if len(data) <= max_bytes or len(images) <= 2:
            break
        images = thin_evenly(images)  # rare (noise-like frames): again, with half as many; the bar goes on
        frame_ms = min(2 * frame_ms, hold_last_ms)
        start, end = end, end + (1 - end) / 2
        report(start)
    report(1.0)
    return data
