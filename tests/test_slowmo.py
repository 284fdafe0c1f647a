"""Slow motion walks the trainer's own phase methods: a whole walk must equal one `step()` exactly."""

from dataclasses import replace

import pytest
import torch

from aigc_core.diagrams import GAN_PHASES, gan_diagram
from aigc_core.errors import TrainingDiverged
from aigc_core.factory import build_trainer
from aigc_core.optim import OptimizerConfig
from aigc_core.presets import get_preset
from aigc_core.slowmo import PHASE_KEYS, SlowMotion


def _trainer(preset: str = "toy_gan", **changes):
    p = get_preset(preset)
    return build_trainer(p.model_config, replace(p.train_config, **changes), data=p.data)


def _without_time(stats) -> dict:
    record = stats.as_dict()
    record.pop("seconds")
    return record


def _same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))


def test_phase_keys_follow_the_diagram():
    assert PHASE_KEYS == tuple(p.key for p in GAN_PHASES)
    assert len(PHASE_KEYS) == 12


@pytest.mark.parametrize(
    "preset, changes",
    [
        ("toy_gan", {}),
        ("toy_gan", {"d_steps": 2, "loss": "wgan_gp"}),
        ("toy_gan", {"loss": "wgan", "clip_grad_norm": 0.5, "ema": 0.9}),
        ("gan_seed_mlp", {"label_smoothing": 0.1}),
    ],
)
def test_a_walk_equals_step(preset, changes):
    stepped, walked = _trainer(preset, **changes), _trainer(preset, **changes)
    slow = SlowMotion(walked)
    for _ in range(2):
        expected = stepped.step()
        got = slow.finish_iteration()
        assert _without_time(got) == _without_time(expected)
        assert _without_time(walked.last) == _without_time(stepped.last)
    assert _same_weights(stepped, walked)
    assert walked.iteration == stepped.iteration == 2
    assert walked.d_updates == stepped.d_updates == 2 * stepped.config.d_steps
    # ... and the random streams are in the same place: the next steps still agree.
    assert _without_time(stepped.step()) == _without_time(walked.step())


def test_phases_come_in_order_with_real_values():
    trainer = _trainer("gan_seed_mlp", d_steps=2, batch_size=8)
    slow = SlowMotion(trainer)
    records = []
    while not (records and records[-1].iteration_done):
        expected_next = slow.next_key
        records.append(slow.advance())
        assert records[-1].key == expected_next
    keys = [r.key for r in records]
    assert keys == list(PHASE_KEYS[:6]) * 2 + list(PHASE_KEYS[6:])
    assert [r.d_round for r in records] == [1] * 6 + [2] * 6 + [0] * 6
    assert [r.number for r in records[-6:]] == list(range(7, 13))
    by_key = {r.key: r for r in records}  # the second D round wins
    assert by_key["d_sample_z"].real.shape == (8, 1, 28, 28)
    assert by_key["d_sample_z"].values["z_dim"] == 100
    assert by_key["d_generate"].fake.shape == (8, 1, 28, 28)
    assert 0 < by_key["d_score"].values["d_real"] < 1 and 0 < by_key["d_score"].values["d_fake"] < 1
    assert by_key["d_loss"].values["d_loss"] > 0
    assert by_key["d_gradients"].values["grad_d"] > 0
    assert by_key["d_update"].values["step_d"] > 0 and by_key["d_update"].stats.phase == "d"
    assert by_key["g_update"].values["step_g"] > 0 and by_key["g_update"].stats.phase == "both"
    assert set(slow.diagram_values) == {"d_real", "d_fake", "d_loss", "g_loss", "grad_d", "grad_g"}
    assert "D(x)=" in gan_diagram(phase=records[-1].key, values=slow.diagram_values)
    assert not slow.in_progress and slow.next_key == "d_sample_z"


def test_abandoning_a_walk_changes_no_weight():
    trainer = _trainer()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    slow = SlowMotion(trainer)
    for _ in range(6 + 5):  # everything up to G's update: D's update did happen
        slow.advance()
    after_d = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    slow.reset()
    assert not slow.in_progress
    assert any(not torch.equal(before[k], after_d[k]) for k in before if k.startswith("discriminator"))
    assert all(torch.equal(before[k], after_d[k]) for k in before if k.startswith("generator"))
    assert all(p.requires_grad for p in trainer.model.discriminator.parameters())
    trainer.step()  # and normal training carries on
    assert trainer.iteration == 1


def test_divergence_in_slow_motion_resets_the_walk():
    trainer = _trainer(d_optim=OptimizerConfig(kind="sgd", lr=1e3, beta1=0.0), g_optim=OptimizerConfig(kind="sgd", lr=1e3, beta1=0.0))
    slow = SlowMotion(trainer)
    with pytest.raises(TrainingDiverged):
        for _ in range(12 * 50):
            slow.advance()
    assert not slow.in_progress
    assert all(bool(torch.isfinite(p).all()) for p in trainer.model.parameters())


@pytest.mark.parametrize("taken", ["step", "step_d"])
def test_a_walk_whose_trainer_moved_on_starts_over(taken):
    """A step taken by other means mid-walk (the page's One step / D step buttons) leaves the walk's tensors
    stale: the next phase starts a fresh iteration, exactly as if the walk had been abandoned before that step."""
    walked, twin = _trainer(), _trainer()
    slow, twin_slow = SlowMotion(walked), SlowMotion(twin)
    for _ in range(8):  # into G's turn: D has been updated, G's pass is under way
        slow.advance()
        twin_slow.advance()
    getattr(walked, taken)()
    twin_slow.reset()  # the twin abandons its walk explicitly, then takes the same step
    getattr(twin, taken)()
    first = slow.advance()
    assert first.key == PHASE_KEYS[0] and len(slow.history) == 1  # started over
    walked_stats = slow.finish_iteration()
    twin_stats = twin_slow.finish_iteration()
    assert _without_time(walked_stats) == _without_time(twin_stats)
    assert _same_weights(walked, twin)
