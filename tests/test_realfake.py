"""Real or fake? (aigc_core.realfake): a round is balanced and seeded, scoring counts what the player got right and
which model fooled them, and a session's tally names the model that fooled them most."""

import numpy as np
import pytest
import torch

from aigc_core.errors import ConfigError
from aigc_core.models.gan import GAN, MLPGANConfig
from aigc_core.models.vae import VAE, VAEMLPConfig
from aigc_core.realfake import REAL, Round, Tally, Tile, compose_round, generated_digits, round_images, score_round

pytestmark = pytest.mark.usefixtures("one_thread")

MODELS = ["gan_mlp", "dcgan", "vae_mlp_z20", "vae_mlp_z2", "gan_seed_mlp"]


@pytest.mark.parametrize("seed", range(20))
def test_round_is_half_real_and_spreads_fakes_evenly(seed):
    game = compose_round(MODELS, seed)
    assert len(game.tiles) == 16 and len(game.fake_positions) == 8
    counts = game.fakes_per_model()
    assert sum(counts.values()) == 8 and set(counts) == set(MODELS)  # 8 fakes over 5 models: every model shows
    assert max(counts.values()) - min(counts.values()) <= 1
    reals = [tile.index for tile in game.tiles if tile.source == REAL]
    assert len(set(reals)) == 8 and all(0 <= i < 10_000 for i in reals)  # distinct test digits
    for name, count in counts.items():  # each model's samples numbered 0 .. count-1, once each
        assert sorted(t.index for t in game.tiles if t.source == name) == list(range(count))


def test_round_is_seeded():
    assert compose_round(MODELS, 3) == compose_round(MODELS, 3)
    assert compose_round(MODELS, 3) != compose_round(MODELS, 4)
    # the fakes move around the grid: over rounds every position holds a fake sometimes
    assert set().union(*(compose_round(MODELS, s).fake_positions for s in range(40))) == set(range(16))
    # which model gets the extra tiles is drawn, not always the first in the list
    extras = {max(compose_round(MODELS, s).fakes_per_model().items(), key=lambda kv: (kv[1], kv[0]))[0]
              for s in range(40)}
    assert len(extras) > 1


def test_one_model_and_bad_rounds():
    assert compose_round(["gan_mlp"], 0, size=4).fakes_per_model() == {"gan_mlp": 2}
    for models in ([], ["a", "a"], [REAL]):
        with pytest.raises(ConfigError):
            compose_round(models, 0)
    for size in (0, 3, 66, True):
        with pytest.raises(ConfigError):
            compose_round(MODELS, 0, size=size)
    with pytest.raises(ConfigError):
        compose_round(MODELS, 0, real_pool=3)


GAME = Round(0, (Tile(REAL, 5), Tile("a", 0), Tile("b", 0), Tile(REAL, 9), Tile("a", 1), Tile(REAL, 1)))


def test_score_counts_right_tiles_misses_and_false_alarms():
    perfect = score_round(GAME, {1, 2, 4})
    assert (perfect.correct, perfect.total, perfect.caught, perfect.false_alarms) == (6, 6, 3, 0)
    assert perfect.missed == {"a": 0, "b": 0} and perfect.accuracy == 1.0
    nothing = score_round(GAME, set())
    assert (nothing.correct, nothing.caught) == (3, 0) and nothing.missed == {"a": 2, "b": 1}
    mixed = score_round(GAME, {0, 1})  # one real flagged, one fake of "a" caught
    assert (mixed.correct, mixed.caught, mixed.false_alarms) == (3, 1, 1)
    assert mixed.missed == {"a": 1, "b": 1} and mixed.shown == {"a": 2, "b": 1}
    everything = score_round(GAME, range(6))
    assert (everything.correct, everything.false_alarms) == (3, 3)
    for bad in ({6}, {-1}, {True}, {"1"}):
        with pytest.raises(ConfigError):
            score_round(GAME, bad)


def test_tally_names_the_model_that_fooled_most():
    tally = Tally()
    assert tally.most_fooling() is None and tally.accuracy == 0.0
    tally = tally.add(score_round(GAME, {1, 2, 4}))
    assert tally.most_fooling() is None  # nothing fooled the player yet
    tally = tally.add(score_round(GAME, {1, 4}))  # "b" fooled once in 2 shown; "a" never
    assert tally.most_fooling() == "b"
    tally = tally.add(score_round(GAME, {2}))  # "a": 2 of 6 missed (33%); "b": 1 of 3 (33%): a tie, more misses win
    assert tally.rounds == 3 and tally.shown == {"a": 6, "b": 3} and tally.missed == {"a": 2, "b": 1}
    assert tally.most_fooling() == "a"
    assert tally.caught_rate("a") == pytest.approx(4 / 6) and np.isnan(tally.caught_rate("zzz"))
    assert tally.correct == 6 + 5 + 4 and tally.total == 18


def test_round_images_put_real_and_generated_digits_in_place():
    real = np.zeros((10, 28, 28), dtype=np.uint8)
    real[:, 0, 0] = np.arange(10)  # each real digit marked with its index
    models = {"g": GAN(MLPGANConfig(g_hidden=(16,), d_hidden=(16,)), seed=0),
              "v": VAE(VAEMLPConfig(hidden=(16,), z_dim=2), seed=0)}
    game = compose_round(list(models), seed=1, size=8, real_pool=10)
    images = round_images(game, models, real)
    assert images.shape == (8, 28, 28) and images.dtype == np.uint8
    for position, tile in enumerate(game.tiles):
        if tile.source == REAL:
            assert images[position, 0, 0] == tile.index and images[position].sum() == tile.index
        else:
            assert images[position].sum() > 0  # a generated digit, not a blank tile
    again = round_images(game, models, real)
    assert np.array_equal(images, again)  # the same round draws the same digits
    other = round_images(compose_round(list(models), seed=2, size=8, real_pool=10), models, real)
    assert not np.array_equal(images, other)


def test_generated_digits_are_uint8_and_refuse_other_models():
    gan = GAN(MLPGANConfig(g_hidden=(16,), d_hidden=(16,)), seed=0)
    digits = generated_digits(gan, 3, seed=0)
    assert digits.shape == (3, 28, 28) and digits.dtype == torch.uint8
    assert torch.equal(digits, generated_digits(gan, 3, seed=0))
    with pytest.raises(ConfigError):
        generated_digits(torch.nn.Linear(2, 2), 1, seed=0)
