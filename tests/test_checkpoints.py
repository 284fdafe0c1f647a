"""Checkpoints: bit-identical round trips (folder and zip) and a clear CheckpointError for every bad input,
including pickles crafted to run code (which must never be unpickled)."""

import io
import json
import os
import re
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from exploits import zip_of
from safetensors.torch import save as save_safetensors

from aigc_core.checkpoints import (
    CONFIG_NAME,
    FORMAT_VERSION,
    WEIGHTS_NAME,
    checkpoint_bytes,
    checkpoint_zip,
    load_checkpoint,
    load_checkpoint_zip,
    save_checkpoint,
)
from aigc_core.errors import CheckpointError
from aigc_core.factory import build_trainer
from aigc_core.gan_trainer import GANTrainConfig, generate
from aigc_core.mnist import Digits, ImageSource, load_mnist
from aigc_core.models.classifier import ClassifierConfig
from aigc_core.models.gan import GAN, DCGANConfig, MLPGANConfig, ToyGANConfig
from aigc_core.models.vae import VAE, VAEConvConfig, VAEMLPConfig
from aigc_core.vae_trainer import VAETrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")


X = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
Z = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))


def _trained_models() -> dict[str, tuple[torch.nn.Module, torch.nn.Module | None]]:
    """Small models after a few real updates (so batch-norm running stats and weights are not at their init)."""
    test = load_mnist("test")
    digits = Digits(test.images[:128], test.labels[:128])
    signed, unit = ImageSource(digits, "signed"), ImageSource(digits, "unit")
    gan = build_trainer(MLPGANConfig(z_dim=8, g_hidden=(16, 32), d_hidden=(16,), g_batchnorm=True),
                        GANTrainConfig(batch_size=8, ema=0.5), source=signed)
    dcgan = build_trainer(DCGANConfig(z_dim=8, width=4), GANTrainConfig(batch_size=8), source=signed)
    vae = build_trainer(VAEMLPConfig(z_dim=8, hidden=(16,)), VAETrainConfig(batch_size=8), source=unit)
    from aigc_core.classifier_trainer import ClassifierTrainConfig

    classifier = build_trainer(ClassifierConfig(width=4, features=8), ClassifierTrainConfig(batch_size=8), source=unit)
    for trainer in (gan, dcgan, vae, classifier):
        for _ in range(3):
            trainer.step()
    return {
        "mlp_gan_ema": (gan.model, gan.ema_generator),
        "dcgan": (dcgan.model, None),
        "vae_mlp": (vae.model, None),
        "vae_conv": (VAE(VAEConvConfig(z_dim=8, width=4), seed=3), None),
        "toy_gan": (GAN(ToyGANConfig(z_dim=2, width=8), seed=2), None),
        "classifier": (classifier.model, None),
    }


MODELS = _trained_models()


def outputs(model: torch.nn.Module, sampling_generator: torch.nn.Module | None = None) -> torch.Tensor:
    """What each kind of model is used for, in eval mode."""
    model.eval()
    with torch.inference_mode():
        if isinstance(model, GAN):
            z = torch.randn(6, model.z_dim, generator=torch.Generator().manual_seed(1))
            images = generate(sampling_generator or model.generator, z)
            return torch.cat([images.flatten(1), model.discriminator(images).flatten(1)], dim=1)
        if isinstance(model, VAE):
            mu, logvar = model.encode(X)
            return torch.cat([mu, logvar, model.decode(Z[:, : model.z_dim]).flatten(1)], dim=1)
        return torch.cat([model(X), model.features(X)], dim=1)


