"""The hardening issue's findings, each reproduced through the interface that showed it (upload, CLI, trainer,
IDX reader). Every test here failed before the fix: they use only entry points that existed then, so the old
code runs them and fails on the behaviour, not on an import.

F3  a huge architecture was built before any size check (860 KB zip, g_hidden=[10000000]: 27 s, 4.7 GB);
F5  NaN weights loaded; the CLI wrote a PNG of NaNs and `evaluate` ended in a traceback;
partial: Adam at lr 1000 ran 3,062 steps with G loss 4e16 unseen; D saturated at 1/0 unseen; an IDX gzip bomb
was inflated whole (2 GB); `sample --n -5` and `--n 100000000` ended in tracebacks.
"""

import io
import json
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_safetensors

from aigc_core import cli as aigc_cli
from aigc_core.checkpoints import CONFIG_NAME, WEIGHTS_NAME, checkpoint_bytes, load_checkpoint_zip, save_checkpoint
from aigc_core.errors import CheckpointError, DataError, TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainConfig
from aigc_core.idx import read_idx
from aigc_core.models.gan import GAN, MLPGANConfig
from aigc_core.models.vae import VAE, VAEMLPConfig
from aigc_core.optim import OptimizerConfig

SMALL_VAE = VAEMLPConfig(z_dim=4, hidden=(16,))
SMALL_GAN = MLPGANConfig(z_dim=8, g_hidden=(32,), d_hidden=(32,))


@pytest.fixture()
def run(capsys):
    """aigc_core.cli.main(args) in-process -> (exit code, stdout, stderr). Any exception other than argparse's
    SystemExit propagates, and so fails the test: a traceback is exactly what these tests rule out."""

    def call(*args: str) -> tuple[int, str, str]:
        try:
            code = aigc_cli.main(list(args))
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _huge_config_checkpoint() -> tuple[bytes, bytes]:
    """(config.json, model.safetensors) of the finding: the weights of the article's GAN (~900 KB) under a
    config whose G has one hidden layer of 10,000,000 units (8.9 billion parameters, 35 GB)."""
    config_json, weights = checkpoint_bytes(GAN(MLPGANConfig()))
    meta = json.loads(config_json)
    meta["model_config"]["g_hidden"] = [10_000_000]
    return json.dumps(meta).encode(), weights


# --- F3: size before allocation ---------------------------------------------------------------------------------


def test_f3_huge_config_upload_is_refused_at_once():
    config_json, weights = _huge_config_checkpoint()
    upload = _zip({CONFIG_NAME: config_json, WEIGHTS_NAME: weights})
    assert len(upload) < 2_000_000  # small file, huge claim
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"8,850,101,393 parameters .*above the limit of [\d,]+") as info:
        load_checkpoint_zip(upload)
    assert time.perf_counter() - start < 0.5, "the size must come from the config, not from building the model"
    assert "Cannot build" not in str(info.value)  # not an allocation failure


def test_f3_cli_evaluate_refuses_a_huge_config(tmp_path, run):
    folder = tmp_path / "huge"
    folder.mkdir()
    config_json, weights = _huge_config_checkpoint()
    (folder / CONFIG_NAME).write_bytes(config_json)
    (folder / WEIGHTS_NAME).write_bytes(weights)
    start = time.perf_counter()
    code, out, err = run("evaluate", str(folder), "--json")
    assert time.perf_counter() - start < 1.0
    assert code == 2 and out == "" and err.startswith("error: ") and "above the limit" in err


# --- F5: non-finite weights and samples -------------------------------------------------------------------------


def _nan_vae_folder(tmp_path: Path) -> Path:
    folder = save_checkpoint(tmp_path / "nan_vae", VAE(SMALL_VAE))
    from safetensors.torch import load_file

    state = load_file(folder / WEIGHTS_NAME)
    state["decoder.0.0.weight"] = torch.full_like(state["decoder.0.0.weight"], float("nan"))
    (folder / WEIGHTS_NAME).write_bytes(save_safetensors(state))
    return folder


def test_f5_nan_vae_upload_is_refused(tmp_path):
    folder = _nan_vae_folder(tmp_path)
    upload = _zip({name: (folder / name).read_bytes() for name in (CONFIG_NAME, WEIGHTS_NAME)})
    with pytest.raises(CheckpointError, match=r"non-finite weights: 'decoder\.0\.0\.weight' has 64 NaN"):
        load_checkpoint_zip(upload)


def test_f5_cli_sample_and_evaluate_refuse_nan_weights(tmp_path, run):
    folder = _nan_vae_folder(tmp_path)
    png = tmp_path / "grid.png"
    code, _, err = run("sample", str(folder), "--out", str(png), "--n", "4")
    assert code == 2 and err.startswith("error: ") and "non-finite weights" in err
    assert not png.exists()
    code, out, err = run("evaluate", str(folder), "--json")
    assert code == 2 and out == "" and "non-finite weights" in err


