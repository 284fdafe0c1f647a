"""Checkpoints under attack: broken and oversized zips, a zip bomb, pickles crafted to run code (which must never be
unpickled), and sizes checked before anything is inflated or built. Round trips and bad folders: test_checkpoints.py."""

import pickle
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from exploits import PICKLE_KINDS, pickle_payloads, unpickle_carelessly, zip_of
from safetensors.torch import save as save_safetensors

from aigc_core.checkpoints import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    checkpoint_bytes,
    checkpoint_zip,
    load_checkpoint,
    load_checkpoint_zip,
)
from aigc_core.errors import CheckpointError
from test_checkpoints import MODELS, good  # noqa: F401, F811  (the shared trained models and the `good` fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


# --- bad zips ---------------------------------------------------------------------------------------------

GOOD_ZIP = checkpoint_zip(MODELS["vae_mlp"][0])


def test_bad_zips():
    with pytest.raises(CheckpointError, match=r"This file is not a zip archive"):
        load_checkpoint_zip(b"GIF89a this is a picture")
    with pytest.raises(CheckpointError, match=r"This file is not a zip archive"):
        load_checkpoint_zip(b"")
    with pytest.raises(CheckpointError, match=r"The zip archive is damaged or truncated"):
        load_checkpoint_zip(GOOD_ZIP[: len(GOOD_ZIP) // 2])
    with pytest.raises(CheckpointError, match=r"The zip archive is damaged or truncated"):
        load_checkpoint_zip(GOOD_ZIP[:-10])  # end-of-central-directory cut
    with pytest.raises(CheckpointError, match=r"The zip archive is damaged or truncated"):
        load_checkpoint_zip(b"PK\x03\x04" + b"\x00" * 100)
    config_json, weights = checkpoint_bytes(MODELS["vae_mlp"][0])
    with pytest.raises(CheckpointError, match=r"The archive has no model\.safetensors"):
        load_checkpoint_zip(zip_of({CONFIG_NAME: config_json}))
    with pytest.raises(CheckpointError, match=r"The archive has no config\.json"):
        load_checkpoint_zip(zip_of({WEIGHTS_NAME: weights}))
    with pytest.raises(CheckpointError, match=r"config\.json is not valid JSON"):
        load_checkpoint_zip(zip_of({CONFIG_NAME: b"nope", WEIGHTS_NAME: weights}))


def test_zip_with_corrupted_member():
    """Flip bytes inside the compressed weights: the CRC (or inflate) check turns it into a CheckpointError."""
    offset = GOOD_ZIP.index(WEIGHTS_NAME.encode()) + len(WEIGHTS_NAME) + 200  # inside the first member's data
    damaged = bytearray(GOOD_ZIP)
    for i in range(offset, offset + 16):
        damaged[i] ^= 0x5A
    with pytest.raises(CheckpointError):
        load_checkpoint_zip(bytes(damaged))


def test_zip_bomb_is_refused_before_decompressing():
    """A member whose central-directory entry claims 201 MB is refused from the directory alone, before any
    decompression (the claim is patched in, so the test itself stays small and fast)."""
    config_json, weights = checkpoint_bytes(MODELS["vae_mlp"][0])
    data = bytearray(zip_of({CONFIG_NAME: config_json, WEIGHTS_NAME: weights, "padding.bin": b"\x00" * 1000}))
    entry = data.rindex(b"PK\x01\x02")  # the last central-directory entry: padding.bin
    assert data[entry + 46 : entry + 46 + 11] == b"padding.bin"
    data[entry + 24 : entry + 28] = struct.pack("<I", 201 * 1024 * 1024)  # its uncompressed size
    with pytest.raises(CheckpointError, match=r"unpacks to more than 200 MB"):
        load_checkpoint_zip(bytes(data))


# --- pickles that would run code ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", PICKLE_KINDS)
def test_pickle_payload_really_runs_code_when_unpickled(tmp_path, kind):
    """The positive control: each payload below runs its code under a careless loader, so the test after this one
    (the marker never appears) proves something."""
    marker = tmp_path / "pwned"
    unpickle_carelessly(pickle_payloads(marker)[kind])
    assert marker.exists()


@pytest.mark.parametrize("kind", PICKLE_KINDS)
def test_malicious_pickles_are_never_unpickled(tmp_path, good, kind):
    marker = tmp_path / "pwned"
    payload = pickle_payloads(marker)[kind]
    # 1. uploaded as a .zip
    with pytest.raises(CheckpointError, match=r"pickle|not a zip archive|has no config\.json"):
        load_checkpoint_zip(payload)
    # 2. as model.safetensors in a folder
    (good / WEIGHTS_NAME).write_bytes(payload)
    with pytest.raises(CheckpointError, match=r"pickle|not a valid safetensors file"):
        load_checkpoint(good)
    # 3. as model.safetensors inside an otherwise valid zip
    config_json = (good / CONFIG_NAME).read_bytes()
    with pytest.raises(CheckpointError, match=r"pickle|not a valid safetensors file"):
        load_checkpoint_zip(zip_of({CONFIG_NAME: config_json, WEIGHTS_NAME: payload}))
    # 4. as config.json
    with pytest.raises(CheckpointError, match=r"not valid JSON"):
        load_checkpoint_zip(zip_of({CONFIG_NAME: payload, WEIGHTS_NAME: checkpoint_bytes(MODELS["vae_mlp"][0])[1]}))
    assert not marker.exists(), "a pickle was unpickled"


def test_pickle_upload_message_is_specific():
    with pytest.raises(CheckpointError, match=r"This is a pickle / torch\.save file\. AIGC Lab never unpickles uploads"):
        load_checkpoint_zip(pickle.dumps({"a": 1}, protocol=4))


# --- sizes checked before anything is inflated or built ------------------------------------------------------


def test_config_json_larger_than_any_config_is_refused_from_the_directory():
    config_json, weights = checkpoint_bytes(MODELS["vae_mlp"][0])
    padded = config_json[:-1] + b"," + b" " * (2 * 1024 * 1024) + b'"pad": 0}'
    with pytest.raises(CheckpointError, match=r"config\.json unpacks to [\d,]+ bytes; an AIGC Lab config is a few kB"):
        load_checkpoint_zip(zip_of({CONFIG_NAME: padded, WEIGHTS_NAME: weights}))


def test_weights_larger_than_the_config_can_hold_are_refused_before_inflating(monkeypatch):
    """The zip directory's size of model.safetensors is compared with what the config's model can need (twice
    the state, for an EMA generator, plus the header) before a byte of it is inflated."""
    config_json, weights = checkpoint_bytes(MODELS["vae_mlp"][0])
    padded = save_safetensors({**_weights_of(MODELS["vae_mlp"][0]), "padding": torch.zeros(2_000_000)})
    inflated = []
    real_read = zipfile.ZipFile.read
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name: inflated.append(name) or real_read(self, name))
    with pytest.raises(CheckpointError, match=r"model\.safetensors is 8,1[\d,]+ bytes, more than a vae_mlp of this config"):
        load_checkpoint_zip(zip_of({CONFIG_NAME: config_json, WEIGHTS_NAME: padded}))
    assert [Path(getattr(n, "filename", n)).name for n in inflated] == [CONFIG_NAME]


def _weights_of(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def test_caps_are_arguments():
    data = checkpoint_zip(MODELS["vae_mlp"][0])
    params = sum(p.numel() for p in MODELS["vae_mlp"][0].parameters())
    assert load_checkpoint_zip(data, max_params=params).architecture == "vae_mlp"
    with pytest.raises(CheckpointError, match=rf"has {params:,} parameters .* above the limit of {params - 1:,}"):
        load_checkpoint_zip(data, max_params=params - 1)
    with pytest.raises(CheckpointError, match=r"makes [\d,]+ activations .* above the limit of 100"):
        load_checkpoint_zip(data, max_activations=100)