@pytest.mark.parametrize("name", MODELS)
def test_folder_round_trip_is_bit_identical(tmp_path, name):
    model, ema = MODELS[name]
    expected = outputs(model, ema)
    save_checkpoint(tmp_path / name, model, sampling_generator=ema, train_config={"batch_size": 8},
                    provenance={"seed": 3, "steps": 3, "command": "test"})
    loaded = load_checkpoint(tmp_path / name)
    assert type(loaded.model) is type(model) and loaded.model.config == model.config
    assert not loaded.model.training
    assert torch.equal(outputs(loaded.model), expected)
    meta = json.loads((tmp_path / name / CONFIG_NAME).read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["architecture"] == name.removesuffix("_ema")
    assert loaded.provenance["seed"] == 3 and loaded.provenance["command"] == "test" and "created" in loaded.provenance
    assert loaded.train_config == {"batch_size": 8}
    assert loaded.family in ("gan", "vae", "classifier")


@pytest.mark.parametrize("name", MODELS)
def test_zip_round_trip_is_bit_identical(name):
    model, ema = MODELS[name]
    data = checkpoint_zip(model, sampling_generator=ema)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [CONFIG_NAME, WEIGHTS_NAME]
    assert torch.equal(outputs(load_checkpoint_zip(data).model), outputs(model, ema))


def test_saved_gan_generator_is_the_ema_generator():
    model, ema = MODELS["mlp_gan_ema"]
    assert not torch.equal(outputs(model), outputs(model, ema))  # the EMA generator differs from the live one
    loaded = load_checkpoint_zip(checkpoint_zip(model, sampling_generator=ema)).model
    assert torch.equal(outputs(loaded), outputs(model, ema))


def test_zip_inside_a_folder_is_accepted():
    """Archives made by zipping the folder itself (folder/config.json, folder/model.safetensors) load too."""
    config_json, weights = checkpoint_bytes(MODELS["vae_mlp"][0])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("my_vae/", b"")
        archive.writestr(f"my_vae/{CONFIG_NAME}", config_json)
        archive.writestr(f"my_vae/{WEIGHTS_NAME}", weights)
    assert torch.equal(outputs(load_checkpoint_zip(buffer.getvalue()).model), outputs(MODELS["vae_mlp"][0]))


# --- bad folders and files --------------------------------------------------------------------------------


@pytest.fixture()
def good(tmp_path) -> Path:
    return save_checkpoint(tmp_path / "ckpt", MODELS["vae_mlp"][0])


def _edit_config(folder: Path, edit) -> None:
    meta = json.loads((folder / CONFIG_NAME).read_text())
    edit(meta)
    (folder / CONFIG_NAME).write_text(json.dumps(meta))


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(folder / WEIGHTS_NAME)


def test_missing_folder_and_files(tmp_path, good):
    with pytest.raises(CheckpointError, match=r"is not a checkpoint folder"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match=r"is not a checkpoint folder"):
        load_checkpoint(good / CONFIG_NAME)  # a file, not a folder
    (good / WEIGHTS_NAME).unlink()
    with pytest.raises(CheckpointError, match=r"ckpt has no model\.safetensors"):
        load_checkpoint(good)
    (good / CONFIG_NAME).unlink()
    with pytest.raises(CheckpointError, match=r"ckpt has no config\.json"):
        load_checkpoint(good)


CONFIG_EDITS = {
    "format-version-missing": (lambda m: m.pop("format_version"), r"no integer 'format_version'; is this an AIGC Lab checkpoint"),
    "format-version-string": (lambda m: m.update(format_version="1"), r"no integer 'format_version'"),
    "format-version-newer": (lambda m: m.update(format_version=FORMAT_VERSION + 1),
                             rf"format version {FORMAT_VERSION + 1}, newer than this app understands \({FORMAT_VERSION}\)"),
    "architecture-unknown": (lambda m: m.update(architecture="stylegan3"), r"Unknown architecture 'stylegan3'; this app knows classifier, dcgan"),
    "architecture-missing": (lambda m: m.pop("architecture"), r"missing 'architecture'"),
    "model-config-missing": (lambda m: m.pop("model_config"), r"missing 'model_config'"),
    "model-config-not-object": (lambda m: m.update(model_config=[1, 2]), r"'model_config' in config\.json must be an object"),
    "config-field-unknown": (lambda m: m["model_config"].update(dropout=0.5), r"Config for vae_mlp has unknown fields: \['dropout'\]"),
    "config-value-wrong": (lambda m: m["model_config"].update(z_dim="twenty"), r"Cannot build a vae_mlp model from this config"),
    "config-wrong-architecture": (lambda m: m.update(architecture="classifier"), r"unknown fields: \['hidden', 'num_classes', 'z_dim'\]"),
    "config-shape-mismatch": (lambda m: m["model_config"].update(z_dim=9), r"Weight 'to_stats\.(weight|bias)' has shape \(16(, 16)?,?\), but this vae_mlp config needs \(18(, 16)?,?\)"),
}


@pytest.mark.parametrize(("edit", "message"), CONFIG_EDITS.values(), ids=CONFIG_EDITS.keys())
def test_bad_config_json(good, edit, message):
    _edit_config(good, edit)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(good)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", r"config\.json is not valid JSON"), (b"\xff\xfe\x00", r"config\.json is not valid JSON"),
     (b"[1, 2, 3]", r"config\.json must hold a JSON object"), (b"", r"config\.json is not valid JSON")],
    ids=["syntax", "not-utf8", "list", "empty"],
)
def test_config_json_not_json(good, content, message):
    (good / CONFIG_NAME).write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(good)


def test_wrong_keys(good):
    weights = _weights(good)
    weights["decoder.extra"] = torch.zeros(3)
    del weights["to_stats.bias"]
    (good / WEIGHTS_NAME).write_bytes(save_safetensors(weights))
    with pytest.raises(CheckpointError, match=r"do not fit a vae_mlp model: 1 missing \(e\.g\. \['to_stats\.bias'\]\), 1 unexpected \(e\.g\. \['decoder\.extra'\]\)"):
        load_checkpoint(good)


