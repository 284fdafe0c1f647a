"""The playground's views against independent computations: hand-written formulas on a linear D, per-point
autograd on a tiny MLP, hand-made point sets for mode coverage; plus settings, side-by-side runs and history."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from aigc_core import playground as pg
from aigc_core.errors import ConfigError, DataError
from aigc_core.metrics import grid_kl_js
from aigc_core.models.gan import GAN, ToyGANConfig
from aigc_core.toy2d import PointSource, mode_centers

TINY = pg.PlaygroundSettings(hidden_layers=1, width=8, batch_size=32)


def linear_d(w=(1.5, -0.5), b=0.25) -> nn.Linear:
    d = nn.Linear(2, 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([w]))
        d.bias.fill_(b)
    return d


def tiny_model(seed: int = 0, z_dim: int = 2) -> GAN:
    return GAN(ToyGANConfig(z_dim=z_dim, hidden_layers=1, width=8), seed=seed)


def source() -> PointSource:
    return PointSource.from_name("ring", n_pool=512, seed=0)


# --- the plane and the heatmap ------------------------------------------------------------------------------------


def test_plane_grid_layout_matches_heatmap_rows():
    xs, ys, points = pg.plane_grid(4, (-2.0, 2.0))
    assert xs.tolist() == [-1.5, -0.5, 0.5, 1.5] and ys.tolist() == xs.tolist()
    for i in range(4):
        for j in range(4):
            assert points[i * 4 + j].tolist() == [xs[j].item(), ys[i].item()]


def test_heatmap_equals_sigmoid_of_d_on_the_grid():
    d = linear_d()
    heat = pg.discriminator_heatmap(d, "non_saturating", resolution=10)
    x, y = np.meshgrid(heat.xs, heat.ys)  # rows along y, like the heatmap
    expected = 1 / (1 + np.exp(-(1.5 * x - 0.5 * y + 0.25)))
    np.testing.assert_allclose(heat.values, expected, rtol=1e-5, atol=1e-6)
    assert (heat.zmin, heat.zmid, heat.zmax, heat.probability) == (0.0, 0.5, 1.0, True)


def test_heatmap_of_a_tiny_mlp_equals_sigmoid_of_its_scores():
    model = tiny_model()
    heat = pg.discriminator_heatmap(model.discriminator, "minimax", resolution=7)
    _, _, points = pg.plane_grid(7)
    with torch.no_grad():
        expected = torch.sigmoid(model.discriminator(points)).reshape(7, 7).numpy()
    np.testing.assert_allclose(heat.values, expected, rtol=1e-6)


def test_heatmap_neutral_value_per_loss():
    d = linear_d()
    scores = pg.discriminator_heatmap(d, "least_squares", resolution=5)
    assert (scores.zmin, scores.zmid, scores.zmax, scores.probability) == (0.0, 0.5, 1.0, False)
    _, _, points = pg.plane_grid(5)
    with torch.no_grad():
        np.testing.assert_allclose(scores.values.reshape(-1), d(points).reshape(-1).numpy(), rtol=1e-6)
    hinge = pg.discriminator_heatmap(d, "hinge", resolution=5)
    assert (hinge.zmin, hinge.zmid, hinge.zmax) == (-1.0, 0.0, 1.0)
    # WGAN: neutral is halfway between the critic's mean on real and on fake points.
    real, fake = torch.tensor([[1.0, 0.0], [2.0, 0.0]]), torch.tensor([[-1.0, 0.0]])
    wgan = pg.discriminator_heatmap(d, "wgan_gp", resolution=5, real=real, fake=fake)
    mean_real, mean_fake = (1.5 * 1.5 + 0.25), (-1.5 + 0.25)
    assert wgan.zmid == pytest.approx((mean_real + mean_fake) / 2)
    assert wgan.zmin < wgan.values.min() + 1e-6 and wgan.zmax > wgan.values.max() - 1e-6
    assert wgan.zmax - wgan.zmid == pytest.approx(wgan.zmid - wgan.zmin)


# --- generator gradients ------------------------------------------------------------------------------------------


class FixedGenerator(nn.Module):
    """G(z) = z + offset: makes G(z) known exactly, so the gradient is a function of D alone."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = nn.Parameter(torch.tensor([0.3, -0.2]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.offset


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "least_squares", "wgan_gp", "hinge"])
def test_gradient_arrows_equal_the_closed_form_on_a_linear_d(loss):
    model = tiny_model()
    model.generator, model.discriminator = FixedGenerator(), linear_d()
    z = torch.tensor([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]])
    result = pg.generator_gradients(model, loss, z)
    x = (z + torch.tensor([0.3, -0.2])).numpy()
    w = np.array([1.5, -0.5])
    s = x @ w + 0.25  # D's score at each point
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    # -dl/dx for each per-sample generator loss l(s), with ds/dx = w.
    factor = {
        "minimax": sigmoid(s),  # l = log(1 - D) = -softplus(s)
        "non_saturating": sigmoid(-s),  # l = -log D = softplus(-s)
        "least_squares": -(s - 1),  # l = (s - 1)^2 / 2
        "wgan_gp": np.ones_like(s),  # l = -s
        "hinge": np.ones_like(s),
    }[loss]
    np.testing.assert_allclose(result.points, x, rtol=1e-6)
    np.testing.assert_allclose(result.directions, factor[:, None] * w[None, :], rtol=1e-5, atol=1e-7)


