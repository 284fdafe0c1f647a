"""aigc_core.explorer: decoding any image model, encoding a split, PCA directions, repair by iterated inpainting."""

import numpy as np
import pytest
import torch

from aigc_core import explorer, pixels
from aigc_core.errors import ConfigError
from aigc_core.images import mask_image
from aigc_core.mnist import load_mnist, to_tensor
from aigc_core.models.gan import ARTICLE_GAN, GAN
from aigc_core.models.vae import VAE, VAEMLPConfig


@pytest.fixture(scope="module")
def vae2() -> VAE:
    return VAE(VAEMLPConfig(z_dim=2, hidden=(32,)), seed=0).eval()


@pytest.fixture(scope="module")
def vae8() -> VAE:
    return VAE(VAEMLPConfig(z_dim=8, hidden=(32,)), seed=1).eval()


@pytest.fixture(scope="module")
def digits():
    test = load_mnist("test")
    return test.images[:300], test.labels[:300]


def test_decode_vae_is_sigmoid_of_logits(vae8):
    z = torch.randn(5, 8, generator=torch.Generator().manual_seed(0))
    out = explorer.decode(vae8, z)
    assert out.shape == (5, 1, 28, 28) and out.dtype == torch.float32
    torch.testing.assert_close(out, torch.sigmoid(vae8.decode(z)).detach())
    assert explorer.decode(vae8, z[0]).shape == (1, 1, 28, 28)  # (D,) accepted


def test_decode_gan_maps_tanh_output_to_unit_range():
    gan = GAN(ARTICLE_GAN, seed=0).eval()
    z = gan.sample_noise(4, torch.Generator().manual_seed(1))
    out = explorer.decode(gan, z)
    torch.testing.assert_close(out, pixels.signed_to_unit(gan.generator(z)).detach())
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    assert gan.generator.training is False  # mode untouched


def test_decode_rejects_wrong_code_size(vae8):
    with pytest.raises(ConfigError):
        explorer.decode(vae8, torch.zeros(1, 3))


def test_encode_only_for_vaes():
    with pytest.raises(ConfigError):
        explorer.encode(GAN(ARTICLE_GAN), torch.zeros(1, 1, 28, 28))


def test_seeded_code_is_reproducible(vae8):
    a, b = explorer.seeded_code(vae8, 5), explorer.seeded_code(vae8, 5)
    assert a.shape == (8,) and torch.equal(a, b)
    assert not torch.equal(a, explorer.seeded_code(vae8, 6))


def test_encode_dataset_2d_map_is_the_latent_plane(vae2, digits):
    images, labels = digits
    encoded = explorer.encode_dataset(vae2, images, labels)
    mu, _ = explorer.encode(vae2, to_tensor(images, "unit"))
    torch.testing.assert_close(encoded.mu, mu)
    torch.testing.assert_close(encoded.coords, mu)
    assert encoded.labels.tolist() == labels.tolist()
    z = torch.tensor([0.3, -0.2])
    torch.testing.assert_close(encoded.to_plane(z)[0], z)
    i = 17
    assert encoded.nearest(tuple(encoded.coords[i].tolist())) == i


def test_pca_directions_round_trip_and_move_only_along_one_direction(vae8, digits):
    encoded = explorer.encode_dataset(vae8, *digits)
    assert encoded.directions == 8 and encoded.coords.shape == (300, 2)
    c = torch.tensor([1.0, -0.5, 0.25])
    z = encoded.code_from_directions(c)
    torch.testing.assert_close(encoded.directions_from_code(z, 3), c, atol=1e-4, rtol=1e-4)
    # Orthonormal directions: stepping along direction 1 leaves the coefficient of direction 0 unchanged.
    moved = z + 0.7 * encoded.spread[1] * encoded.pca.components[1]
    after = encoded.directions_from_code(moved, 3)
    torch.testing.assert_close(after[[0, 2]], c[[0, 2]], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(after[1], c[1] + 0.7, atol=1e-4, rtol=1e-4)
    with pytest.raises(ConfigError):
        encoded.code_from_directions(torch.zeros(9))


def test_repair_keeps_known_pixels_and_fills_the_gap(vae8, digits):
    x = to_tensor(digits[0][:1], "unit")[0, 0]
    _, mask = mask_image(x, "top")
    steps = explorer.repair(vae8, x, mask, iterations=4)
    assert len(steps) == 5
    torch.testing.assert_close(steps[0], x * mask)
    for step in steps[1:]:
        torch.testing.assert_close(step * mask, x * mask)  # known pixels never change
    guess = explorer.reconstruct(vae8, steps[0])[0, 0]
    torch.testing.assert_close(steps[1] * (1 - mask), guess * (1 - mask))
    with pytest.raises(ConfigError):
        explorer.repair(vae8, x, mask, iterations=0)


def test_masked_error():
    x = torch.rand(28, 28, generator=torch.Generator().manual_seed(0))
    _, mask = mask_image(x, "left")
    assert explorer.masked_error(x, x, mask) == 0.0
    blank = x * mask
    expected = float(x[:, :14].abs().mean())
    assert explorer.masked_error(x, blank, mask) == pytest.approx(expected)
    assert explorer.masked_error(x, blank, np.ones((28, 28))) == 0.0