def test_f5_cli_never_writes_non_finite_samples(tmp_path, run):
    """Finite weights that overflow: G's first layer makes ±inf, its second (all zeros) turns inf * 0 into NaN."""
    model = GAN(MLPGANConfig(z_dim=2, g_hidden=(4,), d_hidden=(4,)))
    first, second = model.generator[0][0], model.generator[0][2]
    with torch.no_grad():
        first.weight.fill_(3e38)
        second.weight.zero_()
    folder = save_checkpoint(tmp_path / "overflow", model)
    png = tmp_path / "grid.png"
    code, _, err = run("sample", str(folder), "--out", str(png), "--n", "16")
    assert code == 2 and err.startswith("error: ") and "NaN or infinite" in err
    assert not png.exists()


# --- the guard sees explosions, not only NaN --------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed():
    from aigc_core.mnist import Digits, ImageSource, load_mnist

    test = load_mnist("test")
    return ImageSource(Digits(test.images[:256], test.labels[:256]), "signed")


def test_adam_at_lr_1000_is_stopped_and_rolled_back(signed):
    """The finding: G loss ~4e16 for 3,062 steps, all finite, all silent. Now it stops within a few hundred."""
    torch.set_num_threads(1)
    huge = OptimizerConfig(kind="adam", lr=1000.0)
    trainer = build_trainer(SMALL_GAN, GANTrainConfig(batch_size=16, g_optim=huge, d_optim=huge), source=signed)
    with pytest.raises(TrainingDiverged, match=r"loss became [\d.e+]+, beyond 1e\+06") as info:
        for _ in range(600):
            trainer.step()
    assert info.value.restored_step is not None and trainer.iteration == info.value.restored_step
    assert all(bool(torch.isfinite(p).all()) for p in trainer.model.parameters())


def test_saturated_discriminator_is_stopped(signed):
    """D far stronger than a G that barely moves: D(x) -> 1 and D(G(z)) -> 0 with every loss small and finite."""
    torch.set_num_threads(1)
    config = GANTrainConfig(batch_size=16, d_optim=OptimizerConfig(kind="adam", lr=1e-2),
                            g_optim=OptimizerConfig(kind="sgd", lr=1e-9, beta1=0.0))
    trainer = build_trainer(SMALL_GAN, config, source=signed)
    records = []
    with pytest.raises(TrainingDiverged, match=r"D has been saturated for 500 updates in a row") as info:
        for _ in range(2000):
            records.append(trainer.step())
    assert all(abs(r.d_loss) < 1e3 and abs(r.g_loss) < 1e3 for r in records)  # no loss ever looked wrong
    assert "smaller D learning rate" in str(info.value)
    assert info.value.restored_step is not None and trainer.iteration == info.value.restored_step


# --- streaming checks: an IDX gzip bomb --------------------------------------------------------------------------


def _gzip_bomb(path: Path, header_dims: tuple[int, ...], zeros: int) -> Path:
    """A gzip file: a valid IDX header for `header_dims`, followed by `zeros` zero bytes (compressed ~1000:1)."""
    header = bytes([0, 0, 8, len(header_dims)]) + b"".join(d.to_bytes(4, "big") for d in header_dims)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    parts = [compressor.compress(header)]
    block = bytes(1 << 20)
    for _ in range(zeros >> 20):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    path.write_bytes(b"".join(parts))
    return path


def test_idx_gzip_bomb_costs_kilobytes(tmp_path):
    bomb = _gzip_bomb(tmp_path / "t10k-images-idx3-ubyte.gz", (10, 28, 28), 64 << 20)  # 64 MB of zeros
    assert bomb.stat().st_size < 100_000
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError, match=r"header says \(10, 28, 28\) = 7,840 values but .*\(trailing data\)"):
            read_idx(bomb)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 0.5 and peak < 8 << 20, (seconds, peak)


# --- the CLI never prints a traceback for bad arguments ---------------------------------------------------------


@pytest.mark.parametrize("n", ["-5", "0", "100000000", "lots"])
def test_cli_sample_bad_n_is_a_usage_error(tmp_path, run, n):
    folder = save_checkpoint(tmp_path / "vae", VAE(SMALL_VAE))
    code, _, err = run("sample", str(folder), "--n", n, "--out", str(tmp_path / "x.png"))
    assert code == 2 and "argument --n" in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()



def test_f5_pca_of_non_finite_codes_says_so():
    """The Latent Explorer's PCA failed with LinAlgError from the SVD; non-finite codes are now named as such."""
    from aigc_core.errors import AigcError
    from aigc_core.latent import pca

    codes = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    codes[3, 1] = float("nan")
    with pytest.raises(AigcError, match=r"latent codes came out with 1 NaN or infinite values"):
        pca(codes)
