"""Diffusion slow motion walks the trainer's own phase methods: a whole walk must equal one `step()` exactly, and
`step()` (now made of those phases) must equal the single-block step it replaced."""

import math
from dataclasses import replace

import pytest
import torch

from aigc_core import diffusion as dm
from aigc_core.diagrams import DIFFUSION_PHASES, diffusion_diagram
from aigc_core.diffusion_trainer import DiffusionStats, _loss_by_t
from aigc_core.errors import TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.models.unet import UNetConfig
from aigc_core.optim import apply_settings, clip_and_measure, cosine_lr
from aigc_core.presets import get_preset
from aigc_core.slowmo_diffusion import PHASE_KEYS, DiffusionSlowMotion

SMALL_UNET = UNetConfig(channels=(8, 16), time_dim=16)
CASES = [
    ("toy_diffusion", None, {}),
    ("toy_diffusion", None, {"clip_grad_norm": 0.0, "schedule_steps": 4, "ema": 0.0}),
    ("diffusion_live", SMALL_UNET, {"batch_size": 8, "label_dropout": 0.5}),
    ("diffusion_live", replace(SMALL_UNET, prediction="v", schedule="linear"), {"batch_size": 8, "clip_grad_norm": 0.1}),
]


def _trainer(preset: str, model_config=None, **changes):
    p = get_preset(preset)
    return build_trainer(model_config or p.model_config, replace(p.train_config, **changes), data=p.data)


def _without_time(stats) -> str:
    """The record without its time, as text: repr round-trips floats exactly, and NaN (a t-range with no sample)
    compares equal to NaN."""
    record = stats.as_dict()
    record.pop("seconds")
    return repr(record)


def _state(trainer) -> dict[str, torch.Tensor]:
    """Everything a step changes: weights, EMA weights, optimizer state, RNG position."""
    state = {f"model.{k}": v for k, v in trainer.model.state_dict().items()}
    if trainer.ema_model is not None:
        state.update({f"ema.{k}": v for k, v in trainer.ema_model.state_dict().items()})
    for index, values in trainer.optimizers["denoiser"].state_dict()["state"].items():
        state.update({f"optim.{index}.{k}": v for k, v in values.items() if isinstance(v, torch.Tensor)})
    state["rng"] = trainer.rng.get_state()
    return state


def _same_state(a, b) -> bool:
    sa, sb = _state(a), _state(b)
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _old_step(self) -> DiffusionStats:
    """DiffusionTrainer.step() as it was before it was split into phases (commit 145e4f9), kept as the reference."""
    cfg, model, schedule = self.config, self.model, self.schedule
    b = cfg.batch_size
    if self.conditional:
        x0, y = self.source.batch_with_labels(b, self.rng)
        drop = torch.rand(b, generator=self.rng) < cfg.label_dropout
        y = torch.where(drop.to(y.device), model.null_label, y).to(self.device)
    else:
        x0, y = self.source.batch(b, self.rng), None
    x0 = x0.to(self.device)
    t = torch.randint(1, schedule.T + 1, (b,), generator=self.rng)
    noise = torch.randn(x0.shape, generator=self.rng).to(self.device)
    x_t = dm.q_sample(schedule, x0, t, noise)
    output = model(x_t, t.to(self.device), y)
    per_sample = dm.simple_loss_per_sample(output, dm.training_target(schedule, self.prediction, x0, t, noise))
    loss = per_sample.mean()
    loss_value = loss.item()
    self.guard.check(loss_value, "the diffusion loss", self.iteration)
    optimizer = self.optimizers["denoiser"]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    max_norm = cfg.clip_grad_norm if cfg.clip_grad_norm > 0 else math.inf
    norm = clip_and_measure(self._parameters, max_norm)
    self.guard.check(norm, "the gradient norm", self.iteration)
    if cfg.schedule_steps > 0:
        apply_settings(optimizer, cfg.optim, lr=cosine_lr(cfg.optim.lr, self.iteration, cfg.schedule_steps))
    optimizer.step()
    self.iteration += 1
    self._update_ema()
    self.guard.maybe_take(self.iteration)
    self.last = DiffusionStats(self.iteration, loss_value, _loss_by_t(per_sample, t, schedule.T), norm, 0.0)
    return self.last


def test_phase_keys_follow_the_diagram():
    assert PHASE_KEYS == tuple(p.key for p in DIFFUSION_PHASES) == ("data", "add_noise", "predict", "loss", "update")


@pytest.mark.parametrize("preset, model_config, changes", CASES)
def test_step_is_unchanged_by_the_split_into_phases(preset, model_config, changes):
    new, old = _trainer(preset, model_config, **changes), _trainer(preset, model_config, **changes)
    for _ in range(3):
        assert _without_time(new.step()) == _without_time(_old_step(old))
    assert _same_state(new, old) and new.iteration == old.iteration == 3