def test_gradient_arrows_equal_per_point_autograd_on_a_tiny_mlp():
    model = tiny_model(seed=3)
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    result = pg.generator_gradients(model, "non_saturating", z)
    for i in range(5):  # one point at a time: the per-sample loss, differentiated by autograd
        x = model.generator(z[i : i + 1]).detach().requires_grad_(True)
        per_sample = nn.functional.softplus(-model.discriminator(x)).sum()
        (grad,) = torch.autograd.grad(per_sample, x)
        np.testing.assert_allclose(result.directions[i], -grad[0].numpy(), rtol=1e-5, atol=1e-7)


def test_gradient_arrows_leave_training_state_alone():
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pg.generator_gradients(model, "minimax", torch.zeros(4, 2))
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


# --- the manifold -------------------------------------------------------------------------------------------------


def test_noise_lines_cover_the_noise_square():
    lines = pg.noise_lines(2, "uniform", lines=3, points=5)
    assert lines.shape == (6, 5, 2)
    assert lines.min() == -1 and lines.max() == 1
    assert torch.all(lines[0, :, 1] == -1) and torch.all(lines[3, :, 0] == -1)  # z2 fixed, then z1 fixed
    one = pg.noise_lines(1, "gaussian")
    assert one.shape == (1, pg.MANIFOLD_POINTS_1D, 1) and one.min() == -2 and one.max() == 2


@pytest.mark.parametrize("z_dim", [1, 2])
def test_manifold_is_g_applied_to_the_noise_lines(z_dim):
    model = tiny_model(z_dim=z_dim)
    manifold = pg.generator_manifold(model.generator, z_dim, "gaussian")
    z = pg.noise_lines(z_dim, "gaussian")
    with torch.no_grad():
        expected = model.generator(z.reshape(-1, z_dim)).reshape(z.shape[0], z.shape[1], 2).numpy()
    np.testing.assert_allclose(manifold.lines, expected, rtol=1e-5, atol=1e-6)
    assert manifold.lines.shape == ((1, 201, 2) if z_dim == 1 else (22, 41, 2))


# --- mode coverage ------------------------------------------------------------------------------------------------


def test_coverage_counts_hand_made_point_sets():
    centers = mode_centers("ring")
    five_modes = centers[:5].repeat_interleave(20, dim=0)  # 100 points exactly on 5 of the 8 centres
    result = pg.coverage("ring", five_modes)
    assert (result.covered, result.total) == (5, 8)
    assert result.counts == [20] * 5 + [0] * 3
    far = torch.full((50, 2), 3.0)  # all off every mode
    assert pg.coverage("grid", far).covered == 0
    grid_centers = mode_centers("grid")
    assert pg.coverage("grid", grid_centers.repeat(4, 1) + 0.01).covered == 25
    assert pg.coverage("moons", far) is None and pg.coverage("custom", far) is None


# --- settings -----------------------------------------------------------------------------------------------------


