"""Models: every registered architecture builds, round-trips through a checkpoint and has the documented shapes; DCGAN
stages, minibatch standard deviation, seeded initialisation. The losses: test_losses.py."""


import numpy as np
import pytest
import torch
from torch import nn

from aigc_core.checkpoints import checkpoint_zip, load_checkpoint, load_checkpoint_zip, save_checkpoint
from aigc_core.models.classifier import Classifier
from aigc_core.models.common import count_parameters
from aigc_core.models.gan import ARTICLE_GAN, GAN, DCGANConfig, MinibatchStd
from aigc_core.models.registry import ARCHITECTURES, build_model
from aigc_core.presets import PRESETS

pytestmark = pytest.mark.usefixtures("one_thread")


# --- shapes -----------------------------------------------------------------------------------------------

# Every registered architecture at its default config, plus every preset's config (z=2 VAE, the wide MLP GAN, ...).
CONFIGS = {f"{name}-default": arch.config_class() for name, arch in ARCHITECTURES.items()}
CONFIGS.update({f"preset-{name}": preset.model_config for name, preset in PRESETS.items()})


def _gan_outputs(model: nn.Module, rng: torch.Generator) -> list[torch.Tensor]:
    x = model.generator(model.sample_noise(4, rng))
    return [x, model.discriminator(x)]


def _vae_outputs(model: nn.Module, rng: torch.Generator) -> list[torch.Tensor]:
    x = torch.rand(4, 1, 28, 28, generator=rng)
    return list(model(x, model.sample_noise(4, rng)))  # x_logits, mu, logvar


def _classifier_outputs(model: nn.Module, rng: torch.Generator) -> list[torch.Tensor]:
    x = torch.rand(4, 1, 28, 28, generator=rng)
    return [model(x), model.features(x)]


def _detector_outputs(model: nn.Module, rng: torch.Generator) -> list[torch.Tensor]:
    return [model(torch.rand(4, 1, 28, 28, generator=rng))]  # (4,) logits of "generated"


def _denoiser_outputs(model: nn.Module, rng: torch.Generator) -> list[torch.Tensor]:
    x_t = model.sample_noise(4, rng)
    t = torch.randint(0, model.config.timesteps, (4,), generator=rng)
    classes = model.config.num_classes
    y = torch.randint(0, classes, (4,), generator=rng) if classes else None
    return [model(x_t, t, y), model(x_t, t)]  # with labels (when it has classes) and with the null label


# Written out by hand, not read from the registry: an architecture added to the registry fails
# test_round_trip_list_is_the_registry until it is listed here with the outputs that show it works.
ROUND_TRIP_OUTPUTS = {
    "mlp_gan": _gan_outputs,
    "dcgan": _gan_outputs,
    "toy_gan": _gan_outputs,
    "vae_mlp": _vae_outputs,
    "vae_conv": _vae_outputs,
    "classifier": _classifier_outputs,
    "detector": _detector_outputs,
    "unet": _denoiser_outputs,
    "toy_denoiser": _denoiser_outputs,
}


def test_round_trip_list_is_the_registry():
    assert sorted(ROUND_TRIP_OUTPUTS) == sorted(ARCHITECTURES)


def _outputs(name: str, model: nn.Module) -> list[torch.Tensor]:
    """The model's outputs (eval mode) on inputs fixed by seed 0."""
    model.eval()
    with torch.no_grad():
        return ROUND_TRIP_OUTPUTS[name](model, torch.Generator().manual_seed(0))