@pytest.mark.parametrize("preset, model_config, changes", CASES)
def test_a_walk_equals_step(preset, model_config, changes):
    stepped, walked = _trainer(preset, model_config, **changes), _trainer(preset, model_config, **changes)
    slow = DiffusionSlowMotion(walked)
    for _ in range(2):
        expected = stepped.step()
        got = slow.finish_step()
        assert _without_time(got) == _without_time(expected)
        assert _without_time(walked.last) == _without_time(stepped.last)
    assert _same_state(stepped, walked)
    assert walked.iteration == stepped.iteration == 2
    # ... and the random streams are in the same place: the next steps still agree.
    assert _without_time(stepped.step()) == _without_time(walked.step())
    assert _same_state(stepped, walked)


def test_phases_come_in_order_with_real_values():
    trainer = _trainer("diffusion_live", SMALL_UNET, batch_size=12, label_dropout=0.5)
    slow = DiffusionSlowMotion(trainer, preview=4)
    records = []
    while not (records and records[-1].step_done):
        expected_next = slow.next_key
        records.append(slow.advance())
        assert records[-1].key == expected_next
    assert [r.key for r in records] == list(PHASE_KEYS) and [r.number for r in records] == [1, 2, 3, 4, 5]
    data, noise, predict, loss, update = records
    assert data.x0.shape == (4, 1, 28, 28) and -1 <= data.x0.min() and data.x0.max() <= 1
    assert data.values["batch"] == 12 and 0 <= data.values["dropped"] <= 12
    assert len(data.labels) == 4 and all(0 <= y <= trainer.model.null_label for y in data.labels)
    T = trainer.schedule.T  # noqa: N806
    assert noise.values["T"] == T and 1 <= noise.values["t_min"] <= noise.values["t_mean"] <= noise.values["t_max"] <= T
    assert all(noise.values["t_min"] <= t <= noise.values["t_max"] for t in noise.t) and noise.x_t.shape == (4, 1, 28, 28)
    alpha_bars = trainer.schedule.alpha_bars
    assert noise.values["alpha_bar_min"] == float(alpha_bars[int(noise.values["t_max"])])
    assert 0 < noise.values["alpha_bar_min"] <= noise.values["alpha_bar_max"] < 1
    # x_t really is √ᾱ_t x_0 + √(1 − ᾱ_t) ε for the shown samples: an untrained ε̂ is not ε, but x_t is exact.
    assert predict.prediction.shape == predict.x0_hat.shape == (4, 1, 28, 28)
    assert predict.x0_hat.abs().max() <= 1 and predict.values["output_std"] > 0 and predict.values["x0_error"] > 0
    assert loss.values["loss"] == update.stats.loss == trainer.last.loss > 0
    assert update.values["grad"] == update.stats.grad_norm > 0 and update.values["step"] > 0
    assert update.values["lr"] == pytest.approx(2e-3) and update.stats.step == trainer.iteration == 1
    assert set(slow.diagram_values) == {"loss", "grad"}
    assert "‖∇‖=" in diffusion_diagram(phase="update", values=slow.diagram_values)
    assert not slow.in_progress and slow.next_key == "data" and slow.latest("x0_hat") is predict.x0_hat


def test_x_t_of_the_preview_is_the_forward_process():
    trainer = _trainer("toy_diffusion")
    slow = DiffusionSlowMotion(trainer, preview=5)
    slow.advance()
    slow.advance()
    p = slow._pass
    expected = dm.q_sample(trainer.schedule, p.x0[:5], p.t[:5], p.noise[:5])
    assert torch.equal(slow.latest("x_t"), expected)


@pytest.mark.parametrize("phases", [1, 2, 3, 4])
def test_abandoning_a_walk_changes_no_weight(phases):
    trainer = _trainer("diffusion_live", SMALL_UNET, batch_size=8)
    trainer.step()  # so the optimizer has state to keep
    before = {k: v.clone() for k, v in _state(trainer).items() if k != "rng"}
    slow = DiffusionSlowMotion(trainer)
    for _ in range(phases):
        slow.advance()
    slow.reset()
    assert not slow.in_progress and slow.history == []
    after = _state(trainer)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert trainer.iteration == 1
    trainer.step()  # and normal training carries on
    assert trainer.iteration == 2


def test_a_walk_overtaken_by_a_step_starts_over():
    trainer = _trainer("toy_diffusion")
    slow = DiffusionSlowMotion(trainer)
    for _ in range(3):  # up to the prediction: a graph through the current weights
        slow.advance()
    trainer.step()  # e.g. the page's Step button: the weights change in place
    assert slow.advance().key == "data"  # the stale walk is dropped, not backpropagated through
    assert slow.finish_step().step == trainer.iteration == 2


def test_divergence_in_slow_motion_resets_the_walk():
    trainer = _trainer("toy_diffusion")
    trainer.step()  # a finite loss confirms the guard's first snapshot
    with torch.no_grad():
        next(trainer.model.parameters()).fill_(float("inf"))  # blown-up weights: the next loss is not finite
    slow = DiffusionSlowMotion(trainer)
    for _ in range(3):
        slow.advance()
    with pytest.raises(TrainingDiverged):
        slow.advance()  # the loss phase refuses it and rolls back
    assert not slow.in_progress and slow.history == []
    assert all(bool(torch.isfinite(p).all()) for p in trainer.model.parameters())
    assert slow.finish_step().step == trainer.iteration == 1  # rolled back to step 0, and walking on