def test_settings_split_into_live_and_reset_changes():
    a = pg.PlaygroundSettings()
    b = replace(a, loss="hinge", g_lr=0.01, d_steps=5, width=16, seed=3)
    assert pg.reset_changes(a, b) == ["width", "seed"]
    assert pg.live_changes(a, b) == ["loss", "g_lr", "d_steps"]
    assert pg.reset_changes(a, replace(a, batch_size=64)) == []


def test_settings_build_the_configs():
    s = pg.PlaygroundSettings(z_dim=1, noise="uniform", g_optimizer="sgd", g_lr=0.05, d_steps=3, loss="hinge")
    assert s.model_config() == ToyGANConfig(z_dim=1, hidden_layers=2, width=64, noise="uniform")
    train = s.train_config()
    assert (train.loss, train.d_steps, train.batch_size) == ("hinge", 3, 256)
    assert (train.g_optim.kind, train.g_optim.lr, train.g_optim.beta1) == ("sgd", 0.05, 0.0)
    assert (train.d_optim.kind, train.d_optim.beta1) == ("adam", 0.5)


@pytest.mark.parametrize(
    "change", [{"z_dim": 3}, {"width": 0}, {"hidden_layers": 9}, {"loss": "wgan"}, {"data": "cats"},
               {"g_optimizer": "rmsprop"}, {"d_steps": 0}, {"batch_size": 1}, {"d_lr": -1.0}],
)
def test_bad_settings_raise_a_readable_config_error(change):
    with pytest.raises(ConfigError):
        replace(pg.PlaygroundSettings(), **change).validate()


def test_build_trainer_refuses_a_model_of_another_shape():
    with pytest.raises(ConfigError, match="reset"):
        pg.build_trainer(TINY, source(), model=tiny_model(z_dim=1))


def test_live_change_applies_from_the_next_step():
    trainer = pg.build_trainer(TINY, source())
    trainer.step()
    trainer.update_config(replace(TINY, loss="least_squares", d_steps=3).train_config())
    d_updates = trainer.d_updates
    trainer.step()
    assert trainer.config.loss == "least_squares" and trainer.d_updates == d_updates + 3


# --- side by side -------------------------------------------------------------------------------------------------


def test_pair_starts_from_the_same_weights_and_same_settings_give_the_same_numbers():
    pair = pg.build_pair(TINY, TINY, source())
    a, b = pair.trainers
    assert a.model is not b.model
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    for _ in range(3):
        stats_a, stats_b = pair.step()
        assert stats_a.d_loss == stats_b.d_loss and stats_a.g_loss == stats_b.g_loss
    assert pair.iteration == 3


def test_pair_differs_only_by_the_changed_setting():
    pair = pg.build_pair(TINY, replace(TINY, loss="minimax"), source())
    first, second = pair.step()
    assert first.d_loss == second.d_loss  # same data, same weights, same D loss formula on the first D step
    assert first.g_loss != second.g_loss  # ... but a different G loss
    with pytest.raises(ConfigError, match="width"):
        pg.build_pair(TINY, replace(TINY, width=4), source())


# --- the whole frame ----------------------------------------------------------------------------------------------


def test_compute_view_shapes_values_and_no_side_effects():
    src = source()
    trainer = pg.build_trainer(TINY, src)
    trainer.step()
    noise = pg.view_noise(trainer.model, seed=0)
    weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    rng_state = trainer.rng.get_state()
    real = pg.shown_real(src, seed=0, n=100)
    view = pg.compute_view(trainer, data="ring", real_shown=real, noise=noise)
    assert view.real.shape == (100, 2) and view.fake.shape == (pg.SHOWN_POINTS, 2)
    assert view.heatmap.values.shape == (pg.HEATMAP_RESOLUTION, pg.HEATMAP_RESOLUTION)
    assert view.manifold.lines.shape == (22, 41, 2)
    assert view.gradients.points.shape == (pg.ARROW_POINTS, 2)
    assert view.coverage.total == 8
    kl, js = grid_kl_js(src.points, trainer.sample(noise.samples))
    assert (view.kl, view.js) == (kl, js)
    assert torch.equal(trainer.rng.get_state(), rng_state)
    assert all(torch.equal(weights[k], v) for k, v in trainer.model.state_dict().items())
    bare = pg.compute_view(trainer, data="moons", real_shown=real, noise=noise, heatmap=False, manifold=False,
                           gradients=False)
    assert bare.heatmap is None and bare.manifold is None and bare.gradients is None and bare.coverage is None


