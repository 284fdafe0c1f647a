"""Autosaves (ui/server/autosave.py, ui/train/autosave.py): the store's rules (round trip, atomic replace, bounds,
the idle rule, an unwritable folder), a Train run through its files and back, damaged files refused with a
message, and the Train page under AppTest: a tab whose server restarted gets its run back from the autosave."""

from __future__ import annotations

import errno
import os
import time
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import ui.train.live  # noqa: F401  (imported up front so the first AppTest run does not pay for imports)
from aigc_core.errors import AigcError, CheckpointError
from aigc_core.factory import build_trainer
from aigc_core.history import MetricHistory
from aigc_core.presets import get_preset, live_train_config
from ui.server import autosave as store_module
from ui.server import parking
from ui.server.autosave import AutosaveError, AutosaveStore, read_config
from ui.train import autosave
from aigc_core.models.unet import UNetConfig
from ui.train.run import GAN_FIELDS, STATE, Settings, TrainRun, new_history, record_steps

pytestmark = pytest.mark.usefixtures("one_thread")
TOKEN, OTHER, THIRD = "tokenAAAA1", "tokenBBBB2", "tokenCCCC3"
TRAIN = str(Path(__file__).resolve().parents[1] / "pages" / "train.py")


# --- the store ---------------------------------------------------------------------------------------------------


def test_round_trip_and_one_file_per_token(tmp_path):
    store = AutosaveStore(tmp_path / "saves")
    files = {"config.json": b"{}", "model.safetensors": b"\x00" * 1000}
    store.write(TOKEN, files)
    store.write(TOKEN, {**files, "config.json": b'{"v": 2}'})  # replaces: one autosave per tab
    assert store.read(TOKEN) == {**files, "config.json": b'{"v": 2}'}
    assert store.read(OTHER) is None
    assert store.tokens() == [TOKEN]
    assert sorted(p.name for p in (tmp_path / "saves").iterdir()) == [f"{TOKEN}.zip"]  # no temporary left behind


def test_a_token_is_never_a_path(tmp_path):
    store = AutosaveStore(tmp_path)
    for raw in ("../../etc/passwd", "short", "a/b/c/d/e/f/g"):
        with pytest.raises(ValueError):
            store.write(raw, {"x": b""})