def test_weights_of_another_model(good, tmp_path):
    save_checkpoint(tmp_path / "classifier", MODELS["classifier"][0])
    (good / WEIGHTS_NAME).write_bytes((tmp_path / "classifier" / WEIGHTS_NAME).read_bytes())
    with pytest.raises(CheckpointError, match=r"do not fit a vae_mlp model"):
        load_checkpoint(good)


def test_wrong_shape(good):
    weights = _weights(good)
    weights["to_stats.weight"] = torch.zeros(16, 15)
    (good / WEIGHTS_NAME).write_bytes(save_safetensors(weights))
    with pytest.raises(CheckpointError, match=r"Weight 'to_stats\.weight' has shape \(16, 15\), but this vae_mlp config needs \(16, 16\)"):
        load_checkpoint(good)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.int32])
def test_wrong_dtype(good, dtype):
    weights = _weights(good)
    weights["to_stats.weight"] = weights["to_stats.weight"].to(dtype)
    (good / WEIGHTS_NAME).write_bytes(save_safetensors(weights))
    with pytest.raises(CheckpointError, match=rf"Weight 'to_stats\.weight' has dtype {dtype}, expected torch\.float32"):
        load_checkpoint(good)


@pytest.mark.parametrize(("name", "value"), [("to_stats.bias", float("nan")), ("encoder.1.0.weight", float("inf")),
                                             ("decoder.0.2.bias", -float("inf"))])
def test_non_finite_weights_are_refused(good, name, value):
    """NaN/inf weights are data, not code, but such a model only draws blank pictures and breaks the analyses
    (the Latent Explorer's SVD): refused on load, naming the first bad tensor, from a folder and from a zip."""
    weights = _weights(good)
    weights[name] = weights[name].clone()
    weights[name].view(-1)[:2] = value
    (good / WEIGHTS_NAME).write_bytes(save_safetensors(weights))
    kind = "NaN" if value != value else "infinite"
    pattern = rf"vae_mlp checkpoint holds non-finite weights: '{re.escape(name)}' has .*2 {kind}"
    with pytest.raises(CheckpointError, match=pattern):
        load_checkpoint(good)
    with pytest.raises(CheckpointError, match=pattern):
        load_checkpoint_zip(zip_of({CONFIG_NAME: (good / CONFIG_NAME).read_bytes(),
                                  WEIGHTS_NAME: (good / WEIGHTS_NAME).read_bytes()}))


def test_non_finite_batch_norm_buffer_is_refused(tmp_path):
    """Buffers count too: a NaN running variance makes every eval-mode output NaN."""
    model, ema = MODELS["mlp_gan_ema"]
    folder = save_checkpoint(tmp_path / "gan", model, sampling_generator=ema)
    weights = _weights(folder)
    key = next(k for k in weights if k.endswith("running_var"))
    weights[key] = torch.full_like(weights[key], float("nan"))
    (folder / WEIGHTS_NAME).write_bytes(save_safetensors(weights))
    with pytest.raises(CheckpointError, match=rf"non-finite weights: '{re.escape(key)}'"):
        load_checkpoint(folder)


def test_torch_save_file_as_weights(good, tmp_path):
    buffer = io.BytesIO()
    torch.save(MODELS["vae_mlp"][0].state_dict(), buffer)  # a zip-based torch.save file
    (good / WEIGHTS_NAME).write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match=r"looks like a pickle / torch\.save file.*never unpickles"):
        load_checkpoint(good)
    buffer = io.BytesIO()
    torch.save(MODELS["vae_mlp"][0].state_dict(), buffer, _use_new_zipfile_serialization=False)  # legacy pickle
    (good / WEIGHTS_NAME).write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match=r"pickle"):
        load_checkpoint(good)


@pytest.mark.parametrize(
    "damage",
    ["truncated-half", "truncated-header", "header-length-huge", "header-not-json", "random-bytes", "empty", "text"],
)
def test_not_a_valid_safetensors_file(good, damage):
    data = (good / WEIGHTS_NAME).read_bytes()
    header_len = struct.unpack("<Q", data[:8])[0]
    bad = {
        "truncated-half": data[: len(data) // 2],
        "truncated-header": data[: 8 + header_len // 2],
        "header-length-huge": struct.pack("<Q", 2**40) + data[8:],
        "header-not-json": data[:8] + b"#" * header_len + data[8 + header_len :],
        "random-bytes": os.urandom(4096),
        "empty": b"",
        "text": b"these are not the weights you are looking for",
    }[damage]
    (good / WEIGHTS_NAME).write_bytes(bad)
    with pytest.raises(CheckpointError, match=r"model\.safetensors is not a valid safetensors file"):
        load_checkpoint(good)