def test_history_thins_but_keeps_the_newest_row():
    history = pg.History(limit=10)
    for step in range(1, 26):
        history.record(step, 1.0, 2.0, 0.5, 0.1)
    assert len(history) <= 10 and history.step[-1] == 25 and history.step == sorted(history.step)
    history.record(25, 9.0, 9.0, 9.0, 9.0)  # no training since the last row: refreshed, not added
    assert history.step.count(25) == 1 and history.d_loss[-1] == 9.0
    history.record(20, 3.0, 3.0, 3.0, 3.0)  # the trainer rolled back to step 20 after a divergence
    assert history.step[-1] == 20 and history.step == sorted(history.step) and history.d_loss[-1] == 3.0


def test_mean_losses_skip_missing_values():
    trainer = pg.build_trainer(TINY, source())
    records = [trainer.step_d()]  # G has not been updated yet: its loss is NaN
    d_loss, g_loss = pg.mean_losses(records, trainer.last)
    assert d_loss == records[0].d_loss and np.isnan(g_loss)


# --- your own points ----------------------------------------------------------------------------------------------


def test_spray_makes_a_seeded_cloud_around_each_point():
    centers = torch.tensor([[0.0, 0.0], [2.0, 1.0]])
    cloud = pg.spray(centers, per_point=200, std=0.1, seed=4)
    assert cloud.shape == (400, 2)
    assert torch.equal(cloud, pg.spray(centers, per_point=200, std=0.1, seed=4))
    assert cloud[:200].mean(0).sub(centers[0]).abs().max() < 0.05
    assert cloud[200:].mean(0).sub(centers[1]).abs().max() < 0.05
    assert pg.spray(torch.tensor([[1.0, 1.0]]), per_point=5).shape == (5, 2)  # one picked point is enough
    with pytest.raises(DataError):
        pg.spray(torch.tensor([[float("nan"), 0.0], [0.0, 0.0]]))
    with pytest.raises(DataError):
        pg.spray(torch.zeros(0, 2))


def test_candidate_grid_and_digest():
    grid = pg.candidate_grid(1.0, (-1.0, 1.0))
    assert grid.tolist() == [[-1, -1], [0, -1], [1, -1], [-1, 0], [0, 0], [1, 0], [-1, 1], [0, 1], [1, 1]]
    points = torch.rand(10, 2, generator=torch.Generator().manual_seed(0))
    assert pg.points_digest(points) == pg.points_digest(points.clone())
    assert pg.points_digest(points) != pg.points_digest(points + 1e-3)


def test_one_thread_is_counted_and_restores_the_thread_count():
    before = torch.get_num_threads()
    with pg.one_thread():
        assert torch.get_num_threads() == 1
        with pg.one_thread():  # a second user (another session) inside the first
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1  # still one while the first is inside
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with pg.one_thread():
            raise RuntimeError("training failed")
    assert torch.get_num_threads() == before


def test_the_device_line_keeps_the_configured_thread_count_inside_a_one_thread_block():
    """Another session's training slice (or the launcher's warm-up) runs in one_thread(): a page drawn meanwhile
    must still say "CPU (2 threads)", not flicker to 1."""
    from aigc_core.device import describe_device

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with pg.one_thread():
            assert torch.get_num_threads() == 1
            assert describe_device(torch.device("cpu")) == "CPU (2 threads)"
        assert describe_device(torch.device("cpu")) == "CPU (2 threads)"
    finally:
        torch.set_num_threads(before)


# --- the CLI's --data (how pretrained/toy_<name> is made) ----------------------------------------------------


def test_cli_trains_a_toy_preset_on_another_distribution(tmp_path, capsys):
    from aigc_core.checkpoints import load_checkpoint
    from aigc_core.cli import main

    out = tmp_path / "toy_moons"
    assert main(["train", "--model", "toy_gan", "--data", "moons", "--dry-run", "--threads", "1",
                 "--out", str(out)]) == 0
    checkpoint = load_checkpoint(out)
    assert checkpoint.provenance["data"] == "moons"
    assert main(["train", "--model", "gan_mlp", "--data", "moons", "--dry-run", "--out", str(tmp_path / "x")]) == 2
    assert "toy presets only" in capsys.readouterr().err
