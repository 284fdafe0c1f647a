"""The training as an animated GIF (aigc_core.animation): decoded back with Pillow, the film has the frames and
labels it was given, in order, within the size bound; the frame timeline that feeds it stays bounded and spans
the run; the playground's plane is drawn where the data is (aigc_core.playground.raster)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from aigc_core import animation, images
from aigc_core import playground as pg
from aigc_core.history import SnapshotTimeline, thin_evenly
from aigc_core.mnist import load_mnist
from aigc_core.playground.raster import GAP, PlaneColors, plane_picture, planes_picture, rgb
from aigc_core.toy2d import PointSource

COLORS = PlaneColors(real="#0072b2", fake="#e69f00", manifold="#3c3c3c", arrow="#000000",
                     heat=("#f5d899", "#f2f2f2", "#8cbfdd"))


def training_grids(n: int = 100, seed: int = 0) -> list[np.ndarray]:
    """Real MNIST 8 x 8 grids that go from noise (an untrained model's first samples) to clean digits."""
    test = load_mnist("test")
    rng = np.random.default_rng(seed)
    grids = []
    for k in range(n):
        a = k / max(n - 1, 1)
        real = torch.from_numpy(test.images[rng.choice(len(test), 64, replace=False)]).float() / 255
        noise = torch.from_numpy(rng.random((64, 28, 28))).float()
        grids.append(images.make_grid((1 - a) * noise + a * real, nrow=8))
    return grids


def decoded(data: bytes) -> tuple[Image.Image, list[np.ndarray], list[int]]:
    gif = Image.open(io.BytesIO(data))
    frames, durations = [], []
    for frame in ImageSequence.Iterator(gif):
        frames.append(np.asarray(frame.convert("RGB"), dtype=np.int16))
        durations.append(frame.info["duration"])
    return gif, frames, durations


def strip(picture: np.ndarray, height: int) -> np.ndarray:
    """The label strip under a frame (RGB, int16)."""
    return picture[height:]


@pytest.fixture(scope="module")
def grids() -> list[np.ndarray]:
    return training_grids()


@pytest.fixture(scope="module")
def film(grids) -> bytes:
    return animation.encode_gif(grids, [f"step {100 * i:,}" for i in range(len(grids))])


def test_a_hundred_mnist_grids_make_a_looping_gif_under_5_mb(grids, film):
    gif, frames, durations = decoded(film)
    assert film[:6] == b"GIF89a" and gif.format == "GIF"
    assert len(film) <= 5_000_000
    assert gif.n_frames == len(frames) == 100
    height, width = grids[0].shape
    assert gif.size == (width, height + animation.LABEL_PX + 9)  # the picture, then its label strip
    assert gif.info["loop"] == 0  # loops forever
    assert durations == [animation.FRAME_MS] * 99 + [animation.HOLD_LAST_MS]  # the trained result is held


def test_frames_come_out_as_given_first_noise_last_digits(grids, film):
    _, frames, _ = decoded(film)
    height = grids[0].shape[0]
    for index in (0, 50, 99):
        shown = frames[index][:height, :, 0]  # grey: the three channels are equal
        assert np.abs(shown - grids[index].astype(np.int16)).max() <= 255 / 31 / 2 + 1  # 32 grey levels
    first, last = (frames[i][:height, :, 0] for i in (0, -1))
    # Noise is mid-grey on average with every level present; trained digits are mostly black background.
    assert abs(first.mean() - grids[0].mean()) < 2 and abs(last.mean() - grids[-1].mean()) < 2
    assert np.abs(first - last).mean() > 40


def test_labels_come_out_in_order(grids):
    labels = [f"step {i}" for i in range(12)]
    data = animation.encode_gif(grids[:12], labels)
    _, frames, _ = decoded(data)
    height = grids[0].shape[0]
    expected = [np.asarray(animation.labelled(grids[0], label).convert("RGB"), dtype=np.int16)[height:]
                for label in labels]
    for index, frame in enumerate(frames):
        errors = [np.abs(strip(frame, height) - e).mean() for e in expected]
        assert int(np.argmin(errors)) == index and errors[index] < 4  # its own label, not a neighbour's
    assert (strip(frames[3], height) < 128).any()  # the label is drawn: dark text on the white strip


def test_noise_that_would_not_fit_is_thinned_keeping_first_and_last():
    rng = np.random.default_rng(1)
    noise = [rng.integers(0, 256, (242, 242), dtype=np.uint8) for _ in range(120)]  # LZW's worst case
    labels = [f"step {i}" for i in range(120)]
    full = animation.encode_gif(noise[:20], labels[:20], max_bytes=10**9)
    per_frame = len(full) / 20
    assert per_frame * 120 > 5_000_000  # without thinning this film would be over the bound
    data = animation.encode_gif(noise, labels)
    gif, frames, _ = decoded(data)
    assert len(data) <= 5_000_000 and 20 <= gif.n_frames < 120
    for decoded_index, source_index in ((0, 0), (-1, -1)):
        assert np.abs(frames[decoded_index][:242, :, 0] - noise[source_index]).max() <= 5


def test_progress_runs_from_0_to_1_without_going_back(grids):
    seen: list[float] = []
    animation.encode_gif(grids[:10], [str(i) for i in range(10)], progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:]))
    assert len(set(seen)) > 10  # it moves while the frames are prepared and taken in, not only at the end