def test_a_write_is_atomic_a_failed_one_leaves_the_last_autosave(tmp_path, monkeypatch):
    store = AutosaveStore(tmp_path)
    store.write(TOKEN, {"a": b"first"})
    half = tmp_path / f".{TOKEN}.dead.tmp"  # what a server killed mid-write leaves
    half.write_bytes(b"PK\x03\x04 half a zip")
    assert store.read(TOKEN) == {"a": b"first"}  # the temporary is never read

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module.os, "replace", disk_full)
    with pytest.raises(OSError) as caught:
        store.write(TOKEN, {"a": b"second"})
    assert caught.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert store.read(TOKEN) == {"a": b"first"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [half.name, f"{TOKEN}.zip"]  # its own temp is gone


def test_an_unwritable_folder_is_an_oserror_not_a_crash(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_bytes(b"")
    store = AutosaveStore(blocker / "saves")  # a folder under a file: refused even for root
    with pytest.raises(OSError):
        store.write(TOKEN, {"a": b""})
    assert store.read(TOKEN) is None and store.tokens() == [] and store.sweep() == 0


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_bounds_remove_the_oldest_first(tmp_path):
    store = AutosaveStore(tmp_path, max_runs=2)
    for age, token in ((30, TOKEN), (20, OTHER)):
        _age(store.write(token, {"a": b"x"}), age)
    store.write(THIRD, {"a": b"x"})
    assert store.tokens() == [THIRD, OTHER]  # the oldest went
    store = AutosaveStore(tmp_path, max_bytes=1650)
    _age(store.path(OTHER), 20)
    store.write(TOKEN, {"a": b"y" * 1500})  # newest, and kept even though it alone is most of the budget
    assert store.tokens() == [TOKEN]


def test_the_idle_rule_and_dead_temporaries_are_swept(tmp_path):
    store = AutosaveStore(tmp_path, max_age_s=600)
    store.write(TOKEN, {"a": b"x"})
    store.write(OTHER, {"a": b"x"})
    _age(store.path(TOKEN), 601)  # not written for longer than the idle rule
    stale, fresh = tmp_path / f".{TOKEN}.aa.tmp", tmp_path / f".{OTHER}.bb.tmp"
    stale.write_bytes(b""), fresh.write_bytes(b"")
    _age(stale, 3600)
    assert store.sweep() == 1
    assert store.tokens() == [OTHER]
    assert not stale.exists() and fresh.exists()  # a write in progress is left alone


def test_config_from_environment_with_bad_values_falling_back(tmp_path):
    config = read_config({"AIGC_AUTOSAVE_DIR": str(tmp_path), "AIGC_AUTOSAVE_SECONDS": "5",
                          "AIGC_AUTOSAVE_MAX_RUNS": "nan", "AIGC_AUTOSAVE_MAX_MB": "-1"})
    assert (config.folder, config.every_s, config.max_runs, config.max_mb) == (tmp_path, 5.0, 40, 512.0)


def test_a_damaged_file_is_an_autosave_error(tmp_path):
    store = AutosaveStore(tmp_path)
    store.path(TOKEN).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(AutosaveError):
        store.read(TOKEN)


# --- a Train run through its files --------------------------------------------------------------------------------


def _make_run(settings, trainer, origin, origin_name=""):
    return TrainRun(settings=settings, trainer=trainer, origin=origin, origin_name=origin_name,
                    structure=settings.structure, history=MetricHistory(GAN_FIELDS, ("phase",)))


def _trained_run(steps: int = 3) -> TrainRun:
    preset = get_preset("gan_seed_mlp")
    config = live_train_config(preset.train_config)
    settings = Settings("gan", "gan_seed_mlp", "scratch", preset.model_config, config)
    run = _make_run(settings, build_trainer(preset.model_config, config), "scratch")
    run.widget_values = {"train_gan_seed": 5, "train_gan_lr": 2e-4, "train_family": "gan", "junk": object()}
    record_steps(run, [run.trainer.step() for _ in range(steps)], "both")
    run.train_seconds, run.images_seen = 12.5, 999
    return run


def test_a_run_comes_back_with_its_weights_counters_history_and_sidebar():
    run = _trained_run()
    back = autosave.run_from_files(autosave.run_files(run), _make_run, max_params=10**7)
    assert back.trainer.iteration == run.trainer.iteration == 3
    assert back.trainer.d_updates == run.trainer.d_updates
    assert back.trainer.config == run.trainer.config and back.settings == run.settings
    assert back.structure == run.structure
    assert back.widget_values == {"train_gan_seed": 5, "train_gan_lr": 2e-4, "train_family": "gan"}
    for name in GAN_FIELDS:
        assert torch.equal(torch.from_numpy(back.history.column(name).copy()),
                           torch.from_numpy(run.history.column(name).copy())), name
    assert (back.train_seconds, back.images_seen, back.running) == (12.5, 999, False)
    saved_d = run.trainer.model.discriminator.state_dict()
    for key, value in back.trainer.model.discriminator.state_dict().items():
        assert torch.equal(value, saved_d[key]), key
    back.trainer.step()  # and it trains on
    assert back.trainer.iteration == 4


def _diffusion_run(steps: int = 3) -> TrainRun:
    """A tiny class-conditional U-Net after a few steps: its EMA weights differ from its weights."""
    preset = get_preset("diffusion_live")
    model_config = UNetConfig(channels=(8, 16), time_dim=16, groups=4)
    config = live_train_config(preset.train_config)
    settings = Settings("diffusion", "diffusion_live", "scratch", model_config, config)
    trainer = build_trainer(model_config, config)
    run = TrainRun(settings=settings, trainer=trainer, origin="scratch", origin_name="",
                   structure=settings.structure, history=new_history("diffusion"))
    record_steps(run, [trainer.step() for _ in range(steps)], "both")
    return run


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    theirs = b.state_dict()
    return all(torch.equal(value, theirs[key]) for key, value in a.state_dict().items())


def test_a_denoiser_comes_back_with_its_ema_which_draws_its_samples():
    run = _diffusion_run()
    assert not _same_weights(run.trainer.ema_model, run.trainer.model)  # the EMA lags the weights
    files = autosave.run_from_files(autosave.run_files(run), _make_run, max_params=10**7)
    assert _same_weights(files.trainer.ema_model, run.trainer.ema_model)
    assert _same_weights(files.trainer.model, run.trainer.model)
    torch.testing.assert_close(files.trainer.sample(), run.trainer.sample())  # the same samples as before


def test_an_autosave_without_ema_still_loads_and_a_bad_ema_is_refused():
    run = _diffusion_run(steps=1)
    files = autosave.run_files(run)
    older = {k: v for k, v in files.items() if k != autosave.EMA_NAME}  # an autosave from before EMAs were kept
    back = autosave.run_from_files(older, _make_run, max_params=10**7)
    assert _same_weights(back.trainer.ema_model, back.trainer.model)
    files[autosave.EMA_NAME] = autosave.run_files(_trained_run(steps=1))[autosave.WEIGHTS_NAME]  # a GAN's weights
    with pytest.raises(AutosaveError, match="EMA"):
        autosave.run_from_files(files, _make_run, max_params=10**7)


def test_a_long_history_is_thinned_keeping_both_ends(monkeypatch):
    monkeypatch.setattr(autosave, "MAX_HISTORY_ROWS", 50)
    run = _trained_run(steps=1)
    run.history.extend([{"step": i, "d_loss": float(i)} for i in range(2, 502)])
    back = autosave.run_from_files(autosave.run_files(run), _make_run, max_params=10**7)
    steps = back.history.column("step")
    assert len(steps) == 50 and steps[0] == 1 and steps[-1] == 501


@pytest.mark.parametrize("damage", ["drop_member", "bad_json", "bad_history", "wrong_format", "nan_weights"])
def test_a_damaged_autosave_is_refused_with_a_message(damage):
    files = autosave.run_files(_trained_run(steps=1))
    if damage == "drop_member":
        del files["history.safetensors"]
    elif damage == "bad_json":
        files["run.json"] = b"{not json"
    elif damage == "bad_history":
        files["history.safetensors"] = b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage"
    elif damage == "wrong_format":
        files["run.json"] = b'{"format": 99}'
    else:
        files["model.safetensors"] = files["model.safetensors"][:-64] + b"\xff" * 64  # NaN-ish tail
    with pytest.raises(AigcError) as caught:
        autosave.run_from_files(files, _make_run, max_params=10**7)
    assert str(caught.value)


def test_a_model_above_the_servers_cap_is_refused_before_it_is_built():
    files = autosave.run_files(_trained_run(steps=1))
    with pytest.raises(CheckpointError, match="parameters"):
        autosave.run_from_files(files, _make_run, max_params=1000)


# --- the Train page: a restarted server ---------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGC_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setattr(parking, "PARK", parking.RunPark())
    monkeypatch.setattr(parking, "RELOAD_GRACE_S", 0.0)
    return tmp_path / "autosave"


def _open(**query: str) -> AppTest:
    at = AppTest.from_file(TRAIN, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    kinds = ("success", "info", "warning", "error", "toast")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _paused_after_training(at: AppTest) -> None:
    at.number_input(key="train_gan_seed").set_value(5).run()
    at.button(key="train_btn_step_d").click().run()
    at.button(key="train_btn_step_g").click().run()
    at.button(key="train_btn_start").click().run()  # Start, then Pause: pausing writes the autosave
    at.button(key="train_btn_start").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_after_a_restart_a_reloaded_tab_gets_its_run_from_the_autosave(folder, monkeypatch):
    first = _open()
    _paused_after_training(first)
    token = first.query_params[parking.PARAM]
    steps = first.session_state[STATE].trainer.iteration
    assert (folder / f"{token}.zip").is_file()
    monkeypatch.setattr(parking, "PARK", parking.RunPark())  # the server restarted: nothing in memory
    reloaded = _open(**{parking.PARAM: token})
    run = reloaded.session_state[STATE]
    assert run is not first.session_state[STATE] and run.trainer.iteration == steps and not run.running
    assert f"your model is back from its autosave at step {steps}" in _texts(reloaded)
    assert reloaded.number_input(key="train_gan_seed").value == 5  # the sidebar it was trained with
    assert reloaded.query_params[parking.PARAM] == token and parking.PARK.holds(token)
    assert not reloaded.warning  # the sidebar matches the run: no "replace the model?" question
    reloaded.button(key="train_btn_step_g").click().run()  # and it trains on
    assert not reloaded.exception and run.trainer.iteration == steps + 1


def test_a_damaged_autosave_starts_afresh_with_a_notice(folder):
    folder.mkdir(parents=True)
    (folder / "tokenDAMAGED1.zip").write_bytes(b"PK\x03\x04 not really")
    at = _open(**{parking.PARAM: "tokenDAMAGED1"})
    assert "autosave could not be used" in _texts(at)
    assert at.session_state[STATE].trainer.iteration == 0
    assert not (folder / "tokenDAMAGED1.zip").exists()


def test_a_full_disk_is_said_once_and_training_goes_on(folder, monkeypatch):
    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module.os, "replace", disk_full)
    at = _open()
    _paused_after_training(at)
    assert "Autosave failed (No space left on device)" in _texts(at)
    at.button(key="train_btn_step_g").click().run()
    at.button(key="train_btn_start").click().run()
    at.button(key="train_btn_start").click().run()  # a second failed write is not said again
    assert "Autosave failed" not in _texts(at)
    assert not at.exception and at.session_state[STATE].trainer.iteration >= 2
    assert not folder.exists() or not any(folder.iterdir())


def test_a_read_only_place_is_said_too(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("AIGC_AUTOSAVE_DIR", str(blocker / "autosave"))
    monkeypatch.setattr(parking, "PARK", parking.RunPark())
    at = _open()
    _paused_after_training(at)
    assert "Autosave failed" in _texts(at)
    assert not at.exception
