"""Bad input and faults, core level: the catalogue of issue 6, one row per case, through the same entry points the
pages use (`load_checkpoint_zip` for the Train page's upload, `preprocess_digit` for the Latent page's, the
playground's CSV reader, `parse_idx` for a user's data folder, the configs and trainers for the Train page's
hyperparameters).

Each case must end in one of two ways: refused with the project's own error (an `AigcError` whose message a student
can act on, never a bare Python message), or accepted and handled (training stays finite, or a divergence is caught
with the weights restored). Detailed checks of each reader live beside it (test_checkpoints.py, test_images.py,
test_toy2d.py, test_idx_mnist.py, test_trainers.py); this file is the one list to read, and it also bounds time.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from aigc_core.checkpoints import CONFIG_NAME, FORMAT_VERSION, WEIGHTS_NAME, checkpoint_bytes, load_checkpoint_zip
from aigc_core.errors import AigcError, CheckpointError, ConfigError, DataError, ImageInputError, TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainConfig
from aigc_core.idx import parse_idx
from aigc_core.images import preprocess_digit
from aigc_core.mnist import Digits, ImageSource, load_mnist
from aigc_core.models.gan import MLPGANConfig
from aigc_core.models.vae import VAE, VAEMLPConfig
from aigc_core.optim import OptimizerConfig
from aigc_core.toy2d import normalise_points, parse_points_csv
from aigc_core.vae_trainer import VAETrainConfig
from exploits import pickle_payloads, unpickle_carelessly, zip_of


pytestmark = pytest.mark.usefixtures("one_thread")


# --- inputs, made in memory ------------------------------------------------------------------------------------


def tiny_vae() -> VAE:
    return VAE(VAEMLPConfig(z_dim=4, hidden=(8,)), seed=0)


def bad_checkpoints(marker: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (upload bytes, words the message must contain)."""
    config_json, weights = checkpoint_bytes(tiny_vae())
    meta = json.loads(config_json)
    good = zip_of({CONFIG_NAME: config_json, WEIGHTS_NAME: weights})
    gan_weights = checkpoint_bytes(build_trainer(MLPGANConfig(z_dim=4, g_hidden=(8,), d_hidden=(8,)),
                                                 GANTrainConfig(), source=object()).model)[1]
    newer = {**meta, "format_version": FORMAT_VERSION + 1}
    unknown = {**meta, "architecture": "transformer"}
    reshaped = {**meta, "model_config": {**meta["model_config"], "z_dim": 5}}
    payloads = pickle_payloads(marker)
    exploit, torch_save = payloads["pickle-protocol-4"], payloads["torch-save"]
    return {
        "not a zip": (b"just some text, not a checkpoint", "not a zip archive"),
        "bare safetensors": (weights, "not a zip archive"),
        "truncated": (good[: len(good) // 2], "damaged or truncated"),
        "wrong architecture": (zip_of({CONFIG_NAME: config_json, WEIGHTS_NAME: gan_weights}), "do not fit a vae_mlp"),
        "unknown architecture": (zip_of({CONFIG_NAME: json.dumps(unknown).encode(), WEIGHTS_NAME: weights}),
                                 "Unknown architecture 'transformer'"),
        "wrong shapes": (zip_of({CONFIG_NAME: json.dumps(reshaped).encode(), WEIGHTS_NAME: weights}), "has shape"),
        "newer format": (zip_of({CONFIG_NAME: json.dumps(newer).encode(), WEIGHTS_NAME: weights}),
                         f"format version {FORMAT_VERSION + 1}, newer than this app"),
        "pickle upload": (exploit, "never unpickles"),
        "pickle inside zip": (zip_of({CONFIG_NAME: config_json, WEIGHTS_NAME: exploit}), "never unpickles"),
        "torch.save inside zip": (zip_of({CONFIG_NAME: config_json, WEIGHTS_NAME: torch_save}),
                                  "never unpickles"),
    }


def png(image: Image.Image, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=save.pop("format", "PNG"), **save)
    return buffer.getvalue()


def seven(mode: str = "L", size: int = 64) -> Image.Image:
    """A dark 7 on white paper."""
    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).line([(12, 12), (52, 12), (28, 56)], fill=0, width=6)
    return image.convert(mode)


def huge_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A small PNG whose header says width x height (the header is all a reader sees before decoding)."""
    data = bytearray(png(Image.new("1", (8, 8), 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


def animated_gif() -> bytes:
    frames = [seven("P"), Image.new("P", (64, 64), 0)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def signed_source() -> ImageSource:
    test = load_mnist("test")
    return ImageSource(Digits(test.images[:256], test.labels[:256]), "signed")


def unit_source() -> ImageSource:
    test = load_mnist("test")
    return ImageSource(Digits(test.images[:256], test.labels[:256]), "unit")


def assert_readable(error: AigcError, words: str) -> None:
    message = str(error)
    assert words in message, message
    assert "Traceback" not in message and len(message) < 600, message


# --- checkpoints (Train page upload) ---------------------------------------------------------------------------


CHECKPOINT_CASES = list(bad_checkpoints(Path("/nonexistent/x")))


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_bad_checkpoint_is_refused_with_a_message(tmp_path, case):
    marker = tmp_path / "code-ran"
    data, words = bad_checkpoints(marker)[case]
    with pytest.raises(CheckpointError) as info:
        load_checkpoint_zip(data)
    assert_readable(info.value, words)
    assert not marker.exists(), "the crafted pickle was unpickled: its code ran"


def test_the_crafted_pickle_does_run_code_when_unpickled(tmp_path):
    """The control experiment: without it, 'the marker was never created' would prove nothing."""
    marker = tmp_path / "code-ran"
    unpickle_carelessly(bad_checkpoints(marker)["pickle upload"][0])
    assert marker.exists()


# --- images (Latent page upload) -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    "case, make, words",
    [
        ("not an image", lambda: b"%PDF-1.7 a document, not a picture", "Could not read this file as an image"),
        ("10000x10000", huge_png, "too large (10000×10000 pixels)"),
        ("1x1", lambda: png(Image.new("L", (1, 1), 0)), "too small (1×1 pixels)"),
    ],
)
def test_unusable_image_is_refused_quickly(case, make, words):
    data = make()
    start = time.process_time()  # CPU time: the shared machine's load does not count
    with pytest.raises(ImageInputError) as info:
        preprocess_digit(data)
    assert time.process_time() - start < 2.0  # refused from the header: nothing big was decoded
    assert_readable(info.value, words)


@pytest.mark.parametrize(
    "case, make",
    [("animated GIF", animated_gif), ("CMYK JPEG", lambda: png(seven("CMYK"), format="JPEG", quality=95))],
)
def test_odd_but_valid_image_becomes_a_digit(case, make):
    digit = preprocess_digit(make())
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() == pytest.approx(1.0)
    assert 20 < (digit > 0.2).sum() < 400  # a stroke, not a blank or a filled square


# --- data (a user's IDX folder; the playground's CSV upload) ---------------------------------------------------


def test_idx_header_claiming_more_than_the_file_holds():
    data = struct.pack(">HBBIII", 0, 8, 3, 60_000, 28, 28) + bytes(1000)
    with pytest.raises(DataError) as info:
        parse_idx(data, "train-images-idx3-ubyte")
    assert_readable(info.value, "47,040,000 values but the file holds 1,000 (truncated)")


@pytest.mark.parametrize(
    "case, data, words",
    [
        ("text", b"x,y\n1,2\n3,four\n", "Line 3: 'four' is not a number"),
        ("NaN", b"1,2\nnan,4\n5,6\n", "Line 2 has a non-finite value (nan)"),
        ("inf", b"1,2\n3,-inf\n5,6\n", "Line 2 has a non-finite value (-inf)"),
        ("one point", b"x,y\n1,2\n", "Need at least 2 points; got 1"),
        ("10^7 points", b"0.5,0.25\n" * 10_000_000, "too large"),
    ],
)
def test_bad_points_csv_is_refused_quickly(case, data, words):
    start = time.process_time()  # CPU time: the shared machine's load does not count
    with pytest.raises(DataError) as info:
        normalise_points(parse_points_csv(data))
    assert time.process_time() - start < 2.0  # 10^7 points are refused by size, before decoding
    assert_readable(info.value, words)


# --- hyperparameters (Train page) ------------------------------------------------------------------------------

SMALL_GAN = MLPGANConfig(z_dim=8, g_hidden=(32,), d_hidden=(32,), g_batchnorm=True)
SMALL_VAE = VAEMLPConfig(z_dim=8, hidden=(32,))


@pytest.mark.parametrize(
    "case, config, words",
    [
        ("GAN batch 1", GANTrainConfig(batch_size=1), "Batch size must be between 2 and"),
        ("VAE batch 1", VAETrainConfig(batch_size=1), "Batch size must be between 2 and"),
        ("k = 0", GANTrainConfig(d_steps=0), "k (D steps per G step) must be between 1 and 50"),
        ("lr = 1e4", GANTrainConfig(g_optim=OptimizerConfig(lr=1e4)), "learning rate must be > 0 and ≤ 1000"),
        ("lr = 0", VAETrainConfig(optim=OptimizerConfig(lr=0.0)), "learning rate must be > 0"),
        ("lr = nan", VAETrainConfig(optim=OptimizerConfig(lr=float("nan"))), "learning rate"),
        ("β = 1e6", VAETrainConfig(beta=1e6), "β must be between 0 and 1000"),
        ("β < 0", VAETrainConfig(beta=-1.0), "β must be between 0 and 1000"),
    ],
)
def test_out_of_range_hyperparameter_is_refused(case, config, words):
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert_readable(info.value, words)


def _all_finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def test_lr_1e3_diverges_into_a_clear_stop_with_finite_weights():
    sgd = OptimizerConfig(kind="sgd", lr=1e3, beta1=0.0)
    trainer = build_trainer(SMALL_GAN, GANTrainConfig(batch_size=16, g_optim=sgd, d_optim=sgd),
                            source=signed_source())
    with pytest.raises(TrainingDiverged) as info:
        for _ in range(200):
            trainer.step()
    assert_readable(info.value, "learning rate 10x smaller")
    assert _all_finite(trainer.model)
    trainer.update_config(replace(trainer.config, g_optim=OptimizerConfig(), d_optim=OptimizerConfig()))
    assert trainer.step().step >= 1  # the student lowers the rate and carries on with the same model


@pytest.mark.parametrize("family", ["gan", "vae"])
def test_z_dim_1_trains_and_samples(family):
    if family == "gan":
        trainer = build_trainer(replace(SMALL_GAN, z_dim=1), GANTrainConfig(batch_size=16), source=signed_source())
    else:
        trainer = build_trainer(replace(SMALL_VAE, z_dim=1), VAETrainConfig(batch_size=16), source=unit_source())
    for _ in range(5):
        trainer.step()
    samples = trainer.sample()
    assert samples.shape == (64, 1, 28, 28) and bool(torch.isfinite(samples).all())


@pytest.mark.parametrize("beta", [0.0, 1000.0])
def test_vae_beta_at_both_ends_trains(beta):
    trainer = build_trainer(SMALL_VAE, VAETrainConfig(batch_size=16, beta=beta), source=unit_source())
    stats = [trainer.step() for _ in range(10)]
    assert all(np.isfinite([s.loss, s.recon, s.kl]).all() for s in stats)
    if beta == 0.0:
        assert stats[-1].loss == pytest.approx(stats[-1].recon)  # the KL term is off
    else:
        assert stats[-1].kl < stats[0].kl  # a huge β squeezes the code towards the prior
    assert _all_finite(trainer.model)