def test_small_frames_are_enlarged_so_the_label_fits():
    frames = [np.zeros((30, 60), np.uint8), np.full((30, 60), 255, np.uint8)]
    gif, decoded_frames, _ = decoded(animation.encode_gif(frames, ["a", "b"]))
    assert animation.frame_scale(60) == 4 and gif.size[0] == 240
    assert (decoded_frames[0][:120, :, 0] == 0).all() and (decoded_frames[1][:120, :, 0] == 255).all()


@pytest.mark.parametrize("frames, labels, message", [
    ([], [], "at least one frame"),
    ([np.zeros((8, 8), np.uint8)] * 2, ["a"], "One label per frame"),
    ([np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8)], ["a", "b"], "frame 1 is (8, 9)"),
    ([np.zeros((8, 8), np.float32)], ["a"], "uint8"),
    ([np.zeros((8, 8, 4), np.uint8)], ["a"], "(H, W, 3) RGB"),
    ([np.zeros((8, 8), np.uint8)], ["第 1 步"], "ASCII"),
])
def test_bad_input_gets_a_clear_error(frames, labels, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        animation.encode_gif(frames, labels)


# --- the frame timeline -------------------------------------------------------------------------------------------


def test_thin_evenly_keeps_first_and_last():
    assert thin_evenly(list(range(9))) == [0, 2, 4, 6, 8]
    assert thin_evenly(list(range(8))) == [0, 2, 4, 6, 7]
    assert thin_evenly([1, 2]) == [1, 2]


def test_timeline_stays_bounded_spans_the_run_and_evenly_spaced():
    """A live slice trains 6 steps between redraws, more than the first interval: the frames must still be even
    (doubling the interval alone left the newest half twice as dense as the oldest)."""
    timeline = SnapshotTimeline(every=1, capacity=120)
    last = 0
    for step in range(0, 20_000, 6):
        if timeline.due(step):
            timeline.add(step, step)
            last = step
    steps = timeline.steps()
    assert 60 <= len(steps) <= 120
    assert steps[0] == 0 and steps[-1] >= last - timeline.every  # from the start to (nearly) now
    gaps = np.diff(steps)
    assert gaps.max() <= 1.1 * gaps.min(), (gaps.min(), gaps.max())


# --- the playground's plane as a picture --------------------------------------------------------------------------


def _view(**layers: bool) -> pg.PlaygroundView:
    source = PointSource.from_name("ring", n_pool=512, seed=0)
    trainer = pg.build_trainer(pg.PlaygroundSettings(hidden_layers=1, width=8, batch_size=32), source)
    return pg.compute_view(trainer, data="ring", real_shown=pg.shown_real(source, 0),
                           noise=pg.view_noise(trainer.model, 0), **layers)


def test_plane_picture_draws_points_where_they_are():
    view = _view(heatmap=False, manifold=False, gradients=False)
    picture = plane_picture(view, COLORS, size=200)
    assert picture.shape == (200, 200, 3) and picture.dtype == np.uint8
    low, high = pg.PLANE_BOUNDS
    x, y = view.real[0]
    column = round((x - low) / (high - low) * 199)
    row = round(199 - (y - low) / (high - low) * 199)
    # Real points are drawn before generated ones; this one may be covered only by a generated point.
    assert tuple(picture[row, column]) in (rgb(COLORS.real), rgb(COLORS.fake))
    assert tuple(picture[100, 5]) == (255, 255, 255)  # far from the ring and from G's blob: background


def test_heatmap_and_side_by_side():
    view = _view()
    picture = plane_picture(view, COLORS, size=120)
    assert not (picture == 255).all(axis=2).any()  # the heatmap covers the plane: no white pixel left
    pair = planes_picture([view, view], COLORS, size=120)
    assert pair.shape == (120, 240 + GAP, 3)
    assert (pair[:, 120:120 + GAP] == 255).all() and (pair[:, :120] == pair[:, 120 + GAP:]).all()
    with pytest.raises(ValueError, match="at least one view"):
        planes_picture([], COLORS)


def test_playground_frames_make_a_gif_in_the_planes_colours():
    view = _view()
    pictures = [plane_picture(view, COLORS, size=160)] * 2
    gif, frames, _ = decoded(animation.encode_gif(pictures, ["iteration 0", "iteration 1"]))
    assert gif.n_frames == 2 and gif.size[0] == 320  # enlarged 2x: 160 px is under MIN_WIDTH
    enlarged = np.repeat(np.repeat(pictures[0], 2, axis=0), 2, axis=1).astype(np.int16)
    assert np.abs(frames[0][:320] - enlarged).mean() < 3  # one shared 256-colour palette keeps the colours