def _move_off_init(model: nn.Module, seed: int) -> None:
    """Scale every float parameter and buffer by [1, 1.1) and add [0, 0.01): nothing keeps the value a fresh build
    has (batch-norm running variances stay positive), so a loader that dropped any tensor would change an output."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.mul_(1 + 0.1 * torch.rand(tensor.shape, generator=rng))
                tensor.add_(0.01 * torch.rand(tensor.shape, generator=rng))


@pytest.mark.parametrize("name", ROUND_TRIP_OUTPUTS)
def test_default_config_builds_and_round_trips_through_a_checkpoint(name, tmp_path):
    """What a user downloads (zip) or finds in pretrained/ (folder) gives back the very model they saved."""
    config = ARCHITECTURES[name].config_class()
    model = build_model(config, seed=7)
    _move_off_init(model, seed=1)
    expected = _outputs(name, model)
    assert all(bool(torch.isfinite(out).all()) for out in expected)
    fresh = _outputs(name, build_model(config, seed=7))
    assert all(not torch.equal(a, b) for a, b in zip(expected, fresh)), "the fixed inputs do not see the weights"
    for checkpoint in (load_checkpoint(save_checkpoint(tmp_path / name, model)), load_checkpoint_zip(checkpoint_zip(model))):
        assert (checkpoint.architecture, checkpoint.family) == (name, ARCHITECTURES[name].family)
        assert type(checkpoint.model) is type(model) and checkpoint.model.config == config
        loaded = _outputs(name, checkpoint.model)
        assert len(loaded) == len(expected)
        for before, after in zip(expected, loaded):
            assert torch.equal(before, after)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_output_shapes(config):
    model = build_model(config)
    family = next(a.family for a in ARCHITECTURES.values() if a.config_class is type(config))
    batch = 3
    rng = torch.Generator().manual_seed(0)
    with torch.no_grad():
        if family == "gan":
            z = model.sample_noise(batch, rng)
            assert z.shape == (batch, config.z_dim)
            x = model.generator(z)
            toy = type(config).__name__ == "ToyGANConfig"
            assert x.shape == ((batch, 2) if toy else (batch, 1, 28, 28))
            if not toy:  # tanh output
                assert x.min() >= -1 and x.max() <= 1
            assert model.discriminator(x).shape == (batch, 1)
        elif family == "vae":
            x = torch.rand(batch, 1, 28, 28, generator=rng)
            y = torch.arange(batch) if model.conditional else None  # a conditional VAE encodes x with its label
            mu, logvar = model.encode(x, y)
            assert mu.shape == logvar.shape == (batch, config.z_dim)
            x_logits, mu2, logvar2 = model(x, torch.randn(batch, config.z_dim, generator=rng), y)
            assert x_logits.shape == (batch, 1, 28, 28)
            assert torch.equal(mu, mu2) and torch.equal(logvar, logvar2)
            assert model.decode(model.sample_noise(batch, rng)).shape == (batch, 1, 28, 28)
        elif family == "diffusion":
            x_t = model.sample_noise(batch, rng)
            assert x_t.shape == ((batch, 2) if type(config).__name__ == "ToyDenoiserConfig" else (batch, 1, 28, 28))
            t = torch.randint(0, config.timesteps, (batch,), generator=rng)
            assert model(x_t, t).shape == x_t.shape  # ε̂ or v̂ has the shape of x_t
        elif family == "detector":
            assert model(torch.rand(batch, 1, 28, 28, generator=rng)).shape == (batch,)  # one logit per image
        else:
            model.eval()
            x = torch.rand(batch, 1, 28, 28, generator=rng)
            assert model(x).shape == (batch, 10)
            assert model.features(x).shape == (batch, config.features)


def _conv_output_shapes(network: nn.Module, x: torch.Tensor) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
             for m in network.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        network(x)
    for hook in hooks:
        hook.remove()
    return shapes


@pytest.mark.parametrize("deep", [False, True], ids=["compact", "deep"])
def test_dcgan_stages(deep):
    """compact: G 2w@7 -> w@14 -> 1@28, D 1@28 -> w@14 -> 2w@7; deep adds G's 28x28 stage and D's 4x4 one."""
    w = 8
    gan = GAN(DCGANConfig(z_dim=5, width=w, deep=deep))
    fake = gan.generator(torch.zeros(2, 5))
    g_shapes = _conv_output_shapes(gan.generator, torch.zeros(2, 5))
    d_shapes = _conv_output_shapes(gan.discriminator, fake.detach())
    if deep:
        assert g_shapes == [(2 * w, 14, 14), (w, 28, 28), (1, 28, 28)]
        assert d_shapes == [(w, 14, 14), (2 * w, 7, 7), (4 * w, 4, 4)]
        assert gan.generator[0].out_features == 4 * w * 7 * 7
    else:
        assert g_shapes == [(w, 14, 14), (1, 28, 28)]
        assert d_shapes == [(w, 14, 14), (2 * w, 7, 7)]
        assert gan.generator[0].out_features == 2 * w * 7 * 7
    assert count_parameters(GAN(DCGANConfig(width=w, deep=True))) > count_parameters(GAN(DCGANConfig(width=w)))



def test_minibatch_std_matches_numpy_groups_of_four():
    x = torch.randn(12, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    out = MinibatchStd(group=4)(x)
    assert out.shape == (12, 4, 2, 2)
    torch.testing.assert_close(out[:, :3], x)  # the features pass through unchanged
    xs = x.double().numpy()
    expected = [np.sqrt(xs[i // 4 * 4 : i // 4 * 4 + 4].var(axis=0) + 1e-8).mean() for i in range(12)]
    for i in range(12):
        assert torch.all(out[i, 3] == out[i, 3, 0, 0])  # one value per sample, broadcast over the map
        assert float(out[i, 3, 0, 0]) == pytest.approx(expected[i], rel=1e-5)


def test_minibatch_std_keeps_real_and_fake_halves_apart():
    """The trainer scores [real; fake] in one pass: the real half's scores must not depend on the fake half."""
    d = GAN(DCGANConfig(z_dim=4, width=4, deep=True, minibatch_std=True)).discriminator
    g = torch.Generator().manual_seed(1)
    real, fake = torch.rand(8, 1, 28, 28, generator=g), torch.rand(8, 1, 28, 28, generator=g)
    other_fake = torch.rand(8, 1, 28, 28, generator=g)
    with torch.no_grad():
        first, second = d(torch.cat([real, fake]))[:8], d(torch.cat([real, other_fake]))[:8]
        torch.testing.assert_close(first, second)
        assert not torch.equal(d(torch.cat([real, fake]))[8:], d(torch.cat([real, other_fake]))[8:])


