"""Training in pieces from the command line: `train --save-every N --resume` continues bit for bit.

A run stopped at any moment (here: a KeyboardInterrupt in the middle of a step, after a periodic save) and run again
with `--resume` ends with the same weights, EMA weights, optimizer moments, random stream and last stats as the same
run in one go. `aigc_core.cli.main` runs in-process, at one thread.
"""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from aigc_core import cli as aigc_cli
from aigc_core.checkpoints import load_checkpoint
from aigc_core.diffusion_trainer import DiffusionTrainer
from aigc_core.train_state import STATE_NAME


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train(out: Path, *args: str) -> int:
    return aigc_cli.main(["train", "--threads", "1", "--device", "cpu", "--no-eval", "--out", str(out), *args])


def _stop_after(monkeypatch, cls, steps: int) -> None:
    """Make `cls.step` raise KeyboardInterrupt on its (steps + 1)-th call: the run is killed mid-way."""
    real_step, calls = cls.step, []

    def step(self):
        calls.append(1)
        if len(calls) > steps:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(cls, step.__name__, step)


def _everything(folder: Path) -> tuple[dict[str, torch.Tensor], str]:
    """All saved tensors (checkpoint and training state) and the last stats without their time, as text."""
    state = json.loads((folder / STATE_NAME).read_text())
    tensors = {f"checkpoint.{k}": v for k, v in load_file(folder / "model.safetensors").items()}
    tensors.update({f"state.{k}": v for k, v in load_file(folder / state["tensors"]).items()})
    last = dict(state["last"])
    last.pop("seconds")
    return tensors, repr(last)


def _assert_same(a: Path, b: Path) -> None:
    tensors_a, last_a = _everything(a)
    tensors_b, last_b = _everything(b)
    assert tensors_a.keys() == tensors_b.keys()
    different = [k for k in tensors_a if not torch.equal(tensors_a[k], tensors_b[k])]
    assert not different, different[:5]
    assert last_a == last_b


def test_diffusion_killed_and_resumed_equals_one_go(tmp_path, monkeypatch):
    # The "diffusion" preset: its cosine schedule spans --steps, the EMA and the optimizer's moments carry over.
    args = ("--model", "diffusion", "--steps", "4", "--save-every", "2", "--seed", "3")
    assert train(tmp_path / "one_go", *args) == 0
    with monkeypatch.context() as patch:
        _stop_after(patch, DiffusionTrainer, 3)  # killed during step 4: step 3 is lost, step 2 was saved
        with pytest.raises(KeyboardInterrupt):
            train(tmp_path / "pieces", *args)
    state = json.loads((tmp_path / "pieces" / STATE_NAME).read_text())
    assert state["counters"] == {"iteration": 2} and state["tensors"] == "trainer_state-000000002.safetensors"
    assert load_checkpoint(tmp_path / "pieces").provenance["steps"] == 2  # the checkpoint is loadable meanwhile
    assert train(tmp_path / "pieces", *args, "--resume") == 0
    _assert_same(tmp_path / "one_go", tmp_path / "pieces")
    names = sorted(p.name for p in (tmp_path / "pieces").iterdir())
    assert names == sorted(["config.json", "model.safetensors", STATE_NAME, "trainer_state-000000004.safetensors"])


def test_gan_n_steps_then_m_more_equals_one_go(tmp_path, capsys):
    common = ("--model", "gan_seed_mlp", "--seed", "1")
    assert train(tmp_path / "one_go", *common, "--steps", "5", "--save-every", "100") == 0
    assert train(tmp_path / "pieces", *common, "--steps", "3", "--save-every", "100") == 0
    assert train(tmp_path / "pieces", *common, "--steps", "5", "--resume") == 0
    assert "Resuming" in capsys.readouterr().err
    _assert_same(tmp_path / "one_go", tmp_path / "pieces")
    checkpoint = load_checkpoint(tmp_path / "pieces")
    assert checkpoint.provenance["steps"] == 5 and json.loads((tmp_path / "pieces" / STATE_NAME).read_text())[
        "counters"] == {"iteration": 5, "d_updates": 5}


def test_resume_refuses_a_different_set_up_and_starts_fresh_without_a_state(tmp_path, capsys):
    out = tmp_path / "toy"
    assert train(out, "--model", "toy_gan", "--steps", "2", "--resume") == 0  # nothing there yet: from step 0
    assert "starting at step 0" in capsys.readouterr().err
    assert train(out, "--model", "toy_gan", "--steps", "3", "--seed", "9", "--resume") == 2
    assert "different train_config" in capsys.readouterr().err
    assert train(out, "--model", "toy_gan", "--steps", "3", "--resume") == 0  # same set-up: on to step 3
    assert json.loads((out / STATE_NAME).read_text())["counters"]["iteration"] == 3


def test_no_training_state_without_the_flags(tmp_path):
    """Shipped folders (pretrained/) stay a checkpoint only: the state is written only where a run may go on."""
    assert train(tmp_path / "plain", "--model", "toy_gan", "--steps", "2") == 0
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == ["config.json", "model.safetensors"]


def test_a_damaged_tensors_file_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "toy"
    assert train(out, "--model", "toy_gan", "--steps", "2", "--save-every", "1") == 0
    state = json.loads((out / STATE_NAME).read_text())
    (out / state["tensors"]).write_bytes(b"not safetensors")
    assert train(out, "--model", "toy_gan", "--steps", "3", "--resume") == 2
    assert "error: Cannot read" in capsys.readouterr().err
