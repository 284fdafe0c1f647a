"""Diffusion mode of the playground, core side (aigc_core/playground/diffusion_views.py and the settings / history
it adds to training.py): shapes, same seed same numbers, trajectories that end where the sampler ends, the forward
process against its closed form, and the score field against an oracle denoiser whose score is known exactly."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from aigc_core import diffusion as dm
from aigc_core import playground as pg
from aigc_core.diffusion_trainer import DiffusionTrainConfig, DiffusionTrainer
from aigc_core.errors import ConfigError
from aigc_core.factory import toy_source
from aigc_core.models.unet import ToyDenoiser, ToyDenoiserConfig

SMALL = replace(pg.PlaygroundSettings(family="diffusion"), batch_size=16)


def _trainer(settings: pg.PlaygroundSettings = SMALL, steps: int = 3) -> DiffusionTrainer:
    trainer = pg.build_trainer(settings, toy_source(settings.data))
    for _ in range(steps):
        trainer.step()
    return trainer  # type: ignore[return-value]


def _view(trainer: DiffusionTrainer, t: int = 50, **kwargs) -> pg.DiffusionView:
    return pg.compute_diffusion_view(trainer, data="ring", real_shown=pg.shown_real(trainer.source, 0),
                                     noise=pg.diffusion_noise(0), t=t, **kwargs)


def test_settings_build_the_toy_diffusion_recipe_with_the_pages_knobs():
    settings = replace(SMALL, denoiser_lr=3e-3, seed=4)
    config = settings.train_config()
    assert isinstance(config, DiffusionTrainConfig)
    assert (config.batch_size, config.optim.lr, config.seed) == (16, 3e-3, 4)
    assert settings.model_config() == pg.TOY_DIFFUSION.model_config
    assert isinstance(pg.build_trainer(settings, toy_source("ring")), DiffusionTrainer)
    assert pg.reset_changes(pg.PlaygroundSettings(), SMALL)[0] == "family"  # a family change needs a fresh model
    with pytest.raises(ConfigError, match="family"):
        replace(SMALL, family="vae").validate()  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="GAN"):
        pg.build_pair(SMALL, SMALL, toy_source("ring"))


def test_view_shapes():
    trainer = _trainer()
    steps = trainer.config.sample_steps
    view = _view(trainer)
    assert view.fake.shape == (pg.SHOWN_POINTS, 2) and view.real.shape == (pg.SHOWN_POINTS, 2)
    assert view.trajectories.positions.shape == (steps + 1, pg.PARTICLES, 2)
    assert view.trajectories.timesteps[0] == trainer.schedule.T and view.trajectories.timesteps[-1] == 0
    assert view.field.points.shape == view.field.directions.shape == (pg.FIELD_RESOLUTION**2, 2)
    assert view.forward.shape == (pg.SHOWN_POINTS, 2)
    assert view.coverage.total == 8 and math.isfinite(view.kl) and 0 <= view.js <= math.log(2)
    assert (view.t, view.T) == (50, trainer.schedule.T)
    assert _view(trainer, t=10_000).t == trainer.schedule.T and _view(trainer, t=-3).t == 1  # clamped into 1 … T
    off = _view(trainer, field=False, forward=False)
    assert off.field is None and off.forward is None and off.kl == view.kl


def test_same_seed_same_view():
    a, b = _view(_trainer()), _view(_trainer())
    assert (a.kl, a.js) == (b.kl, b.js)
    assert (a.fake == b.fake).all() and (a.trajectories.positions == b.trajectories.positions).all()
    assert (a.field.directions == b.field.directions).all() and (a.forward == b.forward).all()
    c = _view(_trainer(replace(SMALL, seed=1)))
    assert not (c.fake == a.fake).all()


def test_trajectories_start_at_x_T_and_end_where_the_sampler_ends():
    trainer = _trainer()
    noise = pg.diffusion_noise(0)
    steps = trainer.config.sample_steps
    samples, paths = pg.sample_with_trajectories(trainer, noise.x_T, steps=steps)
    assert torch.equal(torch.from_numpy(paths.positions[0]), noise.x_T[: pg.PARTICLES])
    reference = trainer.sample(noise.x_T, sampler="ddim", steps=steps, eta=0.0)  # DiffusionTrainer.sample → generate
    assert torch.allclose(samples, reference, atol=1e-6)
    assert torch.allclose(torch.from_numpy(paths.positions[-1]), reference[: pg.PARTICLES], atol=1e-6)


def test_forward_process_matches_its_closed_form():
    """x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε with ε independent of x_0:
    mean √ᾱ_t E[x_0], variance ᾱ_t Var[x_0] + 1 - ᾱ_t."""
    schedule = dm.make_schedule("linear", 200)
    x0 = toy_source("ring").points[:20_000]
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    for t in (1, 50, 200):
        a = float(schedule.alpha_bars[t])
        x_t = torch.from_numpy(pg.forward_process(schedule, x0, t, noise)).double()
        expected_var = a * x0.double().var(dim=0) + (1 - a)
        assert torch.allclose(x_t.var(dim=0), expected_var, rtol=0.03), (t, x_t.var(dim=0), expected_var)
        assert torch.allclose(x_t.mean(dim=0), math.sqrt(a) * x0.double().mean(dim=0), atol=0.03)
    assert pg.forward_process(schedule, x0[:5], 200, noise).shape == (5, 2)  # the first rows of ε are used


class _Oracle(ToyDenoiser):
    """The exact ε-predictor for data that is the single point 0: x_t = √(1-ᾱ_t) ε, so ε = x_t / √(1-ᾱ_t)."""

    def forward(self, x_t, t, y=None):  # noqa: D102
        alpha_bars = dm.schedule_for(self.config).alpha_bars.to(x_t.dtype)
        return x_t / (1 - alpha_bars[t.long()]).sqrt()[:, None]


def test_score_field_is_the_oracles_exact_score_and_particles_reach_its_data():
    """For data at 0, q_t = N(0, (1-ᾱ_t) I), whose score is -x / (1-ᾱ_t); DDIM with the oracle lands on 0."""
    config = ToyDenoiserConfig(width=8, layers=1)
    trainer = DiffusionTrainer(_Oracle(config), toy_source("ring"), DiffusionTrainConfig(batch_size=16, ema=0.0))
    for t in (1, 40, 200):
        field = pg.score_field(trainer, t)
        a = float(trainer.schedule.alpha_bars[t])
        expected = -torch.from_numpy(field.points) / (1 - a)
        assert torch.allclose(torch.from_numpy(field.directions), expected, rtol=1e-4, atol=1e-4), t
    samples, paths = pg.sample_with_trajectories(trainer, pg.diffusion_noise(0).x_T, steps=10)
    assert samples.abs().max() < 1e-3 and abs(paths.positions[-1]).max() < 1e-3
    assert abs(paths.positions[0]).max() > 1.0  # a positive control: they started far from it
    with pytest.raises(ValueError):
        pg.score_field(trainer, 0)


def test_history_records_a_denoisers_loss_beside_kl_and_js():
    history = pg.History(limit=4)
    for step in range(1, 7):
        history.record(step, math.nan, math.nan, 1.0 / step, 0.1, loss=2.0 / step)
    assert len(history) <= 4 and history.step[-1] == 6 and history.loss[-1] == pytest.approx(2 / 6)
    assert len(history.loss) == len(history.step) == len(history.d_loss)
    history.record(6, math.nan, math.nan, 0.5, 0.2, loss=0.25)  # a redraw without training refreshes the row
    assert history.loss[-1] == 0.25 and history.step.count(6) == 1
    gan = pg.History()
    gan.record(1, 0.7, 0.8, 3.0, 0.4)  # a GAN leaves `loss` NaN
    assert math.isnan(gan.loss[0])
    from aigc_core.diffusion_trainer import DiffusionStats

    rows = [DiffusionStats(1, 1.0, (1.0,) * 4, 0.1, 0.0), DiffusionStats(2, math.nan, (1.0,) * 4, 0.1, 0.0),
            DiffusionStats(3, 3.0, (1.0,) * 4, 0.1, 0.0)]
    assert pg.mean_loss(rows, rows[0]) == 2.0 and pg.mean_loss([], rows[2]) == 3.0


def test_a_pooled_frame_redraws_the_shown_rows_and_one_block():
    trainer = _trainer()
    full = _view(trainer)
    total = len(full.samples)
    rows = pg.refreshed_rows(3, total)
    assert rows[: pg.SHOWN_POINTS].tolist() == list(range(pg.SHOWN_POINTS))
    assert len(rows) == pg.SHOWN_POINTS + pg.POOL_BLOCK
    blocks = -(-(total - pg.SHOWN_POINTS) // pg.POOL_BLOCK)
    covered = torch.cat([pg.refreshed_rows(frame, total) for frame in range(blocks)]).unique()
    assert len(covered) == total  # every row is redrawn within `blocks` frames
    zeros = torch.zeros_like(full.samples)
    pooled = _view(trainer, pool=zeros, frame=3)
    kept = torch.ones(total, dtype=torch.bool)
    kept[rows] = False
    assert torch.equal(pooled.samples[rows], full.samples[rows]) and (pooled.samples[kept] == 0).all()
    same = _view(trainer, pool=full.samples, frame=5)  # the model did not change: the pool is already exact
    assert torch.equal(same.samples, full.samples) and same.kl == full.kl
    assert (same.trajectories.positions == full.trajectories.positions).all()  # the particles are among the shown


@pytest.mark.parametrize("data", [*pg.views.toy2d.TOY_DISTRIBUTIONS])
def test_every_toy_distribution_has_a_diffusion_view(data):
    settings = replace(SMALL, data=data)
    trainer = _trainer(settings, steps=1)
    view = pg.compute_diffusion_view(trainer, data=data, real_shown=pg.shown_real(trainer.source, 0),
                                     noise=pg.diffusion_noise(0), t=100)
    assert view.fake.shape == (pg.SHOWN_POINTS, 2) and math.isfinite(view.kl)
    assert (view.coverage is None) == (data not in ("ring", "grid"))