def test_minibatch_std_sees_a_collapsed_batch():
    """Identical samples have zero spread; varied ones do not: that is the signal D gets about mode collapse."""
    same = torch.ones(4, 2, 3, 3)
    assert float(MinibatchStd()(same)[:, 2].max()) == pytest.approx(1e-4)  # sqrt(0 + 1e-8)
    assert float(MinibatchStd()(torch.randn(4, 2, 3, 3))[:, 2].min()) > 0.1
    assert MinibatchStd()(torch.randn(5, 2, 3, 3)).shape == (5, 3, 3, 3)  # 5 has no divisor <= 4 but 1: groups of 1
    assert MinibatchStd()(torch.randn(1, 2, 3, 3)).shape == (1, 3, 3, 3)


def test_dcgan_minibatch_std_adds_one_channel_to_ds_head():
    w = 8
    plain, with_std = GAN(DCGANConfig(width=w, deep=True)), GAN(DCGANConfig(width=w, deep=True, minibatch_std=True))
    assert count_parameters(with_std) - count_parameters(plain) == 4 * 4  # one more 4x4 input map to the last Linear
    assert with_std.discriminator(torch.zeros(6, 1, 28, 28)).shape == (6, 1)

def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([t.flatten().float() for t in model.state_dict().values()])


@pytest.mark.parametrize("config", [a.config_class() for a in ARCHITECTURES.values()], ids=list(ARCHITECTURES))
def test_seeded_initialisation(config):
    torch.manual_seed(123)  # the global RNG must not matter ...
    a = build_model(config, seed=4)
    torch.manual_seed(999)
    b = build_model(config, seed=4)
    c = build_model(config, seed=5)
    for (name, ta), tb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(ta, tb), name
    weights_a, weights_c = (
        {k: v for k, v in m.state_dict().items() if k.endswith("weight")} for m in (a, c)
    )
    # ... and a different seed changes every weight matrix (dcgan's batch-norm gammas are drawn too)
    for name in weights_a:
        if weights_a[name].numel() > 1 and weights_a[name].dim() > 1:
            assert not torch.equal(weights_a[name], weights_c[name]), name
    assert not torch.equal(_flat(a), _flat(c))


def test_article_gan_layer_sizes():
    """G: 100 -> 128 -> 128 -> 784 (tanh), D: 784 -> 128 -> 1, LeakyReLU(0.01), as in the source article."""
    gan = GAN(ARTICLE_GAN)
    g_linear = [m for m in gan.generator.modules() if isinstance(m, nn.Linear)]
    d_linear = [m for m in gan.discriminator.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in g_linear] == [(100, 128), (128, 128), (128, 784)]
    assert [(m.in_features, m.out_features) for m in d_linear] == [(784, 128), (128, 1)]
    g_act = [m for m in gan.generator.modules() if isinstance(m, (nn.LeakyReLU, nn.Tanh, nn.BatchNorm1d))]
    assert [type(m).__name__ for m in g_act] == ["LeakyReLU", "LeakyReLU", "Tanh"]
    assert all(m.negative_slope == 0.01 for m in g_act[:2])
    d_act = [m for m in gan.discriminator.modules() if isinstance(m, (nn.LeakyReLU, nn.Sigmoid))]
    assert [type(m).__name__ for m in d_act] == ["LeakyReLU"]  # D returns a logit; no sigmoid inside
    # parameter count follows from the sizes
    assert count_parameters(gan.generator) == 100 * 128 + 128 + 128 * 128 + 128 + 128 * 784 + 784
    assert count_parameters(gan.discriminator) == 784 * 128 + 128 + 128 + 1
    assert gan.sample_noise(5, torch.Generator().manual_seed(0)).shape == (5, 100)


def test_classifier_features_are_penultimate():
    model = Classifier().eval()
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.head(model.features(x)))
